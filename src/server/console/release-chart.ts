import type { EventView } from '../../domain/deployment-view.ts';
import type { MetricSample } from '../../domain/metric-triggers.ts';
import type { ReleaseSettings } from '../../domain/release-settings.ts';

export type MarkerKind = 'switch' | 'trigger' | 'passed' | 'step' | 'health' | 'rollback';

/** A moment on the chart's time axis, with what happened in words. */
export interface ChartMarker {
  /** Unix seconds (uPlot's x unit). */
  at: number;
  kind: MarkerKind;
  label: string;
}

/**
 * The monitoring window as the console draws it: each sample's error rate and latency (green's,
 * and blue's while it still had traffic), the thresholds they were judged against, how long a
 * breach had to last, and the moments that mattered. Built from what the store recorded — the
 * same samples and events decide() judged — so the chart shows why, not a re-computation.
 */
export interface ReleaseChart {
  x: number[];
  errorRate: Array<number | null>;
  latency: Array<number | null>;
  blueErrorRate: Array<number | null> | null;
  thresholds: { errorRatePercent: number; latencyMs: number; errorSustainedForMs: number; latencySustainedForMs: number };
  window: { start: number | null; end: number | null };
  markers: ChartMarker[];
  /** One sentence for screen readers and for anyone without the script: what the chart shows. */
  summary: string;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

function failingChecks(details: Record<string, unknown>): string[] {
  const checks = Array.isArray(details.checks) ? (details.checks as Array<{ name?: unknown; ok?: unknown; detail?: unknown }>) : [];
  return checks.filter((c) => c.ok === false).map((c) => `${String(c.name)}: ${String(c.detail)}`);
}

function markerOf(event: EventView, stepsSoFar: number): ChartMarker | undefined {
  const at = seconds(event.at);
  const details = event.details;
  switch (event.action) {
    case 'rollback-started': {
      const trigger = typeof details.trigger === 'string' ? details.trigger : undefined;
      const cause = typeof details.cause === 'string' ? details.cause : 'rollback started';
      return { at, kind: trigger ? 'trigger' : 'rollback', label: trigger ? `${trigger} trigger fired` : cause };
    }
    case 'rollback-requested':
    case 'cancelled':
      return event.from === 'monitoring' ? { at, kind: 'rollback', label: `rolled back by ${event.actor}` } : undefined;
    case 'monitoring-passed':
      return { at, kind: 'passed', label: 'window passed' };
    case 'step-passed':
    case 'promoted':
      return { at, kind: 'step', label: `canary step ${stepsSoFar + 1} ${event.action === 'promoted' ? `promoted by ${event.actor}` : 'passed'}` };
    case 'monitor-sample':
    case 'monitor-resumed': {
      const failing = failingChecks(details);
      return failing.length > 0 ? { at, kind: 'health', label: `health failing — ${failing.join('; ')}` } : undefined;
    }
    default:
      return event.to === 'monitoring' && event.from === 'switching' ? { at, kind: 'switch', label: 'traffic switched to green' } : undefined;
  }
}

export function releaseChartOf(samples: readonly MetricSample[], events: readonly EventView[], settings: ReleaseSettings, window: { start?: string | undefined; end?: string | undefined }): ReleaseChart {
  const t = settings.monitor.triggers;
  const hasBlue = samples.some((s) => s.blue && s.blue.errorRatePercent !== null);
  const markers: ChartMarker[] = [];
  let steps = 0;
  for (const event of events) {
    const marker = markerOf(event, steps);
    if (!marker) continue;
    if (marker.kind === 'step') steps++;
    markers.push(marker);
  }
  const fired = markers.find((m) => m.kind === 'trigger' || m.kind === 'rollback');
  const passed = markers.find((m) => m.kind === 'passed');
  const outcome = fired ? `${fired.label} at ${new Date(fired.at * 1000).toISOString().slice(11, 19)} UTC` : passed ? 'the window passed' : 'the window is still open';
  return {
    x: samples.map((s) => seconds(s.at)),
    errorRate: samples.map((s) => s.green.errorRatePercent),
    latency: samples.map((s) => s.green.avgResponseMs),
    blueErrorRate: hasBlue ? samples.map((s) => s.blue?.errorRatePercent ?? null) : null,
    thresholds: {
      errorRatePercent: t.errorRate.thresholdPercent,
      latencyMs: t.responseTime.thresholdMs,
      errorSustainedForMs: t.errorRate.sustainedFor,
      latencySustainedForMs: t.responseTime.sustainedFor,
    },
    window: { start: window.start ? seconds(window.start) : null, end: window.end ? seconds(window.end) : null },
    markers,
    summary: `${samples.length} sample${samples.length === 1 ? '' : 's'} of error rate (limit ${t.errorRate.thresholdPercent} %) and latency (limit ${t.responseTime.thresholdMs} ms); ${outcome}.`,
  };
}

/** JSON inside a <script type="application/json">: nothing in it can close the element or start markup. */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
