import type { TargetSettings } from '../config/schema.ts';
import { formatDuration } from '../config/duration.ts';
import {
  rollbackTargetOf,
  rolledBackFromOf,
  versionLabel,
  type CheckResult,
  type Deployment,
  type DeploymentEvent,
  type Progress,
  type Split,
  type VersionInfo,
} from './deployment.ts';
import type { CommandInput, Input, LiveTraffic, PlatformFailure } from './inputs.ts';
import { inconclusiveSignals, maxSampleGapMs } from './metric-triggers.ts';
import { evaluateMonitorSample, type MonitorSample } from './monitor-evaluation.ts';
import { describeSplit, soleVersion } from './split.ts';
import { isTerminal, PRE_TRAFFIC_STAGES, TRAFFIC_STAGES, type Stage } from './stages.ts';
import { planStep, type Step } from './plan-step.ts';
import { stageInWords } from './stage-words.ts';

export const SYSTEM_ACTOR = 'kevin-deploy';
export const AUTO_APPROVER = 'policy:auto';

export interface Refusal {
  code: 'STALE_ACTION' | 'FOUR_EYES' | 'ALREADY_APPROVED' | 'NOTHING_TO_ROLL_BACK' | 'ROLLBACK_NOT_READY' | 'IGNORED_INPUT';
  message: string;
}

export type Decision =
  | { ok: true; deployment: Deployment; events: DeploymentEvent[]; intents: Step[] }
  | { ok: false; refusal: Refusal };

/**
 * The heart of kevin-deploy: given a deployment's persisted status, what just happened, the time
 * and the target's settings, return the next status, the audit events that explain it, and the
 * next step to execute. Pure: no IO, no clock, no randomness — table-tested in test/unit.
 *
 * Domain failures (green unhealthy, a trigger fired, Cloudflare refused) are stages with a
 * reason, never exceptions.
 */
export function decide(d: Deployment, input: Input, now: Date, settings: TargetSettings): Decision {
  if (isTerminal(d.stage)) {
    return refuse('STALE_ACTION', `${d.id} already ended: it ${stageInWords(d.stage)} (${d.reason})`);
  }
  const ctx = new Transition(d, now, settings);
  switch (input.type) {
    case 'approve':
    case 'reject':
    case 'cancel':
    case 'rollback':
    case 'promote':
      return onCommand(ctx, input);
    default:
      return onObservation(ctx, input);
  }
}

function onObservation(ctx: Transition, input: Exclude<Input, CommandInput>): Decision {
  const { d } = ctx;
  switch (d.stage) {
    case 'requested':
      if (input.type === 'claimed') return ctx.to('resolving', 'resolving the requested version', { wakeAt: ctx.iso });
      break;
    case 'resolving':
      if (input.type === 'resolved') return onResolved(ctx, input.version, input.live);
      if (input.type === 'platform-error') return retryOr(ctx, input.error, () => ctx.fail(input.error.message));
      break;
    case 'staging':
      if (input.type === 'split-verified') return startVerifying(ctx.withSplit(input.split));
      if (input.type === 'platform-error') {
        return retryOr(ctx, input.error, () =>
          ctx.fail(`could not make green reachable: ${input.error.message}; traffic untouched`),
        );
      }
      break;
    case 'verifying':
      if (input.type === 'checks') return onGreenChecks(ctx, input.results);
      break;
    case 'awaiting_approval':
      if (input.type === 'tick' && ctx.now >= Date.parse(d.progress.approvalExpiresAt ?? ctx.iso)) {
        return ctx.to(
          'expired',
          `nobody approved within ${formatDuration(ctx.settings.approval.expiresAfter)}; traffic untouched`,
          {},
          { action: 'approval-expired' },
        );
      }
      break;
    case 'switching':
      if (input.type === 'readiness') return onReadiness(ctx, input.ready, input.detail);
      if (input.type === 'split-verified') return startMonitoring(ctx.withSplit(input.split));
      if (input.type === 'platform-error') {
        if (input.error.code === 'CLOUDFLARE_SECRETS_CHANGED') {
          return ctx.fail(`${input.error.message}; traffic untouched`);
        }
        return retryOr(ctx, input.error, () =>
          ctx.startRollback(`the switch to green failed: ${input.error.message}`, SYSTEM_ACTOR),
        );
      }
      break;
    case 'monitoring':
      if (input.type === 'checks') return onMonitorSample(ctx, input.results, input.metrics);
      break;
    case 'rolling_back':
      return onRollbackObservation(ctx, input);
    case 'needs_attention':
      break;
    default:
      break;
  }
  return refuse('IGNORED_INPUT', `${input.type} means nothing to ${d.id} while it ${stageInWords(d.stage)}`);
}

function onResolved(ctx: Transition, version: VersionInfo, live: LiveTraffic): Decision {
  const { d, settings } = ctx;
  const liveId = soleVersion(live.split);
  const liveInfo = live.versions.find((v) => v.id === liveId) ?? (liveId ? { id: liveId, tag: null } : null);
  const withVersion = ctx.patch({ version, split: live.split });
  if (liveId === version.id) {
    return withVersion.fail(`${versionLabel(version)} is already live on ${d.service}/${d.environment}`);
  }

  if (d.kind === 'rollback') {
    // A rollback is an emergency measure: it goes ahead whatever the current split looks like.
    const replaced = liveInfo ?? biggestShare(live, version.id);
    const target: Split = { [version.id]: 100 };
    if (replaced) target[replaced.id] = 0;
    return withVersion
      .patch({ previousVersion: replaced })
      .to('rolling_back', `switching traffic back to ${versionLabel(version)}`, {
        wakeAt: ctx.iso,
        progress: { attempt: 0, targetSplit: target, rollbackPhase: 'switch', rollbackCause: stageReasonOf(d) },
      });
  }

  if (Object.keys(live.split).length === 0) {
    return withVersion.fail(
      `nothing is deployed on ${settings.platform.scriptName} yet, so there is no blue to fall back to; deploy a first version with \`wrangler deploy\``,
    );
  }
  if (!liveInfo) {
    return withVersion.fail(
      `traffic is split (${describeSplit(live.split, live.versions)}); finish or roll back that rollout before starting another`,
    );
  }
  const staged = withVersion.patch({ previousVersion: liveInfo });
  if (settings.platform.reach.mode === 'preview-url') {
    // Green is reachable at its preview URL: staging needs no traffic change. Record the stage
    // anyway so the timeline shows it, and say why nothing was done.
    const passed = staged.to('staging', 'green is reachable at its preview URL; no split change needed', {}, {
      details: { skipped: 'split change', why: 'preview-url reach mode' },
    });
    return chain(ctx, passed, (next) => startVerifying(next));
  }
  return staged.to('staging', `making ${versionLabel(version)} reachable with 0 % of traffic`, {
    wakeAt: ctx.iso,
    progress: { attempt: 0, targetSplit: { [liveInfo.id]: 100, [version.id]: 0 } },
  });
}

/** The version with the most traffic other than `except` (the one being rolled back to). */
function biggestShare(live: LiveTraffic, except: string): VersionInfo | null {
  const [id] = Object.entries(live.split).filter(([v]) => v !== except).sort(([, a], [, b]) => b - a)[0] ?? [];
  if (!id) return null;
  return live.versions.find((v) => v.id === id) ?? { id, tag: null };
}

function startVerifying(ctx: Transition): Decision {
  return ctx.to('verifying', `checking green before any traffic (attempt 1 of ${ctx.settings.health.attempts})`, {
    wakeAt: ctx.iso,
    progress: { attempt: 0 },
  });
}

function onGreenChecks(ctx: Transition, results: CheckResult[]): Decision {
  const { d, settings } = ctx;
  const attempt = d.progress.attempt + 1;
  const failed = failedChecks(results);
  const details = { attempt, checks: results };
  if (failed.length === 0) {
    const ready = ctx.patch({ progress: { ...d.progress, attempt, lastChecks: results } });
    const expiresAt = new Date(ctx.now + settings.approval.expiresAfter).toISOString();
    const awaiting = ready.to(
      'awaiting_approval',
      `green passed every check; waiting for ${settings.approval.required} approval(s) until ${expiresAt}`,
      { wakeAt: expiresAt, progress: { attempt: 0, lastChecks: results, approvalExpiresAt: expiresAt } },
      { action: 'verified', details },
    );
    if (settings.approval.mode !== 'auto') return awaiting;
    return chain(ctx, awaiting, (next) => approveAndMaybeSwitch(next, AUTO_APPROVER, 'approved automatically by policy'));
  }
  const summary = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
  if (attempt >= settings.health.attempts) {
    return ctx.patch({ progress: { ...d.progress, attempt, lastChecks: results } }).fail(
      `green failed its checks ${attempt} times — ${summary}; traffic untouched (${versionLabel(d.previousVersion)} keeps 100 %)`,
      details,
    );
  }
  return ctx.stay(
    `green not healthy yet (attempt ${attempt} of ${settings.health.attempts}): ${summary}`,
    {
      wakeAt: new Date(ctx.now + settings.health.interval).toISOString(),
      progress: { ...d.progress, attempt, lastChecks: results },
    },
    { action: 'verify-attempt-failed', details },
  );
}

function approveAndMaybeSwitch(ctx: Transition, actor: string, words: string, override = false): Decision {
  const { d, settings } = ctx;
  const approvals = [...d.approvals, { actor, at: ctx.iso }];
  const withApproval = ctx.patch({ approvals });
  if (approvals.length < settings.approval.required) {
    return withApproval.stay(
      `${approvals.length} of ${settings.approval.required} approvals`,
      {},
      { action: 'approved', actor, details: { approvals: approvals.length } },
    );
  }
  if (!d.version || !d.previousVersion) return ctx.fail('internal: green or blue unknown at approval');
  return switchToStep(withApproval, 0, words, { action: 'approved', actor, ...(override ? { details: { override: true } } : {}) }, override);
}

/** Canary steps as percentages on green, ending at 100; blue-green is the single step [100]. */
export function stepsOf(settings: TargetSettings): number[] {
  if (settings.strategy.type !== 'canary') return [100];
  const steps = [...settings.strategy.steps];
  return steps.at(-1) === 100 ? steps : [...steps, 100];
}

function stepSplit(d: Deployment, percent: number): Split {
  return { [d.version!.id]: percent, [d.previousVersion!.id]: 100 - percent };
}

/**
 * Approved with override while blue cannot be deployed: Cloudflare refuses any deployment that
 * lists blue, so green goes alone to 100 % (a canary cannot split with a version it cannot serve).
 */
function blueUndeployable(d: Deployment): boolean {
  return Boolean(d.progress.rollbackReady && !d.progress.rollbackReady.ready);
}

/** Starts the switch to a step: rollback readiness is checked first, then the split applied. */
function switchToStep(ctx: Transition, step: number, words: string, event: EventSpec, override = ctx.d.progress.readinessOverride ?? false): Decision {
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
function onReadiness(ctx: Transition, ready: boolean, detail: string): Decision {
  const { d, settings } = ctx;
  const stagedWithoutForce = Boolean(d.stageTimes.staging) && !d.force && settings.platform.reach.mode === 'version-override';
  const fullDetail = ready && stagedWithoutForce ? `${detail}; Cloudflare accepted blue at staging (no secrets change pending)` : detail;
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

function startMonitoring(ctx: Transition): Decision {
  const { d, settings } = ctx;
  const steps = stepsOf(settings);
  const step = d.progress.canaryStep ?? 0;
  const last = step === steps.length - 1;
  const bake = !last && settings.strategy.type === 'canary' ? (settings.strategy.bakeTime ?? settings.monitor.window) : settings.monitor.window;
  const endsAt = new Date(ctx.now + bake).toISOString();
  const words =
    steps.length > 1
      ? `step ${step + 1} of ${steps.length}: ${steps[step]} % of traffic on ${versionLabel(d.version)}; watching until ${endsAt}`
      : `${versionLabel(d.version)} has all traffic; watching until ${endsAt}`;
  return ctx.to('monitoring', words, {
    wakeAt: ctx.iso,
    progress: {
      attempt: 0,
      monitorStartedAt: ctx.iso,
      monitorEndsAt: endsAt,
      lastWatchedAt: ctx.iso,
      canaryStep: step,
      ...(d.progress.rollbackReady ? { rollbackReady: d.progress.rollbackReady } : {}),
      ...(d.progress.readinessOverride ? { readinessOverride: true } : {}),
    },
  });
}

function blueHasTraffic(d: Deployment): boolean {
  return d.previousVersion ? (d.split[d.previousVersion.id] ?? 0) > 0 : false;
}

function onMonitorSample(ctx: Transition, checks: CheckResult[], metrics: MonitorSample['metrics']): Decision {
  const { d, settings } = ctx;
  const shadow = settings.monitor.mode === 'shadow';
  const evaluation = evaluateMonitorSample(d.progress, { at: ctx.iso, checks, metrics }, settings, { blueHasTraffic: blueHasTraffic(d) });
  const unwatched = unwatchedGap(ctx);
  const endsAt = Date.parse(d.progress.monitorEndsAt ?? ctx.iso) + (unwatched?.ms ?? 0);
  const memory: Progress = {
    ...evaluation.memory,
    lastChecks: checks,
    lastWatchedAt: ctx.iso,
    ...(unwatched ? { monitorEndsAt: new Date(endsAt).toISOString(), unwatchedMs: (d.progress.unwatchedMs ?? 0) + unwatched.ms } : {}),
  };
  const finding = evaluation.finding;
  const cause = finding ? `${finding.trigger} trigger (${finding.level}): ${finding.reason}` : undefined;
  // Shadow mode: what would have happened is recorded, and the release carries on as if nothing fired.
  const shadowFinding = shadow && finding ? { trigger: finding.trigger, level: finding.level, wouldHave: 'rolled back', cause } : undefined;
  const details = {
    sample: memory.samplesTaken,
    checks,
    evaluations: evaluation.evaluations,
    ...(shadowFinding ? { shadowFinding } : {}),
    ...(unwatched ? { unwatched: { ...unwatched, windowEndsAt: memory.monitorEndsAt } } : {}),
  };
  if (finding && !shadow) {
    return ctx.patch({ progress: memory }).startRollback(cause!, SYSTEM_ACTOR, { trigger: finding.trigger, level: finding.level, ...details });
  }
  const failing = failedChecks(checks);
  const building = evaluation.evaluations.filter((e) => e.verdict === 'building');
  // The window only ends on a clean sample: a failing check or a breach still building at the very
  // end is watched until it clears or fires, so a release never "passes clean" while failing.
  // (Shadow mode never holds a release: it only reports.)
  const holding = failing.length > 0 || (!shadow && building.length > 0);
  if (ctx.now >= endsAt && !holding) {
    return onWindowEnd(ctx.patch({ progress: memory }), details, shadowFinding ? 'shadow-finding' : undefined);
  }
  const words =
    failing.length > 0
      ? `watching: ${memory.consecutiveHealthFailures ?? 0} consecutive failing sample(s) — ${failing.map((c) => `${c.name}: ${c.detail}`).join('; ')}`
      : building.length > 0
        ? `watching: ${building.map((e) => e.summary).join('; ')}`
        : `watching: ${memory.samplesTaken} clean sample(s), window ends ${memory.monitorEndsAt}`;
  const resumed = unwatched ? ` (not watched for ${formatDuration(unwatched.ms)} since ${unwatched.from}: the window's end moved by as much)` : '';
  // One shadow-finding event per breach, not one per sample while it lasts.
  const alreadyReported = (d.progress.lastEvaluations ?? []).some((e) => e.verdict === 'fired');
  const steps = stepsOf(settings);
  const step = steps.length > 1 ? `step ${(d.progress.canaryStep ?? 0) + 1} of ${steps.length} (${steps[d.progress.canaryStep ?? 0]} %), ` : '';
  return ctx.stay(
    shadowFinding ? `shadow: would have rolled back — ${cause}` : `${step}${words}${resumed}`,
    { wakeAt: nextSampleAt(ctx, endsAt), progress: memory },
    { action: shadowFinding && !alreadyReported ? 'shadow-finding' : unwatched ? 'monitor-resumed' : 'monitor-sample', details },
  );
}

/**
 * The window counts only time that was watched: when the previous sample is further back than one
 * watch allows (the bot was down, or stopped), the unwatched time is added to the window's end, so
 * a restarted bot never passes a release on minutes it did not see — nor pauses it as
 * "inconclusive" for its own absence.
 */
function unwatchedGap(ctx: Transition): { ms: number; from: string; to: string } | undefined {
  const { d, settings } = ctx;
  const previous = d.progress.lastWatchedAt;
  if (!previous) return undefined;
  const gap = ctx.now - Date.parse(previous);
  if (!(gap > maxSampleGapMs(settings))) return undefined;
  return { ms: gap - settings.monitor.interval, from: previous, to: ctx.iso };
}

function nextSampleAt(ctx: Transition, endsAt = Date.parse(ctx.d.progress.monitorEndsAt ?? ctx.iso)): string {
  const interval = ctx.settings.monitor.interval;
  return new Date(ctx.now >= endsAt ? ctx.now + interval : Math.min(ctx.now + interval, endsAt)).toISOString();
}

/**
 * The window (or a canary step's bake) ended on a clean sample. Passing needs enough conclusive
 * metric samples to have seen a sustained breach; otherwise the configured inconclusive policy
 * applies — pause and ask, extend once, or roll back — and never a silent pass.
 */
function onWindowEnd(ctx: Transition, details: Record<string, unknown>, action?: string): Decision {
  const { d, settings } = ctx;
  const memory = d.progress;
  const since = Date.parse(memory.monitorStartedAt ?? ctx.iso);
  const windowSamples = (memory.metricSamples ?? []).filter((s) => Date.parse(s.at) >= since);
  const inconclusive = inconclusiveSignals(windowSamples, settings, blueHasTraffic(d));
  const explained = (memory.lastEvaluations ?? []).map((e) => e.summary);
  if (inconclusive.length > 0 && settings.monitor.mode !== 'shadow') {
    const why = `metrics inconclusive — ${inconclusive.join('; ')}`;
    const policy = settings.monitor.onInconclusive;
    if (policy === 'rollback') return ctx.startRollback(why, SYSTEM_ACTOR, { inconclusive, ...details });
    if (policy === 'extend' && (memory.extensions ?? 0) < 1) {
      // By the same length as what is being watched: the window, or a canary step's bake.
      const length = Math.max(0, Date.parse(memory.monitorEndsAt ?? ctx.iso) - Date.parse(memory.monitorStartedAt ?? ctx.iso)) || settings.monitor.window;
      const extendedTo = new Date(ctx.now + length).toISOString();
      return ctx.stay(
        `window extended until ${extendedTo}: ${why}`,
        { wakeAt: nextSampleAt(ctx), progress: { ...memory, monitorEndsAt: extendedTo, extensions: (memory.extensions ?? 0) + 1 } },
        { action: 'window-extended', details: { inconclusive, ...details } },
      );
    }
    return ctx.stay(
      `paused: ${why}. Promote to accept ${versionLabel(d.version)}, or roll back`,
      { wakeAt: null, progress: { ...memory, pausedBecause: why } },
      { action: 'paused', details: { inconclusive, ...details } },
    );
  }
  // In shadow mode an inconclusive window passes, and says it would have paused.
  const shadowNote = inconclusive.length > 0 ? [`shadow: would have paused — metrics inconclusive: ${inconclusive.join('; ')}`] : [];
  return passStep(ctx, [...explained, ...shadowNote], { ...details, ...(inconclusive.length > 0 ? { shadowInconclusive: inconclusive } : {}) }, undefined, action);
}

/** A clean step: the next canary step (or its gate), or success. */
function passStep(ctx: Transition, explained: string[], details: Record<string, unknown>, actor?: string, action?: string): Decision {
  const { d, settings } = ctx;
  const steps = stepsOf(settings);
  const step = d.progress.canaryStep ?? 0;
  const evidence = explained.length > 0 ? ` — ${explained.join('; ')}` : '';
  if (step < steps.length - 1) {
    const passed = `step ${step + 1} of ${steps.length} (${steps[step]} %) passed${evidence}`;
    const gated = settings.strategy.type === 'canary' && settings.strategy.manualGate && !actor;
    if (gated) {
      return ctx.stay(
        `${passed}. Promote to ${steps[step + 1]} % or abort`,
        { wakeAt: null, progress: { ...d.progress, awaitingPromotion: true } },
        { action: 'step-passed', details },
      );
    }
    return switchToStep(ctx, step + 1, actor ? `promoted by ${actor}` : passed, { action: actor ? 'promoted' : 'step-passed', ...(actor ? { actor } : {}), details });
  }
  const window = formatDuration(settings.monitor.window);
  return ctx.to(
    'succeeded',
    actor
      ? `accepted by ${actor}${d.progress.pausedBecause ? ` (${d.progress.pausedBecause})` : ''}; ${versionLabel(d.version)} is the new last-known-good`
      : `monitoring window of ${window} passed clean (${d.progress.samplesTaken ?? 0} samples)${evidence}; ${versionLabel(d.version)} is the new last-known-good`,
    { progress: d.progress },
    { action: actor ? 'promoted' : (action ?? 'monitoring-passed'), ...(actor ? { actor } : {}), details },
  );
}

function onRollbackObservation(ctx: Transition, input: Exclude<Input, CommandInput>): Decision {
  const { d, settings } = ctx;
  const phase = d.progress.rollbackPhase ?? 'switch';
  const target = rollbackTargetOf(d);
  if (phase === 'switch' && input.type === 'split-verified') {
    return ctx.withSplit(input.split).stay(
      `${versionLabel(target)} has all traffic again; verifying its health`,
      { wakeAt: ctx.iso, progress: { ...d.progress, attempt: 0, rollbackPhase: 'verify' } },
      { action: 'rollback-switched', details: { split: input.split } },
    );
  }
  if (phase === 'switch' && input.type === 'platform-error') {
    return retryOr(ctx, input.error, () =>
      ctx.to(
        'needs_attention',
        `the switch back to ${versionLabel(target)} failed: ${input.error.message}. Traffic as last verified: ` +
          `${describeSplit(d.split, [d.version, d.previousVersion])}. Retry with \`kevin-deploy rollback ${d.service} --env ${d.environment}\` ` +
          'or switch in the Cloudflare dashboard',
        { progress: { ...d.progress, lastError: input.error.message } },
        { action: 'rollback-failed', details: { error: input.error } },
      ),
    );
  }
  if (phase === 'verify' && input.type === 'checks') {
    const attempt = d.progress.attempt + 1;
    const failed = failedChecks(input.results);
    const details = { attempt, checks: input.results };
    const cause = d.progress.rollbackCause ?? 'rollback requested';
    if (failed.length === 0) {
      return ctx.to(
        'rolled_back',
        `rolled back to ${versionLabel(target)} (${cause}); it is verified healthy`,
        { progress: { ...d.progress, attempt, lastChecks: input.results } },
        { action: 'rollback-verified', details },
      );
    }
    const summary = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
    if (attempt >= settings.rollback.verifyAttempts) {
      return ctx.to(
        'needs_attention',
        `traffic is 100 % on ${versionLabel(target)} but it fails its checks after ${attempt} attempts — ${summary}`,
        { progress: { ...d.progress, attempt, lastChecks: input.results } },
        { action: 'rollback-unhealthy', details },
      );
    }
    return ctx.stay(
      `${versionLabel(target)} has all traffic; not healthy yet (attempt ${attempt} of ${settings.rollback.verifyAttempts}): ${summary}`,
      {
        wakeAt: new Date(ctx.now + settings.rollback.verifyInterval).toISOString(),
        progress: { ...d.progress, attempt, lastChecks: input.results },
      },
      { action: 'rollback-verify-attempt-failed', details },
    );
  }
  return refuse('IGNORED_INPUT', `${input.type} means nothing to ${d.id} while it is rolling back (${phase})`);
}

function onCommand(ctx: Transition, input: CommandInput): Decision {
  const { d } = ctx;
  const since = d.stageTimes[d.stage] ?? d.updatedAt;
  const state = `${d.id} ${stageInWords(d.stage)} since ${since} (${d.reason})`;
  switch (input.type) {
    case 'approve': {
      if (d.stage !== 'awaiting_approval') return refuse('STALE_ACTION', `nothing to approve: ${state}`);
      if (ctx.settings.approval.fourEyes && input.actor === d.requestedBy) {
        return refuse(
          'FOUR_EYES',
          `${input.actor} requested ${d.id}; four-eyes is on for ${d.service}/${d.environment}, so someone else must approve it`,
        );
      }
      if (d.approvals.some((a) => a.actor === input.actor)) {
        return refuse('ALREADY_APPROVED', `${input.actor} already approved ${d.id}; it needs another approver`);
      }
      if (d.progress.rollbackReady && !d.progress.rollbackReady.ready && !input.override) {
        return refuse(
          'ROLLBACK_NOT_READY',
          `a rollback to ${versionLabel(d.previousVersion)} would not be possible (${d.progress.rollbackReady.detail}); approve with override to switch anyway`,
        );
      }
      return approveAndMaybeSwitch(ctx, input.actor, `approved by ${input.actor}${input.override ? ' with override' : ''}`, input.override ?? false);
    }
    case 'promote': {
      if (d.stage !== 'monitoring' || (!d.progress.awaitingPromotion && !d.progress.pausedBecause)) {
        return refuse('STALE_ACTION', `nothing to promote: ${state}`);
      }
      if (d.progress.rollbackReady && !d.progress.rollbackReady.ready && !input.override && d.progress.awaitingPromotion) {
        return refuse('ROLLBACK_NOT_READY', `a rollback would not be possible (${d.progress.rollbackReady.detail}); promote with override to go on`);
      }
      const withFlags = ctx.patch({
        progress: {
          ...d.progress,
          awaitingPromotion: false,
          ...(input.override ? { readinessOverride: true } : {}),
        },
      });
      return passStep(withFlags, [], { promotedBy: input.actor }, input.actor);
    }
    case 'reject': {
      if (d.stage !== 'awaiting_approval') return refuse('STALE_ACTION', `nothing to reject: ${state}`);
      const why = input.comment ? `: ${input.comment}` : '';
      return ctx.to('rejected', `rejected by ${input.actor}${why}; traffic untouched`, {}, {
        action: 'rejected',
        actor: input.actor,
      });
    }
    case 'cancel': {
      if (PRE_TRAFFIC_STAGES.has(d.stage)) {
        return ctx.to('cancelled', `cancelled by ${input.actor} while ${d.stage.replace('_', ' ')}; traffic untouched`, {}, {
          action: 'cancelled',
          actor: input.actor,
        });
      }
      if (TRAFFIC_STAGES.has(d.stage)) {
        return ctx.startRollback(`cancelled by ${input.actor} after the switch`, input.actor, {}, 'cancelled');
      }
      if (d.stage === 'needs_attention') {
        return ctx.to(
          'cancelled',
          `closed by ${input.actor} after needing attention; traffic left as last verified: ${describeSplit(d.split, [d.version, d.previousVersion])}`,
          {},
          { action: 'cancelled', actor: input.actor },
        );
      }
      return refuse('STALE_ACTION', `cannot cancel now: ${state}`);
    }
    case 'rollback': {
      const why = input.comment ? `: ${input.comment}` : '';
      if (TRAFFIC_STAGES.has(d.stage) || d.stage === 'needs_attention') {
        return ctx.startRollback(`manual rollback by ${input.actor}${why}`, input.actor, {}, 'rollback-requested');
      }
      if (d.stage === 'rolling_back') return refuse('STALE_ACTION', `already rolling back: ${state}`);
      return refuse(
        'NOTHING_TO_ROLL_BACK',
        `nothing to roll back: ${state}; traffic has not moved to green — cancel it instead`,
      );
    }
  }
}

function retryOr(ctx: Transition, error: PlatformFailure, giveUp: () => Decision): Decision {
  const { d, settings } = ctx;
  const attempt = d.progress.attempt + 1;
  if (!error.retryable || attempt >= settings.switch.attempts) return giveUp();
  // Exponential backoff from the configured base, capped so a long outage is still retried often.
  const delay = Math.min(settings.switch.backoff * 2 ** (attempt - 1), 60_000);
  return ctx.stay(
    `${stageReasonOf(d)} — Cloudflare: ${error.message}; retrying (attempt ${attempt + 1} of ${settings.switch.attempts})`.slice(0, 500),
    {
      wakeAt: new Date(ctx.now + delay).toISOString(),
      progress: { ...d.progress, attempt, lastError: error.message, stageReason: stageReasonOf(d) },
    },
    { action: 'platform-retry', details: { error, attempt } },
  );
}

/** Runs a second rule on the result of a first, in the same instant (a stage passed through at once). */
/** Failed checks; an empty result list proves nothing, so it counts as a failure too. */
function failedChecks(results: CheckResult[]): CheckResult[] {
  if (results.length === 0) return [{ name: 'checks', ok: false, detail: 'no check ran' }];
  return results.filter((r) => !r.ok);
}

/** The stage's own reason, without the retry notes appended to it. */
function stageReasonOf(d: Deployment): string {
  return d.progress.stageReason ?? d.reason;
}

function chain(ctx: Transition, first: Decision, next: (ctx: Transition) => Decision): Decision {
  if (!first.ok) return first;
  const ctxAfter = new Transition(first.deployment, ctx.at, ctx.settings, first.events);
  const second = next(ctxAfter);
  if (!second.ok) return first;
  // The second transition started from the first one's events, so its list already holds both.
  return second;
}

function refuse(code: Refusal['code'], message: string): Decision {
  return { ok: false, refusal: { code, message } };
}

interface EventSpec {
  action?: string;
  actor?: string;
  details?: Record<string, unknown>;
}

interface StagePatch {
  wakeAt?: string | null;
  progress?: Progress;
}

/** A small builder so each rule above reads as one sentence. Immutable: every method returns a new one. */
class Transition {
  readonly now: number;
  readonly iso: string;

  constructor(
    readonly d: Deployment,
    readonly at: Date,
    readonly settings: TargetSettings,
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
    return {
      ok: true,
      deployment: next,
      events: [...this.events, event],
      intents: [planStep(next, this.at, this.settings)],
    };
  }
}
