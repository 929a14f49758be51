import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand, type Flag } from './define-command.ts';
import { envFlag, servicePositional } from './shared-syntax.ts';

const noteFlag = { arg: 'note', flag: 'note', value: 'text', description: 'why, for the audit trail' } as const satisfies Flag<'note'>;

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'Send all traffic back to the previous known-good version (or --to VERSION) and verify it',
  permission: 'rollback',
  // By the release's id, or by service (and environment, and the version to go back to).
  args: ({ z, deploymentIdArg, environmentArg, serviceArg, textArg, versionArg }: ArgumentKit) =>
    z.union([
      z.strictObject({ id: deploymentIdArg, note: textArg('note').optional() }),
      z.strictObject({
        service: serviceArg,
        environment: environmentArg.optional(),
        to: versionArg.optional(),
        note: textArg('note').optional(),
      }),
    ]),
  // Two forms, told apart by the first word: a service, or the id of the release to roll back.
  syntax: [
    {
      positionals: [servicePositional],
      flags: [envFlag, { arg: 'to', flag: 'to', value: 'version', description: 'version to roll back to (default: the previous known-good one)' }, noteFlag],
    },
    { positionals: [{ arg: 'id', description: 'the id of the release to roll back' }], flags: [noteFlag] },
  ],
  cli: { description: 'send all traffic back to the previous known-good version (or --to VERSION), then verify it' },
  chat: { slash: '/rollback', usage: 'SERVICE [ENV] [--to VERSION] [--note "…"]' },
  // The release's own route first: the CLI sends to the first route whose path arguments it has.
  http: [
    { method: 'POST', path: '/deployments/:id/rollback', input: 'body' },
    { method: 'POST', path: '/rollbacks', input: 'body', status: 201 },
  ],
  button: { actionId: 'kd_rollback' },
  async run({ actor, releases }, args) {
    if ('id' in args) return releases.view(await releases.rollbackDeployment(actor, args.id, args.note));
    return releases.view(await releases.requestRollback(actor, args));
  },
});
