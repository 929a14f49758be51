import { COMMANDS, type CommandName } from '../../../commands/index.ts';
import { checkDuration } from '../../config/duration.ts';

/** What a slash command asks for, before any permission or existence check. */
export type ParsedSlashCommand =
  | { kind: 'run'; command: CommandName; args: Record<string, unknown> }
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'usage'; message: string };

const line = (name: CommandName) => `\`${COMMANDS[name].chatUsage ?? COMMANDS[name].usage}\``;
export const ROLLBACK_USAGE = line('rollback');

/**
 * Splits command text like a shell would for quotes: `--note "big fix"` is one value. Slack sends
 * “smart quotes” from some clients; they count as quotes too.
 */
export function tokenize(text: string): string[] | { error: string } {
  const tokens: string[] = [];
  const normalized = text.replace(/[\u201c\u201d]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(normalized))) tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  if ((normalized.match(/"/g)?.length ?? 0) % 2 === 1) return { error: 'a quote is not closed' };
  return tokens;
}

interface Flags {
  positionals: string[];
  flags: Record<string, string | true>;
}

function splitFlags(tokens: string[], withValue: readonly string[], booleans: readonly string[]): Flags | { error: string } {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('--')) {
      positionals.push(token);
      continue;
    }
    const [name, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (booleans.includes(name)) flags[name] = true;
    else if (withValue.includes(name)) {
      const value = inline ?? tokens[++i];
      if (value === undefined || value.startsWith('--')) return { error: `--${name} needs a value` };
      flags[name] = value;
    } else return { error: `unknown option --${name}` };
  }
  return { positionals, flags };
}

/**
 * `/deploy …`. `environmentsOf` tells which words are environment names, so that
 * `/deploy lock kevinstamp freeze for launch` is a reason and `… lock kevinstamp production` is
 * an environment with its reason missing.
 */
export function parseDeployCommand(text: string, environmentsOf: (service: string) => readonly string[] = () => []): ParsedSlashCommand {
  const tokens = tokenize(text.trim());
  if ('error' in tokens) return { kind: 'usage', message: tokens.error };
  if (tokens.length === 0) return { kind: 'modal' };
  const [first, ...rest] = tokens as [string, ...string[]];
  switch (first.toLowerCase()) {
    case 'help':
      return { kind: 'help' };
    case 'status': {
      if (rest.length > 1) return usage(line('status'));
      return { kind: 'run', command: 'status', args: rest[0] ? { service: rest[0] } : {} };
    }
    case 'history': {
      if (rest.length > 2) return usage(line('history'));
      return { kind: 'run', command: 'history', args: compact({ service: rest[0], environment: rest[1], limit: 10 }) };
    }
    case 'lock': {
      const expiry = takeLockExpiry(rest);
      if ('problem' in expiry) return usage(line('lock'), expiry.problem);
      const [service, ...more] = expiry.rest;
      if (!service || more.length === 0) return usage(line('lock'));
      // The environment is optional: the word after the service is one only if the service has
      // an environment of that name.
      const environment = environmentsOf(service).includes(more[0]!) ? more[0] : undefined;
      const reason = (environment ? more.slice(1) : more).join(' ');
      if (!reason) return usage(line('lock'), 'a REASON is required: it is shown to everyone whose deploy is refused');
      return { kind: 'run', command: 'lock', args: compact({ service, environment, reason, expiresAfter: expiry.expiresAfter }) };
    }
    case 'unlock': {
      if (rest.length < 1 || rest.length > 2) return usage(line('unlock'));
      return { kind: 'run', command: 'unlock', args: compact({ service: rest[0], environment: rest[1] }) };
    }
    default:
      return parseRelease(tokens);
  }
}

/**
 * `--for DURATION` (or `--for=DURATION`) anywhere in a lock: the lock lifts by itself. Only this
 * option is taken out; every other word, dashes included, stays part of the reason. The duration
 * is checked here, with its bound, so a typo is answered with the usage line instead of a lock
 * that never lifts or one that would outlive any plan.
 */
function takeLockExpiry(tokens: string[]): { rest: string[]; expiresAfter: string | undefined } | { problem: string } {
  const rest: string[] = [];
  let expiresAfter: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token !== '--for' && !token.startsWith('--for=')) {
      rest.push(token);
      continue;
    }
    const value = token === '--for' ? tokens[++i] : token.slice('--for='.length);
    if (!value || value.startsWith('--')) return { problem: '--for needs a duration such as "2h"' };
    if (expiresAfter !== undefined) return { problem: '--for may be given once' };
    const checked = checkDuration(value, 'lock');
    if ('problem' in checked) return { problem: `--for ${checked.problem}` };
    expiresAfter = value;
  }
  return { rest, expiresAfter };
}

function parseRelease(tokens: string[]): ParsedSlashCommand {
  const split = splitFlags(tokens, ['note', 'env'], ['queue', 'force']);
  if ('error' in split) return usage(line('deploy'), split.error);
  const { positionals, flags } = split;
  let environment = typeof flags.env === 'string' ? flags.env : undefined;
  const [service, version, ...rest] = positionals;
  if (rest.length === 2 && (rest[0] === 'to' || rest[0] === 'in')) environment ??= rest[1];
  else if (rest.length > 0) return usage(line('deploy'), `unexpected "${rest.join(' ')}"`);
  if (!service || !version) return usage(line('deploy'), 'SERVICE and VERSION are required');
  return {
    kind: 'run',
    command: 'deploy',
    args: compact({
      service,
      version,
      environment,
      note: typeof flags.note === 'string' ? flags.note : undefined,
      queue: flags.queue === true ? true : undefined,
      force: flags.force === true ? true : undefined,
    }),
  };
}

/** `/rollback SERVICE [ENV] [--to VERSION] [--note "…"]` */
export function parseRollbackCommand(text: string): ParsedSlashCommand {
  const tokens = tokenize(text.trim());
  if ('error' in tokens) return { kind: 'usage', message: tokens.error };
  if (tokens.length === 0 || tokens[0] === 'help') return usage(ROLLBACK_USAGE);
  const split = splitFlags(tokens, ['to', 'note', 'env'], []);
  if ('error' in split) return usage(ROLLBACK_USAGE, split.error);
  const { positionals, flags } = split;
  if (positionals.length < 1 || positionals.length > 2) return usage(ROLLBACK_USAGE);
  return {
    kind: 'run',
    command: 'rollback',
    args: compact({
      service: positionals[0],
      environment: positionals[1] ?? (typeof flags.env === 'string' ? flags.env : undefined),
      to: typeof flags.to === 'string' ? flags.to : undefined,
      note: typeof flags.note === 'string' ? flags.note : undefined,
    }),
  };
}

function usage(line: string, problem?: string): ParsedSlashCommand {
  return { kind: 'usage', message: problem ? `${problem}. Usage: ${line}` : `Usage: ${line}` };
}

function compact(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
