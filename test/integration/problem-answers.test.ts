import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors.ts';
import { createInteractionSigner } from '../fakes/discord-fake.ts';
import { pagerDutySignature } from '../fakes/pagerduty-fake.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';

/**
 * Every refusal the bot's port can give is a problem from the one catalogue — also those that
 * fastify, Node's HTTP parser or a webhook route used to write in their own shapes — while the
 * answers the Discord and PagerDuty protocols require stay exactly as they are.
 */

const PD_SECRET = 'pd-webhook-secret-for-problem-tests';
const discord = createInteractionSigner();

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { PAGERDUTY_WEBHOOK_SECRET: PD_SECRET, DISCORD_PUBLIC_KEY: discord.publicKeyHex } });
  h.upload('v2');
});
afterAll(async () => {
  await h.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
}

/** Sends bytes over a fresh TCP connection and reads the answer until the server closes it (or 3 s pass). */
function rawExchange(bytes: string): Promise<RawAnswer> {
  const url = new URL(h.bot.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [head = '', ...rest] = received.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), closed });
    };
    const timer = setTimeout(finish, 3000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', (error) => (received ? finish() : reject(error)));
    socket.write(bytes);
  });
}

function expectProblem(answer: { status: number; type: string; body: unknown }, code: ErrorCode): Record<string, unknown> {
  expect(answer.status).toBe(ERROR_CATALOGUE[code].status);
  expect(answer.type).toContain('application/problem+json');
  const problem = answer.body as Record<string, unknown>;
  expect(problem).toMatchObject({ code, status: ERROR_CATALOGUE[code].status, title: ERROR_CATALOGUE[code].title });
  expect(typeof problem.detail).toBe('string');
  expect(problem.detail).not.toMatch(/at .*\.[jt]s:\d+/); // no stack traces
  return problem;
}

function expectRawProblem(answer: RawAnswer, code: ErrorCode): Record<string, unknown> {
  const body = JSON.parse(answer.body) as unknown;
  const problem = expectProblem({ status: answer.status, type: answer.headers['content-type'] ?? '', body }, code);
  expect(answer.headers.connection).toBe('close');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(answer.closed).toBe(true);
  return problem;
}

async function deploymentCount(): Promise<number> {
  return (await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?limit=200')).body.deployments.length;
}

describe('answers from below the routes', () => {
  it('a path segment over 100 characters is 414 URI_TOO_LONG, not fastify\'s own JSON', async () => {
    const answer = await h.api('GET', `/api/v1/deployments/kd-${'a'.repeat(120)}`);
    const problem = expectProblem(answer, 'URI_TOO_LONG');
    expect(problem.detail).toMatch(/longer than 100 characters/);
  });

  it('a URL that cannot be decoded is 400 MALFORMED_REQUEST', async () => {
    const answer = await h.api('GET', '/api/v1/deployments/kd-%E0%A4%A');
    expectProblem(answer, 'MALFORMED_REQUEST');
  });

  it('a request line and headers over 16 KB are 431 HEADERS_TOO_LARGE, and the connection is closed', async () => {
    const answer = await rawExchange(`GET /api/v1/deployments?service=${'k'.repeat(20_000)} HTTP/1.1\r\nHost: bot\r\n\r\n`);
    const problem = expectRawProblem(answer, 'HEADERS_TOO_LARGE');
    expect(problem.detail).toMatch(/larger than 16 KB/);
  });

  it.each([
    ['an invalid method', 'BR3W /healthz HTTP/1.1\r\nHost: bot\r\n\r\n'],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: bot\r\nthis is not a header\r\n\r\n'],
    ['not HTTP at all', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\r\n\r\n'],
  ])('%s is 400 MALFORMED_REQUEST, and the connection is closed', async (_label, bytes) => {
    const problem = expectRawProblem(await rawExchange(bytes), 'MALFORMED_REQUEST');
    expect(problem.detail).toMatch(/^the request is not valid HTTP\/1\.1/);
  });

  it('a body that is not JSON on /api/v1 is 415 UNSUPPORTED_MEDIA_TYPE naming what was sent, and changes nothing', async () => {
    const before = await deploymentCount();
    const response = await fetch(`${h.bot.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ops}`, 'content-type': 'text/plain' },
      body: 'service=kevinstamp version=v2',
    });
    const problem = expectProblem({ status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() }, 'UNSUPPORTED_MEDIA_TYPE');
    expect(problem.detail).toBe('send the request body as application/json; got "text/plain"');
    const form = await fetch(`${h.bot.url}/api/v1/locks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ops}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'service=kevinstamp&reason=freeze',
    });
    expectProblem({ status: form.status, type: form.headers.get('content-type') ?? '', body: await form.json() }, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await deploymentCount()).toBe(before);
    expect((await h.api<{ locks: unknown[] }>('GET', '/api/v1/locks')).body.locks).toEqual([]);
  });

  it('a method a path does not answer is 405 METHOD_NOT_ALLOWED with Allow; an unknown path stays 404', async () => {
    const response = await fetch(`${h.bot.url}/api/v1/status`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.ops}` } });
    const problem = expectProblem({ status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() }, 'METHOD_NOT_ALLOWED');
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(problem.detail).toBe('/api/v1/status does not answer POST; it answers GET, HEAD');
    const approve = await h.api('GET', '/api/v1/deployments/kd-anything/approve');
    expectProblem(approve, 'METHOD_NOT_ALLOWED');
    expect((approve.body as { allowed: string[] }).allowed).toEqual(['POST']);
    const health = await fetch(`${h.bot.url}/healthz`, { method: 'DELETE' });
    expect(health.status).toBe(405);
    expect(health.headers.get('content-type')).toContain('application/problem+json');
    expectProblem(await h.api('GET', '/api/v1/nothing-here'), 'NOT_FOUND');
    expectProblem(await h.api('GET', '/nothing-here', undefined, null), 'NOT_FOUND');
    // Authentication still comes first on /api/v1.
    expect((await h.api('POST', '/api/v1/status', {}, null)).status).toBe(401);
  });
});

describe('strict queries and bodies', () => {
  it('an unknown query parameter is a 400 naming it, suggesting the closest and listing the known ones', async () => {
    const typo = expectProblem(await h.api('GET', '/api/v1/deployments?servce=kevinstamp'), 'USAGE');
    expect(typo.detail).toBe('unknown query parameter "servce"; did you mean "service"? GET /api/v1/deployments takes "service", "environment", "limit".');
    expect(typo).toMatchObject({ parameter: 'servce', knownParameters: ['service', 'environment', 'limit'] });

    const far = expectProblem(await h.api('GET', '/api/v1/alerts?since=2026-01-01'), 'USAGE');
    expect(far.detail).toBe('unknown query parameter "since". GET /api/v1/alerts takes "deployment", "status", "limit".');
    const none = expectProblem(await h.api('GET', '/api/v1/locks?service=kevinstamp'), 'USAGE');
    expect(none.detail).toBe('unknown query parameter "service". GET /api/v1/locks takes no query parameters.');
    const onPost = expectProblem(await h.api('POST', '/api/v1/deployments?queue=true', { service: 'kevinstamp', environment: 'production', version: 'v2' }), 'USAGE');
    expect(onPost.detail).toMatch(/^unknown query parameter "queue"\. POST \/api\/v1\/deployments takes no query parameters\.$/);
    expect(await deploymentCount()).toBe(0);
    const twice = expectProblem(await h.api('GET', '/api/v1/status?service=kevinstamp&service=other'), 'USAGE');
    expect(twice.detail).toBe('query parameter "service" is given 2 times; give it once');

    // The known ones work as before.
    expect((await h.api('GET', '/api/v1/deployments?service=kevinstamp&environment=production&limit=5')).status).toBe(200);
    expect((await h.api('GET', '/api/v1/status?service=kevinstamp')).status).toBe(200);
  });

  it('a key repeated in a JSON body is a 400 naming the key, and changes nothing', async () => {
    const before = await deploymentCount();
    const repeated = expectProblem(
      await h.api('POST', '/api/v1/deployments', '{"service":"kevinstamps","service":"kevinstamp","environment":"production","version":"v2"}', TOKENS.alice),
      'DUPLICATE_JSON_KEY',
    );
    expect(repeated.detail).toBe('the key "service" appears more than once in the request body; send it once');
    expect(repeated.key).toBe('service');
    // Written differently, still the same key; nested keys are named by their path.
    const escaped = expectProblem(await h.api('POST', '/api/v1/locks', '{"service":"kevinstamp","reason":"a","re\\u0061son":"b"}'), 'DUPLICATE_JSON_KEY');
    expect(escaped.key).toBe('reason');
    const nested = expectProblem(await h.api('POST', '/api/v1/locks', '{"service":"kevinstamp","reason":"a","x":[{"y":1,"y":2}]}'), 'DUPLICATE_JSON_KEY');
    expect(nested.key).toBe('x[0].y');
    expect(await deploymentCount()).toBe(before);
    expect((await h.api<{ locks: unknown[] }>('GET', '/api/v1/locks')).body.locks).toEqual([]);
    // JSON validity stays JSON's: invalid JSON is INVALID_JSON, and equal values under different keys are fine.
    expectProblem(await h.api('POST', '/api/v1/deployments', '{"service":"kevinstamp",}', TOKENS.alice), 'INVALID_JSON');
    const fine = await h.api('POST', '/api/v1/locks', '{"service":"kevinstamp","environment":"production","reason":"production"}');
    expect(fine.status).toBe(201);
    expect((await h.api('DELETE', '/api/v1/locks/kevinstamp/production')).status).toBe(200);
  });
});

describe('webhook refusals are problems; protocol answers are unchanged', () => {
  async function post(path: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${h.bot.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: JSON.parse(text) as unknown };
  }

  it('PagerDuty: a bad or missing signature is 401 INVALID_SIGNATURE; a signed event is still 202', async () => {
    const event = JSON.stringify({ event: { id: 'E1', event_type: 'service.updated', resource_type: 'service', occurred_at: '2026-11-26T09:00:00Z', agent: null, data: { id: 'PSVC', type: 'service' } } });
    expectProblem(await post('/pagerduty/webhooks', event, { 'x-pagerduty-signature': pagerDutySignature(event, ['wrong-secret']) }), 'INVALID_SIGNATURE');
    expectProblem(await post('/pagerduty/webhooks', event, {}), 'INVALID_SIGNATURE');
    const signed = await post('/pagerduty/webhooks', event, { 'x-pagerduty-signature': pagerDutySignature(event, [PD_SECRET]) });
    expect(signed).toMatchObject({ status: 202, body: { status: 'ignored' } });
    expect(signed.type).toContain('application/json');
  });

  it('Discord: bad, missing or stale signatures are 401 INVALID_SIGNATURE; a body not JSON or not an interaction is a 400 problem; PING is still PONG', async () => {
    const ping = JSON.stringify({ id: '1100000000000000001', application_id: '1100000000000000002', type: 1, token: 't', version: 1 });
    expectProblem(await post('/discord/interactions', ping, createInteractionSigner().sign(ping)), 'INVALID_SIGNATURE');
    expectProblem(await post('/discord/interactions', ping, {}), 'INVALID_SIGNATURE');
    expectProblem(await post('/discord/interactions', ping, discord.sign(ping, String(Math.floor(Date.now() / 1000) - 600))), 'INVALID_SIGNATURE');
    expectProblem(await post('/discord/interactions', '{"type":', discord.sign('{"type":')), 'INVALID_JSON');
    const notInteraction = expectProblem(await post('/discord/interactions', '{}', discord.sign('{}')), 'USAGE');
    expect(notInteraction.detail).toBe('expected a Discord interaction (an object with a numeric type)');
    expect(await post('/discord/interactions', ping, discord.sign(ping))).toMatchObject({ status: 200, body: { type: 1 } });
  });
});
