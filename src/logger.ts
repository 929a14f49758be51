import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { KevinDeployError } from './errors.ts';

export type LogFormat = 'json' | 'pretty';

type Env = Readonly<Record<string, string | undefined>>;

export interface LoggerOptions {
  /** The pino level; default env.LOG_LEVEL, else `info`. */
  level?: string | undefined;
  /**
   * The process environment: every secret it holds (see secretsToScrub) is scrubbed from each
   * line, and LOG_FORMAT / LOG_LEVEL are read from it.
   */
  env?: Env | undefined;
  /** The variables the configuration's `apiTokens` name: their values are secrets too. */
  apiTokenEnvNames?: readonly string[] | undefined;
  /** Further values that must never reach the log (e.g. a token the process made up itself). */
  secrets?: ReadonlyArray<string | undefined>;
  /** Default: logFormatFor(env, whether stdout is a terminal). */
  format?: LogFormat | undefined;
  /**
   * Write each JSON line before going on (pretty lines always are). For the sandbox, whose banner
   * goes to the same terminal or file and must not land in the middle of buffered log lines.
   */
  sync?: boolean | undefined;
  destination?: DestinationStream | undefined;
}

const REDACTED = '[redacted]';

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
  'TWILIO_AUTH_TOKEN',
] as const;

/**
 * A secret shorter than this is refused at start (`secretProblems`): a 1-character secret is
 * guessable, and scrubbing it would blank every "a" or "1" in the log.
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * From this length a secret is scrubbed wherever it appears, even inside a longer word: a random
 * string this long does not occur in a log line by chance. Shorter ones (4–5 characters) are
 * scrubbed where they stand alone — a whole word inside a JSON string — so that a secret such as
 * "prod" blanks "prod" in a URL or a message, but not "production".
 */
const SUBSTRING_FROM_LENGTH = 6;

interface SecretEntry {
  name: string;
  value: string;
}

/**
 * Each secret value in the environment with the variable it came from: every name in
 * SECRET_ENV_NAMES and every API-token variable of the configuration; each comma-separated part
 * on its own (PAGERDUTY_WEBHOOK_SECRET holds several during a rotation, and a part can be logged
 * alone); and the token at the end of a webhook URL, which is the secret part of it.
 */
function secretEntries(env: Env, apiTokenEnvNames: readonly string[]): SecretEntry[] {
  const entries: SecretEntry[] = [];
  for (const name of new Set<string>([...SECRET_ENV_NAMES, ...apiTokenEnvNames])) {
    const value = env[name];
    if (!value) continue;
    entries.push({ name, value });
    const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
    if (parts.length > 1) for (const part of parts) entries.push({ name, value: part });
    const urlToken = lastPathSegment(value);
    if (urlToken) entries.push({ name, value: urlToken });
  }
  return entries;
}

function lastPathSegment(value: string): string | undefined {
  if (!/^https?:\/\//i.test(value)) return undefined;
  try {
    const segment = new URL(value).pathname.split('/').filter(Boolean).at(-1);
    // Only a token-like segment: "/api/webhooks/ID/TOKEN" yes, a bare "/hook" no.
    return segment && segment.length >= 16 ? decodeURIComponent(segment) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * THE list of secret values every logger scrubs — `serve`, the sandbox and startBot all build it
 * here, so no mode can forget one. Longest first, so a secret that contains another is scrubbed
 * whole.
 */
export function secretsToScrub(env: Env, apiTokenEnvNames: readonly string[] = []): string[] {
  const values = new Set(secretEntries(env, apiTokenEnvNames).map((e) => e.value));
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * Secrets too short to be kept out of the log, as messages that say what to do; `serve` refuses
 * to start with any (exit 2).
 */
export function secretProblems(env: Env, apiTokenEnvNames: readonly string[] = []): string[] {
  const problems = new Map<string, string>();
  for (const { name, value } of secretEntries(env, apiTokenEnvNames)) {
    if (value.length >= MIN_SECRET_LENGTH || problems.has(name)) continue;
    const whole = env[name] === value;
    problems.set(
      name,
      `${name}${whole ? '' : ' has a part that'} is ${value.length} character${value.length === 1 ? '' : 's'} long: a secret needs at least ${MIN_SECRET_LENGTH} (a shorter one is guessable, and it cannot be kept out of the logs without blanking ordinary words); set the real secret`,
    );
  }
  return [...problems.values()];
}

/**
 * LOG_FORMAT: `json` (one object per line, for log pipelines) or `pretty` (readable lines for a
 * person). Unset: pretty when stdout is a terminal, json otherwise — so a pipe, a file, a container
 * runtime or a test always gets JSON.
 */
export function logFormatFor(env: Env, stdoutIsTty: boolean): LogFormat {
  const value = env.LOG_FORMAT?.trim().toLowerCase();
  if (!value) return stdoutIsTty ? 'pretty' : 'json';
  if (value === 'json' || value === 'pretty') return value;
  throw new KevinDeployError('USAGE', `LOG_FORMAT must be json or pretty; got "${env.LOG_FORMAT}"`);
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Refuses an unknown LOG_LEVEL with a message that lists the levels (pino would throw "unknown level"). */
export function logLevelFor(env: Env): string {
  const value = env.LOG_LEVEL?.trim().toLowerCase();
  if (!value) return 'info';
  if (LEVELS.includes(value)) return value;
  throw new KevinDeployError('USAGE', `LOG_LEVEL must be one of ${LEVELS.join(', ')}; got "${env.LOG_LEVEL}"`);
}

/**
 * Structured logs (pino). The first defence is not logging secrets at all; the second is
 * redaction of the usual header and field names; the third scrubs every secret value from each
 * line before it is written, so a secret that slips into an error message or a URL still never
 * reaches the log. Scrubbing works on the JSON line, before any pretty-printing.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? {};
  const secrets = [
    ...(options.env ? secretsToScrub(options.env, options.apiTokenEnvNames) : []),
    ...(options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length > 0),
  ];
  const scrubLine = secretScrubber(secrets);
  // A caller's own destination (tests) gets JSON unless it asks for pretty lines.
  const format = options.format ?? (options.destination ? 'json' : logFormatFor(env, Boolean(process.stdout.isTTY)));
  return pino(
    {
      level: options.level ?? (options.env ? logLevelFor(env) : 'info'),
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
        streamWrite: scrubLine,
      },
    },
    format === 'pretty' ? prettyStream(options.destination) : (options.destination ?? pino.destination({ dest: 1, sync: options.sync ?? false })),
  );
}

/**
 * Readable lines for a terminal: "[2026-05-01 12:00:00Z] INFO: store ready {…}". The time is UTC
 * in the same form the CLI prints, so a log line and a `status` timeline read alike. Synchronous,
 * so lines and the sandbox banner come out in the order they were written.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return pretty({
    // Colours only on our own terminal (pino-pretty's default honours NO_COLOR and FORCE_COLOR).
    ...(destination ? { destination, colorize: false } : {}),
    sync: true,
    translateTime: "UTC:yyyy-mm-dd HH:MM:ss'Z'",
    ignore: 'pid,hostname,app',
    singleLine: true,
  });
}

/** Scrubs these secrets from one line (see secretScrubber). */
export function scrub(line: string, secrets: readonly string[]): string {
  return secretScrubber(secrets)(line);
}

/**
 * A function that scrubs the secrets from a pino JSON line: long ones everywhere, in their raw,
 * JSON-escaped and percent-encoded forms; short ones as whole words inside JSON string values only, so the line stays
 * valid JSON (a secret "1234" never turns `"attempt":1234` into broken JSON, nor a key into
 * "[redacted]").
 */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  const unique = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  const long = unique.filter((s) => s.length >= SUBSTRING_FROM_LENGTH).flatMap(forms);
  const short = unique.filter((s) => s.length < SUBSTRING_FROM_LENGTH).flatMap(forms);
  const word = short.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${short.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'gu') : undefined;
  return (line) => {
    let out = line;
    for (const secret of long) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    if (word) {
      // A JSON string literal; a key is followed by a colon and is left alone.
      out = out.replace(/"((?:[^"\\]|\\.)*)"(\s*:)?/g, (literal, content: string, colon: string | undefined) =>
        colon || ISO_TIME.test(content) ? literal : `"${content.replace(word, REDACTED)}"`,
      );
    }
    return out;
  };
}

/** A timestamp holds nothing but digits: a short numeric "secret" must not blank the year in `time`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/**
 * The secret as written, as it appears inside a JSON string when it has characters JSON escapes,
 * and percent-encoded as it appears in a logged URL (a webhook URL, a comma list in a path).
 */
function forms(secret: string): string[] {
  const json = (text: string) => JSON.stringify(text).slice(1, -1);
  return [...new Set([secret, json(secret), json(encodeURIComponent(secret))])];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
