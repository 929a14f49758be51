import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { argNamesOf } from '../../commands/arg-names.ts';
import { pathParamsOf, queryParamsOf } from '../../commands/http-routes.ts';
import type { HttpRoute } from '../../commands/define-command.ts';
import { COMMANDS, runCommand } from '../../commands/index.ts';
import type { Actor } from '../domain/policy.ts';
import { DELIVERY_STATUSES, isDeliveryStatus } from '../ports/alert-outbox.ts';
import type { Alerts } from '../ports/alerts.ts';
import type { Releases } from '../ports/releases.ts';
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
  releases: Releases;
  tokens: ApiTokens;
  isDraining: () => boolean;
  alerts?: Alerts | undefined;
  /** The answer for a path or method no route has (404, or 405 naming the methods the path has). */
  notRouted(request: FastifyRequest, reply: FastifyReply): KevinDeployError;
}

type Body = Record<string, unknown>;

/**
 * /api/v1: a thin translation of HTTP into commands. Every route authenticates the bearer token;
 * the command routes are the ones the command table declares (commands/): path, query and body
 * become the command's arguments, and the command's result is the JSON answer — the same objects
 * the CLI prints with --json. Locks and alerts, which are not commands, have their routes here.
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

      // Every command with an HTTP route, as the table declares it: the path's `:name` segments
      // and the body or the query become the command's arguments; zod checks them all.
      for (const command of Object.values(COMMANDS)) {
        const argNames = argNamesOf(await command.schema());
        for (const route of command.http ?? []) {
          api.route({
            method: route.method,
            url: route.path,
            config: { query: queryParamsOf(route, argNames) },
            handler: async (request, reply) => {
              const result = await runCommand(command, argsOf(route, request), { actor: request.actor!, releases: deps.releases });
              reply.code(route.status ?? 200);
              return result;
            },
          });
        }
      }
      // Not a command: the locks alone, read from the same status the status command reads.
      api.get('/locks', async () => {
        const locks = await deps.releases.status();
        return { locks: locks.filter((t) => t.lock).map((t) => t.lock) };
      });
      api.get('/alerts', { config: { query: ['deployment', 'status', 'limit'] } }, async (request) => {
        const q = request.query as Record<string, string | undefined>;
        const status = q.status;
        if (status !== undefined && !isDeliveryStatus(status)) {
          throw new KevinDeployError('USAGE', `status must be one of ${DELIVERY_STATUSES.join(', ')}`);
        }
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new KevinDeployError('USAGE', 'limit must be a whole number from 1 to 500');
        const alerts = (await deps.alerts?.list({ deploymentId: q.deployment, status, limit })) ?? [];
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

/**
 * A request as a command's arguments: the path's arguments, and the body or the query (whose
 * parameters preValidation has already limited to the route's). An empty query value counts as
 * not given (`?service=` lists every service). The path wins over a body field of the same name.
 */
function argsOf(route: HttpRoute, request: FastifyRequest): unknown {
  const params = request.params as Record<string, string>;
  const fromPath = Object.fromEntries(pathParamsOf(route).map((name) => [name, params[name]]));
  if (route.input === 'body') return { ...bodyOf(request), ...fromPath };
  if (route.input === 'query') {
    const query = Object.entries(request.query as Record<string, string | undefined>).filter(([, v]) => v !== undefined && v !== '');
    return { ...Object.fromEntries(query), ...fromPath };
  }
  return fromPath;
}
