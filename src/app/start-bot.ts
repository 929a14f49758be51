import { randomBytes } from 'node:crypto';
import type { Agent } from 'node:https';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { metricsSourceFor } from '../adapters/metrics/metrics-source-for.ts';
import { HttpProbe } from '../adapters/probe/http-probe.ts';
import { httpSiteCheck } from '../adapters/probe/site-check.ts';
import { KyselyAvailability } from '../adapters/store/kysely-availability.ts';
import { KyselyStore } from '../adapters/store/kysely-store.ts';
import { KyselyConsoleSessions } from '../adapters/store/kysely-console-sessions.ts';
import { renderDeploymentCard } from '../adapters/slack/deployment-card.ts';
import { DEFAULT_DATABASE_URL, openDatabase } from '../adapters/store/open-store.ts';
import type { SlackOutbound } from '../adapters/slack/slack-outbound.ts';
import type { SlackSurface } from '../adapters/slack/slack-surface.ts';
import type { KevinDeployConfig } from '../config/schema.ts';
import type { Target } from '../domain/deployment.ts';
import { AvailabilityProber } from '../engine/availability-prober.ts';
import { ReleaseService } from '../engine/release-service.ts';
import { Runner } from '../engine/runner.ts';
import { StepExecutor } from '../engine/step-executor.ts';
import { TransitionBus } from '../engine/transition-bus.ts';
import { transitionLogger } from '../engine/transition-log.ts';
import { roleHoldersOf } from '../config/role-holders.ts';
import { targetCatalogOf } from '../config/target-catalog.ts';
import { lookupTarget } from '../config/target-lookup.ts';
import { KevinDeployError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { Probe } from '../ports/probe.ts';
import type { Store } from '../ports/store.ts';
import type { TrafficPlatform } from '../ports/traffic-platform.ts';
import type { TransitionFeed } from '../ports/transition-feed.ts';
import { composeAlerting, onCallLookupFromEnv, type Alerting } from './compose-alerting.ts';
import { cloudflarePlatform } from './platform-per-target.ts';
import { ApiTokens } from '../server/api-tokens.ts';
import { communityAvailabilitySince, communityIncidentsSince, communityStatusSource } from '../server/community-status.ts';
import { createHttpServer } from '../server/http-server.ts';
import { BotMetrics } from '../server/metrics.ts';
import type { ConsoleDeps } from '../server/console/console-routes.ts';
import type { ChangeFeed } from '../server/console/change-stream.ts';
import type { WakeSignal } from '../ports/wake-signal.ts';

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
  runner?: { scanIntervalMs?: number; leaseMs?: number; errorBackoffMs?: number; schemaCheckIntervalMs?: number } | undefined;
  /** Alert dispatcher tuning (tests poll faster and give up on a silent channel sooner). */
  alerts?: { pollMs?: number; leaseMs?: number; attemptTimeoutMs?: number } | undefined;
  /** The sandbox's sample-site uploads, offered on the console's new-release page. */
  sandboxUploads?: ConsoleDeps['sandbox'];
  /** How long one Slack Web API call may take; default 10 s. */
  slackRequestTimeoutMs?: number | undefined;
  /** An HTTPS agent for PagerDuty (tests trust the fake's generated CA with it). */
  httpsAgent?: Agent | undefined;
  /** The sandbox: alert channels without an account deliver to local sinks (the console's Outbox) instead of being skipped. */
  localAlertSinks?: boolean | undefined;
  /** How often each protected production site is checked for the status page's availability; default 60 s. */
  availabilityIntervalMs?: number | undefined;
}

export interface RunningBot {
  url: string;
  port: number;
  store: Store;
  /** Present when SLACK_BOT_TOKEN is set: the inbound surface (commands, buttons) and what the bot says. */
  slack: { surface: SlackSurface; outbound: SlackOutbound } | undefined;
  releases: ReleaseService;
  /** Committed transitions, for tests and benchmarks that watch a release move. */
  bus: TransitionFeed;
  alerting: Alerting;
  logger: Logger;
  /** Stop taking work, let in-flight steps record their result, release leases, close. */
  close(): Promise<void>;
}

const DEFAULT_SLACK_TIMEOUT_MS = 10_000;

/**
 * The composition root: builds the bot from its parts in dependency order — every part gets what
 * it needs in its constructor, nothing is wired afterwards — then opens the HTTP port and starts
 * the loops. The only place that chooses concrete adapters.
 */
export async function startBot(options: BotOptions): Promise<RunningBot> {
  const { config, env } = options;
  const logger = options.logger ?? createLogger({ env, apiTokenEnvNames: config.apiTokens.map((t) => t.env) });
  const clock = options.clock ?? systemClock;
  const targets = targetCatalogOf(config);
  // Checked before anything opens: a missing token is a usage error that changes nothing.
  const cloudflareToken = options.platform ? undefined : cloudflareTokenFrom(env);
  const probe = options.probe ?? new HttpProbe();
  const port = options.port ?? 3000;
  // Stable per replica (host:port) so a restarted one takes its own leases back at once; a bot on
  // an ephemeral port (tests) gets a name of its own.
  const owner = env.KEVIN_DEPLOY_INSTANCE || (port !== 0 ? `${hostname()}:${port}` : `${hostname()}:${process.pid}-${randomBytes(3).toString('hex')}`);

  // One set of deps for every target, so each kind of metrics source is built once.
  const metricsDeps = {
    cloudflare: { apiToken: env.CLOUDFLARE_API_TOKEN ?? '', baseUrl: env.CLOUDFLARE_BASE_URL || undefined },
    settingsOf: (target: Target) => lookupTarget(config, target.service, target.environment),
  };
  const opened = await openDatabase(env.DATABASE_URL || DEFAULT_DATABASE_URL, { serving: true });
  const store = new KyselyStore(opened.db, opened.dialect);
  logger.info({ store: opened.description, migrated: opened.migrated, integrity: opened.integrity }, 'store ready');
  if (opened.integrity?.status === 'timed-out') {
    logger.warn({ ms: opened.integrity.ms }, 'the start-up integrity check of the store did not finish in time; starting without it');
  }

  const bus = new TransitionBus(logger);
  const metrics = new BotMetrics(store);
  const platform =
    options.platform ??
    // Per target: one Worker split by version, or blue and green as two Workers switched by route.
    cloudflarePlatform({
      apiToken: cloudflareToken!,
      baseUrl: env.CLOUDFLARE_BASE_URL || undefined,
      settingsOf: (target) => lookupTarget(config, target.service, target.environment),
      onCall: metrics.cloudflareCall,
    });
  bus.subscribe(transitionLogger(logger));
  bus.subscribe(metrics.observe);
  const tokens = new ApiTokens(config.apiTokens, env);
  for (const name of tokens.missing) logger.warn({ env: name }, `API token variable ${name} is not set; that actor cannot use the API`);

  const runner = new Runner({
    store,
    executor: new StepExecutor(platform, probe, (settings) => metricsSourceFor(settings, metricsDeps), clock),
    bus,
    targets,
    clock,
    logger,
    owner,
    leaseMs: config.server.leaseTtl,
    ...options.runner,
  });
  // Postgres: a change applied by any replica wakes the one that can work on it at once (NOTIFY),
  // rather than at its next scan. SQLite has one process, whose runner is poked directly.
  const wake = await opened.startWakeSignal?.(logger);
  const wakeLag = metrics.watchRunner(runner);
  wake?.subscribe((id, lagMs) => {
    wakeLag(lagMs);
    runner.poke(id);
  });
  const poke = (id: string) => {
    runner.poke(id);
    wake?.send(id).catch((error: unknown) => logger.warn({ err: error, deploymentId: id }, 'could not announce a change to the other replicas; their scan will find it'));
  };
  const releases = new ReleaseService({ store, platform, clock, targets, roleHolders: () => roleHoldersOf(config), bus, poke });

  let draining = false;
  let app: FastifyInstance;
  let slack: RunningBot['slack'];
  let alerting: Alerting;
  let prober: AvailabilityProber;
  try {
    const slackTimeoutMs = options.slackRequestTimeoutMs ?? DEFAULT_SLACK_TIMEOUT_MS;
    const onCall = await onCallLookupFromEnv(config, env, clock, options.httpsAgent);
    // Bolt is loaded only when Slack is configured: a bot without it starts without paying for it.
    const outbound = env.SLACK_BOT_TOKEN
      ? new (await import('../adapters/slack/slack-outbound.ts')).SlackOutbound({
          botToken: env.SLACK_BOT_TOKEN,
          apiUrl: env.SLACK_API_URL || undefined,
          config,
          store,
          clock,
          logger,
          requestTimeoutMs: slackTimeoutMs,
          owner,
          ...(onCall ? { onCallEmails: async () => (await onCall.current()).people.flatMap((p) => (p.email ? [p.email] : [])) } : {}),
        })
      : undefined;
    alerting = await composeAlerting({
      config,
      env,
      store,
      db: opened.db,
      dialect: opened.dialect,
      clock,
      logger,
      owner,
      slackChannel: outbound?.alertChannel,
      httpsAgent: options.httpsAgent,
      pollMs: options.alerts?.pollMs,
      leaseMs: options.alerts?.leaseMs,
      attemptTimeoutMs: options.alerts?.attemptTimeoutMs,
      localSinks: options.localAlertSinks,
      onAttempt: metrics.alertAttempt,
      // An acknowledgement or resolution is an audit event: the card's thread shows it.
      audited: (d) => outbound?.refresh(d),
    });
    if (outbound && env.SLACK_BOT_TOKEN) {
      const { SlackSurface } = await import('../adapters/slack/slack-surface.ts');
      const surface = new SlackSurface({
        env,
        botToken: env.SLACK_BOT_TOKEN,
        config,
        releases,
        alerts: alerting.service,
        actors: outbound.actors,
        store,
        platform,
        clock,
        logger,
        requestTimeoutMs: slackTimeoutMs,
      });
      slack = { surface, outbound };
    }
    metrics.watchAlerts(alerting.outbox, clock);
    // What the community may know, for Discord's /kevin status and the public /status page alike.
    // The prober's latest answers say whether KEVIN is up; its counts make the page's 90-day strip.
    const availability = new KyselyAvailability(opened.db);
    const siteCheck = httpSiteCheck();
    prober = new AvailabilityProber({ targets, check: siteCheck, log: availability, clock, logger, intervalMs: options.availabilityIntervalMs });
    const communityStatus = communityStatusSource({ config, store, outbox: alerting.outbox, clock, latest: prober, check: siteCheck });
    app = await createHttpServer({
      logger,
      releases,
      tokens,
      metrics,
      store,
      runnerAlive: () => runner.isAlive(),
      refusingWork: () => runner.refusingWorkBecause(),
      isDraining: () => draining,
      rawHandlers: slack ? [slack.surface.rawHandler] : [],
      alerts: alerting.service,
      webhooks: {
        logger,
        pagerDutySecrets: alerting.pagerDutySecrets,
        discordPublicKey: alerting.discordPublicKey,
        alerts: alerting.service,
        communityStatus,
      },
      publicStatus: {
        current: communityStatus,
        incidents: (since) => communityIncidentsSince(alerting.outbox, since),
        availability: (sinceDay) => communityAvailabilitySince(availability, config, sinceDay),
        now: () => clock.now(),
      },
      console: {
        sessions: new KyselyConsoleSessions(opened.db),
        changes: consoleChanges(bus, wake),
        listVersions: (target) => platform.listVersions(target, 20),
        sandbox: options.sandboxUploads,
        outbox: {
          cardOf: (d) => renderDeploymentCard(d, lookupTarget(config, d.service, d.environment)),
          recentDeployments: (limit) => store.listDeployments({ limit }),
          emailAddressesOf: (alert) => alerting.emailAddressesOf(alert),
          smsRecipientsOf: (alert) => alerting.smsRecipientsOf(alert),
          publicUrl: config.server.publicUrl,
          alertBySeq: (seq) => alerting.outbox.get(seq),
        },
        now: () => clock.now(),
      },
    });
    await app.listen({ port, host: options.host ?? config.server.host });
  } catch (error) {
    await wake?.close();
    await opened.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new KevinDeployError('USAGE', `port ${port} is already in use; set PORT to a free port`);
    }
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  // Alerts go out as soon as the status change that raised them is committed.
  bus.subscribe(() => alerting.dispatcher.poke());
  await runner.start();
  await slack?.outbound.start(bus);
  await slack?.surface.start();
  alerting.dispatcher.start();
  prober.start();
  logger.info({ on: alerting.configured, off: alerting.missing }, 'alert channels');
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${boundPort}`;
  await opened.announce(url);
  logger.info({ url, owner, services: [...config.services.keys()], config: config.source }, 'kevin-deploy is serving');

  let closing: Promise<void> | undefined;
  return {
    url,
    port: boundPort,
    store,
    slack,
    releases,
    bus,
    alerting,
    logger,
    close() {
      closing ??= (async () => {
        draining = true;
        await slack?.surface.stop();
        await slack?.outbound.stop();
        await runner.stop();
        await alerting.dispatcher.stop();
        await prober.stop();
        await app.close();
        await wake?.close();
        await opened.close();
        logger.info('kevin-deploy stopped');
        logger.flush?.();
      })();
      return closing;
    },
  };
}

function cloudflareTokenFrom(env: NodeJS.ProcessEnv): string {
  const apiToken = env.CLOUDFLARE_API_TOKEN;
  if (!apiToken) {
    throw new KevinDeployError(
      'USAGE',
      'CLOUDFLARE_API_TOKEN is not set: kevin-deploy needs a Cloudflare API token with "Workers Scripts: Edit" on the account (or run `kevin-deploy serve --sandbox`)',
    );
  }
  return apiToken;
}

/**
 * Changes the console follows live: this replica's committed transitions and, with several
 * replicas, the others' announcements (Postgres NOTIFY), so a page shows a change made anywhere.
 */
function consoleChanges(bus: TransitionFeed, wake: WakeSignal | undefined): ChangeFeed {
  const listeners = new Set<(id: string) => void>();
  const tell = (id: string) => {
    for (const listener of listeners) listener(id);
  };
  bus.subscribe((record) => tell(record.after.id));
  wake?.subscribe((id) => tell(id));
  return (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
}
