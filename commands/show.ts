import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg } from './define-command.ts';

export const showCommand = defineCommand({
  name: 'show',
  summary: 'One deployment with its checks and its whole audit trail',
  usage: 'status ID',
  permission: 'read',
  args: z.strictObject({ id: deploymentIdArg }),
  async run({ releases }, { id }) {
    const { deployment, events, queuePosition } = await releases.get(id);
    return releases.view(deployment, { events, queuePosition });
  },
});
