import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { idPositional } from './shared-syntax.ts';

export const rejectCommand = defineCommand({
  name: 'reject',
  summary: 'Reject a release that waits for approval; traffic stays where it is',
  permission: 'approve',
  args: ({ z, deploymentIdArg, textArg }: ArgumentKit) => z.strictObject({ id: deploymentIdArg, comment: textArg('comment').optional() }),
  syntax: { positionals: [idPositional], flags: [{ arg: 'comment', flag: 'comment', value: 'text', description: 'why' }] },
  cli: { description: 'reject a release waiting for approval' },
  http: [{ method: 'POST', path: '/deployments/:id/reject', input: 'body' }],
  button: { actionId: 'kd_reject' },
  async run({ actor, releases }, { id, comment }) {
    return releases.view(await releases.reject(actor, id, comment));
  },
});
