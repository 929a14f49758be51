import { describe, expect, it } from 'vitest';
import type { CheckResult, Progress } from '../../src/domain/deployment.ts';
import {
  MONITOR_TRIGGERS,
  contentTrigger,
  evaluateMonitorSample,
  healthFailuresTrigger,
  isContentCheck,
  metricHistoryLimit,
  metricTriggers,
  type EvaluationContext,
  type MonitorSample,
  type MonitorTrigger,
  type TriggerContext,
} from '../../src/domain/monitor-evaluation.ts';
import type { MetricSample } from '../../src/domain/metric-triggers.ts';
import { APP_JSON, HEALTHY_CHECKS, SECOND, checksFailing, deepFreeze, iso, reading, settings, unreachable } from '../support/domain-fixtures.ts';

const S = settings();
/** Blue-green after the switch: blue serves nobody, so there is nothing to compare green with. */
const CTX: EvaluationContext = { blueHasTraffic: false };
/** What a trigger called on its own is given: no metric samples yet. */
const TCTX: TriggerContext = { blueHasTraffic: false, samples: [] };
const CONTENT_OFF = settings({ monitor: { triggers: { content: { enabled: false } } } });

const sample = (checks: CheckResult[]): MonitorSample => ({ at: iso(), checks });
const memory = (more: Partial<Progress> = {}): Progress => ({ attempt: 0, monitorEndsAt: iso(300_000), ...more });

const HEALTH_503 = checksFailing({ name: 'health', detail: '503 from /health' });
const KEVIN_MISSING = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
const BOTH = checksFailing({ name: 'health', detail: '503 from /health' }, { name: 'content /', detail: '"KEVIN" missing on /' });

/** Feeds samples one after another, threading the memory as decide() does. */
function run(checksList: CheckResult[][], s = S) {
  let m = memory();
  return checksList.map((checks) => {
    const result = evaluateMonitorSample(m, sample(checks), s);
    m = result.memory;
    return result;
  });
}

describe('isContentCheck', () => {
  it.each([
    ['content /', true],
    ['content /about', true],
    ['health', false],
    ['detailed', false],
    ['ready', false],
    ['version', false],
    ['reach', false],
  ])('%s → %s', (name, expected) => {
    expect(isContentCheck({ name, ok: true, detail: '' })).toBe(expected);
  });
});

describe('evaluateMonitorSample', () => {
  it('counts samples and finds nothing in a clean one', () => {
    const first = evaluateMonitorSample(memory(), sample(HEALTHY_CHECKS), S);
    // With no metrics source there is nothing to evaluate: no evaluations, recorded as such.
    expect(first).toEqual({ memory: memory({ samplesTaken: 1, consecutiveHealthFailures: 0, lastEvaluations: [] }), evaluations: [], samples: [] });
    const fifth = evaluateMonitorSample(memory({ samplesTaken: 4 }), sample(HEALTHY_CHECKS), S);
    expect(fifth.memory.samplesTaken).toBe(5);
    expect(fifth.finding).toBeUndefined();
  });

  it('does not mutate the memory it is given', () => {
    const m = deepFreeze(memory({ samplesTaken: 2, consecutiveHealthFailures: 1 }));
    const result = evaluateMonitorSample(m, sample(HEALTH_503), S);
    expect(m).toEqual(memory({ samplesTaken: 2, consecutiveHealthFailures: 1 }));
    expect(result.memory).toEqual(memory({ samplesTaken: 3, consecutiveHealthFailures: 2, lastEvaluations: [] }));
  });

  describe('the content trigger', () => {
    it('fires on the first failing content check, as an emergency, quoting the check', () => {
      const [result] = run([KEVIN_MISSING]);
      expect(result!.finding).toEqual({
        trigger: 'content',
        level: 'emergency',
        reason: 'content check failed — content /: "KEVIN" missing on /',
      });
    });

    it('quotes every failing content check, and only content checks', () => {
      const checks: CheckResult[] = [
        ...checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' }, { name: 'ready', detail: '503 from /ready' }),
        { name: 'content /about', ok: false, detail: '404 from /about' },
      ];
      const result = contentTrigger(memory(), sample(checks), S, TCTX);
      expect(result.finding?.reason).toBe('content check failed — content /: "KEVIN" missing on /; content /about: 404 from /about');
    });

    it('never fires when disabled in the settings, however many samples fail content', () => {
      const results = run([KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING], CONTENT_OFF);
      expect(results.map((r) => r.finding)).toEqual([undefined, undefined, undefined, undefined, undefined]);
      // Content failures are not health failures either: they count toward no trigger.
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([0, 0, 0, 0, 0]);
      expect(contentTrigger(memory(), sample(KEVIN_MISSING), CONTENT_OFF, TCTX)).toEqual({ memory: memory() });
    });

    it('leaves the memory as it found it', () => {
      const m = memory({ samplesTaken: 3, consecutiveHealthFailures: 2 });
      expect(contentTrigger(m, sample(KEVIN_MISSING), S, TCTX).memory).toEqual(m);
    });
  });

  describe('the health-failures trigger', () => {
    it('counts consecutive failing samples and fires at the configured limit (3), critical', () => {
      const results = run([HEALTH_503, HEALTH_503, HEALTH_503]);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 3]);
      expect(results.map((r) => r.finding?.trigger)).toEqual([undefined, undefined, 'health-failures']);
      expect(results[2]!.finding).toEqual({
        trigger: 'health-failures',
        level: 'critical',
        reason: '3 consecutive health-check failures (limit 3) — health: 503 from /health',
      });
    });

    it('a clean sample resets the count', () => {
      const results = run([HEALTH_503, HEALTH_503, HEALTHY_CHECKS, HEALTH_503, HEALTH_503]);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 0, 1, 2]);
      expect(results.every((r) => r.finding === undefined)).toBe(true);
    });

    it('a sample failing only content is not a health failure: the count resets', () => {
      const results = run([HEALTH_503, HEALTH_503, KEVIN_MISSING], CONTENT_OFF);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 0]);
    });

    it.each([
      { name: 'health', detail: '503 from /health' },
      { name: 'detailed', detail: '200 degraded; false: kevinPresent' },
      { name: 'ready', detail: '503 from /ready' },
      { name: 'version', detail: 'the app reports version aaaaaaaa, expected bbbbbbbb' },
    ])('a failing $name check counts as a health failure', (failure) => {
      const checks = checksFailing(failure);
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 2 }), sample(checks), S, TCTX);
      expect(result.memory.consecutiveHealthFailures).toBe(3);
      expect(result.finding?.reason).toBe(`3 consecutive health-check failures (limit 3) — ${failure.name}: ${failure.detail}`);
    });

    it('reads the limit from the settings', () => {
      const once = settings({ monitor: { triggers: { healthFailures: { consecutive: 1 } } } });
      expect(run([HEALTH_503], once)[0]!.finding?.reason).toBe(
        '1 consecutive health-check failures (limit 1) — health: 503 from /health',
      );
      const five = settings({ monitor: { triggers: { healthFailures: { consecutive: 5 } } } });
      const results = run([HEALTH_503, HEALTH_503, HEALTH_503, HEALTH_503, HEALTH_503], five);
      expect(results.map((r) => r.finding !== undefined)).toEqual([false, false, false, false, true]);
    });

    it('keeps firing past the limit while failures continue (the count keeps growing)', () => {
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 7 }), sample(HEALTH_503), S, TCTX);
      expect(result.memory.consecutiveHealthFailures).toBe(8);
      expect(result.finding?.trigger).toBe('health-failures');
    });

    it('quotes only the failing health checks, not content', () => {
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 2 }), sample(BOTH), S, TCTX);
      expect(result.finding?.reason).toBe('3 consecutive health-check failures (limit 3) — health: 503 from /health');
    });
  });

  describe('when several triggers fire at once', () => {
    it('the content finding is quoted first; the health count is still kept', () => {
      const result = evaluateMonitorSample(memory({ consecutiveHealthFailures: 2, samplesTaken: 6 }), sample(BOTH), S);
      expect(result.finding).toEqual({
        trigger: 'content',
        level: 'emergency',
        reason: 'content check failed — content /: "KEVIN" missing on /',
      });
      expect(result.memory.consecutiveHealthFailures).toBe(3);
      expect(result.memory.samplesTaken).toBe(7);
    });

    it('with content disabled, the health finding is the one reported', () => {
      const result = evaluateMonitorSample(memory({ consecutiveHealthFailures: 2 }), sample(BOTH), CONTENT_OFF);
      expect(result.finding?.trigger).toBe('health-failures');
    });

    it('MONITOR_TRIGGERS runs content, then health failures, then the metric triggers', () => {
      expect(MONITOR_TRIGGERS).toEqual([contentTrigger, healthFailuresTrigger, metricTriggers]);
    });

    it('runs every trigger in order, threading memory, and reports the first finding', () => {
      const seen: Array<number | undefined> = [];
      const counting =
        (label: string, fires: boolean): MonitorTrigger =>
        (m) => {
          seen.push(m.samplesTaken);
          const next = { ...m, lastError: `${m.lastError ?? ''}${label}` };
          return fires ? { memory: next, finding: { trigger: label, level: 'critical', reason: label } } : { memory: next };
        };
      const result = evaluateMonitorSample(memory(), sample(HEALTHY_CHECKS), S, CTX, [
        counting('a', false),
        counting('b', true),
        counting('c', true),
      ]);
      expect(seen).toEqual([1, 1, 1]);
      expect(result.memory.lastError).toBe('abc');
      expect(result.finding).toEqual({ trigger: 'b', level: 'critical', reason: 'b' });
    });
  });
});

describe('the metric triggers inside evaluateMonitorSample', () => {
  const M = settings({ monitor: { metrics: { source: 'app-json' } } });
  const RELATIVE = settings({
    monitor: { metrics: { source: 'app-json' }, triggers: { relativeErrorRate: { maxPointsAboveBlue: 2, sustainedFor: '1m' } } },
  });
  const withMetrics = (atMs: number, green: Parameters<typeof reading>[0], blue?: Parameters<typeof reading>[0], checks = HEALTHY_CHECKS): MonitorSample => ({
    at: iso(atMs),
    checks,
    metrics: { green: reading(green), ...(blue ? { blue: reading(blue) } : {}) },
  });

  /** Feeds samples 30 s apart, threading the memory and the recorded history as the runner and decide() do. */
  function runMetrics(greens: Array<Parameters<typeof reading>[0]>, s = M, ctx = CTX) {
    let m = memory();
    let history: MetricSample[] = [];
    return greens.map((green, i) => {
      const result = evaluateMonitorSample(m, withMetrics(i * 30 * SECOND, green), s, { ...ctx, history });
      m = result.memory;
      if (result.metricSample) history = [...history, result.metricSample];
      return result;
    });
  }

  it('a sample without figures records nothing and evaluates nothing', () => {
    const m = memory();
    expect(metricTriggers(m, sample(HEALTHY_CHECKS), M, TCTX)).toEqual({ memory: m });
    const history = [{ at: iso(), green: reading() }];
    const result = evaluateMonitorSample(m, sample(HEALTHY_CHECKS), M, { ...CTX, history });
    expect(result.metricSample).toBeUndefined();
    expect(result.samples).toEqual(history);
    expect(result.evaluations).toEqual([]);
  });

  it('with the metrics source none, figures are recorded but no signal is evaluated', () => {
    const result = evaluateMonitorSample(memory(), withMetrics(0, { errorRatePercent: 90 }), S, CTX);
    expect(result.metricSample).toEqual({ at: iso(0), green: reading({ errorRatePercent: 90 }) });
    expect(result.evaluations).toEqual([]);
    expect(result.finding).toBeUndefined();
  });

  it('judges each sample with the history before it and records what each signal concluded', () => {
    const results = runMetrics([{ errorRatePercent: 1 }, { errorRatePercent: 2 }]);
    expect(results[1]!.samples).toEqual([
      { at: iso(0), green: reading({ errorRatePercent: 1 }) },
      { at: iso(30 * SECOND), green: reading({ errorRatePercent: 2 }) },
    ]);
    expect(results[1]!.metricSample).toEqual({ at: iso(30 * SECOND), green: reading({ errorRatePercent: 2 }) });
    expect(results[1]!.evaluations.map((e) => [e.signal, e.verdict])).toEqual([
      ['error-rate', 'clear'],
      ['response-time', 'clear'],
    ]);
    expect(results[1]!.memory.lastEvaluations).toEqual(results[1]!.evaluations);
    expect(results.every((r) => r.finding === undefined)).toBe(true);
    // The memory persisted with the status carries no figures: they are recorded apart.
    expect(JSON.stringify(results[1]!.memory)).not.toContain('errorRatePercent');
  });

  it('a sustained error rate fires a critical finding that quotes the evaluation', () => {
    const results = runMetrics([{ errorRatePercent: 20 }, { errorRatePercent: 20 }, { errorRatePercent: 20 }, { errorRatePercent: 20 }]);
    expect(results.map((r) => r.finding?.trigger)).toEqual([undefined, undefined, undefined, 'error-rate']);
    const finding = results[3]!.finding!;
    expect(finding.level).toBe('critical');
    expect(finding.evaluation).toMatchObject({ signal: 'error-rate', verdict: 'fired', threshold: 5, values: [20, 20, 20, 20], samples: 4, source: APP_JSON });
    expect(finding.reason).toBe(finding.evaluation!.summary);
    expect(finding.reason).toBe('error rate above 5 % in every sample for 2m: 20 %, 20 %, 20 %, 20 % (4 samples, app-json /metrics)');
  });

  it('judges on a bounded history: the longest window (here monitor.window 5m / 30s) plus two samples', () => {
    const results = runMetrics(Array.from({ length: 30 }, () => ({ errorRatePercent: 1 })));
    expect(metricHistoryLimit(M)).toBe(12);
    const kept = results.at(-1)!.samples;
    expect(kept).toHaveLength(12);
    // The newest ones are kept.
    expect(kept.at(-1)!.at).toBe(iso(29 * 30 * SECOND));
    expect(kept[0]!.at).toBe(iso(18 * 30 * SECOND));
  });

  it('the relative trigger is evaluated only when the context says blue has traffic', () => {
    const s = withMetrics(0, { errorRatePercent: 4 }, { errorRatePercent: 0.5 });
    const without = evaluateMonitorSample(memory(), s, RELATIVE, { blueHasTraffic: false });
    expect(without.evaluations.map((e) => e.signal)).toEqual(['error-rate', 'response-time']);
    const withBlue = evaluateMonitorSample(memory(), s, RELATIVE, { blueHasTraffic: true });
    expect(withBlue.evaluations.map((e) => e.signal)).toEqual(['error-rate', 'response-time', 'relative-error-rate']);
    expect(withBlue.metricSample).toEqual({ at: iso(0), green: reading({ errorRatePercent: 4 }), blue: reading({ errorRatePercent: 0.5 }) });
  });

  it('an unreachable source is inconclusive, never a finding and never clear', () => {
    const results = runMetrics([unreachable(), unreachable(), unreachable(), unreachable(), unreachable()]);
    expect(results.every((r) => r.finding === undefined)).toBe(true);
    expect(results.at(-1)!.evaluations.map((e) => e.verdict)).toEqual(['inconclusive', 'inconclusive']);
  });

  it('content and health findings are quoted before a metric finding in the same sample', () => {
    const three = runMetrics([{ errorRatePercent: 20 }, { errorRatePercent: 20 }, { errorRatePercent: 20 }]).at(-1)!;
    const result = evaluateMonitorSample(three.memory, withMetrics(90 * SECOND, { errorRatePercent: 20 }, undefined, KEVIN_MISSING), M, { ...CTX, history: three.samples });
    expect(result.finding?.trigger).toBe('content');
    // The metric trigger still ran: its conclusion is recorded.
    expect(result.evaluations.find((e) => e.signal === 'error-rate')?.verdict).toBe('fired');
    expect(result.samples).toHaveLength(4);
  });
});
