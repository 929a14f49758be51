/**
 * The PagerDuty channel and on-call lookup through the real @pagerduty/pdjs, over real HTTPS, against
 * the PagerDuty fake: what each alert kind sends, how every answer maps to a delivery outcome, and
 * that the routing key never leaves the channel.
 */
import { createServer } from 'node:http';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OnCallLookup } from '../../src/adapters/pagerduty/oncall-lookup.ts';
import { parsePagerDutyWebhook, verifyPagerDutySignature } from '../../src/adapters/pagerduty/pagerduty-webhook.ts';
import { PagerDutyChannel } from '../../src/adapters/pagerduty/pagerduty-channel.ts';
import type { Alert, AlertLevel } from '../../src/domain/alert.ts';
import type { DeliveryContext, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import { signedWebhook, startFakePagerDuty, type FakeOnCall, type FakePagerDuty } from '../fakes/pagerduty-fake.ts';

const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32';
const API_TOKEN = 'pd-rest-token-for-tests';
const POLICY = 'PKEVIN1';
const CREATED_AT = '2026-11-26T09:00:00.000Z';

const ON_CALLS: FakeOnCall[] = [
  { escalationPolicyId: POLICY, level: 2, user: { id: 'PBOB001', name: 'Bob Backup', email: 'bob@example.com' } },
  { escalationPolicyId: POLICY, level: 1, user: { id: 'PANN001', name: 'Ann Primary', email: 'ann@example.com' } },
  // Ann is on two schedules of level 1: still one person to mention.
  { escalationPolicyId: POLICY, level: 1, user: { id: 'PANN001', name: 'Ann Primary', email: 'ann@example.com' }, schedule: { id: 'PSCHED2' } },
  { escalationPolicyId: 'POTHER1', level: 1, user: { id: 'PEVE001', name: 'Eve Elsewhere' } },
];

let fake: FakePagerDuty;
let agent: https.Agent;

beforeAll(async () => {
  fake = await startFakePagerDuty({
    apiToken: API_TOKEN,
    routingKeys: [ROUTING_KEY],
    onCalls: ON_CALLS,
  });
  agent = fake.agent();
});

afterAll(async () => {
  await fake.close();
});

afterEach(() => {
  fake.reset();
  fake.setOnCalls(ON_CALLS);
});

function channel(options: Partial<ConstructorParameters<typeof PagerDutyChannel>[0]> = {}): PagerDutyChannel {
  return new PagerDutyChannel({ routingKey: ROUTING_KEY, eventsHost: fake.host, agent, timeoutMs: 5_000, ...options });
}

function context(overrides: Partial<DeliveryContext> = {}): DeliveryContext {
  return { idempotencyKey: 'idem-1', attempt: 1, incidentRefs: [], ...overrides };
}

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'dep_42/2026-11-26T09:00:00.000Z/rolled-back',
    kind: 'rolled-back',
    level: 'critical',
    title: 'kevinstamp v1.4.2 in production is being rolled back automatically (error-rate)',
    incidentKey: 'dep_42/error-rate',
    createdAt: CREATED_AT,
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'dep_42',
      version: { id: 'ver-new', tag: 'v1.4.2' },
      previousVersion: { id: 'ver-old', tag: 'v1.4.1' },
      stage: 'rolling_back',
      reason: 'error rate 12% > 5% for 2m',
      requestedBy: 'alice',
      trigger: 'error-rate',
      triggerDetails: { signal: 'error-rate', values: [11, 12], threshold: 5 },
      links: [{ href: 'https://deploy.example.com/deployments/dep_42', text: 'Deployment dep_42' }],
    },
    ...overrides,
  };
}

function lastBody(path = '/v2/enqueue'): Record<string, unknown> {
  const requests = fake.requests(path);
  const body = requests.at(-1)?.body;
  if (typeof body !== 'object' || body === null) throw new Error(`no JSON request to ${path}`);
  return body as Record<string, unknown>;
}

describe('PagerDutyChannel: what each alert sends', () => {
  it('triggers an incident with the alert facts, keyed by the incidentKey, and reports the dedup key as ref', async () => {
    const outcome = await channel({ links: [{ href: 'https://runbooks.example.com/rollback', text: 'Runbook' }] }).deliver(alert(), context());

    expect(outcome).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    const request = fake.requests('/v2/enqueue')[0];
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toContain('application/json');
    expect(request?.status).toBe(202);
    expect(lastBody()).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'dep_42/error-rate',
      payload: {
        summary: '[CRITICAL] kevinstamp production: rolled back automatically — error rate 12% > 5% for 2m',
        source: 'kevin-deploy/kevinstamp/production',
        severity: 'error',
        timestamp: CREATED_AT,
        component: 'kevinstamp',
        group: 'production',
        class: 'rolled-back',
        custom_details: {
          title: 'kevinstamp v1.4.2 in production is being rolled back automatically (error-rate)',
          service: 'kevinstamp',
          environment: 'production',
          deployment_id: 'dep_42',
          version: { id: 'ver-new', tag: 'v1.4.2' },
          previous_version: { id: 'ver-old', tag: 'v1.4.1' },
          stage: 'rolling_back',
          reason: 'error rate 12% > 5% for 2m',
          trigger: 'error-rate',
          trigger_details: { signal: 'error-rate', values: [11, 12], threshold: 5 },
          requested_by: 'alice',
          alert_id: 'dep_42/2026-11-26T09:00:00.000Z/rolled-back',
          level: 'critical',
        },
      },
      client: 'kevin-deploy',
      client_url: 'https://deploy.example.com/deployments/dep_42',
      links: [
        { href: 'https://deploy.example.com/deployments/dep_42', text: 'Deployment dep_42' },
        { href: 'https://runbooks.example.com/rollback', text: 'Runbook' },
      ],
    });
    expect(fake.incident('dep_42/error-rate', ROUTING_KEY)).toMatchObject({ status: 'triggered', triggers: 1 });
  });

  it.each<[AlertLevel, string]>([
    ['info', 'info'],
    ['warning', 'warning'],
    ['critical', 'error'],
    ['emergency', 'critical'],
  ])('maps level %s to PagerDuty severity %s (only an emergency is high urgency)', async (level, severity) => {
    const outcome = await channel().deliver(alert({ level, incidentKey: `dep_42/${level}` }), context());

    expect(outcome.status).toBe('delivered');
    const payload = lastBody().payload as Record<string, unknown>;
    expect(payload.severity).toBe(severity);
    expect(payload.summary).toMatch(new RegExp(`^\\[${level.toUpperCase()}\\] kevinstamp production: `));
  });

  it('uses the alert id as dedup key when the alert has no incident', async () => {
    const outcome = await channel().deliver(alert({ kind: 'release-failed', level: 'warning', incidentKey: undefined }), context());

    expect(outcome).toEqual({ status: 'delivered', ref: 'dep_42/2026-11-26T09:00:00.000Z/rolled-back' });
    expect(lastBody().dedup_key).toBe('dep_42/2026-11-26T09:00:00.000Z/rolled-back');
  });

  it('keeps the summary within 1024 characters, ending in an ellipsis', async () => {
    const outcome = await channel().deliver(alert({ facts: { ...alert().facts, reason: `x${'y'.repeat(2_000)}` } }), context());

    expect(outcome.status).toBe('delivered');
    const summary = (lastBody().payload as Record<string, unknown>).summary as string;
    expect(summary).toHaveLength(1024);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('resolves the incident it triggered with the same dedup key: one trigger, later one resolve', async () => {
    const pagerDuty = channel();
    const trigger = await pagerDuty.deliver(alert(), context());
    const resolve = await pagerDuty.deliver(
      alert({ id: 'dep_42/2026-11-26T09:05:00.000Z/resolved', kind: 'resolved', level: 'info', title: 'healthy again' }),
      context({ incidentRefs: ['dep_42/error-rate'] }),
    );

    expect(trigger).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    expect(resolve).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    expect(lastBody()).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'dep_42/error-rate' });
    expect(fake.incidents()).toHaveLength(1);
    expect(fake.incident('dep_42/error-rate')).toMatchObject({ status: 'resolved', triggers: 1, resolves: 1 });
    expect(fake.events().map((e) => [e.action, e.dedupKey, e.dropped])).toEqual([
      ['trigger', 'dep_42/error-rate', false],
      ['resolve', 'dep_42/error-rate', false],
    ]);
  });

  it('acknowledges with the same dedup key', async () => {
    const pagerDuty = channel();
    await pagerDuty.deliver(alert(), context());
    const outcome = await pagerDuty.deliver(alert({ id: 'dep_42/ack', kind: 'acknowledged', level: 'info' }), context());

    expect(outcome).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    expect(lastBody()).toEqual({ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'dep_42/error-rate' });
    expect(fake.incident('dep_42/error-rate')).toMatchObject({ status: 'acknowledged', triggers: 1, acknowledges: 1 });
  });

  it('a redelivered trigger (an attempt whose outcome was unclear) lands on the same incident', async () => {
    const pagerDuty = channel();
    await pagerDuty.deliver(alert(), context());
    const again = await pagerDuty.deliver(alert(), context({ attempt: 2, previousRef: 'dep_42/error-rate' }));

    expect(again).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    expect(fake.incidents()).toHaveLength(1);
    expect(fake.incident('dep_42/error-rate')?.triggers).toBe(2);
  });

  it('sends a deploy marker as a change event, which opens no incident', async () => {
    const marker = alert({
      id: 'dep_42/2026-11-26T09:00:00.000Z/deploy-marker',
      kind: 'deploy-marker',
      level: 'info',
      title: 'kevinstamp production: v1.4.2 at 10%',
      incidentKey: undefined,
    });
    const outcome = await channel().deliver(marker, context());

    expect(outcome).toEqual({ status: 'delivered' });
    expect(fake.requests('/v2/enqueue')).toHaveLength(0);
    const body = lastBody('/v2/change/enqueue');
    expect(body).toMatchObject({
      routing_key: ROUTING_KEY,
      payload: {
        summary: 'kevinstamp production: kevinstamp production: v1.4.2 at 10%',
        source: 'kevin-deploy/kevinstamp/production',
        timestamp: CREATED_AT,
        custom_details: { deployment_id: 'dep_42', version: { id: 'ver-new', tag: 'v1.4.2' } },
      },
      links: [{ href: 'https://deploy.example.com/deployments/dep_42', text: 'Deployment dep_42' }],
    });
    expect(body).not.toHaveProperty('event_action');
    expect(fake.changeEvents()).toHaveLength(1);
    expect(fake.incidents()).toHaveLength(0);
  });

  it('skips community kinds without calling PagerDuty', async () => {
    const outcome = await channel().deliver(alert({ kind: 'community-incident', level: 'emergency' }), context());

    expect(outcome.status).toBe('skipped');
    expect(fake.requests()).toHaveLength(0);
  });

  it('skips a resolve that names no incident', async () => {
    const outcome = await channel().deliver(alert({ kind: 'resolved', incidentKey: undefined }), context());

    expect(outcome.status).toBe('skipped');
    expect(fake.requests()).toHaveLength(0);
  });

  it('shortens an over-long incident key the same way for trigger and resolve', async () => {
    const longKey = `dep_42/${'k'.repeat(300)}`;
    const pagerDuty = channel();
    const trigger = await pagerDuty.deliver(alert({ incidentKey: longKey }), context());
    const resolve = await pagerDuty.deliver(alert({ kind: 'resolved', incidentKey: longKey }), context());

    expect(trigger.status).toBe('delivered');
    const ref = trigger.status === 'delivered' ? trigger.ref : undefined;
    expect(ref?.length).toBeLessThanOrEqual(255);
    expect(resolve).toEqual({ status: 'delivered', ref });
    expect(fake.incident(ref ?? '')).toMatchObject({ status: 'resolved', triggers: 1, resolves: 1 });
  });
});

describe('PagerDutyChannel: how answers map to outcomes', () => {
  it('a 400 (invalid routing key) is a failed delivery, sent once and never retried', async () => {
    const wrongKey = 'WR0NGKEYWR0NGKEYWR0NGKEYWR0NGKEY';
    const outcome = await channel({ routingKey: wrongKey }).deliver(alert(), context());

    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.error).toContain('Event object is invalid');
    expect(outcome.status === 'failed' && outcome.error).toContain('Invalid routing key');
    expect(JSON.stringify(outcome)).not.toContain(wrongKey);
    expect(fake.requests('/v2/enqueue')).toHaveLength(1);
    expect(fake.requests('/v2/enqueue')[0]?.status).toBe(400);
  });

  it('a 400 that echoes the routing key does not leak it', async () => {
    fake.failNext(400, { status: 'invalid event', message: 'Event object is invalid', errors: [`unknown key ${ROUTING_KEY}`] });
    const outcome = await channel().deliver(alert(), context());

    expect(outcome.status).toBe('failed');
    expect(JSON.stringify(outcome)).not.toContain(ROUTING_KEY);
    expect(outcome.status === 'failed' && outcome.error).toContain('[routing key]');
  });

  it('a 429 with Retry-After is a retry no sooner than asked, and pdjs does not retry it by itself', async () => {
    fake.rateLimit(5, 30);
    const outcome = await channel().deliver(alert(), context());

    expect(outcome).toMatchObject({ status: 'retry', retryAfterMs: 30_000 });
    expect(outcome.status === 'retry' && outcome.error).toContain('429');
    // Exactly one request left: pdjs's own three 429 retries were stopped before being sent.
    expect(fake.requests('/v2/enqueue').map((r) => r.status)).toEqual([429]);
    expect(fake.incidents()).toHaveLength(0);
  });

  it('a 429 without Retry-After is a retry left to the outbox backoff', async () => {
    fake.rateLimit(1);
    const outcome = await channel().deliver(alert(), context());

    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' && outcome.retryAfterMs).toBeUndefined();
    expect(fake.requests('/v2/enqueue')).toHaveLength(1);
  });

  it('delivers on the next attempt once the throttling is over', async () => {
    fake.rateLimit(1, 1);
    const pagerDuty = channel();
    const first = await pagerDuty.deliver(alert(), context());
    const second = await pagerDuty.deliver(alert(), context({ attempt: 2 }));

    expect(first.status).toBe('retry');
    expect(second).toEqual({ status: 'delivered', ref: 'dep_42/error-rate' });
    expect(fake.incident('dep_42/error-rate')?.triggers).toBe(1);
  });

  it('a 503 (an HTML page pdjs cannot parse) is a retry', async () => {
    fake.setDown(503);
    const outcome = await channel().deliver(alert(), context());

    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' && outcome.error).toContain('503');
    expect(fake.requests('/v2/enqueue')).toHaveLength(1);
  });

  it('a 500 with a JSON body is a retry', async () => {
    fake.failNext(500, { status: 'error', message: 'Internal Server Error' });
    const outcome = await channel().deliver(alert(), context());

    expect(outcome).toMatchObject({ status: 'retry' });
    expect(outcome.status === 'retry' && outcome.error).toContain('500');
  });

  it('a reset connection is a retry', async () => {
    fake.setDown('reset');
    const outcome = await channel().deliver(alert(), context());

    expect(outcome.status).toBe('retry');
    expect(outcome.status === 'retry' && outcome.error).toContain('could not reach PagerDuty');
  });

  it('no answer within the timeout is a retry', async () => {
    fake.setDown('hang');
    const outcome = await channel({ timeoutMs: 200 }).deliver(alert(), context());

    expect(outcome).toMatchObject({ status: 'retry', error: 'PagerDuty did not answer within 200 ms' });
  });

  it('a refused connection is a retry', async () => {
    const outcome = await channel({ eventsHost: '127.0.0.1:1' }).deliver(alert(), context());

    expect(outcome.status).toBe('retry');
  });

  it('an empty routing key fails without calling PagerDuty', async () => {
    const outcome = await channel({ routingKey: '' }).deliver(alert(), context());

    expect(outcome.status).toBe('failed');
    expect(fake.requests()).toHaveLength(0);
  });

  it('the routing key appears in no outcome, whatever happens', async () => {
    const outcomes: DeliveryOutcome[] = [];
    const pagerDuty = channel();
    outcomes.push(await pagerDuty.deliver(alert(), context()));
    fake.rateLimit(1, 2);
    outcomes.push(await pagerDuty.deliver(alert(), context()));
    fake.failNext(400, { status: 'invalid event', message: ROUTING_KEY, errors: [ROUTING_KEY] });
    outcomes.push(await pagerDuty.deliver(alert(), context()));
    fake.setDown(502);
    outcomes.push(await pagerDuty.deliver(alert(), context()));
    fake.setDown('reset');
    outcomes.push(await pagerDuty.deliver(alert(), context()));
    fake.setUp();
    outcomes.push(await pagerDuty.deliver(alert({ kind: 'deploy-marker' }), context()));

    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'retry', 'failed', 'retry', 'retry', 'delivered']);
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(ROUTING_KEY);
  });
});

describe('OnCallLookup', () => {
  function manualClock(): { now: () => Date; advance: (ms: number) => void } {
    let ms = Date.parse(CREATED_AT);
    return { now: () => new Date(ms), advance: (by) => (ms += by) };
  }

  function lookup(options: Partial<ConstructorParameters<typeof OnCallLookup>[0]> = {}): OnCallLookup {
    return new OnCallLookup({ token: API_TOKEN, apiUrl: fake.apiUrl, escalationPolicyId: POLICY, agent, ...options });
  }

  it('says who is on call for the policy, by escalation level, with emails', async () => {
    const answer = await lookup().current();

    expect(answer).toEqual({
      people: [
        { name: 'Ann Primary', email: 'ann@example.com', level: 1 },
        { name: 'Bob Backup', email: 'bob@example.com', level: 2 },
      ],
    });
    const request = fake.requests('/oncalls')[0];
    expect(request?.method).toBe('GET');
    expect(request?.headers.authorization).toBe(`Token token=${API_TOKEN}`);
    expect(request?.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
    expect(request?.query).toMatchObject({ 'escalation_policy_ids[]': [POLICY], earliest: ['true'], 'include[]': ['users'] });
  });

  it('reuses an answer for cacheMs, per policy, then asks again', async () => {
    const clock = manualClock();
    const onCall = lookup({ cacheMs: 60_000, now: clock.now });

    await onCall.current();
    clock.advance(59_000);
    await onCall.current();
    expect(fake.requests('/oncalls')).toHaveLength(1);

    const other = await onCall.current('POTHER1');
    expect(other.people).toEqual([{ name: 'Eve Elsewhere', level: 1 }]);
    expect(fake.requests('/oncalls')).toHaveLength(2);

    clock.advance(2_000);
    fake.setOnCalls([{ escalationPolicyId: POLICY, level: 1, user: { id: 'PCAR001', name: 'Cara Next', email: 'cara@example.com' } }]);
    const refreshed = await onCall.current();
    expect(refreshed.people).toEqual([{ name: 'Cara Next', email: 'cara@example.com', level: 1 }]);
    expect(fake.requests('/oncalls')).toHaveLength(3);
  });

  it('a wrong token is a problem, not an exception, and the token is not repeated', async () => {
    const wrongToken = 'not-the-right-token';
    const answer = await lookup({ token: wrongToken }).current();

    expect(answer.people).toEqual([]);
    expect(answer.problem).toContain('401');
    expect(answer.problem).toContain('Authentication failed');
    expect(answer.problem).not.toContain(wrongToken);
    expect(fake.requests('/oncalls')[0]?.status).toBe(401);
  });

  it('keeps the last answer when a refresh fails, and says why', async () => {
    const clock = manualClock();
    const onCall = lookup({ cacheMs: 1_000, now: clock.now });
    await onCall.current();

    clock.advance(5_000);
    fake.setDown('reset');
    const answer = await onCall.current();

    expect(answer.people.map((p) => p.name)).toEqual(['Ann Primary', 'Bob Backup']);
    expect(answer.problem).toContain('could not reach PagerDuty');
  });

  it('a rate limit is a problem at once, not a 20-second wait inside pdjs', async () => {
    fake.rateLimit(5, 60, { api: 'rest' });
    const answer = await lookup().current();

    expect(answer).toMatchObject({ people: [], problem: expect.stringContaining('429') as unknown });
    expect(fake.requests('/oncalls')).toHaveLength(1);
  });

  it('a timeout is a problem', async () => {
    fake.setDown('hang');
    const answer = await lookup({ timeoutMs: 200 }).current();

    expect(answer).toEqual({ people: [], problem: 'PagerDuty did not answer within 200 ms' });
  });
});

describe('signedWebhook (the fake sending a V3 webhook to the bot)', () => {
  it('delivers a body that the verifier accepts with the current secret and the parser reads', async () => {
    const received: Array<{ verified: boolean; parsed: ReturnType<typeof parsePagerDutyWebhook>; agent: string | undefined }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const header = req.headers['x-pagerduty-signature'];
        received.push({
          verified: verifyPagerDutySignature(raw, typeof header === 'string' ? header : undefined, ['new-secret']),
          parsed: parsePagerDutyWebhook(raw),
          agent: req.headers['user-agent'],
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/pagerduty`;
      const rotating = await signedWebhook(url, ['old-secret', 'new-secret'], {
        eventType: 'incident.resolved',
        incidentKey: 'dep_42/error-rate',
        agent: 'Ann Primary',
      });
      const forged = await signedWebhook(url, 'not-our-secret', { eventType: 'incident.acknowledged', incidentKey: 'dep_42/error-rate' });

      expect([rotating.status, forged.status]).toEqual([204, 204]);
      expect(received.map((r) => r.verified)).toEqual([true, false]);
      expect(received[0]?.parsed).toMatchObject({ eventType: 'incident.resolved', incidentKey: 'dep_42/error-rate', agent: 'Ann Primary' });
      expect(received[0]?.agent).toBe('PagerDuty-Webhook/V3.0');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
