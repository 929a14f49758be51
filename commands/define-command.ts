import type { z } from 'zod';
import type { ArgumentKit } from './argument-kit.ts';
import type { Actor, Permission } from '../src/domain/policy.ts';
import type { Releases } from '../src/ports/releases.ts';

/** What every command handler gets, whichever surface (CLI via API, HTTP, Slack, Discord) invoked it. */
export interface CommandContext {
  actor: Actor;
  releases: Releases;
}

/** The argument names of a schema; for a union (rollback by service or by id), those of every variant. */
export type ArgName<Args extends z.ZodType> = z.input<Args> extends infer Input ? (Input extends unknown ? keyof Input & string : never) : never;

/** An argument written by its place: `deploy SERVICE VERSION`, `/deploy status SERVICE`. */
export interface Positional<K extends string = string> {
  /** The argument it sets; also its name in CLI help, and upper-cased its placeholder in usage lines (SERVICE). */
  arg: K;
  /** CLI help. */
  description: string;
  optional?: boolean;
}

/** An argument written as `--flag` or `--flag VALUE`, under the same name on the CLI and in chat. */
export interface Flag<K extends string = string> {
  arg: K;
  /** Without the dashes: `env` for `--env`. */
  flag: string;
  /** The value's name in CLI help (`--env <environment>`); absent for a flag that is just on (`--queue`). */
  value?: string;
  /** The value's placeholder in usage lines when it is not the value's name upper-cased (`--env ENV`). */
  placeholder?: string;
  /** CLI help. */
  description: string;
  /** The command cannot go without it (lock --reason); the CLI refuses the command line before asking the bot. */
  required?: boolean;
}

/** One way to write a command: its positionals in order, then its flags in the order help lists them. */
export interface Syntax<K extends string = string> {
  positionals: readonly Positional<K>[];
  flags: readonly Flag<K>[];
}

/**
 * Where the HTTP API serves a command. `:name` segments of the path are arguments of that name;
 * the other arguments come from `input` — the JSON body, or the query string, whose allowed
 * parameters are then exactly the command's other arguments (any other parameter is refused).
 */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below /api/v1. */
  path: string;
  input?: 'body' | 'query';
  /** The status of a success (default 200). */
  status?: 200 | 201;
}

/**
 * The button that runs a command on a release's card. A click gives the deployment id (the
 * button's value) as `id`; the override variant also sets the boolean argument `arg`, for a switch
 * that goes on although a rollback to blue would not be possible.
 */
export interface CardButton<K extends string = string> {
  actionId: string;
  override?: { actionId: string; arg: K };
}

/** How chat spells a command: `/deploy history [SERVICE] [ENV]`. */
export interface ChatForm {
  slash: `/${string}`;
  /** The word after the slash command (`status`); absent for the slash command's own form (`/deploy SERVICE VERSION`). */
  subcommand?: string;
  /** The rest of the line, as help and usage errors quote it. */
  usage?: string;
}

/**
 * A chat-ops command, declared once: what it does, its arguments (zod), who may run it, and how
 * each surface reaches it — the positional grammar the CLI and chat share, the CLI verb, the
 * HTTP route, the chat form and the card button. Surfaces derive from this; none declares a
 * command again.
 */
export interface CommandDeclaration<Args extends z.ZodType, Result> {
  name: string;
  summary: string;
  /** Checked per target by the release service; listed here so help can say who may. */
  permission: Permission;
  /**
   * The arguments, as a zod schema built from the kit (zod and the shared shapes). A function, so
   * the schema is built — and zod loaded — only when something validates (see argument-kit.ts).
   */
  args: (kit: ArgumentKit) => Args;
  /** One form, or several when the first positional decides which (`rollback SERVICE` · `rollback ID`); the first is the one usage lines quote. */
  syntax?: Syntax<ArgName<Args>> | readonly Syntax<ArgName<Args>>[];
  /** Only where the derived usage line would say less than people need (`status [SERVICE | ID]`). */
  usage?: string;
  /** The CLI verb: its own (the command's name) unless `verb` names another command's, which then has this command as a form too (`status ID` shows one deployment). */
  cli?: { verb?: string; description?: string };
  http?: readonly HttpRoute[];
  chat?: ChatForm;
  button?: CardButton<ArgName<Args>>;
  run(ctx: CommandContext, args: z.output<Args>): Promise<Result>;
}

/** A declaration with what is derived from it: its forms, and the usage lines the CLI and chat quote. */
export interface CommandDefinition<Args extends z.ZodType = z.ZodType, Result = unknown> extends Omit<CommandDeclaration<Args, Result>, 'syntax' | 'usage' | 'args'> {
  /** The argument schema, built on first use. */
  schema(): Promise<Args>;
  forms: readonly Syntax<ArgName<Args>>[];
  /** One line, as the CLI spells it: `deploy SERVICE VERSION [--env ENV] …`; USAGE errors quote it. */
  usage: string;
  /** One line, as chat spells it (`/deploy status [SERVICE]`); absent when chat uses buttons instead. */
  chatUsage: string | undefined;
}

export function defineCommand<Args extends z.ZodType, Result>(declaration: CommandDeclaration<Args, Result>): CommandDefinition<Args, Result> {
  const { syntax, usage, args, ...rest } = declaration;
  let built: Promise<Args> | undefined;
  const forms = syntax === undefined ? [] : isFormList(syntax) ? syntax : [syntax];
  const verb = declaration.cli?.verb ?? declaration.name;
  const chat = declaration.chat;
  return {
    ...rest,
    schema: () => (built ??= import('./argument-kit.ts').then(({ argumentKit }) => args(argumentKit))),
    forms,
    usage: usage ?? usageLine(verb, forms[0]),
    chatUsage: chat ? [chat.slash, chat.subcommand, chat.usage].filter(Boolean).join(' ') : undefined,
  };
}

function isFormList<K extends string>(syntax: Syntax<K> | readonly Syntax<K>[]): syntax is readonly Syntax<K>[] {
  return Array.isArray(syntax);
}

/** `deploy SERVICE VERSION [--env ENV] [--queue]`: placeholders upper-cased, what may be left out in brackets. */
function usageLine(verb: string, form: Syntax | undefined): string {
  if (!form) return verb;
  const positionals = form.positionals.map((p) => (p.optional ? `[${p.arg.toUpperCase()}]` : p.arg.toUpperCase()));
  const flags = form.flags.map((f) => {
    const text = f.value ? `--${f.flag} ${f.placeholder ?? f.value.toUpperCase()}` : `--${f.flag}`;
    return f.required ? text : `[${text}]`;
  });
  return [verb, ...positionals, ...flags].join(' ');
}
