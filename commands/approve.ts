import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { idPositional, overrideFlag } from './shared-syntax.ts';

export const approveCommand = defineCommand({
  name: 'approve',
  summary: 'Approve a release that waits for approval; with enough approvals traffic switches to it',
  permission: 'approve',
  /** `override`: switch although a rollback to blue would not be possible (the card says why). */
  args: ({ z, deploymentIdArg }: ArgumentKit) => z.strictObject({ id: deploymentIdArg, override: z.boolean().optional() }),
  syntax: { positionals: [idPositional], flags: [overrideFlag] },
  cli: { description: 'approve a release waiting for approval' },
  http: [{ method: 'POST', path: '/deployments/:id/approve', input: 'body' }],
  button: { actionId: 'kd_approve', override: { actionId: 'kd_approve_override', arg: 'override' } },
  async run({ actor, releases }, { id, override }) {
    return releases.view(await releases.approve(actor, id, override ?? false));
  },
});
