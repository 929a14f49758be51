import { COMMANDS, type CommandName } from '../../commands/index.ts';
import type { ApiClient } from './api-client.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import type { TargetStatusView } from './render.ts';
import { sendCommand } from './send-command.ts';

/** One run of a verb derived from the command table, as a CLI-only extra sees it. */
export interface VerbCall {
  /** The command of the form the command line chose (`status ID` is show). */
  command: CommandName;
  args: Record<string, unknown>;
  /** Every option commander parsed, the CLI-only ones included. */
  options: Record<string, unknown>;
  api: ApiClient;
  /** Sends the command with these arguments over its route. */
  send(args: Record<string, unknown>): Promise<unknown>;
  /** Prints an answer: JSON with --json, else the command's human rendering. */
  show(result: unknown): void;
  /** Shows a release live until it ends; fails (exit 1) unless it succeeds. */
  follow(id: string): Promise<void>;
}

/** What only the CLI does around a table verb. */
export interface VerbExtra {
  /** Options only the CLI has; help lists them after the table's. */
  options?: ReadonlyArray<{ flag: string; description: string }>;
  /** Runs the verb; without one, the verb sends its command and shows the answer. */
  run(call: VerbCall): Promise<void>;
}

/**
 * The CLI's own behaviour on top of the command table, by verb: following a release live (a
 * terminal can wait; the API and chat answer once), and finding the locked environment for
 * `unlock` (the API addresses a lock by its target).
 */
export const VERB_EXTRAS: Readonly<Record<string, VerbExtra>> = {
  deploy: {
    options: [{ flag: 'follow', description: 'stay and show the release live until it ends (exit 0 only if it succeeds)' }],
    async run(call) {
      const d = (await call.send(call.args)) as { id: string };
      call.show(d);
      if (call.options.follow) await call.follow(d.id);
    },
  },
  status: {
    options: [{ flag: 'follow', description: 'with an id: show the release live until it ends (exit 0 only if it succeeds)' }],
    async run(call) {
      if (call.options.follow) {
        if (call.command !== 'show') throw new CliFailure(EXIT.usage, '--follow needs a deployment id: kevin-deploy status <id> --follow');
        return call.follow(String(call.args.id));
      }
      call.show(await call.send(call.args));
    },
  },
  unlock: {
    async run(call) {
      const args = { ...call.args };
      if (args.environment === undefined) args.environment = await lockedEnvironment(call.api, String(args.service));
      call.show(await call.send(args));
    },
  },
};

/** The one environment of the service that is locked; none or several is the user's to settle. */
async function lockedEnvironment(api: ApiClient, service: string): Promise<string> {
  const status = await sendCommand<{ targets: TargetStatusView[] }>(api, COMMANDS.status, { service });
  const locked = status.targets.filter((t) => t.lock);
  if (locked.length === 0) throw new CliFailure(EXIT.failed, `${service} is not locked`);
  if (locked.length > 1) throw new CliFailure(EXIT.usage, `${service} is locked in ${locked.map((t) => t.environment).join(' and ')}: name one with --env`);
  return locked[0]!.environment;
}
