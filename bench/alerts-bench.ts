/**
 * npm run bench:alerts — how long an alert takes from the outbox to the service that tells people,
 * and how the outbox catches up once a channel that was down is back.
 *
 * In one process: a migrated SQLite file opened as the bot opens it (WAL, synchronous=FULL), the
 * real AlertDispatcher and the real adapters (Slack WebClient, MailChannels over fetch, pdjs over
 * HTTPS, discord.js REST, twilio over fetch) against the loopback fakes from test/fakes. Measured:
 *   1. latency per channel: N critical alerts recorded one at a time (each in its own transaction,
 *      then poke), from just before the commit until the fake has received the request, split into
 *      time inside the adapter's deliver() and the rest (commit, escalation scan, lease);
 *   2. backlog drain: PagerDuty answers 503 while M alerts are recorded; once it is back, the time
 *      until all M arrived, alerts/s, and duplicates / order violations seen by the fake (should be 0);
 *   3. the same with two dispatchers (two owners, two connections to one file, like two replicas).
 * Options: --n N (default 200; 5 with --smoke), --backlog M (default 500; 20 with --smoke), and
 * bench-kit's --smoke and --time-limit SECONDS. Asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { webApi } from '@slack/bolt';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { DiscordChannel } from '../src/adapters/discord/discord-channel.ts';
import { MailChannelsChannel } from '../src/adapters/email/mailchannels-channel.ts';
import { PagerDutyChannel } from '../src/adapters/pagerduty/pagerduty-channel.ts';
import { SlackAlertChannel } from '../src/adapters/slack/slack-alert-channel.ts';
import { TwilioSmsChannel } from '../src/adapters/sms/twilio-sms-channel.ts';
import { slackLogger } from '../src/adapters/slack/slack-logger.ts';
import type { Database } from '../src/adapters/store/database-schema.ts';
import { KyselyAlertOutbox, recordAlertIntents } from '../src/adapters/store/kysely-alert-outbox.ts';
import { openDatabase } from '../src/adapters/store/open-store.ts';
import { targetCatalogOf } from '../src/config/target-catalog.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { settingsOf } from '../src/config/target-lookup.ts';
import { ALERT_CHANNELS, type Alert, type AlertChannelName } from '../src/domain/alert.ts';
import { AlertDispatcher } from '../src/engine/alert-dispatcher.ts';
import type { AlertChannel, DeliveryOutcome } from '../src/ports/alert-channel.ts';
import { systemClock } from '../src/ports/clock.ts';
import { startFakeDiscord } from '../test/fakes/discord-fake.ts';
import { startFakeMailChannels } from '../test/fakes/mailchannels-fake.ts';
import { startFakePagerDuty } from '../test/fakes/pagerduty-fake.ts';
import { startFakeSlack } from '../test/fakes/slack-web-api.ts';
import { startFakeTwilio } from '../test/fakes/twilio-fake.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';

const { values } = parseArgs({
  options: { ...BENCH_OPTIONS, n: { type: 'string' }, backlog: { type: 'string' } },
});
const bench = startBench('alerts', values);
const N = Number(values.n ?? (bench.smoke ? '5' : '200'));
const BACKLOG = Number(values.backlog ?? (bench.smoke ? '20' : '500'));
if (!Number.isInteger(N) || N < 1) throw new Error(`--n must be a positive integer, got ${values.n}`);
if (!Number.isInteger(BACKLOG) || BACKLOG < 1) throw new Error(`--backlog must be a positive integer, got ${values.backlog}`);
/** Not counted: the first deliveries pay for JIT, connection set-up and Discord's one-time channel lookup. */
const WARMUP = 5;
const ROUTING_KEY = 'bench0routing0key0for0pagerduty0'; // the Events API wants exactly 32 characters
const SLACK_CHANNEL = 'C0BENCHALERTS';
const DISCORD_CHANNEL = '1100000000000000100';
const FROM = 'kevin-deploy@bench.kevinstamp.invalid';

const text = `
alerting:
  slack: { channel: ${SLACK_CHANNEL} }
  email: { from: ${FROM} }
  discord: { channelId: '${DISCORD_CHANNEL}' }
  sms: { to: ['+15555550100'] }
  retry: { initialBackoff: 20ms, maxBackoff: 200ms }
services:
  kevinstamp:
    platform: { accountId: 0123456789abcdef0123456789abcdef, scriptName: kevinstamp }
    productionUrl: https://kevinstamp.bench.invalid
    alerts: { emailTo: [ops@bench.kevinstamp.invalid] }
    environments: { production: {} }
`;
const loaded = loadConfig({ path: 'alerts-bench.yml', text, env: {} });
if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
const config = loaded.config;
const logger = pino({ level: process.env.BENCH_LOG ?? 'silent' });

interface Span {
  start: number;
  end: number;
  status: DeliveryOutcome['status'];
  /** Why a retry was asked for. */
  error?: string | undefined;
}

/** The adapter as the dispatcher sees it, remembering how long each deliver() took and what it answered. */
function timed(channel: AlertChannel, spans: Span[]): AlertChannel {
  return {
    name: channel.name,
    async deliver(alert, context) {
      const start = performance.now();
      let outcome: DeliveryOutcome = { status: 'retry', error: 'the adapter threw' };
      try {
        outcome = await channel.deliver(alert, context);
        return outcome;
      } finally {
        spans.push({ start, end: performance.now(), status: outcome.status, error: outcome.status === 'retry' ? outcome.error : undefined });
      }
    },
  };
}

function overlap(spans: Span[], from: number, to: number): number {
  return spans.reduce((sum, s) => sum + Math.max(0, Math.min(s.end, to) - Math.max(s.start, from)), 0);
}

/** When `done()` first holds. everyMs 0 checks every event-loop turn (sub-millisecond), so done() must be cheap. */
async function until(done: () => boolean, what: string, everyMs = 0, timeoutMs = 120_000): Promise<number> {
  bench.phase(`waiting for ${what}`);
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => (everyMs === 0 ? setImmediate(resolve) : setTimeout(resolve, everyMs)));
  }
  return performance.now();
}

/**
 * Shaped as the router shapes an automatic rollback: critical, one incident per release. Discord
 * carries only community notices, so its alert is the rollback's community companion, as routed.
 */
function alertFor(channel: AlertChannelName, tag: string): Alert {
  const deploymentId = `bench-${tag}`;
  const createdAt = new Date().toISOString();
  const facts = { service: 'kevinstamp', environment: 'production', deploymentId, stage: 'rolling_back', reason: 'error rate 12.5 % > 5 % for 30s', trigger: 'errorRate' };
  if (channel === 'discord') {
    const incidentKey = `${deploymentId}/community`;
    return { id: incidentKey, kind: 'community-incident', level: 'emergency', title: 'kevinstamp may look off', facts, incidentKey, createdAt };
  }
  const title = `kevinstamp ${tag} in production is being rolled back automatically (errorRate)`;
  return { id: `${deploymentId}/${createdAt}/rolled-back`, kind: 'rolled-back', level: 'critical', title, facts, incidentKey: `${deploymentId}/errorRate`, createdAt };
}

/** One status change's worth: its own transaction, as commitDecision records alerts. */
async function record(db: Kysely<Database>, alert: Alert, channel: AlertChannelName): Promise<void> {
  await db.transaction().execute((trx) => recordAlertIntents(trx, [{ type: 'raise', alert, channels: [channel] }], new Date().toISOString()));
}

/** Arrivals in the fake's order: an alert seen again is a duplicate, one seen after a later one an order violation. */
function verify(arrivedKeys: string[], expected: Map<string, number>): string {
  const seen = new Set<string>();
  let [duplicates, outOfOrder, latest] = [0, 0, -1];
  for (const key of arrivedKeys) {
    if (seen.has(key)) duplicates++;
    seen.add(key);
    const index = expected.get(key) ?? -1;
    if (index < latest) outOfOrder++;
    latest = Math.max(latest, index);
  }
  const missing = [...expected.keys()].filter((k) => !seen.has(k)).length;
  return `duplicates ${duplicates}, order violations ${outOfOrder}, missing ${missing}`;
}

async function main(): Promise<void> {
  bench.phase('opening the database and starting the fakes');
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-alerts-bench-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  const url = `sqlite:${join(dir, 'bench.db')}`;
  const { db, dialect } = await openDatabase(url);
  const slack = await startFakeSlack({ botToken: 'xoxb-bench-token' });
  const mail = await startFakeMailChannels({ apiKey: 'mc-bench-key' });
  const pd = await startFakePagerDuty({ routingKeys: [ROUTING_KEY] });
  const discord = await startFakeDiscord({ channels: [{ id: DISCORD_CHANNEL }] });
  const twilio = await startFakeTwilio();
  // Keep-alive, as Node's global agent (what the bot uses in production); the fake's agent() opens a connection per request.
  const agents: https.Agent[] = [];
  const pagerDuty = () => {
    const agent = new https.Agent({ ca: pd.ca, keepAlive: true });
    agents.push(agent);
    return new PagerDutyChannel({ routingKey: ROUTING_KEY, eventsHost: pd.host, agent });
  };
  // Wired as composeAlerting wires them, from the same config.
  const adapters: Record<AlertChannelName, AlertChannel> = {
    slack: new SlackAlertChannel({
      client: new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, logger: slackLogger(logger), retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }),
      channelFor: () => config.alerting.slack.channel,
      mentions: async () => ['U0ONCALL'],
      clock: systemClock,
    }),
    email: new MailChannelsChannel({
      apiKey: mail.apiKey,
      apiUrl: mail.apiUrl,
      from: { email: FROM, name: config.alerting.email.fromName },
      to: (alert) => (settingsOf(config, alert.facts.service, alert.facts.environment)?.alerts.emailTo ?? []).map((email) => ({ email })),
    }),
    pagerduty: pagerDuty(),
    discord: new DiscordChannel({ mode: 'bot', token: discord.botToken, channelId: DISCORD_CHANNEL, api: discord.api }),
    sms: new TwilioSmsChannel({ accountSid: twilio.accountSid, authToken: twilio.authToken, from: twilio.from, apiUrl: twilio.apiUrl, to: () => config.alerting.sms.to }),
  };
  const dispatcherOn = (on: Kysely<Database>, owner: string, channels: AlertChannel[]) =>
    new AlertDispatcher({ outbox: new KyselyAlertOutbox(on, dialect), channels, missing: {}, targets: targetCatalogOf(config), retry: config.alerting.retry, clock: systemClock, logger, owner });

  const spans = Object.fromEntries(ALERT_CHANNELS.map((c) => [c, [] as Span[]])) as Record<AlertChannelName, Span[]>;
  const dispatcher = dispatcherOn(db, 'replica-1', ALERT_CHANNELS.map((c) => timed(adapters[c], spans[c])));
  dispatcher.start();

  console.log(
    `kevin-deploy alert benchmark: real adapters against the loopback fakes; SQLite in ${dir} (WAL, synchronous=FULL); ` +
      `retry 20ms doubling to 200ms; dispatcher poll 1 s (the default)`,
  );

  // ── 1. latency, outbox → received by the fake ────────────────────────────────────────────────
  // What the fake has received so far. Mail's accessors deep-copy every record, so its fake is
  // emptied after each alert to keep the per-turn check cheap.
  const received: Record<AlertChannelName, () => number> = {
    slack: () => slack.calls('chat.postMessage').length,
    email: () => mail.calls().length,
    pagerduty: () => pd.requests('/v2/enqueue').length,
    discord: () => discord.requests('POST /channels/:id/messages').length,
    sms: () => twilio.calls().filter((c) => c.method === 'POST').length,
  };
  const outbox = new KyselyAlertOutbox(db, dialect);
  const f = (v: number) => v.toFixed(2).padStart(7);
  const notes: string[] = [];
  console.log(`1. outbox → received by the fake: ${N} alerts one at a time per channel (after ${WARMUP} warm-up), ms`);
  console.log(`${''.padEnd(10)} ${'total'.padEnd(31)} ${'in adapter'.padEnd(15)} ${'dispatcher (total − adapter)'.padEnd(31)} commit`);
  console.log(`${''.padEnd(10)} ${['p50', 'p95', 'p99', 'max', 'p50', 'p99', 'p50', 'p95', 'p99', 'max', 'p50'].map((h) => h.padStart(7)).join(' ')}`);
  for (const name of ALERT_CHANNELS) {
    bench.phase(`measuring ${name}`);
    const [total, own, inAdapter, commit]: [number[], number[], number[], number[]] = [[], [], [], []];
    let retried = 0;
    for (let i = -WARMUP; i < N; i++) {
      const alert = alertFor(name, `latency-${name}-${i + WARMUP}`);
      const before = received[name]();
      const attemptsBefore = spans[name].length;
      const start = performance.now();
      await record(db, alert, name);
      const committed = performance.now();
      dispatcher.poke();
      const arrived = await until(() => received[name]() > before, `${name} to receive ${alert.id}`);
      // Each figure is one alert's, not a queue's: the next starts once this one is recorded as delivered.
      bench.phase(`waiting for the dispatcher to finish with ${alert.id}`);
      await dispatcher.idle();
      // A retried delivery waited for its retry (backoff or the service's Retry-After): that wait is
      // in the total but is not the dispatcher's overhead.
      const wasRetried = spans[name].slice(attemptsBefore).some((s) => s.status === 'retry');
      // Acknowledged once measured, as on-call would: every drain scans the unacknowledged incidents
      // for escalation, and N of them left open would measure that scan rather than a delivery.
      await outbox.acknowledge(alert.incidentKey!, 'bench', 'pagerduty', new Date().toISOString());
      dispatcher.poke(); // Slack's follow-up (the message edited to say so), off the clock
      await dispatcher.idle();
      mail.reset();
      twilio.reset();
      if (i < 0) continue;
      total.push(arrived - start);
      inAdapter.push(overlap(spans[name], start, arrived));
      commit.push(committed - start);
      if (wasRetried) retried++;
      else own.push(total.at(-1)! - inAdapter.at(-1)!);
    }
    const cells = [percentile(total, 50), percentile(total, 95), percentile(total, 99), percentile(total, 100), percentile(inAdapter, 50), percentile(inAdapter, 99)];
    cells.push(percentile(own, 50), percentile(own, 95), percentile(own, 99), percentile(own, 100), percentile(commit, 50));
    console.log(`${name.padEnd(10)} ${cells.map(f).join(' ')}`);
    if (retried > 0) notes.push(`${name}: ${retried} of ${N} needed a retry (${[...new Set(spans[name].flatMap((s) => (s.error ? [s.error] : [])))].join('; ')}); in the total, not in "dispatcher"`);
  }
  console.log('   "dispatcher" = commit (fsync) + poke → escalation scan → lease → deliver() called, over first-attempt deliveries');
  for (const note of notes) console.log(`   ${note}`);

  // ── 2. backlog drain after an outage ─────────────────────────────────────────────────────────
  const dedupKeys = () => pd.events().map((e) => e.dedupKey);
  const drained = (expected: Map<string, number>) => () => new Set(dedupKeys()).size >= expected.size;
  bench.phase(`recording a backlog of ${BACKLOG} while PagerDuty is down`);
  pd.reset();
  pd.setDown(503);
  const backlog = new Map<string, number>();
  for (let i = 0; i < BACKLOG; i++) {
    const alert = alertFor('pagerduty', `backlog-${i}`);
    backlog.set(alert.incidentKey!, i); // PagerDuty's dedup_key
    await record(db, alert, 'pagerduty');
    dispatcher.poke();
    // Status changes come from separate events; better-sqlite3 is synchronous, so without a turn
    // of the event loop here the whole loop would starve the dispatcher's sockets.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const refused = pd.requests('/v2/enqueue').length;
  const upAt = performance.now();
  pd.setUp();
  dispatcher.poke();
  const firstAt = await until(() => pd.events().length > 0, 'the first event after the outage', 1);
  const lastAt = await until(drained(backlog), `all ${BACKLOG} backlog events`, 1);
  bench.phase('waiting for the dispatcher to be idle after the backlog');
  await dispatcher.idle();
  await dispatcher.stop();
  console.log(
    `2. backlog: PagerDuty down (503) while ${BACKLOG} alerts were recorded (${refused} attempts refused, backing off); once up: ` +
      `first in ${(firstAt - upAt).toFixed(0)} ms, all ${BACKLOG} in ${(lastAt - upAt).toFixed(0)} ms ` +
      `(${(BACKLOG / ((lastAt - upAt) / 1000)).toFixed(0)} alerts/s; ${(BACKLOG / ((lastAt - firstAt) / 1000)).toFixed(0)}/s from the first); ` +
      verify(dedupKeys(), backlog),
  );

  // ── 3. two replicas draining one backlog ─────────────────────────────────────────────────────
  // Recorded before either starts: a transaction held open across awaits on one connection would
  // make the other connection's synchronous busy-wait block this (shared) event loop.
  bench.phase(`recording a backlog of ${BACKLOG} for two replicas`);
  pd.reset();
  const shared = new Map<string, number>();
  for (let i = 0; i < BACKLOG; i++) {
    const alert = alertFor('pagerduty', `replicas-${i}`);
    shared.set(alert.incidentKey!, i);
    await record(db, alert, 'pagerduty');
  }
  const second = await openDatabase(url);
  const replicaSpans: [Span[], Span[]] = [[], []];
  const replicas = [
    dispatcherOn(db, 'replica-a', [timed(pagerDuty(), replicaSpans[0])]),
    dispatcherOn(second.db, 'replica-b', [timed(pagerDuty(), replicaSpans[1])]),
  ];
  const startAt = performance.now();
  for (const r of replicas) r.start();
  const doneAt = await until(drained(shared), `all ${BACKLOG} events from two replicas`, 1);
  bench.phase('waiting for both replicas to be idle');
  await Promise.all(replicas.map((r) => r.idle()));
  const split = replicaSpans.map((s) => s.filter((x) => x.status === 'delivered').length);
  const stillPending = (await outbox.countDeliveries()).filter((c) => c.status === 'pending').reduce((n, c) => n + c.count, 0);
  console.log(
    `3. two dispatchers (replica-a, replica-b) on two connections to one SQLite file, in one process, backlog of ${BACKLOG}: all in ${(doneAt - startAt).toFixed(0)} ms ` +
      `(${(BACKLOG / ((doneAt - startAt) / 1000)).toFixed(0)} alerts/s); delivered by a/b ${split.join('/')}; ` +
      `${verify(dedupKeys(), shared)}; outbox pending ${stillPending}`,
  );

  bench.phase('stopping the dispatchers, the databases and the fakes');
  for (const r of replicas) await r.stop();
  await second.db.destroy();
  await db.destroy();
  for (const agent of agents) agent.destroy();
  await Promise.all([slack.close(), mail.close(), pd.close(), discord.close(), twilio.close()]);
  rmSync(dir, { recursive: true, force: true });
}

await bench.run(main);
