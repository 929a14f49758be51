import { stepsOf } from '../canary-steps.ts';
import { versionLabel, type Deployment, type Split } from '../deployment.ts';
import type { EventSpec, Decision, Transition } from './transition.ts';

/**
 * Moving traffic to green, a canary step at a time (blue-green is one step of 100 %). Before each
 * switch rollback readiness is checked: can traffic still go back to blue?
 */

function stepSplit(d: Deployment, percent: number): Split {
  return { [d.version!.id]: percent, [d.previousVersion!.id]: 100 - percent };
}

/**
 * Approved with override while blue cannot be deployed: the platform refuses any split that
 * lists blue, so green goes alone to 100 % (a canary cannot split with a version it cannot serve).
 */
function blueUndeployable(d: Deployment): boolean {
  return Boolean(d.progress.rollbackReady && !d.progress.rollbackReady.ready);
}

/** Starts the switch to a step: rollback readiness is checked first, then the split applied. */
export function switchToStep(ctx: Transition, step: number, words: string, event: EventSpec, override = ctx.d.progress.readinessOverride ?? false): Decision {
  const { d, settings } = ctx;
  const steps = stepsOf(settings);
  if (override && blueUndeployable(d)) {
    return ctx.to(
      'switching',
      `${words}; switching all traffic to ${versionLabel(d.version)} alone (blue cannot be deployed any more)`,
      { wakeAt: ctx.iso, progress: { attempt: 0, targetSplit: { [d.version!.id]: 100 }, canaryStep: steps.length - 1, readinessOverride: true } },
      event,
    );
  }
  const percent = steps[step]!;
  const what = steps.length > 1 ? `step ${step + 1} of ${steps.length}: ${percent} % of traffic to ${versionLabel(d.version)}` : `switching all traffic to ${versionLabel(d.version)}`;
  return ctx.to('switching', `${words}; ${what}`, {
    wakeAt: ctx.iso,
    progress: { attempt: 0, targetSplit: stepSplit(d, percent), canaryStep: step, ...(override ? { readinessOverride: true } : {}) },
  }, event);
}

/**
 * Before every switch: can traffic still go back to blue? If not, the release does not move on
 * its own — before the first step it asks for an approval with override, later it pauses.
 */
export function onReadiness(ctx: Transition, ready: boolean, detail: string): Decision {
  const { d, settings } = ctx;
  // The last verified split lists green beside blue and was set without --force: the platform
  // accepted a split with blue in it, so a switch back is not refused for changed secrets.
  const blueAccepted = Boolean(d.stageTimes.staging) && !d.force && d.version !== null && d.previousVersion !== null && d.split[d.version.id] !== undefined && d.split[d.previousVersion.id] !== undefined;
  const fullDetail = ready && blueAccepted ? `${detail}; the platform accepted a split with blue in it (no secrets change pending)` : detail;
  const rollbackReady = { ready, detail: fullDetail, checkedAt: ctx.iso };
  if (ready || d.progress.readinessOverride) {
    return ctx.stay(
      ready ? `${d.reason} — rollback ready` : `${d.reason} — rollback NOT ready (${detail}); switching anyway, as approved with override`,
      { wakeAt: ctx.iso, progress: { ...d.progress, rollbackReady } },
      { action: 'rollback-readiness', details: rollbackReady },
    );
  }
  const step = d.progress.canaryStep ?? 0;
  if (step === 0) {
    const expiresAt = new Date(ctx.now + settings.approval.expiresAfter).toISOString();
    return ctx.patch({ approvals: [] }).to(
      'awaiting_approval',
      `a rollback to ${versionLabel(d.previousVersion)} would not be possible: ${detail}. Approve with override to switch anyway, or reject`,
      { wakeAt: expiresAt, progress: { attempt: 0, approvalExpiresAt: expiresAt, rollbackReady, ...(d.progress.lastChecks ? { lastChecks: d.progress.lastChecks } : {}) } },
      { action: 'rollback-not-ready', details: rollbackReady },
    );
  }
  return ctx.to(
    'monitoring',
    `step ${step + 1} is on hold: a rollback to ${versionLabel(d.previousVersion)} would not be possible (${detail}). Promote with override to go on, or roll back`,
    { progress: { ...d.progress, attempt: 0, rollbackReady, awaitingPromotion: true, canaryStep: step - 1 } },
    { action: 'rollback-not-ready', details: rollbackReady },
  );
}
