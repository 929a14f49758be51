/**
 * Plumbing the loopback fakes of HTTP APIs with a fault queue (twilio-fake, mailchannels-fake)
 * share, so that each fake holds only what its API answers: serving on 127.0.0.1 and closing,
 * writing an answer, answering while "down", and taking the next queued fault.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen-on-loopback.ts';

/** How a fake is down: not (`false`), answering every request with this status, or resetting connections. */
export type DownMode = false | number | 'reset';

/** The faults every such fake queues; a fake may add kinds of its own, each counted down by `remaining`. */
export type QueuedFault =
  | { kind: 'ratelimit'; remaining: number; retryAfterSeconds: number | undefined }
  | { kind: 'answer'; status: number; body: unknown; headers: Record<string, string> }
  | { kind: 'stall'; remaining: number };

export interface LoopbackServer {
  readonly port: number;
  /** Ends every open connection (stalled ones too) and stops listening. */
  close(): Promise<void>;
}

/** Serves `handle` on a free port of 127.0.0.1; a handler that throws answers 500 with `errorBody(message)` when it still can. */
export async function serveOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  errorBody: (message: string) => unknown,
  host = '127.0.0.1',
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendAnswer(res, 500, errorBody(err instanceof Error ? err.message : String(err)));
    });
  });
  const port = await listenOnLoopback(server, host);
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes an answer: nothing for no payload, a string as text/plain, anything else as JSON. */
export function sendAnswer(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (payload === undefined || payload === '') {
    // An empty answer carries no content-type: a JSON content-type on an empty body breaks clients that parse it.
    res.writeHead(status, { 'content-length': '0', ...headers });
    res.end();
    return;
  }
  const isText = typeof payload === 'string';
  const text = isText ? payload : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * Answers a request while the fake is down (`down` is not false): resets the connection, or
 * answers an HTML error page as a load balancer would. Returns the status to record (0 = reset).
 */
export function answerWhileDown(down: Exclude<DownMode, false>, req: IncomingMessage, res: ServerResponse): number {
  if (down === 'reset') {
    req.socket.destroy();
    return 0;
  }
  res.writeHead(down, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<html><head><title>${down} Service Unavailable</title></head><body><h1>${down} Service Unavailable</h1></body></html>`);
  return down;
}

/**
 * Takes the first queued fault that `matches` (the others wait their turn): an `answer` is used
 * once; every other kind counts down its `remaining` and leaves the queue at 0.
 */
export function takeFault<F extends { kind: string }>(faults: F[], matches: (fault: F) => boolean = () => true): F | undefined {
  const index = faults.findIndex(matches);
  const fault = faults[index];
  if (!fault) return undefined;
  if (fault.kind === 'answer') {
    faults.splice(index, 1);
    return fault;
  }
  const counted = fault as F & { remaining: number }; // every kind but 'answer' is counted
  counted.remaining -= 1;
  if (counted.remaining <= 0) faults.splice(index, 1);
  return fault;
}
