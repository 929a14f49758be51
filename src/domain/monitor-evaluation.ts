import type { ReleaseSettings } from './release-settings.ts';
import type { MetricReading } from './metric-reading.ts';
import type { CheckResult, Progress } from './deployment.ts';
import { evaluateSignal, metricSignals, type Evaluation, type MetricSample } from './metric-triggers.ts';

/** What one monitoring sample saw: green's checks, and the figures of green (and blue) when a metrics source is on. */
export interface MonitorSample {
  at: string;
  checks: CheckResult[];
  metrics?: { green: MetricReading; blue?: MetricReading | undefined } | undefined;
}

export type TriggerLevel = 'critical' | 'emergency';

/** A trigger that fired: which one, how serious, and the one-line reason anyone can check. */
export interface TriggerFinding {
  trigger: string;
  level: TriggerLevel;
  reason: string;
  evaluation?: Evaluation | undefined;
}

export interface EvaluationContext {
  /** Whether blue still serves users (canary steps), which enables the relative trigger. */
  blueHasTraffic: boolean;
  /** The metric samples already recorded in this window, oldest first (see metricHistoryWanted). */
  history?: readonly MetricSample[] | undefined;
}

/** What a trigger is given besides the sample: the context, and the window's metric samples including this one. */
export interface TriggerContext {
  blueHasTraffic: boolean;
  /** The window's metric samples, this sample's last, bounded by metricHistoryLimit. */
  samples: readonly MetricSample[];
}

/**
 * A trigger reads the sample, the persisted monitoring memory and the window's metric samples,
 * and returns the memory it wants kept, a finding when it fires, and what it concluded. Triggers
 * are pure.
 */
export type MonitorTrigger = (
  memory: Progress,
  sample: MonitorSample,
  settings: ReleaseSettings,
  context: TriggerContext,
) => { memory: Progress; finding?: TriggerFinding; evaluations?: Evaluation[] };

/**
 * The number of the monitoring sample an audit event records, if it records one. A sample is
 * recorded under the action that says what it led to — `monitor-sample`, `monitor-resumed` (the
 * first after time nobody watched), `shadow-finding`, `rollback-started`, or the event that ends
 * the window — so readers find samples by this number, never by a list of action names.
 */
export function sampleNumberOf(event: { details: Record<string, unknown> }): number | undefined {
  const sample = event.details.sample;
  return typeof sample === 'number' ? sample : undefined;
}

export function isContentCheck(check: CheckResult): boolean {
  return check.name.startsWith('content');
}

function failedDetails(checks: CheckResult[]): string {
  return checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`)
    .join('; ');
}

/** The KEVIN content check: one failure is an emergency (cultural integrity, the seed's highest priority). */
export const contentTrigger: MonitorTrigger = (memory, sample, settings) => {
  if (!settings.monitor.triggers.content.enabled) return { memory };
  const failed = sample.checks.filter((c) => isContentCheck(c) && !c.ok);
  if (failed.length === 0) return { memory };
  return {
    memory,
    finding: { trigger: 'content', level: 'emergency', reason: `content check failed — ${failedDetails(failed)}` },
  };
};

/** N consecutive samples with any failing health check (health, detailed, ready, version) roll back. */
export const healthFailuresTrigger: MonitorTrigger = (memory, sample, settings) => {
  const healthChecks = sample.checks.filter((c) => !isContentCheck(c));
  const failing = healthChecks.some((c) => !c.ok);
  const consecutive = failing ? (memory.consecutiveHealthFailures ?? 0) + 1 : 0;
  const next = { ...memory, consecutiveHealthFailures: consecutive };
  const limit = settings.monitor.triggers.healthFailures.consecutive;
  if (consecutive < limit) return { memory: next };
  return {
    memory: next,
    finding: {
      trigger: 'health-failures',
      level: 'critical',
      reason: `${consecutive} consecutive health-check failures (limit ${limit}) — ${failedDetails(healthChecks)}`,
    },
  };
};

/** Error rate, response time and (canaries) green-versus-blue, each "sustained for T" over the window's samples. */
export const metricTriggers: MonitorTrigger = (memory, sample, settings, context) => {
  if (!sample.metrics) return { memory };
  const evaluations = metricSignals(settings, context.blueHasTraffic).map((signal) => evaluateSignal(signal, context.samples, settings));
  const fired = evaluations.find((e) => e.verdict === 'fired');
  if (!fired) return { memory, evaluations };
  return {
    memory,
    evaluations,
    finding: { trigger: fired.signal, level: 'critical', reason: fired.summary, evaluation: fired },
  };
};

/** Enough history for the longest sustained window (and the whole monitoring window), bounded. */
export function metricHistoryLimit(settings: ReleaseSettings): number {
  const t = settings.monitor.triggers;
  const longest = Math.max(t.errorRate.sustainedFor, t.responseTime.sustainedFor, t.relativeErrorRate?.sustainedFor ?? 0, settings.monitor.window);
  return Math.min(500, Math.ceil(longest / settings.monitor.interval) + 2);
}

/**
 * The metric samples a monitoring sample needs to be judged: those recorded since the window (or
 * the canary step) started, newest `limit` of them. The engine reads them from the store and
 * passes them in as the input's history; a new window starts with none.
 */
export function metricHistoryWanted(progress: Progress, settings: ReleaseSettings): { since: string; limit: number } | undefined {
  if (!progress.monitorStartedAt || settings.monitor.metrics.source === 'none') return undefined;
  return { since: progress.monitorStartedAt, limit: metricHistoryLimit(settings) - 1 };
}

/** Order matters only for which reason is quoted when several fire at once: the most serious first. */
export const MONITOR_TRIGGERS: readonly MonitorTrigger[] = [contentTrigger, healthFailuresTrigger, metricTriggers];

/**
 * Judges one monitoring sample: every trigger in order, threading the memory. `metricSample` is
 * the sample's figures as they join the window's history (to be recorded), when it has figures.
 */
export function evaluateMonitorSample(
  memory: Progress,
  sample: MonitorSample,
  settings: ReleaseSettings,
  context: EvaluationContext = { blueHasTraffic: false },
  triggers: readonly MonitorTrigger[] = MONITOR_TRIGGERS,
): { memory: Progress; finding?: TriggerFinding; evaluations: Evaluation[]; metricSample?: MetricSample; samples: readonly MetricSample[] } {
  let current: Progress = { ...memory, samplesTaken: (memory.samplesTaken ?? 0) + 1 };
  const history = context.history ?? [];
  const metricSample: MetricSample | undefined = sample.metrics ? { at: sample.at, green: sample.metrics.green, blue: sample.metrics.blue } : undefined;
  const samples = metricSample ? [...history, metricSample].slice(-metricHistoryLimit(settings)) : history;
  const triggerContext: TriggerContext = { blueHasTraffic: context.blueHasTraffic, samples };
  let first: TriggerFinding | undefined;
  const evaluations: Evaluation[] = [];
  for (const trigger of triggers) {
    const result = trigger(current, sample, settings, triggerContext);
    current = result.memory;
    evaluations.push(...(result.evaluations ?? []));
    if (result.finding && !first) first = result.finding;
  }
  current = { ...current, lastEvaluations: evaluations };
  const recorded = { memory: current, evaluations, samples, ...(metricSample ? { metricSample } : {}) };
  return first ? { ...recorded, finding: first } : recorded;
}
