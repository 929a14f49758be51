import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { COMMANDS, runCommand, type CommandName } from '../../commands/index.ts';
import type { Actor } from '../domain/policy.ts';
import type { AlertService } from '../engine/alert-service.ts';
import type { ReleaseService } from '../engine/release-service.ts';
import { KevinDeployError } from '../errors.ts';
import type { ApiTokens } from './api-tokens.ts';
import { checkQueryParams } from './query-params.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
  }
  interface FastifyContextConfig {
    /** The query parameters the route reads; any other is refused (none when absent). */
    query?: readonly string[];
  }
}

export interface ApiDeps {
  releases: ReleaseService;
  tokens: ApiTokens;
  isDraining: () => boolean;
  alerts?: AlertService | undefined;
  /** The answer for a path or method no route has (404, or 405 naming the methods the path has). */
  notRouted(request: FastifyRequest, reply: FastifyReply): KevinDeployError;
}

type Body = Record<string, unknown>;

/**
 * /api/v1: a thin translation of HTTP into commands. Every route authenticates the bearer token,
 * maps path, query and body into the command's arguments, and returns the command's result as
 * JSON — the same objects the CLI prints with --json.
 */
export async function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        if (deps.isDraining() && request.method !== 'GET') {
          throw new KevinDeployError('SHUTTING_DOWN', 'kevin-deploy is shutting down; try again in a few seconds');
        }
        const header = request.headers.authorization;
        if (!header) {
          throw new KevinDeployError('UNAUTHENTICATED', 'send "Authorization: Bearer <token>" (the CLI reads $KEVIN_DEPLOY_API_TOKEN)');
        }
        const actor = deps.tokens.authenticate(header);
        if (!actor) throw new KevinDeployError('UNAUTHENTICATED', 'the bearer token is not valid');
        request.actor = actor;
      });
      api.addHook('preValidation', async (request) => {
        if (request.is404) return;
        checkQueryParams(request.query, request.routeOptions.config.query ?? [], `${request.method} ${request.routeOptions.url}`);
      });

      const run = (name: CommandName, request: FastifyRequest, args: Body) =>
        runCommand(COMMANDS[name] as never, args, { actor: request.actor!, releases: deps.releases });

      api.post('/deployments', async (request, reply) => {
        reply.code(201);
        return run('deploy', request, bodyOf(request));
      });
      api.get('/deployments', { config: { query: ['service', 'environment', 'limit'] } }, async (request) => {
        const q = request.query as Record<string, string | undefined>;
        return run('history', request, compact({ service: q.service, environment: q.environment, limit: q.limit }));
      });
      api.get<{ Params: { id: string } }>('/deployments/:id', async (request) => run('show', request, { id: request.params.id }));
      for (const action of ['approve', 'reject', 'cancel', 'rollback', 'promote'] as const) {
        api.post<{ Params: { id: string } }>(`/deployments/:id/${action}`, async (request) =>
          run(action, request, { ...bodyOf(request), id: request.params.id }),
        );
      }
      api.post('/rollbacks', async (request, reply) => {
        const result = await run('rollback', request, bodyOf(request));
        reply.code(201);
        return result;
      });
      api.get('/status', { config: { query: ['service'] } }, async (request) => {
        const q = request.query as Record<string, string | undefined>;
        return run('status', request, compact({ service: q.service }));
      });
      api.get('/locks', async () => {
        const locks = await deps.releases.status();
        return { locks: locks.filter((t) => t.lock).map((t) => t.lock) };
      });
      api.post('/locks', async (request, reply) => {
        reply.code(201);
        return run('lock', request, bodyOf(request));
      });
      api.delete<{ Params: { service: string; environment: string } }>('/locks/:service/:environment', async (request) =>
        run('unlock', request, { service: request.params.service, environment: request.params.environment }),
      );
      api.get('/alerts', { config: { query: ['deployment', 'status', 'limit'] } }, async (request) => {
        const q = request.query as Record<string, string | undefined>;
        const status = q.status;
        if (status !== undefined && !['pending', 'delivered', 'failed', 'skipped'].includes(status)) {
          throw new KevinDeployError('USAGE', 'status must be one of pending, delivered, failed, skipped');
        }
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new KevinDeployError('USAGE', 'limit must be a whole number from 1 to 500');
        const alerts = (await deps.alerts?.list({ deploymentId: q.deployment, status: status as never, limit })) ?? [];
        return { alerts };
      });
      api.post('/alerts/acknowledge', async (request) => {
        const body = bodyOf(request);
        const incidentKey = typeof body.incidentKey === 'string' ? body.incidentKey : '';
        if (!incidentKey) throw new KevinDeployError('USAGE', 'send {"incidentKey": "…"} (kevin-deploy alerts shows each alert\'s incident)');
        if (!deps.alerts) throw new KevinDeployError('NOT_FOUND', 'alerting is not running');
        const result = await deps.alerts.acknowledge(incidentKey, request.actor!.name, 'cli');
        if (result.status === 'unknown') throw new KevinDeployError('NOT_FOUND', `no alert with incident ${incidentKey}`);
        return result.status === 'acknowledged' ? { acknowledged: true, incidentKey, by: request.actor!.name } : { acknowledged: false, incidentKey, ...result };
      });
      api.setNotFoundHandler(async (request, reply) => {
        throw deps.notRouted(request, reply);
      });
    },
    { prefix: '/api/v1' },
  );
}

function bodyOf(request: FastifyRequest): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new KevinDeployError('USAGE', 'the request body must be a JSON object');
  return body as Body;
}

function compact(values: Record<string, string | undefined>): Body {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
}
