import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { idPositional, overrideFlag } from './shared-syntax.ts';

export const promoteCommand = defineCommand({
  name: 'promote',
  summary: 'Go on: the next canary step after a manual gate, or accept a release whose window paused on inconclusive metrics',
  permission: 'approve',
  args: ({ z, deploymentIdArg }: ArgumentKit) => z.strictObject({ id: deploymentIdArg, override: z.boolean().optional() }),
  syntax: { positionals: [idPositional], flags: [overrideFlag] },
  cli: { description: 'go on: the next canary step after a manual gate, or accept a release paused on inconclusive metrics' },
  http: [{ method: 'POST', path: '/deployments/:id/promote', input: 'body' }],
  button: { actionId: 'kd_promote', override: { actionId: 'kd_promote_override', arg: 'override' } },
  async run({ actor, releases }, { id, override }) {
    return releases.view(await releases.promote(actor, id, override ?? false));
  },
});
