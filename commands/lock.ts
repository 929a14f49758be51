import { z } from 'zod';
import { toLockView } from '../src/domain/deployment-view.ts';
import { defineCommand, environmentArg, serviceArg, textArg } from './define-command.ts';

export const lockCommand = defineCommand({
  name: 'lock',
  summary: 'Freeze a target: deploys are refused until unlock (rollbacks are never refused)',
  usage: 'lock SERVICE [--env ENV] --reason TEXT',
  permission: 'lock',
  args: z.strictObject({
    service: serviceArg,
    environment: environmentArg.optional(),
    reason: textArg('reason'),
  }),
  async run({ actor, releases }, args) {
    return toLockView(await releases.lock(actor, args));
  },
});
