import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg, textArg } from './define-command.ts';

export const rejectCommand = defineCommand({
  name: 'reject',
  summary: 'Reject a release that waits for approval; traffic stays where it is',
  usage: 'reject ID [--comment TEXT]',
  permission: 'approve',
  args: z.strictObject({ id: deploymentIdArg, comment: textArg('comment').optional() }),
  async run({ actor, releases }, { id, comment }) {
    return releases.view(await releases.reject(actor, id, comment));
  },
});
