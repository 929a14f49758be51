import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailChannelsChannel, type MailChannelsChannelOptions } from '../../src/adapters/email/mailchannels-channel.ts';
import type { Alert, AlertKind } from '../../src/domain/alert.ts';
import type { DeliveryContext, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import { startFakeMailChannels, type FakeMailChannels } from '../fakes/mailchannels-fake.ts';

/** The email channel against the MailChannels fake, over real HTTP: what is sent, and how every answer maps to an outcome. */

const API_KEY = 'mc-live-0123456789abcdef-secret';
const FROM = { email: 'deploy@kevinstamp.com', name: 'kevin-deploy' };
const TO = [
  { email: 'ops@kevinstamp.com', name: 'Ops' },
  { email: 'alice@kevinstamp.com' },
];
const NOW = new Date('2026-11-26T09:05:00.000Z');

function alertOf(kind: AlertKind = 'rolled-back', overrides: Partial<Alert> = {}): Alert {
  return {
    id: `alert-dep_7-${kind}`,
    kind,
    level: 'critical',
    title: 'kevinstamp v2 rolled back in production: error rate 20.1 % > 5 %',
    createdAt: '2026-11-26T09:00:00.000Z',
    incidentKey: 'dep_7/error-rate',
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'dep_7',
      version: { id: '0123abcd4567ef89', tag: 'v2' },
      previousVersion: { id: '89abcdef01234567', tag: 'v1' },
      stage: 'rolled_back',
      reason: 'error rate 20.1 % > 5 % in every sample for 2m',
      requestedBy: 'alice',
      trigger: 'error-rate',
      triggerDetails: { signal: 'error-rate', threshold: 5, unit: '%', values: [12.5, 20.1], samples: 2, source: 'app-json /metrics' },
    },
    ...overrides,
  };
}

function contextOf(overrides: Partial<DeliveryContext> = {}): DeliveryContext {
  return { idempotencyKey: 'alert-dep_7-rolled-back:email', attempt: 1, incidentRefs: [], ...overrides };
}

let fake: FakeMailChannels;
beforeEach(async () => {
  fake = await startFakeMailChannels({ apiKey: API_KEY, clock: () => NOW });
});
afterEach(async () => {
  await fake.close();
});

function channelOf(overrides: Partial<MailChannelsChannelOptions> = {}): MailChannelsChannel {
  return new MailChannelsChannel({ apiKey: API_KEY, apiUrl: fake.apiUrl, from: FROM, to: TO, clock: () => NOW, ...overrides });
}

/** No outcome may ever carry the API key, whatever MailChannels answered. */
function expectNoKey(outcome: DeliveryOutcome): void {
  expect(JSON.stringify(outcome)).not.toContain(API_KEY);
}

describe('MailChannelsChannel sending', () => {
  it('sends one message to every recipient with a text and an HTML part, keyed by the idempotency key', async () => {
    const outcome = await channelOf().deliver(alertOf(), contextOf());

    expect(outcome).toEqual({ status: 'delivered', ref: 'alert-dep_7-rolled-back:email' });
    const calls = fake.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/tx/v1/send', auth: 'ok', dryRun: false, status: 202 });
    expect(calls[0]?.contentType).toBe('application/json');

    const [message, ...others] = fake.messages();
    expect(others).toEqual([]);
    expect(message?.to).toEqual(TO);
    expect(message?.from).toEqual(FROM);
    expect(message?.subject).toBe('[CRITICAL] kevinstamp production: rolled back automatically');
    expect(message?.text).toContain('Raised at 2026-11-26 09:00:00 UTC.');
    expect(message?.text).toContain('Values (oldest first): 12.5 %, 20.1 %');
    expect(message?.html).toContain('<!DOCTYPE html>');
    expect(message?.html).toContain('rolled back in production: error rate 20.1 % &gt; 5 %');
    expect(message?.headers['X-Kevin-Deploy-Alert']).toBe('alert-dep_7-rolled-back:email');
    expect(message?.headers['X-Kevin-Deploy-Incident']).toBe('dep_7/error-rate');
    expect(message?.headers['Auto-Submitted']).toBe('auto-generated');
    expect(message?.headers.References).toMatch(/^<kd-incident\.[0-9a-f]{32}@kevinstamp\.com>$/);
    // The text part comes first, as MailChannels asks; no reserved header was attempted (the fake would 400).
    const body = calls[0]?.body as { content: Array<{ type: string }>; personalizations: unknown[] };
    expect(body.content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(body.personalizations).toHaveLength(1);
  });

  it('sends the same headers on a retry of the same delivery, so a twin is recognisable', async () => {
    const channel = channelOf();
    await channel.deliver(alertOf(), contextOf({ attempt: 1 }));
    await channel.deliver(alertOf(), contextOf({ attempt: 2, previousRef: 'alert-dep_7-rolled-back:email' }));
    const [first, second] = fake.messages();
    expect(second?.headers).toEqual(first?.headers);
  });

  it('threads one incident: every alert of it references the same id', async () => {
    const channel = channelOf();
    await channel.deliver(alertOf('rolled-back'), contextOf({ idempotencyKey: 'a:email' }));
    await channel.deliver(alertOf('resolved', { level: 'info' }), contextOf({ idempotencyKey: 'b:email' }));
    await channel.deliver(alertOf('resolved', { level: 'info', incidentKey: 'dep_8/content' }), contextOf({ idempotencyKey: 'c:email' }));
    const refs = fake.messages().map((m) => m.headers.References);
    expect(refs[0]).toBe(refs[1]);
    expect(refs[2]).not.toBe(refs[0]);
  });

  it('takes recipients per alert and sends each address once', async () => {
    const channel = channelOf({
      to: (alert) => (alert.facts.environment === 'production' ? [...TO, { email: 'OPS@kevinstamp.com' }] : []),
    });
    expect((await channel.deliver(alertOf(), contextOf())).status).toBe('delivered');
    expect(fake.messages()[0]?.to).toEqual(TO);
  });

  it('counts an accepted send without a body (the older API answered 202 empty) as delivered', async () => {
    await fake.close();
    fake = await startFakeMailChannels({ apiKey: API_KEY, acceptedBody: 'empty' });
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome).toEqual({ status: 'delivered', ref: 'alert-dep_7-rolled-back:email' });
    expect(fake.calls()[0]?.status).toBe(202);
  });
});

describe('MailChannelsChannel skipping', () => {
  it.each<AlertKind>(['deploy-marker', 'community-upcoming', 'community-released', 'community-incident', 'community-resolved'])(
    'skips %s without calling MailChannels',
    async (kind) => {
      const outcome = await channelOf().deliver(alertOf(kind), contextOf());
      expect(outcome.status).toBe('skipped');
      expect(outcome).toMatchObject({ reason: `${kind} alerts are not sent by email` });
      expect(fake.calls()).toEqual([]);
    },
  );

  it('skips an alert whose target has no recipients, saying where they are configured', async () => {
    const outcome = await channelOf({ to: () => [] }).deliver(alertOf(), contextOf());
    expect(outcome).toEqual({ status: 'skipped', reason: 'no email recipients for kevinstamp production (alerts.emailTo)' });
    expect(fake.calls()).toEqual([]);
  });
});

describe('MailChannelsChannel failures that retrying cannot fix', () => {
  it('401: a wrong key fails, names MAILCHANNELS_API_KEY, and never shows the key', async () => {
    const outcome = await channelOf({ apiKey: 'mc-wrong-key-0000' }).deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('failed');
    expect(outcome).toMatchObject({ error: expect.stringMatching(/^MailChannels rejected the API key \(401\): check MAILCHANNELS_API_KEY/) });
    expect(JSON.stringify(outcome)).not.toContain('mc-wrong-key-0000');
    expect(fake.calls()[0]?.auth).toBe('invalid');
    expect(fake.messages()).toEqual([]);
  });

  it('400 from the API’s own validation: a bad recipient address fails with what MailChannels said', async () => {
    const outcome = await channelOf({ to: [{ email: 'ops at kevinstamp' }] }).deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('failed');
    const error = (outcome as { error: string }).error;
    expect(error).toContain('MailChannels refused the message (400)');
    expect(error).toContain('personalizations[0].to[0].email: "ops at kevinstamp" is not a valid email address');
    expect(error).toContain('alerts.emailTo');
    expect(fake.messages()).toEqual([]);
  });

  it('400 echoing the key: the quoted answer is scrubbed of it', async () => {
    fake.failNext(400, { errors: [`invalid request for key ${API_KEY}`] });
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('failed');
    expect((outcome as { error: string }).error).toContain('invalid request for key [redacted]');
    expectNoKey(outcome);
  });

  it('403: fails, pointing at the key scope and the Domain Lockdown record of the sender domain', async () => {
    fake.failNext(403, { errors: ['Domain Lockdown check failed for kevinstamp.com'] });
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome).toEqual({
      status: 'failed',
      error:
        'MailChannels refused to send (403): check that MAILCHANNELS_API_KEY has the Sending Email scope and that kevinstamp.com has a Domain Lockdown record (TXT _mailchannels.kevinstamp.com); MailChannels said: Domain Lockdown check failed for kevinstamp.com',
    });
  });

  it('404 and redirects: a wrong MAILCHANNELS_API_URL fails', async () => {
    const wrongPath = await channelOf({ apiUrl: fake.apiUrl.replace('/tx/v1', '/tx/v2') }).deliver(alertOf(), contextOf());
    expect(wrongPath).toMatchObject({ status: 'failed', error: expect.stringContaining('(404): check MAILCHANNELS_API_URL') });

    fake.failNext(301, '', { location: 'https://api.mailchannels.net/tx/v1/send' });
    const redirected = await channelOf().deliver(alertOf(), contextOf());
    expect(redirected).toEqual({
      status: 'failed',
      error: 'MailChannels redirected the send to https://api.mailchannels.net/tx/v1/send (301): check MAILCHANNELS_API_URL',
    });
    expect(fake.calls().filter((c) => c.method !== 'POST')).toEqual([]);
  });

  it('413: fails as too large', async () => {
    fake.failNext(413, { errors: ['Payload too large'] });
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome).toEqual({ status: 'failed', error: 'MailChannels refused the message as too large (413); MailChannels said: Payload too large' });
  });
});

describe('MailChannelsChannel failures worth retrying', () => {
  it('429 with Retry-After in seconds: retry no sooner than asked; the next attempt goes through', async () => {
    fake.rateLimit(1, 30);
    const channel = channelOf();
    const outcome = await channel.deliver(alertOf(), contextOf());
    expect(outcome).toEqual({
      status: 'retry',
      error: 'MailChannels is rate-limiting sends (429); MailChannels said: Too many requests',
      retryAfterMs: 30_000,
    });
    expect(fake.messages()).toEqual([]);
    expect(await channel.deliver(alertOf(), contextOf({ attempt: 2 }))).toMatchObject({ status: 'delivered' });
    expect(fake.messages()).toHaveLength(1);
  });

  it('429 with Retry-After as an HTTP date, and without one', async () => {
    fake.failNext(429, { errors: ['slow down'] }, { 'retry-after': new Date(NOW.getTime() + 90_000).toUTCString() });
    expect(await channelOf().deliver(alertOf(), contextOf())).toMatchObject({ status: 'retry', retryAfterMs: 90_000 });

    fake.rateLimit(1);
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('retry');
    expect((outcome as { retryAfterMs?: number }).retryAfterMs).toBeUndefined();
  });

  it('503 (an HTML error page) and 500 with errors: retry, saying what MailChannels said', async () => {
    fake.setDown(503);
    const down = await channelOf().deliver(alertOf(), contextOf());
    expect(down).toEqual({ status: 'retry', error: 'MailChannels answered 503; MailChannels said: 503 Service Unavailable' });

    fake.setDown(false);
    fake.failNext(500, { errors: ['internal error'] });
    expect(await channelOf().deliver(alertOf(), contextOf())).toEqual({
      status: 'retry',
      error: 'MailChannels answered 500; MailChannels said: internal error',
    });
    expect(fake.messages()).toEqual([]);
  });

  it('a reset connection: retry', async () => {
    fake.setDown('reset');
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome.status).toBe('retry');
    expect((outcome as { error: string }).error).toMatch(/^could not reach MailChannels at 127\.0\.0\.1:\d+: /);
    expectNoKey(outcome);
  });

  it('nobody listening: retry', async () => {
    const apiUrl = fake.apiUrl;
    await fake.close();
    const outcome = await channelOf({ apiUrl }).deliver(alertOf(), contextOf());
    expect(outcome).toMatchObject({ status: 'retry', error: expect.stringContaining('ECONNREFUSED') });
    fake = await startFakeMailChannels({ apiKey: API_KEY });
  });

  it('no answer within the timeout: retry', async () => {
    fake.stallNext();
    const outcome = await channelOf({ timeoutMs: 200 }).deliver(alertOf(), contextOf());
    expect(outcome).toEqual({ status: 'retry', error: 'MailChannels did not answer within 200 ms' });
    expect(fake.calls()[0]?.status).toBe(-1);
  });

  it('accepted but every result failed: nothing was sent, so a retry cannot double it', async () => {
    fake.failNext(202, { request_id: 'req_1', results: [{ index: 0, message_id: '<x@mailchannels.net>', status: 'failed', reason: 'temporary failure' }] });
    const outcome = await channelOf().deliver(alertOf(), contextOf());
    expect(outcome).toEqual({ status: 'retry', error: 'MailChannels took the request but sent nothing (202): temporary failure' });
  });
});

describe('the MailChannels fake', () => {
  async function post(path: string, body: unknown, headers: Record<string, string> = { 'x-api-key': API_KEY }): Promise<Response> {
    return fetch(`${fake.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }
  const minimal = {
    personalizations: [{ to: [{ email: 'ops@kevinstamp.com' }] }],
    from: { email: 'deploy@kevinstamp.com' },
    subject: 'hello',
    content: [{ type: 'text/plain', value: 'hi' }],
  };

  it('answers 202 with SendResults JSON, dry-run with the rendered message and nothing sent', async () => {
    const accepted = await post('/send', minimal);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('content-type')).toBe('application/json');
    expect(await accepted.json()).toMatchObject({ request_id: expect.any(String), results: [{ index: 0, status: 'sent' }] });

    const dry = await post('/send?dry-run=true', minimal);
    expect(dry.status).toBe(200);
    const rendered = (await dry.json()) as { data: string[] };
    expect(rendered.data[0]).toContain('Subject: hello');
    expect(rendered.data[0]).toContain('To: ops@kevinstamp.com');
    expect(fake.messages()).toHaveLength(1);
  });

  it('refuses a missing key with 401, and a bad body with every problem listed', async () => {
    const noKey = await post('/send', minimal, {});
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({ error: 'Missing X-API-Key header.' });

    const bad = await post('/send', {
      personalizations: [],
      subject: '',
      content: [{ type: 'text/plain', value: '' }],
      headers: { 'Message-ID': '<x@y>' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      errors: [
        'personalizations: at least one personalization is required',
        'from: a sender address is required',
        'subject: a subject is required',
        'content[0].value: must not be empty',
        'headers: the header "Message-ID" is reserved and cannot be set',
      ],
    });
  });

  it('answers an empty 202 without a content-type', async () => {
    await fake.close();
    fake = await startFakeMailChannels({ apiKey: API_KEY, acceptedBody: 'empty' });
    const accepted = await post('/send', minimal);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('content-type')).toBeNull();
    expect(await accepted.text()).toBe('');
  });
});
