import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentView } from '../domain/deployment-view.ts';
import { isTerminal } from '../domain/stages.ts';
import type { ApiClient } from './api-client.ts';
import { EXIT } from './exit-codes.ts';
import { followFrame, renderFollowFrame, type FollowFrame } from './render-follow.ts';

export interface FollowOptions {
  intervalMs?: number;
  /** Extra figures for the live view (the sandbox adds its measured traffic). */
  extra?: () => Promise<string | undefined>;
  now?: () => Date;
}

const HINT_INDENT = ' '.repeat(22);

/**
 * `--follow`: a live view of one release — lines only when its stage, reason, checks, split or a
 * trigger's verdict change, until it ends. Plain lines rather than a redrawn screen, so it reads
 * the same in a terminal and in a CI log. Exit code: 0 when it succeeded (or, for a rollback,
 * rolled back), else 1.
 */
export async function followDeployment(
  api: Pick<ApiClient, 'get'>,
  id: string,
  out: (text: string) => void,
  options: FollowOptions = {},
): Promise<number> {
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? (() => new Date());
  let last: FollowFrame | undefined;
  let hinted: boolean | 'promote' = false;
  for (;;) {
    const d = await api.get<DeploymentView>(`/deployments/${encodeURIComponent(id)}`);
    const frame = followFrame(d);
    if (!last || frame.key !== last.key) {
      const extra = options.extra ? await options.extra().catch(() => undefined) : undefined;
      out(renderFollowFrame(frame, last, now(), extra));
      last = frame;
    }
    if (d.actions.some((a) => a.action === 'approve') && !hinted) {
      out(`${HINT_INDENT}→ approve it from another terminal: npx kevin-deploy approve ${d.id}`);
      hinted = true;
    }
    if (d.actions.some((a) => a.action === 'promote') && hinted !== 'promote') {
      out(`${HINT_INDENT}→ waiting for a person: npx kevin-deploy promote ${d.id}   (or: npx kevin-deploy rollback ${d.id})`);
      hinted = 'promote';
    }
    if (isTerminal(d.stage) || d.stage === 'needs_attention') {
      const good = d.stage === 'succeeded' || (d.kind === 'rollback' && d.stage === 'rolled_back');
      return good ? EXIT.ok : EXIT.failed;
    }
    await sleep(interval);
  }
}
