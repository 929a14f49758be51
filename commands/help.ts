import type { z } from 'zod';
import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand, type CommandDefinition } from './define-command.ts';

export interface HelpResult {
  commands: Array<{ usage: string; summary: string }>;
}

/**
 * The chat commands with what they do, from the table; chat surfaces render it (the CLI has
 * --help). The table hands itself in (`commands/index.ts`), so this file does not import it back.
 */
export const helpCommandOver = (table: () => readonly CommandDefinition[]): CommandDefinition<z.ZodObject<Record<string, never>>, HelpResult> =>
  defineCommand({
    name: 'help',
    summary: 'What you can ask kevin-deploy in chat',
    usage: 'kevin-deploy --help',
    permission: 'read',
    args: ({ z }: ArgumentKit) => z.strictObject({}),
    chat: { slash: '/deploy', subcommand: 'help' },
    async run(): Promise<HelpResult> {
      const lines = table()
        .filter((c) => c.chatUsage)
        .map((c) => ({ usage: c.chatUsage!, summary: c.summary }));
      return { commands: [...lines, { usage: '/deploy', summary: 'Pick service, environment and version in a dialog' }] };
    },
  });
