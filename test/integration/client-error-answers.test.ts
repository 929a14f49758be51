import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.ts';
import { answerClientError } from '../../src/server/client-error.ts';

/**
 * The bot's `clientErrorHandler` on a Node server of its own, with the request timeout shortened
 * from the bot's 30 s so the 408 can be seen in a test; the other client errors (431, 400) are
 * tested through the bot itself in problem-answers.test.ts.
 */

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(requestTimeout: number): Promise<number> {
  // Like the bot's routes, the handler answers once it has the whole body.
  server = createServer({ requestTimeout, connectionsCheckingInterval: 50 }, (request, response) => {
    request.resume();
    request.on('end', () => response.end('ok'));
  });
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('answerClientError', () => {
  it('answers a request that does not arrive in time with a 408 REQUEST_TIMEOUT problem and closes the connection', async () => {
    const port = await listen(300);
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const started = Date.now();
    // Headers, then a body that never comes.
    socket.write('POST /api/v1/deployments HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"serv');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(3000);
    const [head = '', body = ''] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(head).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(head).toContain('Connection: close');
    expect(JSON.parse(body)).toEqual({
      type: 'https://kevin-deploy.dev/problems/request-timeout',
      title: ERROR_CATALOGUE.REQUEST_TIMEOUT.title,
      status: 408,
      detail: 'the request did not arrive completely within 30 seconds; send it again',
      code: 'REQUEST_TIMEOUT',
    });
  });
});
