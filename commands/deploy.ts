import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { envFlag } from './shared-syntax.ts';

export const deployCommand = defineCommand({
  name: 'deploy',
  summary: 'Stage VERSION beside the live version, verify it, and ask for approval to switch',
  permission: 'deploy',
  args: ({ z, environmentArg, serviceArg, textArg, versionArg }: ArgumentKit) => z.strictObject({
    service: serviceArg,
    version: versionArg,
    environment: environmentArg.optional(),
    note: textArg('note').optional(),
    queue: z.boolean().optional(),
    force: z.boolean().optional(),
  }),
  syntax: {
    positionals: [
      { arg: 'service', description: 'a configured service, e.g. kevinstamp' },
      { arg: 'version', description: 'version id, 8-character id prefix or tag (workers/tag)' },
    ],
    flags: [
      { ...envFlag, description: 'environment (protected ones such as production must be named)' },
      { arg: 'queue', flag: 'queue', description: 'wait in line if another release of the target is active' },
      { arg: 'note', flag: 'note', value: 'text', description: 'a note for the approvers and the audit trail' },
      { arg: 'force', flag: 'force', description: 'deploy even though secrets changed since the version was uploaded (Cloudflare 10220)' },
    ],
  },
  cli: { description: 'stage VERSION beside the live version, verify it, and ask for approval' },
  chat: { slash: '/deploy', usage: 'SERVICE VERSION [to ENV] [--queue] [--note "…"]' },
  http: [{ method: 'POST', path: '/deployments', input: 'body', status: 201 }],
  async run({ actor, releases }, args) {
    const d = await releases.requestRelease(actor, args);
    const { queuePosition } = await releases.get(d.id);
    return releases.view(d, { queuePosition });
  },
});
