import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AlertService } from '../engine/alert-service.ts';
import type { ReleaseService } from '../engine/release-service.ts';
import { KevinDeployError } from '../errors.ts';
import type { Store } from '../ports/store.ts';
import type { ApiTokens } from './api-tokens.ts';
import { registerApiRoutes } from './api-routes.ts';
import type { BotMetrics } from './metrics.ts';
import { problemHandler, sendProblem } from './problem-handler.ts';
import { registerWebhookRoutes, type WebhookDeps } from './webhook-routes.ts';

/** Takes a raw request before fastify sees it (returns true when it did), for receivers that read the raw body themselves. */
export type RawRequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface HttpServerDeps {
  logger: Logger;
  releases: ReleaseService;
  tokens: ApiTokens;
  metrics: BotMetrics;
  store: Store;
  runnerAlive: () => boolean;
  isDraining: () => boolean;
  /** Slack's events endpoint: handed to Bolt's receiver straight from the socket. */
  rawHandlers?: RawRequestHandler[];
  /** The alert outbox's view for /api/v1/alerts. */
  alerts?: AlertService | undefined;
  /** PagerDuty webhooks and Discord interactions. */
  webhooks?: WebhookDeps | undefined;
}

/**
 * The bot's one HTTP port: probes for orchestrators (/healthz, /readyz), Prometheus (/metrics)
 * and the API. Chat surfaces (Slack, Discord) mount their endpoints on this same server.
 */
export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const rawHandlers = deps.rawHandlers ?? [];
  const app = Fastify({
    // Raw handlers first (Slack's receiver verifies signatures over the unread body); fastify for the rest.
    serverFactory: (handler) =>
      createServer((request, response) => {
        for (const raw of rawHandlers) if (raw(request, response)) return;
        handler(request, response);
      }),
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Our onResponse hook logs requests at debug level, without headers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1_000_000,
    // Behind a proxy the bot still answers its probes quickly; slow clients cannot hold it.
    requestTimeout: 30_000,
    return503OnClosing: true,
  });
  app.setErrorHandler(problemHandler(deps.logger));
  // An empty JSON body (curl -X POST -H 'content-type: application/json') means "no arguments".
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new KevinDeployError('INVALID_JSON', 'the request body is not valid JSON'), undefined);
    }
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new KevinDeployError('NOT_FOUND', `nothing at ${request.method} ${request.url.split('?')[0]}`)),
  );
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = [];
    if (deps.isDraining()) problems.push('shutting down');
    try {
      await deps.store.ping();
    } catch {
      problems.push('store unreachable');
    }
    if (!deps.runnerAlive()) problems.push('runner not running');
    if (problems.length > 0) return reply.code(503).send({ status: 'unavailable', problems });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
  await registerApiRoutes(app, { releases: deps.releases, tokens: deps.tokens, isDraining: deps.isDraining, alerts: deps.alerts });
  if (deps.webhooks) await registerWebhookRoutes(app, deps.webhooks);
  return app;
}
