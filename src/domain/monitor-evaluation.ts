import type { CheckResult, Progress } from './deployment.ts';
import type { TargetSettings } from '../config/schema.ts';

/** What one monitoring sample saw. Metric figures join here when metric sources exist. */
export interface MonitorSample {
  at: string;
  checks: CheckResult[];
}

export type TriggerLevel = 'critical' | 'emergency';

/** A trigger that fired: which one, how serious, and the one-line reason anyone can check. */
export interface TriggerFinding {
  trigger: string;
  level: TriggerLevel;
  reason: string;
}

/**
 * A trigger reads the sample and the persisted monitoring memory and returns the memory it wants
 * kept plus a finding when it fires. Triggers are pure; metric triggers (error rate, latency)
 * plug in by adding to `MONITOR_TRIGGERS`, nothing else changes.
 */
export type MonitorTrigger = (
  memory: Progress,
  sample: MonitorSample,
  settings: TargetSettings,
) => { memory: Progress; finding?: TriggerFinding };

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

/** Order matters only for which reason is quoted when several fire at once: the most serious first. */
export const MONITOR_TRIGGERS: readonly MonitorTrigger[] = [contentTrigger, healthFailuresTrigger];

export function evaluateMonitorSample(
  memory: Progress,
  sample: MonitorSample,
  settings: TargetSettings,
  triggers: readonly MonitorTrigger[] = MONITOR_TRIGGERS,
): { memory: Progress; finding?: TriggerFinding } {
  let current: Progress = { ...memory, samplesTaken: (memory.samplesTaken ?? 0) + 1 };
  let first: TriggerFinding | undefined;
  for (const trigger of triggers) {
    const result = trigger(current, sample, settings);
    current = result.memory;
    if (result.finding && !first) first = result.finding;
  }
  return first ? { memory: current, finding: first } : { memory: current };
}
