import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg } from './define-command.ts';

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'Cancel a release; before the switch it just ends, after the switch it rolls back',
  usage: 'cancel ID',
  permission: 'rollback',
  args: z.strictObject({ id: deploymentIdArg }),
  async run({ actor, releases }, { id }) {
    return releases.view(await releases.cancel(actor, id));
  },
});
