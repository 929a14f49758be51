import type { DeploymentView, LockView } from '../domain/deployment-view.ts';
import type { VersionInfo } from '../domain/deployment.ts';
import type { Evaluation } from '../domain/metric-triggers.ts';
import { describeSplit } from '../domain/split.ts';
import { stageInWords } from '../domain/stage-words.ts';
import { formatTime as time, formatTimesIn } from './time-format.ts';

/** Human-readable output of the CLI. `--json` prints the API objects instead. */

function version(v: VersionInfo): string {
  return v.tag ? `${v.tag} (${v.id.slice(0, 8)})` : v.id.slice(0, 8);
}

/**
 * The version line: green and the version it replaces. Before the release is resolved the bot has
 * not read the live version yet — then nothing is said about it, rather than a "—" that reads as
 * "nothing is live".
 */
function versionLine(d: DeploymentView): string {
  const green = d.version ? version(d.version) : d.versionRef;
  if (!d.previousVersion) return green;
  return `${green}   ${d.kind === 'release' ? 'blue' : 'replacing'}: ${version(d.previousVersion)}`;
}

/** The split the release last verified, or undefined while it has read none (nothing moved yet). */
export function splitLine(d: DeploymentView): string | undefined {
  if (Object.keys(d.split).length === 0) return undefined;
  return describeSplit(d.split, [d.version, d.previousVersion]);
}

const SIGNAL_LABELS: Record<Evaluation['signal'], string> = {
  'error-rate': 'error rate',
  'response-time': 'average response time',
  'relative-error-rate': "green's error rate minus blue's",
};

function figure(value: number, unit: Evaluation['unit']): string {
  // The sample site answers from memory in well under a millisecond: "0 ms" would read as "not measured".
  if (unit === 'ms') return value < 1 ? 'under 1 ms' : `${Math.round(value)} ms`;
  const rounded = Math.round(value * 10) / 10;
  return unit === '%' ? `${rounded} %` : `${rounded} points`;
}

/**
 * One trigger's conclusion in words. A clear one is said from its figures — the worst sample
 * against the limit — since the bot's summary rounds a sub-millisecond average to "at most 0 ms";
 * the others (building, fired, inconclusive) carry the figures that matter in their summary.
 */
export function describeEvaluation(e: Evaluation): string {
  const values = e.values.filter((v): v is number => typeof v === 'number');
  if (e.verdict !== 'clear' || values.length === 0) return `${e.verdict}: ${e.summary}`;
  const worst = Math.max(...values);
  return `clear: ${SIGNAL_LABELS[e.signal] ?? e.signal} at worst ${figure(worst, e.unit)}, limit ${figure(e.threshold, e.unit)} (${values.length} sample${values.length === 1 ? '' : 's'}, ${e.source})`;
}

/**
 * What the person can do next, as a command to copy: from the actions the bot says are allowed
 * now (the view's `actions`, the same answer the Slack card's buttons come from).
 */
function nextStep(d: DeploymentView): string | undefined {
  const can = (action: string) => d.actions.find((a) => a.action === action);
  const approve = can('approve');
  if (approve) {
    return approve.needsOverride
      ? `kevin-deploy approve ${d.id} --override   (no safe rollback; or: kevin-deploy reject ${d.id})`
      : `kevin-deploy approve ${d.id}   (or: kevin-deploy reject ${d.id})`;
  }
  const promote = can('promote');
  if (promote) return `kevin-deploy promote ${d.id}${promote.needsOverride ? ' --override' : ''}   (or: kevin-deploy rollback ${d.id})`;
  const rollback = can('rollback');
  if (rollback?.meaning === 'retry') return `kevin-deploy rollback ${d.id}   (retry the rollback) — see the reason above`;
  if (can('cancel')) return `kevin-deploy status ${d.id}   (it moves on by itself; cancel with: kevin-deploy cancel ${d.id})`;
  if (rollback && rollback.meaning !== 'new-rollback') return `kevin-deploy rollback ${d.service} --env ${d.environment}   (if something looks wrong)`;
  return undefined;
}

export function renderDeployment(d: DeploymentView): string {
  const lines = [
    `${d.id}  ${d.service}/${d.environment}  ${d.kind}`,
    `  stage      ${d.stage}${d.queuePosition ? ` (queue position ${d.queuePosition})` : ''}`,
    `  reason     ${formatTimesIn(d.reason)}`,
    `  version    ${versionLine(d)}`,
  ];
  const split = splitLine(d);
  if (split) lines.push(`  split      ${split}`);
  lines.push(`  requested  by ${d.requestedBy} at ${time(d.createdAt)}${d.note ? ` — "${d.note}"` : ''}`);
  if (d.canary) lines.push(`  canary     step ${d.canary.step} of ${d.canary.steps}: ${d.canary.percent} % on green${d.canary.awaitingPromotion ? ' — waiting for promote' : ''}`);
  if (d.rollbackReady) lines.push(`  rollback   ${d.rollbackReady.ready ? 'ready' : 'NOT READY'}: ${d.rollbackReady.detail}`);
  if (d.pausedBecause) lines.push(`  paused     ${formatTimesIn(d.pausedBecause)}`);
  if (d.approvals.length > 0) lines.push(`  approvals  ${d.approvals.map((a) => `${a.actor} at ${time(a.at)}`).join(', ')}`);
  if (d.checks.length > 0) {
    lines.push('  checks');
    for (const c of d.checks) lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  if (d.evaluations.length > 0) {
    lines.push('  triggers');
    for (const e of d.evaluations) lines.push(`    ${describeEvaluation(e)}`);
  }
  if (d.events && d.events.length > 0) {
    lines.push('  timeline');
    for (const e of d.events) {
      const move = e.from !== e.to ? `${e.from ?? '·'} → ${e.to}` : (e.to ?? '');
      const reason = typeof e.details.reason === 'string' ? e.details.reason : '';
      lines.push(`    ${time(e.at)}  ${e.action.padEnd(22)} ${e.actor.padEnd(14)} ${move}${reason ? `  ${formatTimesIn(reason)}` : ''}`);
    }
  }
  const next = nextStep(d);
  if (next) lines.push(`  next       ${next}`);
  return lines.join('\n');
}

const HISTORY_COLUMNS = [
  { title: 'id', width: 14 },
  { title: 'target', width: 24 },
  { title: 'kind', width: 9 },
  { title: 'stage', width: 18 },
  { title: 'version', width: 24 },
  { title: 'by', width: 12 },
  { title: 'requested (UTC)', width: 0 },
];

export function renderHistory(deployments: DeploymentView[]): string {
  if (deployments.length === 0) return 'no deployments yet';
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(HISTORY_COLUMNS[i]!.width))
      .join(' ')
      .trimEnd();
  return [
    row(HISTORY_COLUMNS.map((c) => c.title)),
    ...deployments.map((d) =>
      row([
        d.id,
        `${d.service}/${d.environment}`,
        d.kind,
        d.stage,
        d.version ? version(d.version) : d.versionRef,
        d.requestedBy,
        time(d.createdAt),
      ]),
    ),
  ].join('\n');
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
  /** Blue and green as two Workers: which Worker each route and custom domain runs. */
  routing?: Array<{ kind: 'route' | 'custom-domain'; name: string; servedBy: string | null; version: VersionInfo | null }>;
  routingProblem?: string;
}

export function renderStatus(targets: TargetStatusView[]): string {
  return targets
    .map((t) => {
      const lines = [`${t.service}/${t.environment}${t.protected ? ' (protected)' : ''}`];
      lines.push(`  live       ${t.live ? version(t.live) : 'unknown (no release through kevin-deploy yet)'}`);
      lines.push(`  active     ${t.active ? `${t.active.id} ${stageInWords(t.active.stage)} — ${formatTimesIn(t.active.reason)}` : 'none'}`);
      if (t.queue.length > 0) lines.push(`  queue      ${t.queue.map((d) => `${d.id} (${d.versionRef}, ${d.requestedBy})`).join(', ')}`);
      if (t.lock) lines.push(`  FROZEN     by ${t.lock.holder} since ${time(t.lock.since)}${t.lock.expiresAt ? ` until ${time(t.lock.expiresAt)}` : ''}: ${t.lock.reason}`);
      if (t.lastFinished) lines.push(`  last       ${t.lastFinished.id} ${stageInWords(t.lastFinished.stage)} at ${time(t.lastFinished.updatedAt)}`);
      (t.routing ?? []).forEach((r, i) => {
        const served = r.servedBy ? `${r.servedBy}${r.version ? `, ${version(r.version)}` : ''}` : 'no Worker';
        lines.push(`  ${i === 0 ? 'routes    ' : '          '} ${r.kind === 'custom-domain' ? 'domain ' : ''}${r.name} → ${served}`);
      });
      if (t.routingProblem) lines.push(`  routes     could not be read: ${t.routingProblem}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

export function renderLock(lock: LockView, verb: 'locked' | 'unlocked'): string {
  return `${lock.service}/${lock.environment} ${verb}${verb === 'locked' ? ` by ${lock.holder}: ${lock.reason}` : ` (was locked by ${lock.holder}: ${lock.reason})`}`;
}
