import { Option, type Command } from 'commander';
import type { Flag, Syntax } from '../../commands/define-command.ts';
import { COMMANDS, type AnyCommand, type CommandName } from '../../commands/index.ts';
import { isMintedDeploymentId } from '../domain/deployment-id.ts';
import type { ApiClient } from './api-client.ts';
import { renderResult } from './render-result.ts';
import { sendCommand } from './send-command.ts';
import { VERB_EXTRAS } from './verb-extras.ts';


/** One way to write a verb: a command of the table and one of its forms. */
export interface VerbForm {
  name: CommandName;
  command: AnyCommand;
  syntax: Syntax;
}

export interface CliVerb {
  verb: string;
  description: string;
  forms: VerbForm[];
}

/**
 * The CLI verbs the command table declares, in table order: each command's forms under its verb
 * (its own name, or the verb it joins: `status ID` is show's form of status).
 */
export function cliVerbs(): CliVerb[] {
  const verbs = new Map<string, CliVerb>();
  for (const [name, command] of Object.entries(COMMANDS) as Array<[CommandName, AnyCommand]>) {
    if (!command.cli) continue;
    const verb = command.cli.verb ?? name;
    const entry = verbs.get(verb) ?? { verb, description: '', forms: [] };
    entry.description ||= command.cli.description ?? '';
    entry.forms.push(...command.forms.map((syntax) => ({ name, command, syntax })));
    verbs.set(verb, entry);
  }
  return [...verbs.values()];
}

/** The commander argument for each place: `<service>`, or `[service-or-id]` where forms differ in what goes there. */
export function positionalSlots(forms: readonly VerbForm[]): Array<{ name: string; description: string; optional: boolean }> {
  const count = Math.max(0, ...forms.map((f) => f.syntax.positionals.length));
  return Array.from({ length: count }, (_, i) => {
    const here = forms.map((f) => f.syntax.positionals[i]);
    const given = here.filter((p) => p !== undefined);
    return {
      name: [...new Set(given.map((p) => p.arg))].join('-or-'),
      description: [...new Set(given.map((p) => p.description))].join(', or '),
      optional: here.some((p) => p === undefined || p.optional === true),
    };
  });
}

/** The table's flags of every form, once each, in the order the forms list them. */
export function verbFlags(forms: readonly VerbForm[]): Flag[] {
  const flags = new Map<string, Flag>();
  for (const form of forms) for (const flag of form.syntax.flags) if (!flags.has(flag.flag)) flags.set(flag.flag, flag);
  return [...flags.values()];
}

export interface TableVerbIo {
  client(cmd: Command): ApiClient;
  print(cmd: Command, value: unknown, human: () => string): void;
  follow(api: ApiClient, id: string): Promise<void>;
}

/**
 * Adds a commander verb for every CLI verb of the command table: its arguments, options and
 * description come from the table; running it sends the chosen form's command over the route the
 * table declares and prints the answer. VERB_EXTRAS adds what only the CLI does.
 */
export function addTableVerbs(program: Command, io: TableVerbIo): void {
  for (const { verb, description, forms } of cliVerbs()) {
    const command = program.command(verb).description(description);
    for (const slot of positionalSlots(forms)) command.argument(slot.optional ? `[${slot.name}]` : `<${slot.name}>`, slot.description);
    const options = verbFlags(forms).map((flag) => {
      const option = new Option(flag.value ? `--${flag.flag} <${flag.value}>` : `--${flag.flag}`, flag.description);
      if (flag.required) option.makeOptionMandatory();
      command.addOption(option);
      return { flag, key: option.attributeName() };
    });
    const extra = VERB_EXTRAS[verb];
    for (const option of extra?.options ?? []) command.addOption(new Option(`--${option.flag}`, option.description));

    command.action(async (...params: unknown[]) => {
      const cmd = params[params.length - 1] as Command;
      const words = cmd.processedArgs as Array<string | undefined>;
      const opts = cmd.opts<Record<string, unknown>>();
      const form = formFor(forms, words[0]);
      const args: Record<string, unknown> = {};
      form.syntax.positionals.forEach((p, i) => {
        if (words[i] !== undefined) args[p.arg] = words[i];
      });
      // Only the chosen form's flags: `rollback ID` takes --note and, as before, leaves out --env and --to.
      for (const { flag, key } of options) if (form.syntax.flags.includes(flag) && opts[key] !== undefined) args[flag.arg] = opts[key];
      const api = io.client(cmd);
      const call = {
        command: form.name,
        args,
        options: opts,
        api,
        send: (sent: Record<string, unknown>) => sendCommand(api, form.command, sent),
        show: (result: unknown) => io.print(cmd, result, () => renderResult(form.name, result)),
        follow: (id: string) => io.follow(api, id),
      };
      if (extra) await extra.run(call);
      else call.show(await call.send(args));
    });
  }
}

/** The form a command line means: the deployment-id form when the first word is a deployment id, else the other one. */
function formFor(forms: readonly VerbForm[], first: string | undefined): VerbForm {
  if (forms.length === 1) return forms[0]!;
  const byId = forms.find((f) => f.syntax.positionals[0]?.arg === 'id');
  const other = forms.find((f) => f !== byId);
  return (first !== undefined && isMintedDeploymentId(first) ? byId : other) ?? forms[0]!;
}
