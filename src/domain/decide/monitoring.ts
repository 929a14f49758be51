import { SYSTEM_ACTOR } from '../actors.ts';
import { stepsOf } from '../canary-steps.ts';
import { versionLabel, type CheckResult, type Deployment, type Progress } from '../deployment.ts';
import { formatDuration } from '../format-duration.ts';
import { inconclusiveSignals, maxSampleGapMs, type MetricSample } from '../metric-triggers.ts';
import { evaluateMonitorSample, type MonitorSample } from '../monitor-evaluation.ts';
import { switchToStep } from './switching.ts';
import { failedChecks, recordingSample, type Decision, type Transition } from './transition.ts';

/**
 * Watching green with traffic: a window (or a canary step's bake) of samples, the triggers that
 * roll back, the window's end (pass, the next step, a gate, or the inconclusive policy).
 */

export function startMonitoring(ctx: Transition): Decision {
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

/** Whether blue still serves users (canary steps): only then is green compared with it. */
export function blueHasTraffic(d: Deployment): boolean {
  return d.previousVersion ? (d.split[d.previousVersion.id] ?? 0) > 0 : false;
}

export function onMonitorSample(ctx: Transition, checks: CheckResult[], metrics: MonitorSample['metrics'], history: readonly MetricSample[] = []): Decision {
  const evaluation = evaluateMonitorSample(ctx.d.progress, { at: ctx.iso, checks, metrics }, ctx.settings, { blueHasTraffic: blueHasTraffic(ctx.d), history });
  return recordingSample(judgeSample(ctx, checks, evaluation), evaluation.metricSample);
}

function judgeSample(ctx: Transition, checks: CheckResult[], evaluation: ReturnType<typeof evaluateMonitorSample>): Decision {
  const { d, settings } = ctx;
  const shadow = settings.monitor.mode === 'shadow';
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
    return onWindowEnd(ctx.patch({ progress: memory }), evaluation.samples, details, shadowFinding ? 'shadow-finding' : undefined);
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
function onWindowEnd(ctx: Transition, samples: readonly MetricSample[], details: Record<string, unknown>, action?: string): Decision {
  const { d, settings } = ctx;
  const memory = d.progress;
  const since = Date.parse(memory.monitorStartedAt ?? ctx.iso);
  const windowSamples = samples.filter((s) => Date.parse(s.at) >= since);
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

/** A clean step: the next canary step (or its gate), or success. `actor`: a person promoted it. */
export function passStep(ctx: Transition, explained: string[], details: Record<string, unknown>, actor?: string, action?: string): Decision {
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
