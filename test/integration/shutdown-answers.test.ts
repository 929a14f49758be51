import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.ts';
import { startHarness, TOKENS } from '../support/bot-harness.ts';

/**
 * A request that reaches the bot on an open keep-alive connection after it began closing is
 * refused as a SHUTTING_DOWN problem (fastify used to answer it with its own JSON), and the
 * connection is closed after it.
 */

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.on('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.on('error', () => resolve(true));
  });
}

function readUntilClosed(socket: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const timer = setTimeout(() => resolve(received), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

describe('while the bot closes', () => {
  it('a request pipelined on an open connection gets 503 SHUTTING_DOWN as a problem, and the connection is closed', async () => {
    const h = await startHarness();
    const socket = connect(h.bot.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const answers = readUntilClosed(socket, 5000);
    // A request in flight (half its body sent) keeps the connection open while the server closes.
    const body = JSON.stringify({ service: 'kevinstamp', environment: 'production', reason: 'freeze' });
    socket.write(`POST /api/v1/locks HTTP/1.1\r\nHost: bot\r\nAuthorization: Bearer ${TOKENS.ops}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = h.bot.close();
    try {
      const deadline = Date.now() + 5000;
      while (!(await refusesConnections(h.bot.port)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(`${body.slice(10)}GET /api/v1/status HTTP/1.1\r\nHost: bot\r\nAuthorization: Bearer ${TOKENS.ops}\r\n\r\n`);
      const received = await answers;
      const second = received.slice(received.indexOf('HTTP/1.1', 1));
      const [head = '', problemText = ''] = second.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(head.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(problemText)).toMatchObject({
        status: 503,
        code: 'SHUTTING_DOWN',
        title: ERROR_CATALOGUE.SHUTTING_DOWN.title,
        detail: 'kevin-deploy is shutting down; try again in a few seconds',
      });
    } finally {
      socket.destroy();
      await closed;
      await h.close(); // bot.close() is idempotent; this stops the stand-in and removes the data
    }
  });
});
