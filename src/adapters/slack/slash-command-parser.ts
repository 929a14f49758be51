import type { Flag } from '../../../commands/define-command.ts';
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

/** The words of a chat line, and the flags among them as the command's arguments. */
interface Read {
  words: string[];
  args: Record<string, string | true>;
}

/**
 * The flags chat accepts for a command are the table's, by the same names as on the CLI (its first
 * form's: `/rollback` names a service). `freeText`: a word that looks like an unknown flag is a word
 * (a lock reason may contain dashes); otherwise it is refused.
 */
function readFlags(name: CommandName, tokens: string[], options: { freeText?: boolean; skip?: readonly string[] } = {}): Read | { error: string } {
  const flags: readonly Flag[] = (COMMANDS[name].forms[0]?.flags ?? []).filter((f) => !options.skip?.includes(f.arg));
  const words: string[] = [];
  const args: Record<string, string | true> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('--')) {
      words.push(token);
      continue;
    }
    const [given, inline] = token.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = flags.find((f) => f.flag === given);
    if (!flag) {
      if (options.freeText) {
        words.push(token);
        continue;
      }
      return { error: `unknown option --${given}` };
    }
    if (!flag.value) {
      args[flag.arg] = true;
      continue;
    }
    const value = inline ?? tokens[++i];
    if (value === undefined || value.startsWith('--')) return { error: `--${given} needs a value` };
    args[flag.arg] = value;
  }
  return { words, args };
}

/**
 * The words in the places the table gives the command's positionals, in its order (its first
 * form's), and the words after them, which only chat's sugar may use.
 */
function placeWords(name: CommandName, words: string[]): { placed: Record<string, string | undefined>; after: string[] } {
  const positionals = COMMANDS[name].forms[0]?.positionals ?? [];
  return {
    placed: Object.fromEntries(positionals.map((p, i) => [p.arg, words[i]])),
    after: words.slice(positionals.length),
  };
}

/**
 * How each chat command reads its words: the table's positionals in their order and the table's
 * flags, plus the sugar that only chat has, each said where it is. Keyed by every command the
 * table gives a chat form (a unit test checks they match).
 */
const CHAT_GRAMMAR: Partial<Record<CommandName, (words: string[], environmentsOf: (service: string) => readonly string[]) => ParsedSlashCommand>> = {
  deploy: parseRelease,
  help: () => ({ kind: 'help' }),
  status(words) {
    const read = readFlags('status', words);
    if ('error' in read) return usage(line('status'), read.error);
    const { placed, after } = placeWords('status', read.words);
    if (after.length > 0) return usage(line('status'));
    return run('status', { ...read.args, service: placed.service || undefined });
  },
  history(words) {
    const read = readFlags('history', words);
    if ('error' in read) return usage(line('history'), read.error);
    const { placed, after } = placeWords('history', read.words);
    // Chat sugar: the environment may follow the service as a plain word (`history kevinstamp production`).
    if (after.length > 1) return usage(line('history'));
    // A chat answer stays short: the last ten unless --limit says otherwise.
    return run('history', { limit: 10, ...read.args, ...placed, environment: after[0] ?? read.args.environment });
  },
  lock: parseLock,
  rollback: parseRollback,
  unlock(words) {
    const read = readFlags('unlock', words);
    if ('error' in read) return usage(line('unlock'), read.error);
    const { placed, after } = placeWords('unlock', read.words);
    // Chat sugar: `unlock SERVICE ENV`, the environment as a plain word.
    if (placed.service === undefined || after.length > 1) return usage(line('unlock'));
    return run('unlock', { ...placed, environment: after[0] ?? read.args.environment });
  },
};

/** Each slash command of the table: the command its own form runs, and the command each subcommand word names. */
const CHAT_FORMS = new Map<string, { own: CommandName | undefined; subcommands: Map<string, CommandName> }>();
for (const [name, command] of Object.entries(COMMANDS) as Array<[CommandName, (typeof COMMANDS)[CommandName]]>) {
  if (!command.chat) continue;
  const forms = CHAT_FORMS.get(command.chat.slash) ?? { own: undefined, subcommands: new Map<string, CommandName>() };
  if (command.chat.subcommand) forms.subcommands.set(command.chat.subcommand, name);
  else forms.own = name;
  CHAT_FORMS.set(command.chat.slash, forms);
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
  return parseLine('/deploy', tokens, environmentsOf);
}

/** A slash command's words: a subcommand the table declares for it (`/deploy status`), else the slash command's own form. */
function parseLine(slash: string, tokens: string[], environmentsOf: (service: string) => readonly string[]): ParsedSlashCommand {
  const [first, ...rest] = tokens as [string, ...string[]];
  const forms = CHAT_FORMS.get(slash)!;
  const subcommand = forms.subcommands.get(first.toLowerCase());
  if (subcommand) return CHAT_GRAMMAR[subcommand]!(rest, environmentsOf);
  return CHAT_GRAMMAR[forms.own!]!(tokens, environmentsOf);
}

/**
 * The lock's own words: `SERVICE [ENV] REASON…`. The environment is optional: the word after the
 * service is one only if the service has an environment of that name. The reason is the rest of
 * the line, so any word that is not one of lock's flags — dashes included — stays part of it.
 */
function parseLock(words: string[], environmentsOf: (service: string) => readonly string[]): ParsedSlashCommand {
  const expiry = takeLockExpiry(words);
  if ('problem' in expiry) return usage(line('lock'), expiry.problem);
  const read = readFlags('lock', expiry.rest, { freeText: true, skip: ['expiresAfter'] });
  if ('error' in read) return usage(line('lock'), read.error);
  const { placed, after: more } = placeWords('lock', read.words);
  const service = placed.service;
  const flagged = { environment: read.args.environment, reason: read.args.reason };
  if (!service || (more.length === 0 && flagged.environment === undefined && flagged.reason === undefined)) return usage(line('lock'));
  const environment = more[0] !== undefined && environmentsOf(service).includes(more[0]) ? more[0] : undefined;
  const reasonWords = (environment ? more.slice(1) : more).join(' ');
  if (reasonWords && flagged.reason !== undefined) return usage(line('lock'), 'give the REASON once: as words or with --reason');
  const reason = reasonWords || flagged.reason;
  if (!reason) return usage(line('lock'), 'a REASON is required: it is shown to everyone whose deploy is refused');
  return run('lock', { service, environment: environment ?? flagged.environment, reason, expiresAfter: expiry.expiresAfter });
}

/**
 * Lock's duration flag (`--for DURATION` or `--for=DURATION`, anywhere in the line): the lock lifts
 * by itself. The duration is checked here, with its bound, so a typo is answered with the usage
 * line and the flag's own words instead of a lock that never lifts or one that would outlive any plan.
 */
function takeLockExpiry(tokens: string[]): { rest: string[]; expiresAfter: string | undefined } | { problem: string } {
  const flag = `--${COMMANDS.lock.forms[0]!.flags.find((f) => f.arg === 'expiresAfter')!.flag}`;
  const rest: string[] = [];
  let expiresAfter: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token !== flag && !token.startsWith(`${flag}=`)) {
      rest.push(token);
      continue;
    }
    const value = token === flag ? tokens[++i] : token.slice(flag.length + 1);
    if (!value || value.startsWith('--')) return { problem: `${flag} needs a duration such as "2h"` };
    if (expiresAfter !== undefined) return { problem: `${flag} may be given once` };
    const checked = checkDuration(value, 'lock');
    if ('problem' in checked) return { problem: `${flag} ${checked.problem}` };
    expiresAfter = value;
  }
  return { rest, expiresAfter };
}

/** `/deploy SERVICE VERSION [to ENV] …`: the table's positionals and flags. */
function parseRelease(tokens: string[]): ParsedSlashCommand {
  const read = readFlags('deploy', tokens);
  if ('error' in read) return usage(line('deploy'), read.error);
  const { placed, after: rest } = placeWords('deploy', read.words);
  let environment = read.args.environment;
  // Chat sugar: `to ENV` (or `in ENV`) reads as a sentence, as people type it; --env also works.
  if (rest.length === 2 && (rest[0] === 'to' || rest[0] === 'in')) environment ??= rest[1];
  else if (rest.length > 0) return usage(line('deploy'), `unexpected "${rest.join(' ')}"`);
  const missing = Object.values(placed).some((word) => !word);
  if (missing) return usage(line('deploy'), `${Object.keys(placed).map((arg) => arg.toUpperCase()).join(' and ')} are required`);
  return run('deploy', { ...read.args, ...placed, environment });
}

/** `/rollback SERVICE [ENV] [--to VERSION] [--note "…"]` */
export function parseRollbackCommand(text: string): ParsedSlashCommand {
  const tokens = tokenize(text.trim());
  if ('error' in tokens) return { kind: 'usage', message: tokens.error };
  if (tokens.length === 0 || tokens[0] === 'help') return usage(ROLLBACK_USAGE);
  return parseLine('/rollback', tokens, () => []);
}

/** `/rollback`'s words: a service (rolling back by deployment id is the card's Rollback button). */
function parseRollback(words: string[]): ParsedSlashCommand {
  const read = readFlags('rollback', words);
  if ('error' in read) return usage(ROLLBACK_USAGE, read.error);
  const { placed, after } = placeWords('rollback', read.words);
  // Chat sugar: the environment may follow the service as a plain word; it wins over --env.
  if (placed.service === undefined || after.length > 1) return usage(ROLLBACK_USAGE);
  return run('rollback', { ...read.args, ...placed, environment: after[0] ?? read.args.environment });
}

function run(command: CommandName, args: Record<string, unknown>): ParsedSlashCommand {
  return { kind: 'run', command, args: Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)) };
}

function usage(line: string, problem?: string): ParsedSlashCommand {
  return { kind: 'usage', message: problem ? `${problem}. Usage: ${line}` : `Usage: ${line}` };
}

/** Every command the table gives a chat form has a grammar here (checked by test/unit/command-table.test.ts). */
export const CHAT_COMMANDS: readonly CommandName[] = Object.keys(CHAT_GRAMMAR) as CommandName[];
