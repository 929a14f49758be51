import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, environmentArg, serviceArg, textArg, versionArg } from './define-command.ts';

export const deployCommand = defineCommand({
  name: 'deploy',
  summary: 'Stage VERSION beside the live version, verify it, and ask for approval to switch',
  usage: 'deploy SERVICE VERSION [--env ENV] [--queue] [--note TEXT] [--force]',
  chatUsage: '/deploy SERVICE VERSION [to ENV] [--queue] [--note "…"]',
  permission: 'deploy',
  args: z.strictObject({
    service: serviceArg,
    version: versionArg,
    environment: environmentArg.optional(),
    note: textArg('note').optional(),
    queue: z.boolean().optional(),
    force: z.boolean().optional(),
  }),
  async run({ actor, releases }, args) {
    const d = await releases.requestRelease(actor, args);
    const { queuePosition } = await releases.get(d.id);
    return releases.view(d, { queuePosition });
  },
});
