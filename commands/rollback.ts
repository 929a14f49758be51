import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg, environmentArg, serviceArg, textArg, versionArg } from './define-command.ts';

const byService = z.strictObject({
  service: serviceArg,
  environment: environmentArg.optional(),
  to: versionArg.optional(),
  note: textArg('note').optional(),
});
const byDeployment = z.strictObject({ id: deploymentIdArg, note: textArg('note').optional() });

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'Send all traffic back to the previous known-good version (or --to VERSION) and verify it',
  usage: 'rollback SERVICE [--env ENV] [--to VERSION] [--note TEXT]',
  chatUsage: '/rollback SERVICE [ENV] [--to VERSION] [--note "…"]',
  permission: 'rollback',
  args: z.union([byDeployment, byService]),
  async run({ actor, releases }, args) {
    if ('id' in args) return releases.view(await releases.rollbackDeployment(actor, args.id, args.note));
    return releases.view(await releases.requestRollback(actor, args));
  },
});
