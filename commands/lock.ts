import { toLockView } from '../src/domain/deployment-view.ts';
import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { envFlag, servicePositional } from './shared-syntax.ts';

export const lockCommand = defineCommand({
  name: 'lock',
  summary: 'Freeze a target: deploys are refused until unlock (rollbacks are never refused)',
  permission: 'lock',
  args: ({ z, durationOf, environmentArg, serviceArg, textArg }: ArgumentKit) => z.strictObject({
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
  syntax: {
    positionals: [servicePositional],
    flags: [
      envFlag,
      { arg: 'reason', flag: 'reason', value: 'text', description: 'why (shown to everyone who is refused)', required: true },
      { arg: 'expiresAfter', flag: 'for', value: 'duration', description: 'lift by itself after this long, e.g. 2h (default: until unlock)' },
    ],
  },
  cli: { description: 'freeze a target: deploys are refused until unlock; rollbacks still work' },
  chat: { slash: '/deploy', subcommand: 'lock', usage: 'SERVICE [ENV] REASON… [--for DURATION]' },
  http: [{ method: 'POST', path: '/locks', input: 'body', status: 201 }],
  async run({ actor, releases }, { expiresAfter, ...args }) {
    return toLockView(await releases.lock(actor, { ...args, expiresAfterMs: expiresAfter }));
  },
});
