import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { startSlackHarness, U, type SlackHarness } from '../support/slack-harness.ts';

/**
 * Bodies over the bot's limit (1 MB), over one keep-alive connection, the way a proxy or a
 * client library reuses it: the refusal comes at once, as a problem, and the connection is closed
 * cleanly right after it, so the next request (on a new connection) is answered at once too.
 * /slack/events is read by Bolt before fastify; /api/v1 by fastify: both must behave alike.
 */

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness();
});
afterAll(async () => {
  await h.close();
});

const LIMIT = 1_000_000;
/** "Promptly": well under the 5 s keep-alive timeout that used to end the hang. */
const PROMPT_MS = 1500;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  ms: number;
  reusedSocket: boolean;
  /** Resolves with how long after the answer the server closed the connection (Infinity: not within 2 s). */
  closedAfterMs: Promise<number>;
}

/**
 * One request over `agent`. A too-large body is written with Content-Length, or chunked in 64 KB
 * pieces until the server answers (a refusal may come before the whole body is sent).
 */
function send(agent: Agent, method: string, path: string, options: { body?: Buffer; chunked?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(h.bot.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      method,
      agent,
      headers: { ...options.headers, ...(options.body && !options.chunked ? { 'content-length': String(options.body.length) } : {}) },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const socket = req.socket!;
      const closedAfterMs = new Promise<number>((resolveClosed) => {
        const answeredAt = Date.now();
        if (socket.destroyed) return resolveClosed(0);
        const timer = setTimeout(() => resolveClosed(Infinity), 2000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolveClosed(Date.now() - answeredAt);
        });
      });
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, ms: Date.now() - started, reusedSocket: req.reusedSocket, closedAfterMs }));
    });
    // Writing the rest of a refused body may fail once the server has closed; the answer is what counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (!options.body) return void req.end();
    if (!options.chunked) return void req.end(options.body);
    const body = options.body;
    let offset = 0;
    const writeMore = (): void => {
      while (!answered && offset < body.length) {
        const piece = body.subarray(offset, offset + 65_536);
        offset += piece.length;
        if (!req.write(piece)) return void req.once('drain', writeMore);
      }
      if (!answered) req.end();
    };
    writeMore();
  });
}

function expectTooLarge(answer: Answer): void {
  expect(answer.status).toBe(413);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.headers.connection).toBe('close');
  const problem = JSON.parse(answer.text) as Record<string, unknown>;
  expect(problem).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', title: ERROR_CATALOGUE.PAYLOAD_TOO_LARGE.title });
  expect(problem.detail).toBe('the request body is larger than the limit of 1000000 bytes; nothing was changed');
  expect(answer.ms).toBeLessThan(PROMPT_MS);
}

async function expectNextRequestPrompt(agent: Agent, previous: Answer): Promise<void> {
  expect(await previous.closedAfterMs, 'the server closes the connection right after the 413').toBeLessThan(PROMPT_MS);
  const next = await send(agent, 'GET', '/healthz');
  expect(next.status).toBe(200);
  expect(JSON.parse(next.text)).toEqual({ status: 'ok' });
  expect(next.ms).toBeLessThan(PROMPT_MS);
  // And the new connection is kept alive as usual.
  const again = await send(agent, 'GET', '/healthz');
  expect(again.status).toBe(200);
  expect(again.reusedSocket).toBe(true);
}

const tooLarge = Buffer.alloc(LIMIT + 1, 'a');
const slackHeaders = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': 'v0=00' };

describe('a body over the limit on a keep-alive connection', () => {
  it.each([
    ['with Content-Length', false, tooLarge],
    ['chunked', true, tooLarge],
    // Over Bolt's own 4 MB limit: Bolt answered 413 with no body and left the rest unread, so the
    // next request on the connection hung until the keep-alive timeout reset it.
    ['with Content-Length, over Bolt\'s own limit', false, Buffer.alloc(5_000_000, 'a')],
    ['chunked, over Bolt\'s own limit', true, Buffer.alloc(5_000_000, 'a')],
  ])('POST /slack/events %s: 413 problem at once, the connection closed cleanly, the next request answered at once', async (_label, chunked, body) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const warm = await send(agent, 'GET', '/healthz');
      expect(warm.status).toBe(200);
      const refused = await send(agent, 'POST', '/slack/events', { body, chunked, headers: slackHeaders });
      expect(refused.reusedSocket).toBe(true);
      expectTooLarge(refused);
      await expectNextRequestPrompt(agent, refused);
    } finally {
      agent.destroy();
    }
    // Slack itself is unaffected: a real slash command still works.
    const answer = await h.ask(U.alice, 'help');
    expect(answer.text).toContain('/deploy');
    expect(h.logs.some((line) => line.includes('"level":50') || line.includes('unhandled'))).toBe(false);
  });

  it.each([
    ['with Content-Length', false],
    ['chunked', true],
  ])('POST /api/v1/deployments %s: the same 413 problem and a clean close', async (_label, chunked) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await send(agent, 'POST', '/api/v1/deployments', {
        body: tooLarge,
        chunked,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ops}` },
      });
      expectTooLarge(refused);
      await expectNextRequestPrompt(agent, refused);
    } finally {
      agent.destroy();
    }
    expect((await h.api<{ deployments: unknown[] }>('GET', '/api/v1/deployments')).body.deployments).toEqual([]);
  });

  it('a body exactly at the limit is read as usual (and refused for what it says, not for its size)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const atLimit = Buffer.alloc(LIMIT, 'a');
      const answer = await send(agent, 'POST', '/api/v1/deployments', {
        body: atLimit,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ops}` },
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'INVALID_JSON' });
    } finally {
      agent.destroy();
    }
  });
});
