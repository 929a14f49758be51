import { STATUS_CODES, type ServerResponse } from 'node:http';
import { toProblem, type KevinDeployError } from '../errors.ts';

/**
 * Problems for answers fastify does not write: requests refused before fastify sees them, and
 * client errors that have no request at all. Same body and type as `sendProblem`.
 */

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Sends an error as a problem on a bare Node response (requests fastify never sees), and closes
 * the connection after it: whatever the client still sends belongs to a request we refused.
 */
export function writeProblemAndClose(response: ServerResponse, error: KevinDeployError): void {
  const body = JSON.stringify(toProblem(error));
  // With "Connection: close" Node ends the socket as soon as the answer is written.
  response.writeHead(error.status, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

/** A whole HTTP/1.1 response carrying the problem, for answers written straight to a socket (client errors). */
export function rawProblemResponse(error: KevinDeployError): string {
  const body = JSON.stringify(toProblem(error));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    `Content-Type: ${PROBLEM_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
