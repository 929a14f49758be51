import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  level?: string | undefined;
  /** Values that must never reach the log (tokens, signing secrets); scrubbed from every line. */
  secrets?: ReadonlyArray<string | undefined>;
  destination?: DestinationStream | undefined;
}

const REDACTED = '[redacted]';

/**
 * Structured JSON logs (pino). The first defence is not logging secrets at all; the second is
 * redaction of the usual header and field names; the third scrubs every configured secret value
 * from each line before it is written, so a secret that slips into an error message still never
 * reaches the log.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 6);
  return pino(
    {
      level: options.level ?? 'info',
      // `app`, not `service`: per-deployment lines carry the released service as `service`.
      base: { app: 'kevin-deploy' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          '*.authorization',
          'token',
          '*.token',
          'apiToken',
          '*.apiToken',
          'secret',
          '*.secret',
        ],
        censor: REDACTED,
      },
      hooks: {
        streamWrite: (line: string) => scrub(line, secrets),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export function scrub(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** Every environment variable that holds a secret, by the names the contract defines. */
export const SECRET_ENV_NAMES = [
  'KEVIN_DEPLOY_API_TOKEN',
  'CLOUDFLARE_API_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'DISCORD_BOT_TOKEN',
  'DISCORD_WEBHOOK_URL',
  'PAGERDUTY_ROUTING_KEY',
  'PAGERDUTY_API_TOKEN',
  'PAGERDUTY_WEBHOOK_SECRET',
  'MAILCHANNELS_API_KEY',
] as const;
