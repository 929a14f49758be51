import { z } from 'zod';
import { defineCommand, type CommandDefinition } from './define-command.ts';

export interface HelpResult {
  commands: Array<{ usage: string; summary: string }>;
}

/** The chat commands with what they do; chat surfaces render it (the CLI has --help). */
export const helpCommand: CommandDefinition<z.ZodObject<{}>, HelpResult> = defineCommand({
  name: 'help',
  summary: 'What you can ask kevin-deploy in chat',
  usage: 'kevin-deploy --help',
  chatUsage: '/deploy help',
  permission: 'read',
  args: z.strictObject({}),
  async run(): Promise<HelpResult> {
    // Imported lazily: the registry imports this file.
    const { COMMANDS } = (await import('./index.ts')) as { COMMANDS: Record<string, CommandDefinition> };
    const lines = Object.values(COMMANDS)
      .filter((c) => c.chatUsage)
      .map((c) => ({ usage: c.chatUsage!, summary: c.summary }));
    return { commands: [...lines, { usage: '/deploy', summary: 'Pick service, environment and version in a dialog' }] };
  },
});
