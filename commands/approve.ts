import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg } from './define-command.ts';

export const approveCommand = defineCommand({
  name: 'approve',
  summary: 'Approve a release that waits for approval; with enough approvals traffic switches to it',
  usage: 'approve ID',
  permission: 'approve',
  args: z.strictObject({ id: deploymentIdArg }),
  async run({ actor, releases }, { id }) {
    return toDeploymentView(await releases.approve(actor, id));
  },
});
