import type { Agent } from 'node:https';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WorkersPlatform } from '../adapters/cloudflare/workers-platform.ts';
import { metricsSourceFor } from '../adapters/metrics/metrics-source-for.ts';
import { HttpProbe } from '../adapters/probe/http-probe.ts';
import { KyselyStore } from '../adapters/store/kysely-store.ts';
import { DEFAULT_DATABASE_URL, openDatabase } from '../adapters/store/open-store.ts';
import { SlackSurface } from '../adapters/slack/slack-surface.ts';
import type { KevinDeployConfig } from '../config/schema.ts';
import { ReleaseService } from '../engine/release-service.ts';
import { Runner } from '../engine/runner.ts';
import { StepExecutor } from '../engine/step-executor.ts';
import { TransitionBus } from '../engine/transition-bus.ts';
import { transitionLogger } from '../engine/transition-log.ts';
import { KevinDeployError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { Probe } from '../ports/probe.ts';
import type { Store } from '../ports/store.ts';
import type { TrafficPlatform } from '../ports/traffic-platform.ts';
import { composeAlerting, type Alerting } from './alerting.ts';
import { ApiTokens } from './api-tokens.ts';
import { communityStatusSource } from './community-status.ts';
import { createHttpServer } from './http-server.ts';
import { BotMetrics } from './metrics.ts';

export interface BotOptions {
  config: KevinDeployConfig;
  env: NodeJS.ProcessEnv;
  port?: number | undefined;
  host?: string | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /** Injected in tests and the sandbox; otherwise Cloudflare from CLOUDFLARE_API_TOKEN / CLOUDFLARE_BASE_URL. */
  platform?: TrafficPlatform | undefined;
  probe?: Probe | undefined;
  runner?: { scanIntervalMs?: number; leaseMs?: number; errorBackoffMs?: number } | undefined;
  /** Alert dispatcher tuning (tests poll faster and give up on a silent channel sooner). */
  alerts?: { pollMs?: number; leaseMs?: number; attemptTimeoutMs?: number } | undefined;
  /** How long one Slack Web API call may take; default 10 s. */
  slackRequestTimeoutMs?: number | undefined;
  /** An HTTPS agent for PagerDuty (tests trust the fake's generated CA with it). */
  httpsAgent?: Agent | undefined;
}

export interface RunningBot {
  url: string;
  port: number;
  store: Store;
  /** Present when SLACK_BOT_TOKEN is set. */
  slack: SlackSurface | undefined;
  releases: ReleaseService;
  bus: TransitionBus;
  alerting: Alerting;
  logger: Logger;
  /** Stop taking work, let in-flight steps record their result, release leases, close. */
  close(): Promise<void>;
}

/** Composes the bot from its parts and starts it: store, platform, runner, HTTP server. */
export async function startBot(options: BotOptions): Promise<RunningBot> {
  const { config, env } = options;
  const logger =
    options.logger ??
    createLogger({ env, apiTokenEnvNames: config.apiTokens.map((t) => t.env) });
  const clock = options.clock ?? systemClock;
  const platform = options.platform ?? cloudflareFromEnv(env);
  const probe = options.probe ?? new HttpProbe();

  // One set of deps for every target, so each kind of metrics source is built once.
  const metricsDeps = { cloudflare: { apiToken: env.CLOUDFLARE_API_TOKEN ?? '', baseUrl: env.CLOUDFLARE_BASE_URL || undefined } };
  const opened = await openDatabase(env.DATABASE_URL || DEFAULT_DATABASE_URL, { serving: true });
  const store = new KyselyStore(opened.db);
  logger.info({ store: opened.description, migrated: opened.migrated, integrity: opened.integrity }, 'store ready');
  if (opened.integrity?.status === 'timed-out') {
    logger.warn({ ms: opened.integrity.ms }, 'the start-up integrity check of the store did not finish in time; starting without it');
  }

  const bus = new TransitionBus(logger);
  const metrics = new BotMetrics(store);
  bus.subscribe(transitionLogger(logger));
  bus.subscribe(metrics.observe);
  const tokens = new ApiTokens(config.apiTokens, env);
  for (const name of tokens.missing) logger.warn({ env: name }, `API token variable ${name} is not set; that actor cannot use the API`);

  let runner: Runner | undefined;
  let draining = false;
  const releases = new ReleaseService({ store, platform, clock, config, bus, poke: (id) => runner?.poke(id) });
  let app: FastifyInstance;
  let slack: SlackSurface | undefined;
  let alerting: Alerting;
  let owner = '';
  try {
    slack = SlackSurface.fromEnv({ env, config, releases, store, db: opened.db, platform, bus, clock, logger, requestTimeoutMs: options.slackRequestTimeoutMs });
    alerting = composeAlerting({
      config,
      env,
      store,
      db: opened.db,
      clock,
      logger,
      owner: () => owner,
      slack,
      httpsAgent: options.httpsAgent,
      pollMs: options.alerts?.pollMs,
      leaseMs: options.alerts?.leaseMs,
      attemptTimeoutMs: options.alerts?.attemptTimeoutMs,
      onAttempt: metrics.alertAttempt,
      // Shown in the deployment card's thread like any other audit event.
      audited: (d, event) => void bus.publish([{ before: d, after: d, events: [event] }]),
    });
    metrics.watchAlerts(alerting.outbox, clock);
    app = await createHttpServer({
      logger,
      releases,
      tokens,
      metrics,
      store,
      runnerAlive: () => runner?.isAlive() ?? false,
      isDraining: () => draining,
      rawHandlers: slack ? [slack.rawHandler] : [],
      alerts: alerting.service,
      webhooks: {
        logger,
        pagerDutySecrets: alerting.pagerDutySecrets,
        discordPublicKey: alerting.discordPublicKey,
        alerts: alerting.service,
        communityStatus: communityStatusSource({ config, store, outbox: alerting.outbox, clock }),
      },
    });
    await app.listen({ port: options.port ?? 3000, host: options.host ?? config.server.host });
  } catch (error) {
    await opened.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new KevinDeployError('USAGE', `port ${options.port} is already in use; set PORT to a free port`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 3000);
  owner = env.KEVIN_DEPLOY_INSTANCE || `${hostname()}:${port}`;
  runner = new Runner({
    store,
    executor: new StepExecutor(platform, probe, (settings) => metricsSourceFor(settings, metricsDeps), clock),
    bus,
    config,
    clock,
    logger,
    owner,
    ...options.runner,
  });
  // Alerts go out as soon as the status change that raised them is committed.
  bus.subscribe(() => alerting.dispatcher.poke());
  await runner.start();
  await slack?.start();
  alerting.dispatcher.start();
  logger.info({ on: alerting.configured, off: alerting.missing }, 'alert channels');
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
  await opened.announce(url);
  logger.info({ url, owner, services: [...config.services.keys()], config: config.source }, 'kevin-deploy is serving');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    slack,
    releases,
    bus,
    alerting,
    logger,
    close() {
      closing ??= (async () => {
        draining = true;
        await slack?.stop();
        await runner?.stop();
        await alerting.dispatcher.stop();
        await app.close();
        await opened.close();
        logger.info('kevin-deploy stopped');
        logger.flush?.();
      })();
      return closing;
    },
  };
}

function cloudflareFromEnv(env: NodeJS.ProcessEnv): TrafficPlatform {
  const apiToken = env.CLOUDFLARE_API_TOKEN;
  if (!apiToken) {
    throw new KevinDeployError(
      'USAGE',
      'CLOUDFLARE_API_TOKEN is not set: kevin-deploy needs a Cloudflare API token with "Workers Scripts: Edit" on the account (or run `kevin-deploy serve --sandbox`)',
    );
  }
  return new WorkersPlatform({ apiToken, baseUrl: env.CLOUDFLARE_BASE_URL || undefined });
}
