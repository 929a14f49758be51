import { z } from 'zod';
import { toDeploymentView, toLockView } from '../src/domain/deployment-view.ts';
import { soleVersion } from '../src/domain/split.ts';
import { defineCommand, serviceArg } from './define-command.ts';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'Each target: what is live, the active release, the queue and any freeze lock',
  usage: 'status [SERVICE | ID]',
  chatUsage: '/deploy status [SERVICE]',
  permission: 'read',
  args: z.strictObject({ service: serviceArg.optional() }),
  async run({ releases }, { service }) {
    const targets = await releases.status(service);
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
        };
      }),
    };
  },
});
