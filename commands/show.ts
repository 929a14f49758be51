import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';

export const showCommand = defineCommand({
  name: 'show',
  summary: 'One deployment with its checks and its whole audit trail',
  permission: 'read',
  args: ({ z, deploymentIdArg }: ArgumentKit) => z.strictObject({ id: deploymentIdArg }),
  syntax: { positionals: [{ arg: 'id', description: 'a deployment id' }], flags: [] },
  // No verb of its own: `status ID` (the status verb tells a deployment id from a service).
  cli: { verb: 'status' },
  http: [{ method: 'GET', path: '/deployments/:id' }],
  async run({ releases }, { id }) {
    const { deployment, events, queuePosition } = await releases.get(id);
    return releases.view(deployment, { events, queuePosition });
  },
});
