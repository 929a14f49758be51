import { toLockView } from '../src/domain/deployment-view.ts';
import { soleVersion } from '../src/domain/split.ts';
import type { ArgumentKit } from './argument-kit.ts';
import { defineCommand } from './define-command.ts';
import { servicePositional } from './shared-syntax.ts';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Each target: what is live, the active release, the queue and any freeze lock',
  permission: 'read',
  args: ({ z, serviceArg }: ArgumentKit) => z.strictObject({ service: serviceArg.optional() }),
  syntax: { positionals: [{ ...servicePositional, optional: true }], flags: [] },
  // The verb also shows one deployment (show's form, `status ID`): the usage line says both.
  usage: 'status [SERVICE | ID]',
  cli: { description: 'what is live, active, queued and frozen — or one deployment with its timeline' },
  chat: { slash: '/deploy', subcommand: 'status', usage: '[SERVICE]' },
  http: [{ method: 'GET', path: '/status', input: 'query' }],
  async run({ releases }, { service }) {
    const targets = await releases.status(service, { routing: true });
    return {
      targets: targets.map((t) => {
        const latest = t.active ?? t.lastFinished;
        const liveId = latest ? soleVersion(latest.split) : undefined;
        const live = latest && liveId ? ([latest.version, latest.previousVersion].find((v) => v?.id === liveId) ?? { id: liveId, tag: null }) : null;
        return {
          service: t.service,
          environment: t.environment,
          protected: t.protected,
          live,
          split: latest?.split ?? {},
          active: t.active ? releases.view(t.active) : null,
          queue: t.queue.map((d) => releases.view(d)),
          lock: t.lock ? toLockView(t.lock) : null,
          lastFinished: t.lastFinished ? releases.view(t.lastFinished) : null,
          // Blue and green as two Workers: which Worker each route and custom domain runs now.
          ...(t.routing ? { routing: t.routing } : {}),
          ...(t.routingProblem ? { routingProblem: t.routingProblem } : {}),
        };
      }),
    };
  },
});
