import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentView } from '../domain/deployment-view.ts';
import { describeSplit } from '../domain/split.ts';
import { isTerminal } from '../domain/stages.ts';
import type { ApiClient } from './api-client.ts';
import { EXIT } from './exit-codes.ts';

export interface FollowOptions {
  intervalMs?: number;
  /** Extra figures for the live view (the sandbox adds its measured traffic). */
  extra?: () => Promise<string | undefined>;
  now?: () => Date;
}

/**
 * `--follow`: a live view of one release — a line whenever its stage, reason, checks or split
 * change — until it ends. Plain lines rather than a redrawn screen, so it reads the same in a
 * terminal and in a CI log. Exit code: 0 when it succeeded (or, for a rollback, rolled back), else 1.
 */
export async function followDeployment(
  api: ApiClient,
  id: string,
  out: (text: string) => void,
  options: FollowOptions = {},
): Promise<number> {
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? (() => new Date());
  let last = '';
  let hinted: boolean | 'promote' = false;
  for (;;) {
    const d = await api.get<DeploymentView>(`/deployments/${encodeURIComponent(id)}`);
    const checks = d.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`).join('  ');
    const figures = d.evaluations.map((e) => `${e.verdict}: ${e.summary}`).join(`\n${' '.repeat(32)}`);
    const line = `${d.stage.padEnd(18)} ${d.reason}${checks ? `\n${' '.repeat(24)}checks  ${checks}` : ''}\n${' '.repeat(24)}split   ${describeSplit(d.split, [d.version, d.previousVersion])}${figures ? `\n${' '.repeat(24)}metrics ${figures}` : ''}`;
    if (line !== last) {
      const extra = options.extra ? await options.extra().catch(() => undefined) : undefined;
      out(`${now().toISOString().slice(11, 19)}  ${line}${extra ? `\n${' '.repeat(24)}traffic ${extra}` : ''}`);
      last = line;
    }
    if (d.stage === 'awaiting_approval' && !hinted) {
      out(`${' '.repeat(10)}→ approve it from another terminal: npx kevin-deploy approve ${d.id}`);
      hinted = true;
    }
    if (d.stage === 'monitoring' && (d.canary?.awaitingPromotion || d.pausedBecause) && hinted !== 'promote') {
      out(`${' '.repeat(10)}→ waiting for a person: npx kevin-deploy promote ${d.id}   (or: npx kevin-deploy rollback ${d.id})`);
      hinted = 'promote';
    }
    if (isTerminal(d.stage) || d.stage === 'needs_attention') {
      const good = d.stage === 'succeeded' || (d.kind === 'rollback' && d.stage === 'rolled_back');
      return good ? EXIT.ok : EXIT.failed;
    }
    await sleep(interval);
  }
}
