import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSmsProgress, smsProgressRef, type SmsProgress } from '../../src/adapters/sms/sms-progress.ts';
import { smsTextOf } from '../../src/adapters/sms/sms-text.ts';
import { TwilioSmsChannel, type TwilioSmsChannelOptions } from '../../src/adapters/sms/twilio-sms-channel.ts';
import type { Database } from '../../src/adapters/store/database-schema.ts';
import { KyselyAlertOutbox } from '../../src/adapters/store/kysely-alert-outbox.ts';
import type { Alert, AlertKind } from '../../src/domain/alert.ts';
import { AlertDispatcher } from '../../src/engine/alert-dispatcher.ts';
import type { DeliveryContext, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import { startFakeTwilio, twilioError, type FakeTwilio } from '../fakes/twilio-fake.ts';
import { ManualClock, alertConfig, raise, record, silentLogger, tempDatabase, type TempDatabase } from '../support/alert-fixtures.ts';
import { targetCatalogOf } from '../../src/config/target-catalog.ts';

/**
 * The SMS channel against the Twilio fake, over real HTTP through the official `twilio` library:
 * what is sent, how each of Twilio's answers maps to an outcome, and that a retry after a partial
 * send, a lost answer or an outage texts each number exactly once.
 */

const NOW = new Date('2026-11-26T09:05:00.000Z');
const PUBLIC_URL = 'https://deploy.kevinstamp.com';
const [A, B, C] = ['+15551230001', '+15551230002', '+15551230003'];

function alertOf(kind: AlertKind = 'rollback-failed', over: Partial<Alert> = {}): Alert {
  return {
    id: `kd-abcdefghjk/2026-11-26T09:00:00.000Z/${kind}`,
    kind,
    level: 'emergency',
    title: 'the rollback of kevinstamp in production needs a person: traffic state uncertain',
    createdAt: '2026-11-26T09:00:00.000Z',
    incidentKey: 'kd-abcdefghjk/rollback-failed',
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'kd-abcdefghjk',
      version: { id: '0123abcd4567ef89', tag: 'v2' },
      stage: 'needs_attention',
      reason: 'blue did not come back healthy',
    },
    ...over,
  };
}

let fake: FakeTwilio;
beforeEach(async () => {
  fake = await startFakeTwilio({ clock: () => NOW, invalidNumbers: ['+15550000000'], unsubscribed: ['+15550000001'], messagingServiceSids: [`MG${'ab'.repeat(16)}`] });
});
afterEach(async () => {
  await fake.close();
});

function channelOf(to: string[], over: Partial<TwilioSmsChannelOptions> = {}): TwilioSmsChannel {
  return new TwilioSmsChannel({ accountSid: fake.accountSid, authToken: fake.authToken, from: fake.from, apiUrl: fake.apiUrl, to: () => to, publicUrl: PUBLIC_URL, clock: () => NOW, ...over });
}

/** A context whose recordProgress keeps every ref written, like the outbox does during an attempt. */
function contextOf(over: Partial<DeliveryContext> = {}): DeliveryContext & { saved: SmsProgress[] } {
  const saved: SmsProgress[] = [];
  return { idempotencyKey: 'k#sms', attempt: 1, incidentRefs: [], recordProgress: async (ref) => (saved.push(parseSmsProgress(ref)), true), saved, ...over };
}

function refOf(outcome: DeliveryOutcome): SmsProgress {
  if (!('ref' in outcome) || typeof outcome.ref !== 'string') throw new Error(`no ref in ${JSON.stringify(outcome)}`);
  return parseSmsProgress(outcome.ref);
}

/** How many messages each number got. */
function texts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of fake.messages()) counts[m.to] = (counts[m.to] ?? 0) + 1;
  return counts;
}

function posts(): number {
  return fake.calls().filter((c) => c.method === 'POST').length;
}

describe('TwilioSmsChannel: what it sends', () => {
  it('one form-encoded POST per number to Messages.json, with Basic auth, From and the one-segment text; delivered with every Message SID', async () => {
    const alert = alertOf();
    const outcome = await channelOf([A, B]).deliver(alert, contextOf());
    expect(outcome.status).toBe('delivered');
    const messages = fake.messages();
    expect(messages.map((m) => m.to)).toEqual([A, B]);
    const text = smsTextOf(alert, { publicUrl: PUBLIC_URL });
    expect(text).toBe('EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). https://deploy.kevinstamp.com/console/releases/kd-abcdefghjk');
    for (const m of messages) expect(m).toMatchObject({ from: fake.from, messagingServiceSid: null, body: text, numSegments: 1 });
    expect(refOf(outcome)).toEqual({ sent: { [A]: messages[0]!.sid, [B]: messages[1]!.sid }, pending: {}, refused: {} });
    for (const call of fake.calls()) {
      expect(call).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`, auth: 'ok', status: 201 });
      expect(call.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      expect(Object.keys(call.params).sort()).toEqual(['Body', 'From', 'To']);
    }
  });

  it('with a messaging service instead of a From number', async () => {
    const service = `MG${'ab'.repeat(16)}`;
    const outcome = await channelOf([A], { from: undefined, messagingServiceSid: service }).deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('delivered');
    expect(fake.calls()[0]!.params).toMatchObject({ To: A, MessagingServiceSid: service });
    expect(fake.calls()[0]!.params.From).toBeUndefined();
  });

  it('each number once, in the order listed; nobody listed or a kind that is not texted is a skip', async () => {
    expect(await channelOf([A, A, B]).deliver(alertOf(), contextOf())).toMatchObject({ status: 'delivered' });
    expect(texts()).toEqual({ [A]: 1, [B]: 1 });
    expect(await channelOf([]).deliver(alertOf(), contextOf())).toEqual({ status: 'skipped', reason: 'no SMS recipients for kevinstamp production (alerts.smsTo or alerting.sms.to)' });
    expect(await channelOf([A]).deliver(alertOf('deploy-marker', { level: 'info' }), contextOf())).toEqual({ status: 'skipped', reason: 'deploy-marker alerts are not sent by SMS' });
    expect(fake.messages()).toHaveLength(2);
  });

  it('records a number as pending before its send and as sent after it, in the outbox, as it goes', async () => {
    const context = contextOf();
    await channelOf([A, B]).deliver(alertOf(), context);
    expect(context.saved.map((p) => [Object.keys(p.pending), Object.keys(p.sent)])).toEqual([
      [[A], []],
      [[], [A]],
      [[B], [A]],
      [[], [A, B]],
    ]);
  });

  it('stops texting when its lease is gone (recordProgress answers false): another replica carries on', async () => {
    let writes = 0;
    const outcome = await channelOf([A, B]).deliver(alertOf(), contextOf({ recordProgress: async () => ++writes < 3 }));
    expect(outcome.status).toBe('retry');
    expect(texts()).toEqual({ [A]: 1 });
  });
});

describe("TwilioSmsChannel: Twilio's answers", () => {
  it('21211 (invalid number): that number is refused, not retried; the others are still texted (delivered, with a warning)', async () => {
    const outcome = await channelOf([A, '+15550000000', B]).deliver(alertOf(), contextOf());
    expect(outcome).toMatchObject({ status: 'delivered', warning: expect.stringMatching(/texted 2 of 3 numbers; Twilio refused \+15550000000: not a valid phone number \(21211: The 'To' number \+15550000000 is not a valid phone number\.\)/) });
    expect(texts()).toEqual({ [A]: 1, [B]: 1 });
    expect(Object.keys(refOf(outcome).refused)).toEqual(['+15550000000']);
    expect(fake.calls().find((c) => c.status === 400)!.code).toBe(21211);
  });

  it('21610 (unsubscribed: the person replied STOP): refused; when nobody could be texted the delivery fails', async () => {
    const outcome = await channelOf(['+15550000001']).deliver(alertOf(), contextOf());
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Twilio refused every number: \+15550000001: has unsubscribed from this sender \(replied STOP\) \(21610: Attempt to send to unsubscribed recipient\)/) });
    expect(fake.messages()).toEqual([]);
  });

  it('429 / 20429: retry, no sooner than Retry-After; the number was not taken (429s are never processed) so it is sent again without a look-up', async () => {
    fake.rateLimit(1, 7);
    const channel = channelOf([A]);
    const first = await channel.deliver(alertOf(), contextOf());
    expect(first).toMatchObject({ status: 'retry', retryAfterMs: 7_000, error: 'Twilio is rate-limiting requests (429 20429: Too Many Requests)' });
    expect(refOf(first).pending).toEqual({});
    const second = await channel.deliver(alertOf(), contextOf({ attempt: 2, previousRef: (first as { ref: string }).ref }));
    expect(second.status).toBe('delivered');
    expect(texts()).toEqual({ [A]: 1 });
    expect(fake.calls().filter((c) => c.method === 'GET')).toEqual([]);
  });

  it('5xx: retry; the number stays pending, and the next attempt looks in the message log before it texts', async () => {
    fake.failNext(500, twilioError(500, 20500, 'Internal Server Error'));
    const channel = channelOf([A]);
    const first = await channel.deliver(alertOf(), contextOf());
    expect(first).toMatchObject({ status: 'retry', error: expect.stringMatching(/^Twilio answered 500 20500: Internal Server Error while texting \+15551230001/) });
    expect(Object.keys(refOf(first).pending)).toEqual([A]);
    const second = await channel.deliver(alertOf(), contextOf({ attempt: 2, previousRef: (first as { ref: string }).ref }));
    expect(second.status).toBe('delivered');
    expect(fake.calls().map((c) => `${c.method} ${c.status}`)).toEqual(['POST 500', 'GET 200', 'POST 201']);
    expect(texts()).toEqual({ [A]: 1 });
  });

  it('an answer lost after Twilio took the message (connection reset): the retry finds it in the log and does not text again', async () => {
    fake.acceptThenDrop(1);
    const channel = channelOf([A, B]);
    const first = await channel.deliver(alertOf(), contextOf());
    expect(first.status).toBe('retry');
    expect(texts()).toEqual({ [A]: 1 });
    const second = await channel.deliver(alertOf(), contextOf({ attempt: 2, previousRef: (first as { ref: string }).ref }));
    expect(second.status).toBe('delivered');
    expect(texts()).toEqual({ [A]: 1, [B]: 1 });
    const sids = fake.messages().map((m) => m.sid);
    expect(refOf(second).sent).toEqual({ [A]: sids[0], [B]: sids[1] });
  });

  it('a timeout: retry, pending; an outage (503 pages) keeps it pending through the look-ups until Twilio is back', async () => {
    fake.stallNext(1);
    const channel = channelOf([A], { timeoutMs: 300 });
    const first = await channel.deliver(alertOf(), contextOf());
    expect(first).toMatchObject({ status: 'retry', error: expect.stringMatching(/Twilio did not answer within 300 ms/) });
    fake.setDown(503);
    const second = await channel.deliver(alertOf(), contextOf({ attempt: 2, previousRef: (first as { ref: string }).ref }));
    expect(second).toMatchObject({ status: 'retry', error: expect.stringMatching(/^Twilio answered 503 while looking up the message to \+15551230001/) });
    expect(refOf(second).pending[A]).toBeDefined();
    fake.setDown(false);
    const third = await channel.deliver(alertOf(), contextOf({ attempt: 3, previousRef: (second as { ref: string }).ref }));
    expect(third.status).toBe('delivered');
    expect(texts()).toEqual({ [A]: 1 });
  });

  it('the dispatcher giving up (its signal aborts the request): retry', async () => {
    fake.stallNext(1);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const outcome = await channelOf([A]).deliver(alertOf(), contextOf({ signal: abort.signal }));
    expect(outcome.status).toBe('retry');
  });

  it('401 (20003, wrong credentials): failed, naming the variables, never quoting the token', async () => {
    const token = 'wrong-twilio-token-0123456789';
    const outcome = await channelOf([A, B], { authToken: token }).deliver(alertOf(), contextOf());
    expect(outcome).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Twilio rejected the credentials \(401 20003: Authenticate\): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/) });
    expect(JSON.stringify(outcome)).not.toContain(token);
    expect(posts()).toBe(1);
    expect(fake.calls()[0]!.auth).toBe('invalid');
  });

  it('21606 (a From that is not this account’s number) and 404 (a wrong URL or account) are configuration errors: failed', async () => {
    expect(await channelOf([A], { from: '+15005550001' }).deliver(alertOf(), contextOf())).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^Twilio refused the message \(400 21606: .*\); check TWILIO_FROM/),
    });
    expect(await channelOf([A], { apiUrl: `${fake.apiUrl}/nowhere` }).deliver(alertOf(), contextOf())).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^Twilio has no such account or endpoint \(404 20404/),
    });
    expect(fake.messages()).toEqual([]);
  });

  it('refuses a configuration it cannot use at construction, once, not per alert', () => {
    expect(() => channelOf([A], { accountSid: 'SK0123' })).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => channelOf([A], { from: undefined })).toThrow(/TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID/);
    expect(() => channelOf([A], { from: '5551234' })).toThrow(/E\.164/);
  });
});

describe('TwilioSmsChannel through the dispatcher and the outbox', () => {
  let tmp: TempDatabase | undefined;
  let db: Kysely<Database>;
  afterEach(async () => {
    await tmp?.cleanup();
    tmp = undefined;
  });

  it('a partial send, a 503 and a crash mid-attempt: every number gets exactly one text, in order, and the rest waits with backoff', async () => {
    tmp = tempDatabase();
    ({ db } = await tmp.open());
    const clock = new ManualClock();
    const config = alertConfig({ retry: { initialBackoff: '1s', maxBackoff: '4s' } });
    const outbox = new KyselyAlertOutbox(db, 'sqlite');
    const dispatcherFor = (owner: string) =>
      new AlertDispatcher({ outbox, channels: [channelOf([A, B, C], { clock: () => clock.now() })], missing: {}, targets: targetCatalogOf(config), retry: config.alerting.retry, clock, logger: silentLogger, owner, leaseMs: 2_000 });
    const alert = alertOf('rollback-failed', { createdAt: clock.iso() });
    await record(db, [raise(alert, ['sms'])]);

    // Attempt 1 (replica-1): A is texted; B's message is taken by Twilio but the answer is lost
    // (as if the bot died right after sending): B stays pending, C is not tried; backoff.
    fake.acceptThenDrop(1, { to: B });
    const one = dispatcherFor('replica-1');
    one.poke();
    await one.idle();
    expect(texts()).toEqual({ [A]: 1, [B]: 1 });
    let [stored] = await outbox.list({});
    let delivery = stored!.deliveries[0]!;
    expect(delivery).toMatchObject({ channel: 'sms', status: 'pending', attempts: 1, lastError: expect.stringMatching(/texting \+15551230002/) });
    expect(Object.keys(parseSmsProgress(delivery.ref).sent)).toEqual([A]);
    expect(Object.keys(parseSmsProgress(delivery.ref).pending)).toEqual([B]);
    expect(Date.parse(delivery.nextAttemptAt) - clock.now().getTime()).toBe(1_000);

    // Not due yet: nothing happens.
    one.poke();
    await one.idle();
    expect(posts()).toBe(2);
    await one.stop();

    // Attempt 2 (another replica, after the backoff), while Twilio is down: nothing is texted, B stays pending.
    fake.setDown(503);
    clock.advance(1_000);
    const two = dispatcherFor('replica-2');
    two.poke();
    await two.idle();
    [stored] = await outbox.list({});
    delivery = stored!.deliveries[0]!;
    expect(delivery).toMatchObject({ status: 'pending', attempts: 2 });
    expect(Object.keys(parseSmsProgress(delivery.ref).pending)).toEqual([B]);

    // Attempt 3, Twilio back: B is found in the log (not texted again), then C is texted.
    fake.setDown(false);
    clock.advance(2_000);
    two.poke();
    await two.idle();
    await two.stop();
    [stored] = await outbox.list({});
    delivery = stored!.deliveries[0]!;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(texts()).toEqual({ [A]: 1, [B]: 1, [C]: 1 });
    expect(fake.messages().map((m) => m.to)).toEqual([A, B, C]);
    expect(parseSmsProgress(delivery.ref)).toEqual({ sent: Object.fromEntries(fake.messages().map((m) => [m.to, m.sid])), pending: {}, refused: {} });
    expect(smsProgressRef(parseSmsProgress(delivery.ref))).toBe(delivery.ref);
  });
});
