import { describe, expect, it } from 'vitest';
import type { TargetSettings } from '../../src/config/schema.ts';
import { evaluateSignal, inconclusiveSignals, metricSignals, type Evaluation, type MetricSample } from '../../src/domain/metric-triggers.ts';
import {
  APP_JSON,
  SECOND,
  deepFreeze,
  iso,
  metricSeries,
  noTraffic,
  reading,
  settings,
  unreachable,
  type SampleSpec,
} from '../support/domain-fixtures.ts';

/**
 * The metric triggers over sample series. The fixture's monitor.interval is 30 s and the seed's
 * defaults apply: error rate > 5 % sustained 2m (4 samples), average response time > 5000 ms
 * sustained 1m (2 samples), minRequests 10.
 *
 * The coverage rule: a sample stands for the interval before it, so a breaching run covers
 * (last.at − first.at) + interval. A fine sample, an inconclusive one (null figure, or fewer
 * requests than minRequests) or a gap of more than 2 × interval ends the run.
 */
const M = settings({ monitor: { metrics: { source: 'app-json' } } });
const RELATIVE = settings({
  monitor: { metrics: { source: 'app-json' }, triggers: { relativeErrorRate: { maxPointsAboveBlue: 2, sustainedFor: '1m' } } },
});
const INTERVAL = 30 * SECOND;

type Signal = ReturnType<typeof metricSignals>[number];

function signalOf(name: Evaluation['signal'], s: TargetSettings = M, blueHasTraffic = false): Signal {
  const found = metricSignals(s, blueHasTraffic).find((x) => x.signal === name);
  if (!found) throw new Error(`no ${name} signal in these settings`);
  return found;
}

const errorRate = (specs: SampleSpec[], s = M) => evaluateSignal(signalOf('error-rate', s), metricSeries(specs), s);
const responseTimes = (ms: Array<number | null>) => metricSeries(ms.map((v) => ({ green: { avgResponseMs: v } })));
const responseTime = (ms: Array<number | null>) => evaluateSignal(signalOf('response-time'), responseTimes(ms), M);

/** Evaluates after each sample, as the monitor does, and returns the verdicts. */
function verdictsOver(samples: MetricSample[], signal: Signal, s = M): Evaluation['verdict'][] {
  return samples.map((_, i) => evaluateSignal(signal, samples.slice(0, i + 1), s).verdict);
}

describe('metricSignals', () => {
  it('none: no metric signal at all', () => {
    expect(metricSignals(settings(), false)).toEqual([]);
    expect(metricSignals(settings(), true)).toEqual([]);
  });

  it('the seed defaults: error rate > 5 % for 2m, average response time > 5000 ms for 1m', () => {
    const signals = metricSignals(M, false);
    expect(signals.map((s) => [s.signal, s.threshold, s.unit, s.sustainedForMs])).toEqual([
      ['error-rate', 5, '%', 120 * SECOND],
      ['response-time', 5000, 'ms', 60 * SECOND],
    ]);
  });

  it('reads thresholds and windows from the settings', () => {
    const s = settings({
      monitor: {
        metrics: { source: 'prometheus', url: 'http://prom.example', errorRate: 'e{version}', avgResponseTime: 'r{version}', requests: 'n{version}' },
        triggers: { errorRate: { thresholdPercent: 2.5, sustainedFor: '90s' }, responseTime: { thresholdMs: 800, sustainedFor: '3m' } },
      },
    });
    expect(metricSignals(s, false).map((x) => [x.signal, x.threshold, x.sustainedForMs])).toEqual([
      ['error-rate', 2.5, 90 * SECOND],
      ['response-time', 800, 180 * SECOND],
    ]);
  });

  it('the relative trigger only when configured AND blue still has traffic', () => {
    expect(metricSignals(M, true).map((s) => s.signal)).toEqual(['error-rate', 'response-time']);
    expect(metricSignals(RELATIVE, false).map((s) => s.signal)).toEqual(['error-rate', 'response-time']);
    const relative = metricSignals(RELATIVE, true);
    expect(relative.map((s) => s.signal)).toEqual(['error-rate', 'response-time', 'relative-error-rate']);
    expect(relative[2]).toMatchObject({ threshold: 2, unit: 'points', sustainedForMs: 60 * SECOND });
  });
});

describe('evaluateSignal: the threshold is strictly "greater than"', () => {
  it.each([
    { name: 'well below', rates: [1, 1, 1, 1], verdict: 'clear' },
    { name: 'exactly at the threshold in every sample (not a breach)', rates: [5, 5, 5, 5], verdict: 'clear' },
    { name: 'just above the threshold in every sample', rates: [5.01, 5.01, 5.01, 5.01], verdict: 'fired' },
    { name: 'just above, but one sample exactly at it', rates: [5.01, 5, 5.01, 5.01], verdict: 'building' },
    { name: 'far above', rates: [80, 90, 100, 100], verdict: 'fired' },
  ])('error rate $name → $verdict', ({ rates, verdict }) => {
    expect(errorRate(rates).verdict).toBe(verdict);
  });

  it.each([
    { name: 'exactly 5000 ms', ms: [5000, 5000], verdict: 'clear' },
    { name: '5001 ms', ms: [5001, 5001], verdict: 'fired' },
    { name: '5001 ms once (30s of 1m)', ms: [5001], verdict: 'building' },
    { name: '4999 ms', ms: [4999, 4999, 4999], verdict: 'clear' },
  ])('response time $name → $verdict', ({ ms, verdict }) => {
    expect(responseTime(ms).verdict).toBe(verdict);
  });
});

describe('evaluateSignal: "sustained for T" coverage', () => {
  it('four breaching samples 30 s apart cover exactly 2m: fired', () => {
    const e = errorRate([6, 7, 8, 9]);
    expect(e.verdict).toBe('fired');
    expect(e.values).toEqual([6, 7, 8, 9]);
    expect(e.samples).toBe(4);
  });

  it('three cover 90s, one interval short of 2m: building, saying how far along', () => {
    const e = errorRate([6, 7, 8]);
    expect(e.verdict).toBe('building');
    expect(e.samples).toBe(3);
    expect(e.summary).toBe('error rate above 5 % for 90s of 2m: 6 %, 7 %, 8 % (app-json /metrics)');
  });

  it('a single breaching sample covers one interval', () => {
    const e = errorRate([1, 1, 9]);
    expect(e.verdict).toBe('building');
    expect(e.values).toEqual([9]);
    expect(e.summary).toBe('error rate above 5 % for 30s of 2m: 9 % (app-json /metrics)');
  });

  it('a longer run keeps firing and quotes every value of the run, not the clean samples before it', () => {
    const e = errorRate([1, 2, 6, 6, 6, 6, 6, 6]);
    expect(e.verdict).toBe('fired');
    expect(e.values).toEqual([6, 6, 6, 6, 6, 6]);
    expect(e.samples).toBe(6);
  });

  it('samples a bit late (gaps ≤ 2 × interval) still count their time: 0, 60 s, 120 s cover 150 s', () => {
    const e = errorRate([
      { atMs: 0, green: { errorRatePercent: 9 } },
      { atMs: 60 * SECOND, green: { errorRatePercent: 9 } },
      { atMs: 120 * SECOND, green: { errorRatePercent: 9 } },
    ]);
    expect(e.verdict).toBe('fired');
    expect(e.samples).toBe(3);
  });

  it('a gap of more than 2 × interval in the middle resets the coverage', () => {
    // 0, 30, 60 breach; nothing for 90 s; then 150, 180, 210 breach: 90 s after the gap, not 2m.
    const specs: SampleSpec[] = [9, 9, 9, { atMs: 150 * SECOND, green: { errorRatePercent: 9 } }, 9, 9];
    const e = errorRate(specs);
    expect(e.verdict).toBe('building');
    expect(e.samples).toBe(3);
    expect(e.summary).toContain('for 90s of 2m');
    // One more sample after the gap completes 2m.
    const after = errorRate([...specs, 9]);
    expect(after.verdict).toBe('fired');
    expect(after.samples).toBe(4);
  });

  it('a gap of just over 2 × interval + the health timeout (62.001 s) breaks the run; exactly that (62 s) does not', () => {
    // A probe of a slow green takes up to health.timeout (2 s in the fixture), and the next sample
    // comes an interval after it ends: such gaps must not break a run.
    const MAX_GAP = 2 * INTERVAL + 2 * SECOND;
    const at = (gapMs: number): SampleSpec[] => [9, 9, { atMs: 30 * SECOND + gapMs, green: { errorRatePercent: 9 } }, 9];
    expect(errorRate(at(MAX_GAP + 1)).samples).toBe(2);
    expect(errorRate(at(MAX_GAP + 1)).verdict).toBe('building');
    expect(errorRate(at(MAX_GAP)).samples).toBe(4);
    expect(errorRate(at(MAX_GAP)).verdict).toBe('fired');
  });

  it('recovery inside the window: one clean sample resets the run', () => {
    expect(errorRate([9, 9, 9, 1]).verdict).toBe('clear');
    const e = errorRate([9, 9, 9, 1, 9, 9]);
    expect(e.verdict).toBe('building');
    expect(e.values).toEqual([9, 9]);
  });

  it('flapping (breach, ok, breach, ok …) never fires, however long it goes on', () => {
    const flapping = metricSeries(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 50 : 1)));
    const verdicts = verdictsOver(flapping, signalOf('error-rate'));
    expect(verdicts).not.toContain('fired');
    expect(verdicts.slice(0, 4)).toEqual(['building', 'clear', 'building', 'clear']);
  });

  it('the run is counted back from the newest sample only: an old sustained breach that recovered is clear', () => {
    expect(errorRate([9, 9, 9, 9, 9, 1, 1]).verdict).toBe('clear');
  });
});

describe('evaluateSignal: inconclusive samples', () => {
  it('fewer requests than minRequests (10) are not judged: inconclusive, not a breach and not clear', () => {
    const e = errorRate([{ green: { errorRatePercent: 50, requests: 9 } }]);
    expect(e.verdict).toBe('inconclusive');
    expect(e.values).toEqual([null]);
    expect(e.summary).toBe('error rate: no conclusive figure (fewer than 10 requests in the sample; app-json /metrics)');
  });

  it('exactly minRequests requests are judged', () => {
    expect(errorRate([{ green: { errorRatePercent: 50, requests: 10 } }]).verdict).toBe('building');
    expect(errorRate([{ green: { errorRatePercent: 1, requests: 10 } }]).verdict).toBe('clear');
  });

  it('minRequests 0 judges even a sample without requests', () => {
    const s = settings({ monitor: { metrics: { source: 'app-json' }, minRequests: 0 } });
    expect(errorRate([{ green: { errorRatePercent: 50, requests: 0 } }], s).verdict).toBe('building');
  });

  it('an unknown request count (the app does not report one) cannot be guarded: the figures are judged as they come', () => {
    expect(errorRate([{ green: { errorRatePercent: 9, requests: null } }]).verdict).toBe('building');
  });

  it('a low-traffic sample in the middle breaks the run', () => {
    const e = errorRate([9, 9, { green: { errorRatePercent: 9, requests: 3 } }, 9, 9]);
    expect(e.verdict).toBe('building');
    expect(e.samples).toBe(2);
    // Five samples 30 s apart would have covered 2m if the low-traffic one counted.
    expect(errorRate([9, 9, 9, 9, 9]).verdict).toBe('fired');
  });

  it('null figures (source unreachable) are inconclusive, quoting the problem and the source', () => {
    const e = errorRate([1, 1, { green: unreachable('unreachable: ECONNREFUSED') }]);
    expect(e.verdict).toBe('inconclusive');
    expect(e.summary).toBe('error rate: no conclusive figure (unreachable: ECONNREFUSED; app-json /metrics)');
    // The window's values show where figures were missing.
    expect(e.values).toEqual([1, 1, null]);
  });

  it('an unreachable sample in the middle of a breach breaks the run', () => {
    const e = errorRate([9, 9, 9, { green: unreachable() }, 9]);
    expect(e.verdict).toBe('building');
    expect(e.samples).toBe(1);
  });

  it('one missing figure does not hide the other: response time missing, error rate judged', () => {
    const samples = metricSeries([{ green: { errorRatePercent: 9, avgResponseMs: null } }, { green: { errorRatePercent: 9, avgResponseMs: null } }]);
    expect(evaluateSignal(signalOf('response-time'), samples, M).verdict).toBe('inconclusive');
    expect(evaluateSignal(signalOf('error-rate'), samples, M).verdict).toBe('building');
  });

  it('a non-finite figure is not judged', () => {
    expect(errorRate([{ green: { errorRatePercent: Number.NaN } }]).verdict).toBe('inconclusive');
  });

  it('a run of unreachable samples is never taken for a pass', () => {
    const samples = metricSeries(Array.from({ length: 12 }, () => ({ green: unreachable() })));
    expect(verdictsOver(samples, signalOf('error-rate'))).toEqual(Array.from({ length: 12 }, () => 'inconclusive'));
  });
});

describe('evaluateSignal: the relative trigger (green worse than blue by more than X points)', () => {
  const relative = () => signalOf('relative-error-rate', RELATIVE, true);
  const pair = (green: number | null, blue: number | null, more: { greenRequests?: number; blueRequests?: number } = {}): SampleSpec => ({
    green: { errorRatePercent: green, requests: more.greenRequests ?? 100 },
    blue: { errorRatePercent: blue, requests: more.blueRequests ?? 100 },
  });

  it('green 4.5 % against blue 1 % (3.5 points) for 1m fires, although 4.5 % is under the absolute 5 %', () => {
    const samples = metricSeries([pair(4.5, 1), pair(4.5, 1)]);
    const e = evaluateSignal(relative(), samples, RELATIVE);
    expect(e).toMatchObject({ signal: 'relative-error-rate', verdict: 'fired', unit: 'points', threshold: 2, values: [3.5, 3.5], samples: 2 });
    expect(e.summary).toContain('3.5 points, 3.5 points');
    expect(e.summary).toContain('2 points');
    expect(evaluateSignal(signalOf('error-rate', RELATIVE, true), samples, RELATIVE).verdict).toBe('clear');
  });

  it('exactly X points worse is not a breach', () => {
    expect(evaluateSignal(relative(), metricSeries([pair(3, 1), pair(3, 1)]), RELATIVE).verdict).toBe('clear');
  });

  it('green better than blue is clear', () => {
    expect(evaluateSignal(relative(), metricSeries([pair(1, 4), pair(1, 4)]), RELATIVE).verdict).toBe('clear');
  });

  it('blue with too little traffic is inconclusive', () => {
    expect(evaluateSignal(relative(), metricSeries([pair(9, 1, { blueRequests: 3 })]), RELATIVE).verdict).toBe('inconclusive');
  });

  it('a sample without blue is inconclusive', () => {
    expect(evaluateSignal(relative(), metricSeries([4.5, 4.5]), RELATIVE).verdict).toBe('inconclusive');
  });

  it("blue's figures unreachable: inconclusive, quoting blue's problem (not a made-up traffic reason)", () => {
    const samples = metricSeries([{ green: { errorRatePercent: 4.5 }, blue: unreachable('HTTP 502 from /metrics') }]);
    const e = evaluateSignal(relative(), samples, RELATIVE);
    expect(e.verdict).toBe('inconclusive');
    expect(e.summary).toContain('HTTP 502 from /metrics');
    expect(e.summary).not.toContain('fewer than 10 requests');
  });
});

describe('evaluateSignal: what an evaluation says', () => {
  it('a fired evaluation carries signal, verdict, threshold, unit, window, values, sample count, source and a summary with the values and the threshold', () => {
    const e = errorRate([20.1, 22, 25, 30]);
    expect(e).toEqual({
      signal: 'error-rate',
      verdict: 'fired',
      threshold: 5,
      unit: '%',
      sustainedForMs: 120 * SECOND,
      values: [20.1, 22, 25, 30],
      samples: 4,
      source: APP_JSON,
      summary: 'error rate above 5 % in every sample for 2m: 20.1 %, 22 %, 25 %, 30 % (4 samples, app-json /metrics)',
    });
  });

  it('a response-time evaluation speaks in ms', () => {
    expect(responseTime([6200, 7000.4])).toEqual({
      signal: 'response-time',
      verdict: 'fired',
      threshold: 5000,
      unit: 'ms',
      sustainedForMs: 60 * SECOND,
      values: [6200, 7000.4],
      samples: 2,
      source: APP_JSON,
      summary: 'average response time above 5000 ms in every sample for 1m: 6200 ms, 7000 ms (2 samples, app-json /metrics)',
    });
  });

  it('a clear evaluation shows the last sustainedFor of samples, the worst value and the threshold', () => {
    const e = errorRate([0.5, 4, 1.2, 2, 3.4, 1]);
    expect(e).toEqual({
      signal: 'error-rate',
      verdict: 'clear',
      threshold: 5,
      unit: '%',
      sustainedForMs: 120 * SECOND,
      values: [1.2, 2, 3.4, 1],
      samples: 4,
      source: APP_JSON,
      summary: 'error rate at most 3.4 % ≤ 5 % over the last 4 conclusive sample(s) (app-json /metrics)',
    });
  });

  it('an app that answers in under a millisecond is said to, not "at most 0 ms"', () => {
    expect(responseTime([0.2, 0.4]).summary).toBe('average response time under 1 ms ≤ 5000 ms over the last 2 conclusive sample(s) (app-json /metrics)');
    expect(responseTime([0.2, 12.4]).summary).toBe('average response time at most 12 ms ≤ 5000 ms over the last 2 conclusive sample(s) (app-json /metrics)');
  });

  it('an inconclusive evaluation still names the threshold and window in its fields', () => {
    const e = errorRate([{ green: noTraffic() }]);
    expect(e).toMatchObject({ signal: 'error-rate', verdict: 'inconclusive', threshold: 5, unit: '%', sustainedForMs: 120 * SECOND, source: APP_JSON });
    expect(e.summary).toBe("error rate: no conclusive figure (no requests in the app's window yet; app-json /metrics)");
  });

  it('the source is the one the newest reading names; without any sample, the configured source', () => {
    expect(errorRate([{ green: { source: 'prometheus' } }]).source).toBe('prometheus');
    expect(evaluateSignal(signalOf('error-rate'), [], M)).toMatchObject({ source: 'app-json', verdict: 'inconclusive', samples: 0 });
  });

  it('is pure: the samples are not touched', () => {
    const samples = deepFreeze(metricSeries([9, 9, 9, 9]));
    expect(evaluateSignal(signalOf('error-rate'), samples, M).verdict).toBe('fired');
  });
});

describe('inconclusiveSignals: enough conclusive samples to have seen a sustained breach', () => {
  const clean = (n: number): SampleSpec[] => Array.from({ length: n }, () => 1);

  it('enough conclusive samples for each signal: nothing inconclusive', () => {
    expect(inconclusiveSignals(metricSeries(clean(4)), M, false)).toEqual([]);
    expect(inconclusiveSignals(metricSeries(clean(11)), M, false)).toEqual([]);
  });

  it('three conclusive samples cover 90s: enough for response time (1m), not for error rate (2m)', () => {
    expect(inconclusiveSignals(metricSeries(clean(3)), M, false)).toEqual(['error rate: 3 conclusive sample(s) cover 90s, less than 2m']);
  });

  it('one conclusive sample: both signals, each with its window', () => {
    expect(inconclusiveSignals(metricSeries(clean(1)), M, false)).toEqual([
      'error rate: 1 conclusive sample(s) cover 30s, less than 2m',
      'average response time: 1 conclusive sample(s) cover 30s, less than 1m',
    ]);
  });

  it('no samples at all is inconclusive, never a pass', () => {
    expect(inconclusiveSignals([], M, false)).toEqual([
      'error rate: 0 conclusive sample(s) cover 0ms, less than 2m',
      'average response time: 0 conclusive sample(s) cover 0ms, less than 1m',
    ]);
  });

  it('a window without traffic quotes the problem of the newest sample', () => {
    const samples = metricSeries(Array.from({ length: 11 }, () => ({ green: noTraffic() })));
    expect(inconclusiveSignals(samples, M, false)).toEqual([
      "error rate: 0 conclusive sample(s) cover 0ms, less than 2m (no requests in the app's window yet)",
      "average response time: 0 conclusive sample(s) cover 0ms, less than 1m (no requests in the app's window yet)",
    ]);
  });

  it('conclusive samples need not be consecutive: four of them anywhere in the window are enough', () => {
    const samples = metricSeries([1, { green: unreachable() }, 1, { green: noTraffic() }, 1, { green: { requests: 2 } }, 1]);
    expect(inconclusiveSignals(samples, M, false)).toEqual([]);
  });

  it('low-traffic samples do not count', () => {
    const samples = metricSeries([1, 1, 1, { green: { requests: 9 } }, { green: { requests: 9 } }]);
    expect(inconclusiveSignals(samples, M, false)).toEqual(['error rate: 3 conclusive sample(s) cover 90s, less than 2m']);
  });

  it('breaching samples are conclusive too (the breach is judged by the triggers, not here)', () => {
    expect(inconclusiveSignals(metricSeries([50, 50, 50, 50]), M, false)).toEqual([]);
  });

  it('source none: nothing to be inconclusive about', () => {
    expect(inconclusiveSignals([], settings(), false)).toEqual([]);
  });

  it('with blue serving and the relative trigger on, samples without blue leave the relative signal inconclusive', () => {
    expect(inconclusiveSignals(metricSeries(clean(4)), RELATIVE, true)).toEqual([
      "green's error rate minus blue's: 0 conclusive sample(s) cover 0ms, less than 1m (blue: not read)",
    ]);
    const withBlue = metricSeries(Array.from({ length: 4 }, () => ({ green: {}, blue: {} })));
    expect(inconclusiveSignals(withBlue, RELATIVE, true)).toEqual([]);
    // After the full switch (blue at 0 %), the relative signal is not asked for.
    expect(inconclusiveSignals(metricSeries(clean(4)), RELATIVE, false)).toEqual([]);
  });

  it("blue's figures unreachable: the relative signal's explanation quotes blue's problem", () => {
    const samples = metricSeries(Array.from({ length: 4 }, () => ({ green: {}, blue: unreachable('HTTP 502 from /metrics') })));
    const problems = inconclusiveSignals(samples, RELATIVE, true);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^green's error rate minus blue's: 0 conclusive sample\(s\) cover 0ms, less than 1m/);
    expect(problems[0]).toContain('HTTP 502 from /metrics');
  });

  it('reads the per-signal windows from the settings', () => {
    const s = settings({ monitor: { metrics: { source: 'app-json' }, triggers: { errorRate: { sustainedFor: '30s' }, responseTime: { sustainedFor: '30s' } } } });
    expect(inconclusiveSignals(metricSeries(clean(1)), s, false)).toEqual([]);
  });

  it('uses the reading helper defaults as conclusive (fixture sanity)', () => {
    expect(reading()).toEqual({ source: APP_JSON, errorRatePercent: 1, avgResponseMs: 120, requests: 100 });
    expect(metricSeries([1, 2]).map((x) => x.at)).toEqual([iso(0), iso(30 * SECOND)]);
  });
});
