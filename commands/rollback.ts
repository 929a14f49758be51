import { z } from 'zod';
import { defineCommand, type Flag } from './define-command.ts';
import { deploymentIdArg, environmentArg, serviceArg, textArg, versionArg } from './argument-shapes.ts';
import { envFlag, servicePositional } from './shared-syntax.ts';

const byService = z.strictObject({
  service: serviceArg,
  environment: environmentArg.optional(),
  to: versionArg.optional(),
  note: textArg('note').optional(),
});
const byDeployment = z.strictObject({ id: deploymentIdArg, note: textArg('note').optional() });

const noteFlag = { arg: 'note', flag: 'note', value: 'text', description: 'why, for the audit trail' } as const satisfies Flag<'note'>;

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'Send all traffic back to the previous known-good version (or --to VERSION) and verify it',
  permission: 'rollback',
  args: z.union([byDeployment, byService]),
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
