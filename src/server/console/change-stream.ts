import type { FastifyReply, FastifyRequest } from 'fastify';

/** Subscribes to changed deployment ids; returns the function that unsubscribes. */
export type ChangeFeed = (listener: (deploymentId: string) => void) => () => void;

/** A comment line now and then keeps proxies from closing an idle stream, and finds dead ones. */
const HEARTBEAT_MS = 15_000;
/** How soon a browser reconnects after the stream drops (EventSource's `retry`). */
const RETRY_MS = 2_000;

/**
 * Server-sent events for one console page: `change` with the deployment's id whenever a change
 * is committed. The page fetches itself again: the stream only says *that* something changed, so
 * it never carries more than the page itself would show, and a missed event costs nothing but a
 * later refresh (the page refreshes on reconnect too).
 */
export function openChangeStream(request: FastifyRequest, reply: FastifyReply, changes: ChangeFeed, open: Set<() => void>): void {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // nginx and some proxies buffer responses unless told not to.
    'x-accel-buffering': 'no',
  });
  response.write(`retry: ${RETRY_MS}\n: connected\n\n`);
  const unsubscribe = changes((deploymentId) => {
    response.write(`event: change\ndata: ${JSON.stringify({ id: deploymentId })}\n\n`);
  });
  const heartbeat = setInterval(() => response.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    open.delete(end);
    response.end();
  };
  open.add(end);
  request.raw.on('close', end);
  response.on('error', end);
}
