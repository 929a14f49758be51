import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { idPositional } from './shared-syntax.ts';

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'Cancel a release; before the switch it just ends, after the switch it rolls back',
  permission: 'rollback',
  args: ({ z, deploymentIdArg }: ArgumentKit) => z.strictObject({ id: deploymentIdArg }),
  syntax: { positionals: [idPositional], flags: [] },
  cli: { description: 'cancel a release (after the switch this rolls back)' },
  http: [{ method: 'POST', path: '/deployments/:id/cancel', input: 'body' }],
  button: { actionId: 'kd_cancel' },
  async run({ actor, releases }, { id }) {
    return releases.view(await releases.cancel(actor, id));
  },
});
