import { toLockView } from '../src/domain/deployment-view.ts';
import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { envFlag, servicePositional } from './shared-syntax.ts';

export const unlockCommand = defineCommand({
  name: 'unlock',
  summary: 'Lift a freeze lock; the oldest queued release, if any, starts',
  permission: 'lock',
  args: ({ z, environmentArg, serviceArg }: ArgumentKit) => z.strictObject({ service: serviceArg, environment: environmentArg.optional() }),
  syntax: { positionals: [servicePositional], flags: [envFlag] },
  cli: { description: 'lift a freeze lock; the oldest queued release starts' },
  chat: { slash: '/deploy', subcommand: 'unlock', usage: 'SERVICE [ENV]' },
  // A lock is addressed by its target; the CLI finds the one locked environment when --env is left out.
  http: [{ method: 'DELETE', path: '/locks/:service/:environment' }],
  async run({ actor, releases }, args) {
    return { unlocked: toLockView(await releases.unlock(actor, args)) };
  },
});
