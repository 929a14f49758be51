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
}

/**
 * A trigger reads the sample and the persisted monitoring memory and returns the memory it wants
 * kept, a finding when it fires, and what it concluded. Triggers are pure.
 */
export type MonitorTrigger = (
  memory: Progress,
  sample: MonitorSample,
  settings: ReleaseSettings,
  context: EvaluationContext,
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

/** Error rate, response time and (canaries) green-versus-blue, each "sustained for T" over the persisted samples. */
export const metricTriggers: MonitorTrigger = (memory, sample, settings, context) => {
  if (!sample.metrics) return { memory };
  const metricSample: MetricSample = { at: sample.at, green: sample.metrics.green, blue: sample.metrics.blue };
  const samples = [...(memory.metricSamples ?? []), metricSample].slice(-maxSamples(settings));
  const next = { ...memory, metricSamples: samples };
  const evaluations = metricSignals(settings, context.blueHasTraffic).map((signal) => evaluateSignal(signal, samples, settings));
  const fired = evaluations.find((e) => e.verdict === 'fired');
  if (!fired) return { memory: next, evaluations };
  return {
    memory: next,
    evaluations,
    finding: { trigger: fired.signal, level: 'critical', reason: fired.summary, evaluation: fired },
  };
};

/** Enough history for the longest sustained window (and the whole monitoring window), bounded. */
function maxSamples(settings: ReleaseSettings): number {
  const t = settings.monitor.triggers;
  const longest = Math.max(t.errorRate.sustainedFor, t.responseTime.sustainedFor, t.relativeErrorRate?.sustainedFor ?? 0, settings.monitor.window);
  return Math.min(500, Math.ceil(longest / settings.monitor.interval) + 2);
}

/** Order matters only for which reason is quoted when several fire at once: the most serious first. */
export const MONITOR_TRIGGERS: readonly MonitorTrigger[] = [contentTrigger, healthFailuresTrigger, metricTriggers];

export function evaluateMonitorSample(
  memory: Progress,
  sample: MonitorSample,
  settings: ReleaseSettings,
  context: EvaluationContext = { blueHasTraffic: false },
  triggers: readonly MonitorTrigger[] = MONITOR_TRIGGERS,
): { memory: Progress; finding?: TriggerFinding; evaluations: Evaluation[] } {
  let current: Progress = { ...memory, samplesTaken: (memory.samplesTaken ?? 0) + 1 };
  let first: TriggerFinding | undefined;
  const evaluations: Evaluation[] = [];
  for (const trigger of triggers) {
    const result = trigger(current, sample, settings, context);
    current = result.memory;
    evaluations.push(...(result.evaluations ?? []));
    if (result.finding && !first) first = result.finding;
  }
  current = { ...current, lastEvaluations: evaluations };
  return first ? { memory: current, finding: first, evaluations } : { memory: current, evaluations };
}
