import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { envFlag, servicePositional } from './shared-syntax.ts';

export const historyCommand = defineCommand({
  name: 'history',
  summary: 'Recent deployments, newest first',
  permission: 'read',
  args: ({ z, environmentArg, serviceArg }: ArgumentKit) => z.strictObject({
    service: serviceArg.optional(),
    environment: environmentArg.optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  }),
  syntax: {
    positionals: [{ ...servicePositional, optional: true }],
    flags: [envFlag, { arg: 'limit', flag: 'limit', value: 'n', description: 'how many (default 20)' }],
  },
  cli: { description: 'recent deployments, newest first' },
  chat: { slash: '/deploy', subcommand: 'history', usage: '[SERVICE] [ENV]' },
  http: [{ method: 'GET', path: '/deployments', input: 'query' }],
  async run({ releases }, args) {
    const deployments = await releases.list(args);
    return { deployments: deployments.map((d) => releases.view(d)) };
  },
});
