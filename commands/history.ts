import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, environmentArg, serviceArg } from './define-command.ts';

export const historyCommand = defineCommand({
  name: 'history',
  summary: 'Recent deployments, newest first',
  usage: 'history [SERVICE] [--env ENV] [--limit N]',
  chatUsage: '/deploy history [SERVICE] [ENV]',
  permission: 'read',
  args: z.strictObject({
    service: serviceArg.optional(),
    environment: environmentArg.optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  }),
  async run({ releases }, args) {
    const deployments = await releases.list(args);
    return { deployments: deployments.map((d) => releases.view(d)) };
  },
});
