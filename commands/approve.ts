import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg } from './define-command.ts';

export const approveCommand = defineCommand({
  name: 'approve',
  summary: 'Approve a release that waits for approval; with enough approvals traffic switches to it',
  usage: 'approve ID [--override]',
  permission: 'approve',
  /** `override`: switch although a rollback to blue would not be possible (the card says why). */
  args: z.strictObject({ id: deploymentIdArg, override: z.boolean().optional() }),
  async run({ actor, releases }, { id, override }) {
    return releases.view(await releases.approve(actor, id, override ?? false));
  },
});
