import { z } from 'zod';
import { toLockView } from '../src/domain/deployment-view.ts';
import { durationOf } from '../src/config/duration.ts';
import { defineCommand, environmentArg, serviceArg, textArg } from './define-command.ts';

export const lockCommand = defineCommand({
  name: 'lock',
  summary: 'Freeze a target: deploys are refused until unlock (rollbacks are never refused)',
  usage: 'lock SERVICE [--env ENV] --reason TEXT [--for DURATION]',
  chatUsage: '/deploy lock SERVICE [ENV] REASON… [--for DURATION]',
  permission: 'lock',
  args: z.strictObject({
    service: serviceArg,
    environment: environmentArg.optional(),
    reason: textArg('reason'),
    /**
     * Lifts by itself after this long, e.g. "2h"; at most a year (docs/configuration.md#durations).
     * Not 0, which would be stored as "no expiry": a lock meant to lift at once would never lift.
     */
    expiresAfter: durationOf('lock')
      .refine((ms) => ms > 0, { error: 'must be longer than 0; leave it out for a lock that lasts until unlock' })
      .optional(),
  }),
  async run({ actor, releases }, { expiresAfter, ...args }) {
    return toLockView(await releases.lock(actor, { ...args, expiresAfterMs: expiresAfter }));
  },
});
