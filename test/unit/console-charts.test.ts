import { describe, expect, it } from 'vitest';
import type { EventView } from '../../src/domain/deployment-view.ts';
import type { MetricSample } from '../../src/domain/metric-triggers.ts';
import { deliveryMetricsOf } from '../../src/server/console/delivery-metrics.ts';
import { jsonForScriptElement, releaseChartOf } from '../../src/server/console/release-chart.ts';
import { deployment, iso, MINUTE, SECOND, settings, T0 } from '../support/domain-fixtures.ts';

const reading = (errorRatePercent: number | null, avgResponseMs: number | null) => ({ source: 'app-json /metrics', errorRatePercent, avgResponseMs, requests: 100 });
const event = (at: number, action: string, extra: Partial<EventView> = {}): EventView => ({ at: iso(at), actor: 'kevin-deploy', action, from: null, to: null, details: {}, ...extra });

describe('the monitoring chart of a release', () => {
  it('plots each sample against the configured limits and marks the switch, a failing health sample and the trigger that fired', () => {
    const samples: MetricSample[] = [
      { at: iso(10 * SECOND), green: reading(0.5, 80) },
      { at: iso(20 * SECOND), green: reading(12, 90) },
      { at: iso(30 * SECOND), green: reading(null, null) },
    ];
    const events = [
      event(5 * SECOND, 'switched', { from: 'switching', to: 'monitoring' }),
      event(20 * SECOND, 'monitor-sample', { details: { checks: [{ name: 'content', ok: false, detail: "'KEVIN' missing on /" }] } }),
      event(30 * SECOND, 'rollback-started', { from: 'monitoring', to: 'rolling_back', details: { trigger: 'error-rate', cause: 'error-rate trigger (critical): 12 % > 5 %' } }),
    ];
    const chart = releaseChartOf(samples, events, settings(), { start: iso(5 * SECOND), end: iso(5 * MINUTE) });
    const t0 = T0.getTime() / 1000;
    expect(chart.x).toEqual([t0 + 10, t0 + 20, t0 + 30]);
    expect(chart.errorRate).toEqual([0.5, 12, null]);
    expect(chart.latency).toEqual([80, 90, null]);
    expect(chart.blueErrorRate).toBeNull();
    expect(chart.thresholds.errorRatePercent).toBe(settings().monitor.triggers.errorRate.thresholdPercent);
    expect(chart.markers).toEqual([
      { at: t0 + 5, kind: 'switch', label: 'traffic switched to green' },
      { at: t0 + 20, kind: 'health', label: "health failing — content: 'KEVIN' missing on /" },
      { at: t0 + 30, kind: 'trigger', label: 'error-rate trigger fired' },
    ]);
    expect(chart.summary).toBe(`3 samples of error rate (limit ${chart.thresholds.errorRatePercent} %) and latency (limit ${chart.thresholds.latencyMs} ms); error-rate trigger fired at 12:00:30 UTC.`);
  });

  it('numbers canary steps on the same axis and says when the window passed', () => {
    const chart = releaseChartOf([], [event(60 * SECOND, 'step-passed'), event(120 * SECOND, 'promoted', { actor: 'bob' }), event(180 * SECOND, 'monitoring-passed')], settings(), {});
    expect(chart.markers.map((m) => m.label)).toEqual(['canary step 1 passed', 'canary step 2 promoted by bob', 'window passed']);
    expect(chart.summary).toMatch(/the window passed\.$/);
  });

  it('keeps JSON inside a script element from closing it or starting markup', () => {
    const text = jsonForScriptElement({ label: '</script><img src=x onerror=alert(1)>&' });
    expect(text).not.toMatch(/[<>&]/);
    expect(JSON.parse(text)).toEqual({ label: '</script><img src=x onerror=alert(1)>&' });
  });
});

describe('deployment metrics over a period', () => {
  const now = new Date(T0.getTime() + 10 * 86_400_000);
  const day = (n: number) => new Date(T0.getTime() + n * 86_400_000).toISOString();
  const at = (base: string, ms: number) => new Date(Date.parse(base) + ms).toISOString();

  it('counts frequency, duration, change failures, rollbacks and time to restore from what the releases recorded', () => {
    const good = deployment({ id: 'a', stage: 'succeeded', createdAt: day(9), stageTimes: { requested: day(9), switching: at(day(9), 60_000), monitoring: at(day(9), 62_000), succeeded: at(day(9), 10 * MINUTE) } });
    const bad = deployment({
      id: 'b',
      stage: 'rolled_back',
      createdAt: day(8),
      stageTimes: { requested: day(8), switching: at(day(8), 60_000), monitoring: at(day(8), 61_000), rolling_back: at(day(8), 5 * MINUTE), rolled_back: at(day(8), 5 * MINUTE + 30_000) },
    });
    const rejected = deployment({ id: 'c', stage: 'rejected', createdAt: day(8), stageTimes: { requested: day(8), rejected: at(day(8), MINUTE) } });
    const tooOld = deployment({ id: 'd', stage: 'succeeded', createdAt: day(1), stageTimes: { requested: day(1), switching: day(1), succeeded: day(1) } });
    const m = deliveryMetricsOf([good, bad, rejected, tooOld], 7, now);
    expect(m.releases).toBe(3);
    expect(m.perDay).toHaveLength(7);
    expect(m.perDay.at(-2)).toEqual({ day: day(9).slice(0, 10), releases: 1, failedChanges: 0, rollbacks: 0 });
    expect(m.perDay.at(-3)).toEqual({ day: day(8).slice(0, 10), releases: 2, failedChanges: 1, rollbacks: 1 });
    // A rejected release never reached traffic: it is not a change that failed.
    expect(m.finished).toBe(2);
    expect(m.changeFailurePercent).toBe(50);
    expect(m.rollbacks).toBe(1);
    expect(m.timeToRestoreMedianMs).toBe(30_000);
    expect(m.switchMedianMs).toBe(1_000);
    expect(m.durationMedianMs).toBe(5 * MINUTE + 30_000);
    expect(m.durationP90Ms).toBe(10 * MINUTE);
    expect(m.perWeek).toBe(3);
  });

  it('says there is no data rather than 0 % when nothing reached traffic', () => {
    const m = deliveryMetricsOf([], 30, now);
    expect(m.changeFailurePercent).toBeNull();
    expect(m.durationMedianMs).toBeNull();
    expect(m.perDay).toHaveLength(30);
  });
});
