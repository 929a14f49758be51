import type { Deployment } from '../../domain/deployment.ts';

/** One UTC day of releases: how many, how many failed the change, how long they took. */
export interface DeliveryDay {
  day: string;
  releases: number;
  failedChanges: number;
  rollbacks: number;
}

/**
 * The seed's deployment metrics over a period (the DORA four, plus rollbacks), from the releases
 * the store recorded: frequency, duration, change failure rate, time to restore.
 */
export interface DeliveryMetrics {
  days: number;
  perDay: DeliveryDay[];
  releases: number;
  /** Releases that reached production traffic and ended: succeeded, rolled back or failed after switching. */
  finished: number;
  perWeek: number;
  /** Request to end of window, median and 90th percentile, in ms (null: none finished). */
  durationMedianMs: number | null;
  durationP90Ms: number | null;
  /** Share of finished releases that were rolled back or failed, in percent (null: none finished). */
  changeFailurePercent: number | null;
  rollbacks: number;
  /** From the moment a rollback started to traffic being back on blue and verified: the median, in ms. */
  timeToRestoreMedianMs: number | null;
  /** Traffic switch to green (switching → monitoring), median, in ms. */
  switchMedianMs: number | null;
}

const DAY_MS = 86_400_000;
const FAILED_CHANGE: readonly Deployment['stage'][] = ['rolled_back', 'failed', 'needs_attention'];

/** The nearest-rank quantile: always a value that was seen, never an average of two. */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

const between = (from: string | undefined, to: string | undefined) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);

export function deliveryMetricsOf(deployments: readonly Deployment[], days: number, now: Date): DeliveryMetrics {
  const since = now.getTime() - days * DAY_MS;
  const releases = deployments.filter((d) => d.kind === 'release' && Date.parse(d.createdAt) >= since);
  const perDay = new Map<string, DeliveryDay>();
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date(now.getTime() - i * DAY_MS).toISOString().slice(0, 10);
    perDay.set(day, { day, releases: 0, failedChanges: 0, rollbacks: 0 });
  }
  // A release only counts as a change once it reached traffic: one rejected at approval changed nothing.
  const reachedTraffic = releases.filter((d) => d.stageTimes.switching !== undefined && ['succeeded', ...FAILED_CHANGE].includes(d.stage));
  const durations: number[] = [];
  const restores: number[] = [];
  const switches: number[] = [];
  let rollbacks = 0;
  for (const d of releases) {
    const day = perDay.get(d.createdAt.slice(0, 10));
    if (day) day.releases++;
    const rolledBack = d.stageTimes.rolling_back !== undefined;
    if (rolledBack) {
      rollbacks++;
      if (day) day.rollbacks++;
      const restore = between(d.stageTimes.rolling_back, d.stageTimes.rolled_back);
      if (restore !== undefined) restores.push(restore);
    }
    if (day && FAILED_CHANGE.includes(d.stage) && d.stageTimes.switching !== undefined) day.failedChanges++;
    const end = d.stageTimes[d.stage];
    const duration = ['succeeded', 'rolled_back'].includes(d.stage) ? between(d.createdAt, end) : undefined;
    if (duration !== undefined) durations.push(duration);
    const switched = between(d.stageTimes.switching, d.stageTimes.monitoring);
    if (switched !== undefined) switches.push(switched);
  }
  const failed = reachedTraffic.filter((d) => FAILED_CHANGE.includes(d.stage)).length;
  return {
    days,
    perDay: [...perDay.values()],
    releases: releases.length,
    finished: reachedTraffic.length,
    perWeek: Math.round((releases.length / days) * 7 * 10) / 10,
    durationMedianMs: quantile(durations, 0.5),
    durationP90Ms: quantile(durations, 0.9),
    changeFailurePercent: reachedTraffic.length === 0 ? null : Math.round((failed / reachedTraffic.length) * 1000) / 10,
    rollbacks,
    timeToRestoreMedianMs: quantile(restores, 0.5),
    switchMedianMs: quantile(switches, 0.5),
  };
}
