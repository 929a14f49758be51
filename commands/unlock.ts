import { z } from 'zod';
import { toLockView } from '../src/domain/deployment-view.ts';
import { defineCommand, environmentArg, serviceArg } from './define-command.ts';

export const unlockCommand = defineCommand({
  name: 'unlock',
  summary: 'Lift a freeze lock; the oldest queued release, if any, starts',
  usage: 'unlock SERVICE [--env ENV]',
  chatUsage: '/deploy unlock SERVICE [ENV]',
  permission: 'lock',
  args: z.strictObject({ service: serviceArg, environment: environmentArg.optional() }),
  async run({ actor, releases }, args) {
    return { unlocked: toLockView(await releases.unlock(actor, args)) };
  },
});
