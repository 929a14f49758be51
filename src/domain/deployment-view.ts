import type { Deployment, DeploymentEvent, VersionInfo } from './deployment.ts';
import type { FreezeLock } from './freeze-lock.ts';
import { allowedActions, stateOf, type ActionName } from './release-state.ts';

/**
 * A deployment as the API and `--json` show it. These field names are the external contract:
 * scripts depend on them; add fields, never rename.
 */
export interface DeploymentView {
  id: string;
  kind: Deployment['kind'];
  service: string;
  environment: string;
  stage: Deployment['stage'];
  version: VersionInfo | null;
  versionRef: string;
  previousVersion: VersionInfo | null;
  strategy: Deployment['strategy'];
  split: Deployment['split'];
  requestedBy: string;
  note: string | null;
  approvals: Deployment['approvals'];
  reason: string;
  stageTimes: Deployment['stageTimes'];
  checks: NonNullable<Deployment['progress']['lastChecks']>;
  /** What the triggers concluded at the last sample (signal, values, threshold, window, source). */
  evaluations: NonNullable<Deployment['progress']['lastEvaluations']>;
  /** Canary: the current step (1-based), the number of steps and green's share. Absent for blue-green. */
  canary?: { step: number; steps: number; percent: number; awaitingPromotion: boolean };
  /** Can traffic go back to blue? Checked before each switch. */
  rollbackReady: { ready: boolean; detail: string; checkedAt: string } | null;
  /** Why the window paused (metrics inconclusive) and waits for a person. */
  pausedBecause: string | null;
  /**
   * What people may do now, as allowedActions() says (the same answer the Slack card's buttons
   * come from): each with whether it needs --override and what it means here when that differs
   * from its name ("accept", "retry", "new-rollback").
   */
  actions: Array<{ action: ActionName; needsOverride: boolean; meaning?: 'accept' | 'retry' | 'new-rollback' }>;
  nextCheckAt: string | null;
  queuePosition?: number | null;
  createdAt: string;
  updatedAt: string;
  events?: EventView[];
}

export interface EventView {
  at: string;
  actor: string;
  action: string;
  from: string | null;
  to: string | null;
  details: Record<string, unknown>;
}

export function toDeploymentView(
  d: Deployment,
  extra: { events?: DeploymentEvent[]; queuePosition?: number | null; steps?: number[] } = {},
): DeploymentView {
  const steps = extra.steps ?? [];
  const step = d.progress.canaryStep;
  const state = stateOf(d);
  return {
    id: d.id,
    kind: d.kind,
    service: d.service,
    environment: d.environment,
    stage: d.stage,
    version: d.version,
    versionRef: d.versionRef,
    previousVersion: d.previousVersion,
    strategy: d.strategy,
    split: d.split,
    requestedBy: d.requestedBy,
    note: d.note,
    approvals: d.approvals,
    reason: d.reason,
    stageTimes: d.stageTimes,
    checks: d.progress.lastChecks ?? [],
    evaluations: d.progress.lastEvaluations ?? [],
    ...(steps.length > 1 && step !== undefined
      ? { canary: { step: step + 1, steps: steps.length, percent: steps[step] ?? 100, awaitingPromotion: state.stage === 'monitoring' && state.phase === 'at-gate' } }
      : {}),
    rollbackReady: d.progress.rollbackReady ?? null,
    pausedBecause: state.stage === 'monitoring' && state.phase === 'paused' ? state.because : null,
    actions: allowedActions(d)
      .filter((a) => a.offered)
      .map((a) => ({ action: a.action, needsOverride: a.needsOverride, ...(a.meaning ? { meaning: a.meaning } : {}) })),
    nextCheckAt: d.wakeAt,
    ...(extra.queuePosition !== undefined ? { queuePosition: extra.queuePosition } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(extra.events
      ? {
          events: extra.events.map((e) => ({
            at: e.at,
            actor: e.actor,
            action: e.action,
            from: e.fromStage,
            to: e.toStage,
            details: e.details,
          })),
        }
      : {}),
  };
}

export interface LockView {
  service: string;
  environment: string;
  holder: string;
  reason: string;
  since: string;
  expiresAt: string | null;
}

export function toLockView(lock: FreezeLock): LockView {
  return { ...lock };
}
