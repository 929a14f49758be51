import { z } from 'zod';
import { toLockView } from '../src/domain/deployment-view.ts';
import { duration } from '../src/config/duration.ts';
import { defineCommand, environmentArg, serviceArg, textArg } from './define-command.ts';

export const lockCommand = defineCommand({
  name: 'lock',
  summary: 'Freeze a target: deploys are refused until unlock (rollbacks are never refused)',
  usage: 'lock SERVICE [--env ENV] --reason TEXT [--for DURATION]',
  chatUsage: '/deploy lock SERVICE [ENV] REASON…',
  permission: 'lock',
  args: z.strictObject({
    service: serviceArg,
    environment: environmentArg.optional(),
    reason: textArg('reason'),
    /** Lifts by itself after this long, e.g. "2h". */
    expiresAfter: duration.optional(),
  }),
  async run({ actor, releases }, { expiresAfter, ...args }) {
    return toLockView(await releases.lock(actor, { ...args, expiresAfterMs: expiresAfter }));
  },
});
