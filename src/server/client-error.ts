import type { Socket } from 'node:net';
import { KevinDeployError } from '../errors.ts';
import { rawProblemResponse } from './raw-problem.ts';

/** How long a request (headers and body) may take to arrive; slow clients cannot hold the bot. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Node's limit on the request line plus headers (`--max-http-header-size`, 16 KB by default). */
const HEADER_LIMIT_KB = 16;

/** What a client error (no request object exists: it could not be parsed, or never arrived) is answered with. */
export function clientErrorProblem(error: NodeJS.ErrnoException & { reason?: unknown }): KevinDeployError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new KevinDeployError('REQUEST_TIMEOUT', `the request did not arrive completely within ${REQUEST_TIMEOUT_MS / 1000} seconds; send it again`);
    case 'HPE_HEADER_OVERFLOW':
      return new KevinDeployError(
        'HEADERS_TOO_LARGE',
        `the request line and headers are larger than ${HEADER_LIMIT_KB} KB; no kevin-deploy URL or header is that long`,
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new KevinDeployError('PAYLOAD_TOO_LARGE', 'the chunk extensions of the request body are too large');
    default: {
      // llhttp's reason ("Invalid method encountered") says what was wrong, without echoing the input.
      const reason = typeof error.reason === 'string' ? `: ${error.reason}` : '';
      return new KevinDeployError('MALFORMED_REQUEST', `the request is not valid HTTP/1.1${reason}`);
    }
  }
}

/**
 * fastify's `clientErrorHandler`: answers with a problem instead of fastify's own JSON (or Node's
 * empty 400/408/431), then closes the connection — after a parse error nothing more on it can be
 * trusted. A reset connection, or one already answering a request, is only closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node keeps the response being written on the socket; bytes of ours in its middle would corrupt it.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || inProgress) {
    socket.destroy();
    return;
  }
  socket.end(rawProblemResponse(clientErrorProblem(error)));
  // end() flushes the answer first; a client that never reads does not keep the socket.
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
