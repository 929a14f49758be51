import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/adapters/store/database-schema.ts';
import type { KyselyAlertOutbox } from '../../src/adapters/store/kysely-alert-outbox.ts';
import { formatDuration } from '../../src/domain/format-duration.ts';
import type { KevinDeployConfig } from '../../src/config/schema.ts';
import { targetCatalogOf } from '../../src/config/target-catalog.ts';
import type { AlertChannelName } from '../../src/domain/alert.ts';
import { alertsFor } from '../../src/domain/alert-rules.ts';
import { SYSTEM_ACTOR } from '../../src/domain/actors.ts';
import { AlertDispatcher } from '../../src/engine/alert-dispatcher.ts';
import type { AlertChannel, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import type { DeliveryRecord, StoredAlert } from '../../src/ports/alert-outbox.ts';
import {
  ManualClock,
  ScriptedChannel,
  alert,
  alertConfig,
  alertIso,
  raise,
  record,
  silentLogger,
  tempDatabase,
  type TempDatabase,
} from '../support/alert-fixtures.ts';
import { inStage, settings } from '../support/domain-fixtures.ts';

/**
 * The alert dispatcher with the real SQLite outbox, scripted in-memory channels and a clock the
 * test moves: order per channel, retries and backoff, final failures, unconfigured channels,
 * idempotency keys and incident refs, restarts, and escalation. Time only moves when the test
 * moves the clock — except lease expiry, which is the database's clock's (a test waits it out);
 * `poke()` + `idle()` run one drain to completion.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

let tmp: TempDatabase;
let db: Kysely<Database>;
let outbox: KyselyAlertOutbox;
let clock: ManualClock;
let attempts: Array<[AlertChannelName, DeliveryOutcome['status']]>;
const dispatchers: AlertDispatcher[] = [];

beforeEach(async () => {
  tmp = tempDatabase();
  ({ db, outbox } = await tmp.open());
  clock = new ManualClock();
  attempts = [];
});

afterEach(async () => {
  while (dispatchers.length > 0) await dispatchers.pop()!.stop();
  await tmp.cleanup();
});

interface DispatcherOptions {
  channels: AlertChannel[];
  missing?: Partial<Record<AlertChannelName, string>>;
  config?: KevinDeployConfig;
  owner?: string;
  store?: KyselyAlertOutbox;
  attemptTimeoutMs?: number;
}

/** The dispatcher's view of a configuration: its targets and the delivery retry timings. */
function dispatcherConfig(config: KevinDeployConfig) {
  return { targets: targetCatalogOf(config), retry: config.alerting.retry };
}

function dispatcher(o: DispatcherOptions): AlertDispatcher {
  const d = new AlertDispatcher({
    outbox: o.store ?? outbox,
    channels: o.channels,
    missing: o.missing ?? {},
    ...dispatcherConfig(o.config ?? alertConfig()),
    clock,
    logger: silentLogger,
    owner: o.owner ?? 'replica-1',
    // No timer runs unless start() is called; the tests poke.
    leaseMs: MINUTE,
    // Real milliseconds (the deadline of one attempt is a timer, not the stored clock).
    attemptTimeoutMs: o.attemptTimeoutMs ?? 30 * SECOND,
    onAttempt: (channel, status) => attempts.push([channel, status]),
  });
  dispatchers.push(d);
  return d;
}

/** One drain, to completion. */
async function drain(d: AlertDispatcher): Promise<void> {
  d.poke();
  await d.idle();
}

function channels(...names: AlertChannelName[]): ScriptedChannel[] {
  return names.map((name) => new ScriptedChannel(name, clock));
}

async function storedAlerts(store: KyselyAlertOutbox = outbox): Promise<StoredAlert[]> {
  return (await store.list({ limit: 1000 })).reverse();
}

async function delivery(alertId: string, channel: AlertChannelName): Promise<DeliveryRecord> {
  const found = (await storedAlerts()).find((a) => a.id === alertId)?.deliveries.find((d) => d.channel === channel);
  if (!found) throw new Error(`no delivery of ${alertId} on ${channel}`);
  return found;
}

/** `n` info alerts raised one second apart from T0, on `on`. */
async function raiseSeries(n: number, on: AlertChannelName[]): Promise<string[]> {
  const alerts = Array.from({ length: n }, (_, i) => alert({ name: `a${i}`, createdAt: alertIso(i * SECOND) }));
  await record(db, alerts.map((a) => raise(a, on)));
  return alerts.map((a) => a.id);
}

const down = (error = '503 Service Unavailable'): DeliveryOutcome => ({ status: 'retry', error });

describe('delivery', () => {
  it('delivers everything once, in raise order per channel, with the channel’s ref recorded', async () => {
    const [slack, email, pagerduty, discord] = channels('slack', 'email', 'pagerduty', 'discord');
    const a = alert({ name: 'a', createdAt: alertIso(0) });
    const b = alert({ name: 'b', createdAt: alertIso(SECOND) });
    const c = alert({ name: 'c', createdAt: alertIso(2 * SECOND) });
    await record(db, [raise(a, ['slack', 'email']), raise(b, ['slack', 'pagerduty']), raise(c, ['slack', 'email', 'pagerduty', 'discord'])]);
    clock.set(alertIso(3 * SECOND));
    const d = dispatcher({ channels: [slack!, email!, pagerduty!, discord!] });

    await drain(d);
    expect(slack!.calls.map((x) => x.alertId)).toEqual([a.id, b.id, c.id]);
    expect(email!.calls.map((x) => x.alertId)).toEqual([a.id, c.id]);
    expect(pagerduty!.calls.map((x) => x.alertId)).toEqual([b.id, c.id]);
    expect(discord!.calls.map((x) => x.alertId)).toEqual([c.id]);
    expect(await delivery(b.id, 'pagerduty')).toEqual({
      channel: 'pagerduty',
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: alertIso(SECOND),
      lastError: null,
      ref: `pagerduty:${b.id}`,
      deliveredAt: alertIso(3 * SECOND),
    });
    expect(attempts).toHaveLength(8);
    expect(attempts.every(([, status]) => status === 'delivered')).toBe(true);

    // Nothing is sent twice.
    clock.advance(HOUR);
    await drain(d);
    expect([slack, email, pagerduty, discord].map((ch) => ch!.calls.length)).toEqual([3, 2, 2, 1]);
    expect(await outbox.countDeliveries()).toEqual(expect.arrayContaining([{ channel: 'slack', status: 'delivered', count: 3 }]));
    expect(await outbox.oldestPending()).toEqual([]);
  });

  it('an alert is not sent before the time it was raised', async () => {
    const [slack] = channels('slack');
    await record(db, [raise(alert({ name: 'later', createdAt: alertIso(MINUTE) }), ['slack'])]);
    const d = dispatcher({ channels: [slack!] });
    await drain(d);
    expect(slack!.calls).toEqual([]);
    clock.set(alertIso(MINUTE));
    await drain(d);
    expect(slack!.calls).toHaveLength(1);
  });

  it('a channel down for ten minutes then back gets everything once, in order, each with its original time; other channels are unaffected', async () => {
    const ids = await raiseSeries(5, ['slack', 'email']);
    const [slack, email] = channels('slack', 'email');
    const backAt = Date.parse(alertIso(10 * MINUTE));
    slack!.script = (a) => (clock.now().getTime() < backAt ? down() : { status: 'delivered', ref: `ts-${a.id}` });
    const d = dispatcher({ channels: [slack!, email!] });

    clock.set(alertIso(5 * SECOND));
    for (let t = 5 * SECOND; t <= 25 * MINUTE; t += 15 * SECOND) {
      clock.set(alertIso(t));
      await drain(d);
    }

    // Email never waited for slack.
    expect(email!.calls.map((c) => [c.alertId, c.calledAt])).toEqual(ids.map((id) => [id, alertIso(5 * SECOND)]));

    const failedCalls = slack!.calls.filter((c) => c.outcome !== 'threw' && c.outcome.status === 'retry');
    const deliveredCalls = slack!.calls.filter((c) => c.outcome !== 'threw' && c.outcome.status === 'delivered');
    // While down, only the head was tried: later alerts waited behind it.
    expect(failedCalls.length).toBeGreaterThan(3);
    expect(new Set(failedCalls.map((c) => c.alertId))).toEqual(new Set([ids[0]]));
    expect(failedCalls.every((c) => Date.parse(c.calledAt) < backAt)).toBe(true);
    // Back: each alert exactly once, in order, with the time it was raised.
    expect(deliveredCalls.map((c) => c.alertId)).toEqual(ids);
    expect(deliveredCalls.map((c) => c.createdAt)).toEqual(ids.map((_, i) => alertIso(i * SECOND)));
    expect(new Set(deliveredCalls.map((c) => c.calledAt)).size).toBe(1);
    expect(Date.parse(deliveredCalls[0]!.calledAt)).toBeGreaterThanOrEqual(backAt);
    // The head's attempts are numbered and keep one idempotency key.
    const headCalls = slack!.calls.filter((c) => c.alertId === ids[0]);
    expect(headCalls.map((c) => c.context.attempt)).toEqual(headCalls.map((_, i) => i + 1));
    expect(new Set(headCalls.map((c) => c.context.idempotencyKey))).toEqual(new Set([`${ids[0]}#slack`]));
    expect(await delivery(ids[0]!, 'slack')).toMatchObject({ status: 'delivered', attempts: headCalls.length, lastError: null, ref: `ts-${ids[0]}` });
    for (const id of ids.slice(1)) expect(await delivery(id, 'slack')).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});

describe('retries', () => {
  it('a retryAfterMs longer than the backoff is respected: no attempt before it', async () => {
    const [pagerduty] = channels('pagerduty');
    pagerduty!.script = (_a, ctx) => (ctx.attempt === 1 ? { status: 'retry', error: '429 Too Many Requests', retryAfterMs: 90 * SECOND } : { status: 'delivered', ref: 'dedup-1' });
    const [id] = await raiseSeries(1, ['pagerduty']);
    const d = dispatcher({ channels: [pagerduty!] });

    await drain(d);
    expect(await delivery(id!, 'pagerduty')).toMatchObject({ status: 'pending', attempts: 1, lastError: '429 Too Many Requests', nextAttemptAt: alertIso(90 * SECOND) });
    for (const t of [2 * SECOND, 60 * SECOND, 90 * SECOND - 1]) {
      clock.set(alertIso(t));
      await drain(d);
      expect(pagerduty!.calls, `at +${t} ms`).toHaveLength(1);
    }
    clock.set(alertIso(90 * SECOND));
    await drain(d);
    expect(pagerduty!.calls.map((c) => c.context.attempt)).toEqual([1, 2]);
    expect(await delivery(id!, 'pagerduty')).toMatchObject({ status: 'delivered', attempts: 2, ref: 'dedup-1' });
    expect(attempts).toEqual([
      ['pagerduty', 'retry'],
      ['pagerduty', 'delivered'],
    ]);
  });

  it('a retryAfterMs shorter than the backoff does not shorten it', async () => {
    const [slack] = channels('slack');
    slack!.script = () => ({ status: 'retry', error: '429', retryAfterMs: 100 });
    const [id] = await raiseSeries(1, ['slack']);
    await drain(dispatcher({ channels: [slack!] }));
    expect((await delivery(id!, 'slack')).nextAttemptAt).toBe(alertIso(2 * SECOND));
  });

  it('backs off exponentially from initialBackoff, capped by maxBackoff', async () => {
    const config = alertConfig({ retry: { initialBackoff: '1s', maxBackoff: '10s' } });
    const [email] = channels('email');
    email!.script = () => down();
    const [id] = await raiseSeries(1, ['email']);
    const d = dispatcher({ channels: [email!], config });

    const waits: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      await drain(d);
      expect(email!.calls).toHaveLength(attempt);
      const next = (await delivery(id!, 'email')).nextAttemptAt;
      waits.push(Date.parse(next) - clock.now().getTime());
      // Not a moment sooner…
      clock.set(new Date(Date.parse(next) - 1));
      await drain(d);
      expect(email!.calls).toHaveLength(attempt);
      // …and at once when due.
      clock.set(next);
    }
    expect(waits).toEqual([1, 2, 4, 8, 10, 10, 10, 10].map((s) => s * SECOND));
    expect(email!.calls.map((c) => c.context.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await delivery(id!, 'email')).toMatchObject({ status: 'pending', attempts: 8, lastError: '503 Service Unavailable' });
  });

  it("'failed' is final: never retried, and the next alert on the channel goes", async () => {
    const [slack] = channels('slack');
    const ids = await raiseSeries(2, ['slack']);
    slack!.script = (a) => (a.id === ids[0] ? { status: 'failed', error: '404 channel_not_found' } : { status: 'delivered', ref: 'ts-2' });
    clock.set(alertIso(2 * SECOND));
    const d = dispatcher({ channels: [slack!] });

    await drain(d);
    expect(slack!.calls.map((c) => c.alertId)).toEqual(ids);
    expect(await delivery(ids[0]!, 'slack')).toMatchObject({ status: 'failed', attempts: 1, lastError: '404 channel_not_found', ref: null, deliveredAt: null });
    expect(await delivery(ids[1]!, 'slack')).toMatchObject({ status: 'delivered', ref: 'ts-2' });

    clock.advance(HOUR);
    await drain(d);
    expect(slack!.calls).toHaveLength(2);
    expect((await outbox.list({ status: 'failed' })).map((a) => a.id)).toEqual([ids[0]]);
  });

  it('a channel that throws is treated as down: retried later, others unaffected', async () => {
    const [slack, email] = channels('slack', 'email');
    email!.script = (_a, ctx) => {
      if (ctx.attempt === 1) throw new Error('socket hang up');
      return { status: 'delivered', ref: 'msg-1' };
    };
    const [id] = await raiseSeries(1, ['slack', 'email']);
    const d = dispatcher({ channels: [slack!, email!] });

    await drain(d);
    expect(slack!.calls).toHaveLength(1);
    expect(await delivery(id!, 'email')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'socket hang up', nextAttemptAt: alertIso(2 * SECOND) });
    expect(attempts).toEqual(expect.arrayContaining([['email', 'retry'], ['slack', 'delivered']]));

    clock.set(alertIso(2 * SECOND));
    await drain(d);
    expect(email!.calls.map((c) => c.context.attempt)).toEqual([1, 2]);
    expect(await delivery(id!, 'email')).toMatchObject({ status: 'delivered', attempts: 2, ref: 'msg-1', lastError: null });
  });
});

describe('a channel that stops answering', () => {
  it('an attempt that never returns is given up at its deadline and retried later; other channels and later drains go on', async () => {
    const [slack, email] = channels('slack', 'email');
    const signals: AbortSignal[] = [];
    slack!.script = (_a, ctx) => {
      if (ctx.attempt === 1) {
        signals.push(ctx.signal!);
        return new Promise<DeliveryOutcome>(() => undefined); // Slack accepted the connection and went silent
      }
      return { status: 'delivered', ref: 'C0ALERTS:1.0' };
    };
    const [id] = await raiseSeries(1, ['slack', 'email']);
    const d = dispatcher({ channels: [slack!, email!], attemptTimeoutMs: 200 });

    await drain(d);
    expect(email!.delivered()).toEqual([id]);
    const hung = await delivery(id!, 'slack');
    expect(hung).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: alertIso(2 * SECOND) });
    expect(hung.lastError).toContain('slack did not answer within 200ms');
    // The channel was told to abort its request.
    expect(signals.map((s) => s.aborted)).toEqual([true]);

    clock.set(alertIso(2 * SECOND));
    await drain(d);
    expect(slack!.calls.map((c) => c.context.attempt)).toEqual([1, 2]);
    expect(await delivery(id!, 'slack')).toMatchObject({ status: 'delivered', attempts: 2, ref: 'C0ALERTS:1.0', lastError: null });
    expect(email!.calls).toHaveLength(1);
  });
});

describe('progress recorded during an attempt (a channel that sends in steps, like SMS)', () => {
  it('is stored at once under the lease, kept by a retry without a ref, handed to the next attempt, and refused once the deadline passed', async () => {
    const [sms] = channels('sms');
    const wrote: boolean[] = [];
    let late: ((ref: string) => Promise<boolean>) | undefined;
    sms!.script = async (_a, ctx) => {
      if (ctx.attempt === 1) {
        wrote.push(await ctx.recordProgress!('step-1'));
        const [stored] = await storedAlerts();
        expect(stored!.deliveries[0]).toMatchObject({ status: 'pending', ref: 'step-1' });
        return { status: 'retry', error: 'Twilio answered 503' };
      }
      if (ctx.attempt === 2) {
        expect(ctx.previousRef).toBe('step-1');
        late = ctx.recordProgress;
        return new Promise<DeliveryOutcome>(() => undefined); // hangs past the deadline
      }
      expect(ctx.previousRef).toBe('step-1');
      return { status: 'failed', error: 'Twilio refused every number', ref: 'step-3' };
    };
    const [id] = await raiseSeries(1, ['sms']);
    const d = dispatcher({ channels: [sms!], attemptTimeoutMs: 200 });
    await drain(d);
    expect(wrote).toEqual([true]);
    expect(await delivery(id!, 'sms')).toMatchObject({ status: 'pending', attempts: 1, ref: 'step-1', lastError: 'Twilio answered 503' });

    clock.set(alertIso(2 * SECOND));
    await drain(d);
    expect(await delivery(id!, 'sms')).toMatchObject({ status: 'pending', attempts: 2, ref: 'step-1' });
    // The attempt was given up: what it says now is not recorded.
    expect(await late!('step-2-late')).toBe(false);
    expect((await delivery(id!, 'sms')).ref).toBe('step-1');

    clock.set(alertIso(10 * SECOND));
    await drain(d);
    expect(await delivery(id!, 'sms')).toMatchObject({ status: 'failed', attempts: 3, ref: 'step-3', lastError: 'Twilio refused every number' });
  });
});

describe('unconfigured channels', () => {
  it('are skipped with the reason from `missing`, and do not hold up later alerts', async () => {
    const [slack] = channels('slack');
    const ids = await raiseSeries(2, ['slack', 'pagerduty', 'email']);
    clock.set(alertIso(2 * SECOND));
    const d = dispatcher({ channels: [slack!], missing: { pagerduty: 'set PAGERDUTY_ROUTING_KEY' } });

    await drain(d);
    expect(slack!.calls.map((c) => c.alertId)).toEqual(ids);
    for (const id of ids) {
      expect(await delivery(id, 'pagerduty')).toMatchObject({ status: 'skipped', attempts: 1, lastError: 'pagerduty is not configured: set PAGERDUTY_ROUTING_KEY', ref: null });
      expect(await delivery(id, 'email')).toMatchObject({ status: 'skipped', lastError: 'email is not configured' });
    }
    expect(attempts.filter(([channel]) => channel === 'pagerduty')).toEqual([
      ['pagerduty', 'skipped'],
      ['pagerduty', 'skipped'],
    ]);
  });
});

describe('idempotency keys and incident refs', () => {
  const DEP = 'dep-0001';
  const KEY = `${DEP}/health-failures`;

  function rollbackIntents() {
    return alertsFor(
      inStage('rolling_back'),
      [{ deploymentId: DEP, at: alertIso(), actor: SYSTEM_ACTOR, action: 'rollback-started', fromStage: 'monitoring', toStage: 'rolling_back', details: { trigger: 'health-failures', level: 'critical' } }],
      settings(),
    );
  }

  it('the key is stable across attempts; later alerts of an incident carry the refs of the earlier delivered ones on that channel', async () => {
    const [slack, email, pagerduty, discord] = channels('slack', 'email', 'pagerduty', 'discord');
    slack!.script = (a) => ({ status: 'delivered', ref: `C0ALERTS:${a.kind}` });
    pagerduty!.script = (_a, ctx) => ({ status: 'delivered', ref: `dedup:${ctx.idempotencyKey}` });
    await record(db, rollbackIntents());
    const d = dispatcher({ channels: [slack!, email!, pagerduty!, discord!] });
    await drain(d);
    const rolledId = `${DEP}/${alertIso()}/rolled-back`;
    for (const ch of [slack, email, pagerduty]) {
      expect(ch!.calls.map((c) => c.context)).toEqual([{ idempotencyKey: `${rolledId}#${ch!.name}`, attempt: 1, incidentRefs: [], previousRef: undefined }]);
    }

    // Acknowledged: the follow-up edits the incident's messages; Slack is down for its first attempt.
    clock.set(alertIso(MINUTE));
    let slackCalls = 0;
    slack!.script = (a) => (++slackCalls === 1 ? down() : { status: 'delivered', ref: `C0ALERTS:${a.kind}` });
    const ack = await outbox.acknowledge(KEY, 'carol', 'cli', clock.iso());
    expect(ack?.deliveries.map((x) => x.channel)).toEqual(['pagerduty', 'slack']);
    await drain(d);
    clock.set(alertIso(MINUTE + 2 * SECOND));
    await drain(d);

    const ackId = `${KEY}/acknowledged`;
    const slackAck = slack!.calls.filter((c) => c.alertId === ackId);
    expect(slackAck.map((c) => c.context)).toEqual([
      { idempotencyKey: `${ackId}#slack`, attempt: 1, incidentRefs: ['C0ALERTS:rolled-back'], previousRef: undefined },
      { idempotencyKey: `${ackId}#slack`, attempt: 2, incidentRefs: ['C0ALERTS:rolled-back'], previousRef: undefined },
    ]);
    const pdAck = pagerduty!.calls.filter((c) => c.alertId === ackId);
    expect(pdAck.map((c) => c.context)).toEqual([{ idempotencyKey: `${ackId}#pagerduty`, attempt: 1, incidentRefs: [`dedup:${rolledId}#pagerduty`], previousRef: undefined }]);
    // Email and the community are not bothered with acknowledgements.
    expect(email!.calls.map((c) => c.alertId)).toEqual([rolledId]);
    expect(discord!.calls.map((c) => c.alertId)).toEqual([`${DEP}/community`]);
  });
});

describe('restarts', () => {
  it('a new dispatcher on the same database continues where the old one stopped, without resending', async () => {
    const ids = await raiseSeries(5, ['slack']);
    clock.set(alertIso(5 * SECOND));
    const [first] = channels('slack');
    // Slack goes down after two alerts; the bot is then stopped.
    first!.script = (a, _ctx, call) => (call <= 2 ? { status: 'delivered', ref: `ts-${a.id}` } : down());
    const before = dispatcher({ channels: [first!] });
    await drain(before);
    await before.stop();
    expect(first!.delivered()).toEqual(ids.slice(0, 2));

    // A new process: its own connection, its own channel objects.
    const { outbox: reopened } = await tmp.open();
    const [second] = channels('slack');
    const after = dispatcher({ channels: [second!], store: reopened });
    clock.set(alertIso(5 * SECOND + 2 * SECOND));
    await drain(after);
    expect(second!.calls.map((c) => [c.alertId, c.context.attempt])).toEqual([
      [ids[2], 2],
      [ids[3], 1],
      [ids[4], 1],
    ]);
    expect([...first!.delivered(), ...second!.delivered()]).toEqual(ids);
  });

  it('a delivery leased by a replica that died mid-send is taken over when its lease expires, with the same idempotency key', async () => {
    const [id] = await raiseSeries(1, ['pagerduty']);
    // The old process leased it (a short lease, by the database's clock) and died before recording the outcome.
    const shortLease = 400;
    const leased = await outbox.leaseDue('replica-old', alertIso(), shortLease);
    expect(leased).toHaveLength(1);

    const [pagerduty] = channels('pagerduty');
    const d = dispatcher({ channels: [pagerduty!], owner: 'replica-new' });
    clock.set(alertIso(30 * SECOND));
    await drain(d);
    expect(pagerduty!.calls).toEqual([]);
    // The new replica's clock says nothing about the lease: still live by the database's clock.
    clock.set(alertIso(MINUTE + 1));
    await drain(d);
    expect(pagerduty!.calls).toEqual([]);

    // Expired by the database's clock (waited out twice over).
    await new Promise((resolve) => setTimeout(resolve, 2 * shortLease));
    await drain(d);
    expect(pagerduty!.calls.map((c) => c.context)).toEqual([{ idempotencyKey: `${id}#pagerduty`, attempt: 1, incidentRefs: [], previousRef: undefined }]);
    expect(await delivery(id!, 'pagerduty')).toMatchObject({ status: 'delivered', attempts: 1 });
    // The dead replica's late outcome is not recorded.
    expect(await outbox.complete(leased[0]!, 'replica-old', { status: 'failed', error: 'late' }, alertIso(2 * MINUTE))).toBe(false);
    expect(await delivery(id!, 'pagerduty')).toMatchObject({ status: 'delivered' });
  });

  it('a replica restarted under the same name takes its own leases back at once', async () => {
    await raiseSeries(1, ['slack']);
    await outbox.leaseDue('replica-1', alertIso(), MINUTE);
    const [slack] = channels('slack');
    clock.set(alertIso(SECOND));
    await drain(dispatcher({ channels: [slack!], owner: 'replica-1' }));
    expect(slack!.calls).toHaveLength(1);
  });
});

describe('escalation', () => {
  const DEP = 'dep-0001';
  const warning = () => alert({ name: 'green-unhealthy', kind: 'green-unhealthy', level: 'warning', incident: 'green-unhealthy', title: 'green v2 failed its checks' });

  it('an unacknowledged warning escalates once after acknowledgeWithin, as a critical alert to the critical channels', async () => {
    const config = alertConfig({ production: { routes: { critical: ['slack', 'pagerduty'] } } });
    const w = warning();
    await record(db, [raise(w, ['slack', 'email'])]);
    const [slack, email, pagerduty] = channels('slack', 'email', 'pagerduty');
    const d = dispatcher({ channels: [slack!, email!, pagerduty!], config });

    await drain(d);
    clock.set(alertIso(30 * MINUTE - 1));
    await drain(d);
    expect((await storedAlerts()).map((a) => a.kind)).toEqual(['green-unhealthy']);

    // Open incidents are scanned at most once per poll interval (1 s here), not on every poke.
    clock.set(alertIso(30 * MINUTE + 1_000));
    await drain(d);
    const escalations = (await storedAlerts()).filter((a) => a.kind === 'escalated');
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({
      id: `${w.id}/escalated`,
      level: 'critical',
      incidentKey: `${DEP}/green-unhealthy`,
      title: `not acknowledged within ${formatDuration(30 * MINUTE)}: green v2 failed its checks`,
      createdAt: alertIso(30 * MINUTE + 1_000),
      facts: w.facts,
    });
    expect(escalations[0]!.deliveries.map((x) => [x.channel, x.status])).toEqual([
      ['pagerduty', 'delivered'],
      ['slack', 'delivered'],
    ]);
    expect(pagerduty!.calls.map((c) => [c.alertId, c.level])).toEqual([[`${w.id}/escalated`, 'critical']]);
    // Slack's escalation message knows the incident's first message.
    expect(slack!.calls.at(-1)!.context.incidentRefs).toEqual([`slack:${w.id}`]);
    expect(email!.calls.map((c) => c.alertId)).toEqual([w.id]);

    // Once.
    for (const t of [31 * MINUTE, 40 * MINUTE]) {
      clock.set(alertIso(t));
      await drain(d);
    }
    expect((await storedAlerts()).filter((a) => a.id === `${w.id}/escalated`)).toHaveLength(1);
    expect(pagerduty!.calls).toHaveLength(1);
  });

  it('an acknowledged warning does not escalate', async () => {
    const w = warning();
    await record(db, [raise(w, ['slack', 'email'])]);
    const [slack, email, pagerduty] = channels('slack', 'email', 'pagerduty');
    const d = dispatcher({ channels: [slack!, email!, pagerduty!] });
    await drain(d);

    clock.set(alertIso(5 * MINUTE));
    expect(await outbox.acknowledge(`${DEP}/green-unhealthy`, 'carol', 'slack', clock.iso())).toBeDefined();
    await drain(d);
    clock.set(alertIso(2 * HOUR));
    await drain(d);

    expect((await storedAlerts()).map((a) => a.kind)).toEqual(['green-unhealthy', 'acknowledged']);
    expect(pagerduty!.calls).toEqual([]);
    expect(slack!.calls.map((c) => c.kind)).toEqual(['green-unhealthy', 'acknowledged']);
  });

  it('a level without acknowledgeWithin never escalates', async () => {
    const config = alertConfig({ production: { acknowledgeWithin: { critical: '15m' } } });
    await record(db, [raise(warning(), ['slack'])]);
    const [slack, pagerduty] = channels('slack', 'pagerduty');
    const d = dispatcher({ channels: [slack!, pagerduty!], config });
    clock.set(alertIso(6 * HOUR));
    await drain(d);
    expect((await storedAlerts()).map((a) => a.kind)).toEqual(['green-unhealthy']);
    expect(pagerduty!.calls).toEqual([]);
  });
});
