import type { IncomingMessage, ServerResponse } from 'node:http';
import { KevinDeployError } from '../errors.ts';
import { writeProblemAndClose } from './raw-problem.ts';

/**
 * The largest request body the bot reads, on every route. Slack's events, PagerDuty's webhooks,
 * Discord's interactions and API calls are a few KB; anything near this is not one of them.
 */
export const BODY_LIMIT_BYTES = 1_000_000;

export function tooLargeError(): KevinDeployError {
  return new KevinDeployError('PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${BODY_LIMIT_BYTES} bytes; nothing was changed`);
}

/**
 * A request whose Content-Length is over the limit is refused before anyone reads it: the 413
 * goes out at once and the connection is closed after it, instead of leaving the unread body on
 * a keep-alive connection (where the next request would wait behind it until a reset).
 */
export function refuseDeclaredOversize(request: IncomingMessage, response: ServerResponse): boolean {
  const declared = Number(request.headers['content-length']);
  if (!(declared > BODY_LIMIT_BYTES)) return false;
  writeProblemAndClose(response, tooLargeError());
  return true;
}

const BODY_EVENTS = ['data', 'end', 'error', 'aborted', 'close'] as const;
type Listener = (...args: unknown[]) => void;
export type ListenerSnapshot = Map<(typeof BODY_EVENTS)[number], Listener[]>;

/** The request's listeners before a raw handler gets it, to tell the handler's own ones apart later. */
export function snapshotListeners(request: IncomingMessage): ListenerSnapshot {
  return new Map(BODY_EVENTS.map((event) => [event, request.listeners(event) as Listener[]]));
}

/**
 * Bounds a body without Content-Length (chunked) that a raw handler reads itself (Bolt reads up
 * to 4 MB, then answers 413 with no body and leaves the rest unread). Once the body passes the
 * limit, the handler is detached from the request — it must neither read on nor answer after us;
 * its read simply never completes — the rest of the body is discarded, and the 413 problem goes
 * out with the connection closed after it.
 *
 * Counting starts only when the body flows (the handler reads it): a listener added earlier would
 * start the flow itself and the handler would miss the first chunks.
 */
export function boundStreamedBody(request: IncomingMessage, response: ServerResponse, before: ListenerSnapshot): void {
  if (request.headers['content-length'] !== undefined) return; // checked up front; Node holds the sender to it
  let received = 0;
  const count = (chunk: Buffer): void => {
    received += chunk.length;
    if (received <= BODY_LIMIT_BYTES) return;
    request.off('data', count);
    for (const [event, kept] of before) {
      for (const listener of request.listeners(event) as Listener[]) if (!kept.includes(listener)) request.off(event, listener);
    }
    // A reset of this connection now has nobody else to tell.
    request.on('error', () => undefined);
    request.resume();
    if (response.headersSent) {
      request.socket.destroy();
      return;
    }
    writeProblemAndClose(response, tooLargeError());
  };
  if (request.readableFlowing) request.on('data', count);
  else request.once('resume', () => request.on('data', count));
}
