import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A debug-level pino logger whose lines are kept in memory, for harnesses that assert on logs. */
export function capturedLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    }),
  );
  return { logger, logs };
}
