import type { DeploymentView, LockView } from '../domain/deployment-view.ts';
import type { VersionInfo } from '../domain/deployment.ts';
import { describeSplit } from '../domain/split.ts';

/** Human-readable output of the CLI. `--json` prints the API objects instead. */

function version(v: VersionInfo | null): string {
  if (!v) return '—';
  return v.tag ? `${v.tag} (${v.id.slice(0, 8)})` : v.id.slice(0, 8);
}

function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

/** What the person can do next, as a command to copy. */
function nextStep(d: DeploymentView): string | undefined {
  switch (d.stage) {
    case 'awaiting_approval':
      if (d.rollbackReady && !d.rollbackReady.ready) return `kevin-deploy approve ${d.id} --override   (no safe rollback; or: kevin-deploy reject ${d.id})`;
      return `kevin-deploy approve ${d.id}   (or: kevin-deploy reject ${d.id})`;
    case 'monitoring':
      if (d.canary?.awaitingPromotion || d.pausedBecause) return `kevin-deploy promote ${d.id}   (or: kevin-deploy rollback ${d.id})`;
      return `kevin-deploy rollback ${d.service} --env ${d.environment}   (if something looks wrong)`;
    case 'needs_attention':
      return `kevin-deploy rollback ${d.id}   (retry the rollback) — see the reason above`;
    case 'requested':
    case 'resolving':
    case 'staging':
    case 'verifying':
      return `kevin-deploy status ${d.id}   (it moves on by itself; cancel with: kevin-deploy cancel ${d.id})`;
    default:
      return undefined;
  }
}

export function renderDeployment(d: DeploymentView): string {
  const lines = [
    `${d.id}  ${d.service}/${d.environment}  ${d.kind}`,
    `  stage      ${d.stage}${d.queuePosition ? ` (queue position ${d.queuePosition})` : ''}`,
    `  reason     ${d.reason}`,
    `  version    ${d.version ? version(d.version) : d.versionRef}${d.kind === 'release' ? `   blue: ${version(d.previousVersion)}` : `   replacing: ${version(d.previousVersion)}`}`,
    `  split      ${describeSplit(d.split, [d.version, d.previousVersion])}`,
    `  requested  by ${d.requestedBy} at ${time(d.createdAt)}${d.note ? ` — "${d.note}"` : ''}`,
  ];
  if (d.canary) lines.push(`  canary     step ${d.canary.step} of ${d.canary.steps}: ${d.canary.percent} % on green${d.canary.awaitingPromotion ? ' — waiting for promote' : ''}`);
  if (d.rollbackReady) lines.push(`  rollback   ${d.rollbackReady.ready ? 'ready' : 'NOT READY'}: ${d.rollbackReady.detail}`);
  if (d.pausedBecause) lines.push(`  paused     ${d.pausedBecause}`);
  if (d.approvals.length > 0) lines.push(`  approvals  ${d.approvals.map((a) => `${a.actor} at ${time(a.at)}`).join(', ')}`);
  if (d.checks.length > 0) {
    lines.push('  checks');
    for (const c of d.checks) lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  if (d.evaluations.length > 0) {
    lines.push('  triggers');
    for (const e of d.evaluations) lines.push(`    ${e.verdict.padEnd(12)} ${e.summary}`);
  }
  if (d.events && d.events.length > 0) {
    lines.push('  timeline');
    for (const e of d.events) {
      const move = e.from !== e.to ? `${e.from ?? '·'} → ${e.to}` : (e.to ?? '');
      const reason = typeof e.details.reason === 'string' ? e.details.reason : '';
      lines.push(`    ${time(e.at)}  ${e.action.padEnd(22)} ${e.actor.padEnd(14)} ${move}${reason ? `  ${reason}` : ''}`);
    }
  }
  const next = nextStep(d);
  if (next) lines.push(`  next       ${next}`);
  return lines.join('\n');
}

export function renderHistory(deployments: DeploymentView[]): string {
  if (deployments.length === 0) return 'no deployments yet';
  return deployments
    .map((d) =>
      [
        d.id.padEnd(14),
        `${d.service}/${d.environment}`.padEnd(24),
        d.kind.padEnd(9),
        d.stage.padEnd(18),
        (d.version ? version(d.version) : d.versionRef).padEnd(24),
        d.requestedBy.padEnd(12),
        time(d.createdAt),
      ].join(' '),
    )
    .join('\n');
}

export interface TargetStatusView {
  service: string;
  environment: string;
  protected: boolean;
  live: VersionInfo | null;
  split: Record<string, number>;
  active: DeploymentView | null;
  queue: DeploymentView[];
  lock: LockView | null;
  lastFinished: DeploymentView | null;
}

export function renderStatus(targets: TargetStatusView[]): string {
  return targets
    .map((t) => {
      const lines = [`${t.service}/${t.environment}${t.protected ? ' (protected)' : ''}`];
      lines.push(`  live       ${t.live ? version(t.live) : 'unknown (no release through kevin-deploy yet)'}`);
      lines.push(`  active     ${t.active ? `${t.active.id} ${t.active.stage} — ${t.active.reason}` : 'none'}`);
      if (t.queue.length > 0) lines.push(`  queue      ${t.queue.map((d) => `${d.id} (${d.versionRef}, ${d.requestedBy})`).join(', ')}`);
      if (t.lock) lines.push(`  FROZEN     by ${t.lock.holder} since ${time(t.lock.since)}${t.lock.expiresAt ? ` until ${time(t.lock.expiresAt)}` : ''}: ${t.lock.reason}`);
      if (t.lastFinished) lines.push(`  last       ${t.lastFinished.id} ${t.lastFinished.stage} at ${time(t.lastFinished.updatedAt)}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

export function renderLock(lock: LockView, verb: 'locked' | 'unlocked'): string {
  return `${lock.service}/${lock.environment} ${verb}${verb === 'locked' ? ` by ${lock.holder}: ${lock.reason}` : ` (was locked by ${lock.holder}: ${lock.reason})`}`;
}
