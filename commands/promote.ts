import { z } from 'zod';
import { toDeploymentView } from '../src/domain/deployment-view.ts';
import { defineCommand, deploymentIdArg } from './define-command.ts';

export const promoteCommand = defineCommand({
  name: 'promote',
  summary: 'Go on: the next canary step after a manual gate, or accept a release whose window paused on inconclusive metrics',
  usage: 'promote ID [--override]',
  permission: 'approve',
  args: z.strictObject({ id: deploymentIdArg, override: z.boolean().optional() }),
  async run({ actor, releases }, { id, override }) {
    return releases.view(await releases.promote(actor, id, override ?? false));
  },
});
