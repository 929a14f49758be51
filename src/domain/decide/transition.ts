import { SYSTEM_ACTOR } from '../actors.ts';
import { rollbackTargetOf, rolledBackFromOf, versionLabel, type CheckResult, type Deployment, type DeploymentEvent, type Progress, type Split } from '../deployment.ts';
import type { MetricSample } from '../metric-triggers.ts';
import type { ReleaseSettings } from '../release-settings.ts';
import type { Stage } from '../stages.ts';

export interface Refusal {
  code: 'STALE_ACTION' | 'FOUR_EYES' | 'ALREADY_APPROVED' | 'NOTHING_TO_ROLL_BACK' | 'ROLLBACK_NOT_READY' | 'IGNORED_INPUT';
  message: string;
}

/**
 * The next status and the audit events that explain it (and, for a monitoring sample with figures,
 * the metric sample to append to the window's history), or a refusal that changes nothing.
 */
export type Decision =
  | { ok: true; deployment: Deployment; events: DeploymentEvent[]; metricSample?: MetricSample | undefined }
  | { ok: false; refusal: Refusal };

/** The same decision, also recording a metric sample (when there is one). */
export function recordingSample(decision: Decision, sample: MetricSample | undefined): Decision {
  return decision.ok && sample ? { ...decision, metricSample: sample } : decision;
}

export interface EventSpec {
  action?: string;
  actor?: string;
  details?: Record<string, unknown>;
}

export interface StagePatch {
  wakeAt?: string | null;
  progress?: Progress;
}

export function refuse(code: Refusal['code'], message: string): Decision {
  return { ok: false, refusal: { code, message } };
}

/** Failed checks; an empty result list proves nothing, so it counts as a failure too. */
export function failedChecks(results: CheckResult[]): CheckResult[] {
  if (results.length === 0) return [{ name: 'checks', ok: false, detail: 'no check ran' }];
  return results.filter((r) => !r.ok);
}

/** The stage's own reason, without the retry notes appended to it. */
export function stageReasonOf(d: Deployment): string {
  return d.progress.stageReason ?? d.reason;
}

/**
 * A small immutable builder so each rule reads as one sentence: `ctx.to(stage, reason, …)`,
 * `ctx.stay(reason, …)`, `ctx.fail(reason)`, `ctx.startRollback(cause, actor)`. Every method
 * returns a new value; the events of a chain of transitions in one instant accumulate.
 */
export class Transition {
  readonly now: number;
  readonly iso: string;

  constructor(
    readonly d: Deployment,
    readonly at: Date,
    readonly settings: ReleaseSettings,
    private readonly events: DeploymentEvent[] = [],
  ) {
    this.now = at.getTime();
    this.iso = at.toISOString();
  }

  patch(fields: Partial<Deployment>): Transition {
    return new Transition({ ...this.d, ...fields }, this.at, this.settings, this.events);
  }

  withSplit(split: Split): Transition {
    return this.patch({ split });
  }

  to(stage: Stage, reason: string, patch: StagePatch = {}, event: EventSpec = {}): Decision {
    const d = this.d;
    const next: Deployment = {
      ...d,
      stage,
      reason,
      stageTimes: { ...d.stageTimes, [stage]: this.iso },
      // Last checks stay visible after the stage changes (status shows them); counters restart.
      progress: patch.progress ?? { attempt: 0, ...(d.progress.lastChecks ? { lastChecks: d.progress.lastChecks } : {}) },
      wakeAt: patch.wakeAt ?? null,
      updatedAt: this.iso,
    };
    return this.finish(next, this.event(stage, reason, event, 'stage-changed'));
  }

  stay(reason: string, patch: StagePatch, event: EventSpec): Decision {
    const d = this.d;
    const next: Deployment = {
      ...d,
      reason,
      progress: patch.progress ?? d.progress,
      wakeAt: patch.wakeAt === undefined ? d.wakeAt : patch.wakeAt,
      updatedAt: this.iso,
    };
    return this.finish(next, this.event(d.stage, reason, event, 'progress'));
  }

  fail(reason: string, details: Record<string, unknown> = {}): Decision {
    return this.to('failed', reason, {}, { action: 'failed', details });
  }

  startRollback(cause: string, actor: string, details: Record<string, unknown> = {}, action = 'rollback-started'): Decision {
    const d = this.d;
    const target = rollbackTargetOf(d);
    const from = rolledBackFromOf(d);
    if (!target) return this.to('needs_attention', `${cause}; but no version to roll back to is known`, {}, { action });
    const split: Split = { [target.id]: 100 };
    if (from) split[from.id] = 0;
    return this.to(
      'rolling_back',
      `rolling back to ${versionLabel(target)}: ${cause}`,
      { wakeAt: this.iso, progress: { ...d.progress, attempt: 0, targetSplit: split, rollbackPhase: 'switch', rollbackCause: cause } },
      { action, actor, details: { cause, ...details } },
    );
  }

  /** Runs a second rule on the result of a first, in the same instant (a stage passed through at once). */
  then(first: Decision, next: (ctx: Transition) => Decision): Decision {
    if (!first.ok) return first;
    const second = next(new Transition(first.deployment, this.at, this.settings, first.events));
    // The second transition started from the first one's events, so its list already holds both.
    return second.ok ? second : first;
  }

  private event(toStage: Stage, reason: string, spec: EventSpec, defaultAction: string): DeploymentEvent {
    return {
      deploymentId: this.d.id,
      at: this.iso,
      actor: spec.actor ?? SYSTEM_ACTOR,
      action: spec.action ?? defaultAction,
      fromStage: this.d.stage,
      toStage,
      details: { reason, ...(spec.details ?? {}) },
    };
  }

  private finish(next: Deployment, event: DeploymentEvent): Decision {
    return { ok: true, deployment: next, events: [...this.events, event] };
  }
}
