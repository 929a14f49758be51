import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';

type PinoLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Bolt and the Slack SDKs log through this: one log stream, structured, with the same redaction.
 * Messages are only formatted when their level is on — Bolt logs whole request bodies at debug.
 */
export function slackLogger(logger: Logger): SlackLogger {
  let level: LogLevel = LogLevel.INFO;
  const emit = (pinoLevel: PinoLevel, msg: unknown[]) => {
    if (!logger.isLevelEnabled(pinoLevel)) return;
    logger[pinoLevel](msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' '));
  };
  return {
    debug: (...msg: unknown[]) => emit('debug', msg),
    info: (...msg: unknown[]) => emit('info', msg),
    warn: (...msg: unknown[]) => emit('warn', msg),
    error: (...msg: unknown[]) => emit('error', msg),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
