import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Alerts } from '../ports/alerts.ts';
import type { Releases } from '../ports/releases.ts';
import { KevinDeployError } from '../errors.ts';
import type { Store } from '../ports/store.ts';
import type { ApiTokens } from './api-tokens.ts';
import { registerApiRoutes } from './api-routes.ts';
import type { BotMetrics } from './metrics.ts';
import { BODY_LIMIT_BYTES, boundStreamedBody, refuseDeclaredOversize, snapshotListeners } from './body-limit.ts';
import { answerClientError, REQUEST_TIMEOUT_MS } from './client-error.ts';
import { frameworkErrorHandler, problemHandler, sendProblem } from './problem-handler.ts';
import { writeProblemAndClose } from './raw-problem.ts';
import { parseJsonBody } from './json-body.ts';
import { RouteMethods } from './route-methods.ts';
import { registerWebhookRoutes, type WebhookDeps } from './webhook-routes.ts';
import { registerPublicStatusRoutes, type PublicStatusDeps } from './public-status.ts';
import { registerConsoleRoutes, type ConsoleDeps } from './console/console-routes.ts';

/** Takes a raw request before fastify sees it (returns true when it did), for receivers that read the raw body themselves. */
export type RawRequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface HttpServerDeps {
  logger: Logger;
  releases: Releases;
  tokens: ApiTokens;
  metrics: BotMetrics;
  store: Store;
  runnerAlive: () => boolean;
  /** Why this replica takes no work (a newer kevin-deploy migrated the store), if it does not. */
  refusingWork?: (() => string | undefined) | undefined;
  isDraining: () => boolean;
  /** Slack's events endpoint: handed to Bolt's receiver straight from the socket. */
  rawHandlers?: RawRequestHandler[];
  /** The alert outbox's view for /api/v1/alerts. */
  alerts?: Alerts | undefined;
  /** PagerDuty webhooks and Discord interactions. */
  webhooks?: WebhookDeps | undefined;
  /** The public status page (/status, /status.json). */
  publicStatus?: PublicStatusDeps | undefined;
  /** The operator console (/console); the API's tokens sign people in. */
  console?: Omit<ConsoleDeps, 'logger' | 'releases' | 'tokens' | 'store' | 'alerts'> | undefined;
}

/**
 * The bot's one HTTP port: probes for orchestrators (/healthz, /readyz), Prometheus (/metrics)
 * and the API. Chat surfaces (Slack, Discord) mount their endpoints on this same server.
 */
export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const rawHandlers = deps.rawHandlers ?? [];
  const routeMethods = new RouteMethods();
  // Set when fastify starts closing: requests still arriving on open connections are refused as a
  // problem (fastify's return503OnClosing would answer them in its own JSON).
  let closing = false;
  const app = Fastify({
    // Raw handlers first (Slack's receiver verifies signatures over the unread body); fastify for the rest.
    // A body declared too large is refused before either reads a byte of it.
    serverFactory: (handler) =>
      createServer((request, response) => {
        if (closing) return writeProblemAndClose(response, shuttingDown());
        if (refuseDeclaredOversize(request, response)) return;
        if (rawHandlers.length > 0) {
          const listeners = snapshotListeners(request);
          for (const raw of rawHandlers) {
            if (!raw(request, response)) continue;
            boundStreamedBody(request, response, listeners);
            return;
          }
        }
        handler(request, response);
      }),
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Our onResponse hook logs requests at debug level, without headers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Behind a proxy the bot still answers its probes quickly; slow clients cannot hold it.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Only a fallback: `closing` above answers first, as a problem.
    return503OnClosing: true,
    // Answers fastify (and Node under it) would otherwise write in their own formats.
    clientErrorHandler: answerClientError,
    frameworkErrors: frameworkErrorHandler(deps.logger),
  });
  app.addHook('onRoute', routeMethods.onRoute);
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.setErrorHandler(problemHandler(deps.logger));
  // The API speaks JSON only: fastify's text/plain parser would hand a route a string, refused
  // with a vaguer message than the 415 every other type gets.
  app.removeContentTypeParser('text/plain');
  // Ours: an empty body means "no arguments", and a key written twice is refused (see parseJsonBody).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(String(body)));
    } catch (error) {
      done(error as KevinDeployError, undefined);
    }
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, routeMethods.refusal(request.method, request.url, reply, 'nothing at')));
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
      problems.push('store cannot take a write');
    }
    const refusing = deps.refusingWork?.();
    if (refusing) problems.push(refusing);
    else if (!deps.runnerAlive()) problems.push('runner not running');
    if (problems.length > 0) return reply.code(503).send({ status: 'unavailable', problems });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });
  await registerApiRoutes(app, {
    releases: deps.releases,
    tokens: deps.tokens,
    isDraining: deps.isDraining,
    alerts: deps.alerts,
    notRouted: (request, reply) => routeMethods.refusal(request.method, request.url, reply, 'no API route'),
  });
  if (deps.webhooks) await registerWebhookRoutes(app, deps.webhooks);
  if (deps.publicStatus) registerPublicStatusRoutes(app, deps.publicStatus);
  if (deps.console) {
    await registerConsoleRoutes(app, { ...deps.console, logger: deps.logger, releases: deps.releases, tokens: deps.tokens, store: deps.store, alerts: deps.alerts });
    // People who open the bot's address find the console.
    app.get('/', async (_request, reply) => reply.redirect('/console', 303));
  }
  return app;
}

function shuttingDown(): KevinDeployError {
  return new KevinDeployError('SHUTTING_DOWN', 'kevin-deploy is shutting down; try again in a few seconds');
}
