import { describe, expect, it } from 'vitest';
import type { TargetSettings } from '../../src/config/schema.ts';
import { SYSTEM_ACTOR } from '../../src/domain/actors.ts';
import { metricHistoryWanted, sampleNumberOf } from '../../src/domain/monitor-evaluation.ts';
import type { Deployment } from '../../src/domain/deployment.ts';
import type { Input } from '../../src/domain/inputs.ts';
import type { Evaluation, MetricSample } from '../../src/domain/metric-triggers.ts';
import { planStep } from '../../src/domain/plan-step.ts';
import type { MetricReading } from '../../src/domain/metric-reading.ts';
import {
  type PlannedDecision,
  decideAndPlan,
  APP_JSON,
  BLUE,
  GREEN,
  HEALTHY_CHECKS,
  MINUTE,
  SECOND,
  accepted,
  at,
  checksFailing,
  inStage,
  iso,
  noTraffic,
  refused,
  sampled,
  settings,
  unreachable,
  recordedHistoryOf,
} from '../support/domain-fixtures.ts';

/**
 * decideAndPlan() while monitoring with a metrics source (app-json): the metric triggers, the
 * inconclusive-window policies, shadow mode, and the persisted sample history. Interval 30 s,
 * window 5m, error rate > 5 % for 2m, response time > 5000 ms for 1m, minRequests 10.
 */
const M = settings({ monitor: { metrics: { source: 'app-json' } } });
const withPolicy = (onInconclusive: 'pause' | 'extend' | 'rollback'): TargetSettings =>
  settings({ monitor: { metrics: { source: 'app-json' }, onInconclusive } });
const SHADOW = settings({ monitor: { metrics: { source: 'app-json' }, mode: 'shadow' } });

const STAGED = { [BLUE.id]: 100, [GREEN.id]: 0 };
const WINDOW_END = 5 * MINUTE;
const INTERVAL = 30 * SECOND;
const HOUR_MS = 60 * MINUTE;

/** Healthy figures on enough traffic. */
function reading0(): Partial<MetricReading> {
  return { errorRatePercent: 0.4, avgResponseMs: 90, requests: 40 };
}

/** Monitoring that started at T0, window ending at T0 + 5m, first sample due at T0. */
const watching = (more: Partial<Deployment> = {}): Deployment => inStage('monitoring', more);

interface Fed {
  decisions: Array<Extract<PlannedDecision, { ok: true }>>;
  last: Deployment;
}

/** Feeds one input per sample time, threading the status as the runner does; stops when a decision leaves monitoring. */
function feed(d: Deployment, inputs: Array<[number, Input]>, s: TargetSettings): Fed {
  const decisions: Fed['decisions'] = [];
  let current = d;
  for (const [ms, input] of inputs) {
    const r = accepted(decideAndPlan(current, input, at(ms), s));
    decisions.push(r);
    current = r.deployment;
    if (current.stage !== 'monitoring') break;
  }
  return { decisions, last: current };
}

/** One sample every 30 s from `fromMs` to `toMs` inclusive, each with `green`'s figures. */
function every(fromMs: number, toMs: number, green: Partial<MetricReading> | MetricReading | ((ms: number) => Partial<MetricReading> | MetricReading)): Array<[number, Input]> {
  const out: Array<[number, Input]> = [];
  for (let ms = fromMs; ms <= toMs; ms += INTERVAL) out.push([ms, sampled(typeof green === 'function' ? green(ms) : green)]);
  return out;
}

describe('decide + metrics: a trigger fires', () => {
  it('a sustained error rate rolls back, and the reason and event name the signal, values, threshold, window, samples and source', () => {
    const { decisions, last } = feed(watching(), every(0, WINDOW_END, { errorRatePercent: 20 }), M);
    // Samples at 0, 30, 60 build; the fourth (90 s) completes 2m.
    expect(decisions.map((r) => r.deployment.stage)).toEqual(['monitoring', 'monitoring', 'monitoring', 'rolling_back']);
    const summary = 'error rate above 5 % in every sample for 2m: 20 %, 20 %, 20 %, 20 % (4 samples, app-json /metrics)';
    const cause = `error-rate trigger (critical): ${summary}`;
    expect(last.reason).toBe(`rolling back to v1 (aaaaaaaa): ${cause}`);
    expect(last.progress).toMatchObject({ targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: cause, samplesTaken: 4 });
    expect(last.wakeAt).toBe(iso(90 * SECOND));

    const final = decisions.at(-1)!;
    expect(final.events).toHaveLength(1);
    const e = final.events[0]!;
    expect(e).toMatchObject({ action: 'rollback-started', actor: SYSTEM_ACTOR, fromStage: 'monitoring', toStage: 'rolling_back' });
    expect(e.details).toMatchObject({ cause, trigger: 'error-rate', level: 'critical', sample: 4, checks: HEALTHY_CHECKS });
    const evaluations = e.details['evaluations'] as Evaluation[];
    expect(evaluations.find((x) => x.signal === 'error-rate')).toEqual({
      signal: 'error-rate',
      verdict: 'fired',
      threshold: 5,
      unit: '%',
      sustainedForMs: 2 * MINUTE,
      values: [20, 20, 20, 20],
      samples: 4,
      source: APP_JSON,
      summary,
    });
    expect(final.intents).toEqual([{ type: 'apply-split', split: STAGED }]);
  });

  it('while the breach builds, the monitor keeps watching and records what the triggers concluded', () => {
    const { decisions } = feed(watching(), every(0, 60 * SECOND, { errorRatePercent: 20 }), M);
    const third = decisions[2]!.deployment;
    expect(third.stage).toBe('monitoring');
    expect(third.wakeAt).toBe(iso(90 * SECOND));
    expect(third.progress.lastEvaluations?.find((x) => x.signal === 'error-rate')).toMatchObject({ verdict: 'building', values: [20, 20, 20] });
    expect(decisions[2]!.events[0]).toMatchObject({ action: 'monitor-sample' });
    expect(decisions[2]!.events[0]!.details['evaluations']).toEqual(third.progress.lastEvaluations);
  });

  it('a slow response time (> 5000 ms for 1m) rolls back after two samples', () => {
    const { decisions, last } = feed(watching(), every(0, WINDOW_END, { avgResponseMs: 7200 }), M);
    expect(decisions).toHaveLength(2);
    expect(last.stage).toBe('rolling_back');
    expect(last.progress.rollbackCause).toBe(
      'response-time trigger (critical): average response time above 5000 ms in every sample for 1m: 7200 ms, 7200 ms (2 samples, app-json /metrics)',
    );
  });

  it('a recovery before the run covers 2m does not roll back', () => {
    const figures = (ms: number) => ({ errorRatePercent: ms < 90 * SECOND ? 20 : 1 });
    const { last } = feed(watching(), every(0, WINDOW_END, figures), M);
    expect(last.stage).toBe('succeeded');
  });

  describe('a breach still building when the window ends', () => {
    // Clean until 3m30s, then 20 % from 4m: at the window end (5m) the run covers 90 s of 2m.
    const lateBreach = (ms: number) => ({ errorRatePercent: ms >= 4 * MINUTE ? 20 : 1 });

    it('is not a pass: green is breaching right now, so the window is watched on (as with a failing health check)', () => {
      const { decisions, last } = feed(watching(), every(0, WINDOW_END, lateBreach), M);
      expect(decisions.map((r) => r.deployment.stage)).not.toContain('succeeded');
      expect(last.stage).toBe('monitoring');
      expect(last.wakeAt).toBe(iso(WINDOW_END + INTERVAL));
    });

    it('if the breach goes on, the trigger fires after the window end', () => {
      const { last } = feed(watching(), every(0, WINDOW_END + INTERVAL, lateBreach), M);
      expect(last.stage).toBe('rolling_back');
      expect(last.progress.rollbackCause).toMatch(/^error-rate trigger \(critical\): error rate above 5 % in every sample for 2m: 20 %, 20 %, 20 %, 20 %/);
    });

    it('if it clears, the window passes on that clean sample', () => {
      const clearsAfterEnd = (ms: number) => ({ errorRatePercent: ms >= 4 * MINUTE && ms <= WINDOW_END ? 20 : 1 });
      const { last } = feed(watching(), every(0, WINDOW_END + INTERVAL, clearsAfterEnd), M);
      expect(last.stage).toBe('succeeded');
    });
  });

  it('the content trigger still wins over a metric trigger in the same sample', () => {
    const three = feed(watching(), every(0, 60 * SECOND, { errorRatePercent: 20 }), M).last;
    const kevinMissing = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
    const r = accepted(decideAndPlan(three, sampled({ errorRatePercent: 20 }, { checks: kevinMissing }), at(90 * SECOND), M));
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress.rollbackCause).toMatch(/^content trigger \(emergency\)/);
  });
});

describe('decide + metrics: a clean, conclusive window', () => {
  it('succeeds at the window end, quoting each signal\'s evaluation', () => {
    const { decisions, last } = feed(watching(), every(0, WINDOW_END, { errorRatePercent: 1.2, avgResponseMs: 180 }), M);
    expect(decisions.map((r) => r.deployment.stage).slice(0, -1).every((s) => s === 'monitoring')).toBe(true);
    expect(last.stage).toBe('succeeded');
    expect(decisions).toHaveLength(11);
    expect(last.reason).toBe(
      'monitoring window of 5m passed clean (11 samples) — ' +
        'error rate at most 1.2 % ≤ 5 % over the last 4 conclusive sample(s) (app-json /metrics); ' +
        'average response time at most 180 ms ≤ 5000 ms over the last 2 conclusive sample(s) (app-json /metrics); ' +
        'v2 (bbbbbbbb) is the new last-known-good',
    );
    const e = decisions.at(-1)!.events[0]!;
    expect(e).toMatchObject({ action: 'monitoring-passed', toStage: 'succeeded' });
    expect((e.details['evaluations'] as Evaluation[]).map((x) => [x.signal, x.verdict, x.threshold, x.samples, x.source])).toEqual([
      ['error-rate', 'clear', 5, 4, APP_JSON],
      ['response-time', 'clear', 5000, 2, APP_JSON],
    ]);
    expect(decisions.at(-1)!.intents).toEqual([{ type: 'none' }]);
  });

  it('traffic that arrives late in the window is enough when it covers every signal\'s window', () => {
    // No traffic for the first 3m; 5 conclusive samples (3m … 5m) cover 2m30s.
    const figures = (ms: number) => (ms < 3 * MINUTE ? noTraffic() : reading0());
    expect(feed(watching(), every(0, WINDOW_END, figures), M).last.stage).toBe('succeeded');
  });
});

describe('decide + metrics: an inconclusive window is never a silent pass', () => {
  const noTrafficWindow = every(0, WINDOW_END, noTraffic());

  it('pause (the default): stays monitoring, waits for a person, and says why', () => {
    expect(M.monitor.onInconclusive).toBe('pause');
    const { decisions, last } = feed(watching(), noTrafficWindow, M);
    expect(decisions.map((r) => r.deployment.stage)).not.toContain('succeeded');
    expect(last.stage).toBe('monitoring');
    expect(last.wakeAt).toBeNull();
    const why =
      "metrics inconclusive — error rate: 0 conclusive sample(s) cover 0ms, less than 2m (no requests in the app's window yet); " +
      "average response time: 0 conclusive sample(s) cover 0ms, less than 1m (no requests in the app's window yet)";
    expect(last.progress.pausedBecause).toBe(why);
    expect(last.reason).toBe(`paused: ${why}. Promote to accept v2 (bbbbbbbb), or roll back`);
    const final = decisions.at(-1)!;
    expect(final.events[0]).toMatchObject({ action: 'paused', fromStage: 'monitoring', toStage: 'monitoring' });
    expect(final.events[0]!.details['inconclusive']).toEqual([
      "error rate: 0 conclusive sample(s) cover 0ms, less than 2m (no requests in the app's window yet)",
      "average response time: 0 conclusive sample(s) cover 0ms, less than 1m (no requests in the app's window yet)",
    ]);
    // The evaluations behind the pause carry the thresholds, windows and source.
    expect((final.events[0]!.details['evaluations'] as Evaluation[]).map((x) => [x.signal, x.verdict, x.threshold, x.sustainedForMs, x.source])).toEqual([
      ['error-rate', 'inconclusive', 5, 2 * MINUTE, APP_JSON],
      ['response-time', 'inconclusive', 5000, MINUTE, APP_JSON],
    ]);
    expect(final.intents).toEqual([{ type: 'wait', until: null }]);
    expect(planStep(last, at(WINDOW_END + HOUR_MS), M)).toEqual({ type: 'wait', until: null });
  });

  it('a source that cannot be reached pauses too, quoting the problem', () => {
    const { last } = feed(watching(), every(0, WINDOW_END, unreachable('unreachable: ECONNREFUSED')), M);
    expect(last.stage).toBe('monitoring');
    expect(last.progress.pausedBecause).toContain('(unreachable: ECONNREFUSED)');
  });

  it('only the signals without enough conclusive samples are named', () => {
    // Traffic only for the last three samples (4m … 5m): 90 s, enough for response time (1m) but not error rate (2m).
    const figures = (ms: number) => (ms < 4 * MINUTE ? noTraffic() : reading0());
    const { last } = feed(watching(), every(0, WINDOW_END, figures), M);
    expect(last.progress.pausedBecause).toBe('metrics inconclusive — error rate: 3 conclusive sample(s) cover 90s, less than 2m');
  });

  it('promote on a paused window → succeeded, accepted by the person, quoting why it had paused', () => {
    const paused = feed(watching(), noTrafficWindow, M).last;
    const now = at(WINDOW_END + 10 * MINUTE);
    const r = accepted(decideAndPlan(paused, { type: 'promote', actor: 'carol' }, now, M));
    expect(r.deployment.stage).toBe('succeeded');
    expect(r.deployment.reason).toBe(`accepted by carol (${paused.progress.pausedBecause}); v2 (bbbbbbbb) is the new last-known-good`);
    expect(r.events).toEqual([
      expect.objectContaining({ action: 'promoted', actor: 'carol', fromStage: 'monitoring', toStage: 'succeeded' }),
    ]);
    expect(r.events[0]!.details).toMatchObject({ promotedBy: 'carol' });
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('rollback on a paused window → rolling_back', () => {
    const paused = feed(watching(), noTrafficWindow, M).last;
    const r = accepted(decideAndPlan(paused, { type: 'rollback', actor: 'carol' }, at(WINDOW_END + MINUTE), M));
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress.targetSplit).toEqual(STAGED);
  });

  it('extend: the window is extended once (by monitor.window), then it pauses', () => {
    const s = withPolicy('extend');
    const first = feed(watching(), noTrafficWindow, s);
    const extended = first.last;
    expect(extended.stage).toBe('monitoring');
    expect(extended.progress.monitorEndsAt).toBe(iso(2 * WINDOW_END));
    expect(extended.progress.extensions).toBe(1);
    expect(extended.progress.pausedBecause).toBeUndefined();
    expect(extended.wakeAt).toBe(iso(WINDOW_END + INTERVAL));
    expect(extended.reason).toMatch(new RegExp(`^window extended until ${iso(2 * WINDOW_END).replace(/[.]/g, '\\.')}: metrics inconclusive — `));
    expect(first.decisions.at(-1)!.events[0]).toMatchObject({ action: 'window-extended' });

    // Still nothing to judge at the new end: pause, never a pass, never a second extension.
    const second = feed(extended, every(WINDOW_END + INTERVAL, 2 * WINDOW_END, noTraffic()), s);
    expect(second.decisions.map((r) => r.deployment.stage)).not.toContain('succeeded');
    expect(second.last.stage).toBe('monitoring');
    expect(second.last.progress.pausedBecause).toMatch(/^metrics inconclusive — /);
    expect(second.last.progress.extensions).toBe(1);
    expect(second.last.wakeAt).toBeNull();
  });

  it('extend: traffic that arrives during the extension lets the window pass', () => {
    const s = withPolicy('extend');
    const extended = feed(watching(), noTrafficWindow, s).last;
    const { last } = feed(extended, every(WINDOW_END + INTERVAL, 2 * WINDOW_END, reading0()), s);
    expect(last.stage).toBe('succeeded');
  });

  it('rollback: an inconclusive window rolls back, saying why', () => {
    const { decisions, last } = feed(watching(), noTrafficWindow, withPolicy('rollback'));
    expect(last.stage).toBe('rolling_back');
    expect(last.progress.rollbackCause).toMatch(/^metrics inconclusive — error rate: 0 conclusive sample\(s\)/);
    expect(last.reason).toBe(`rolling back to v1 (aaaaaaaa): ${last.progress.rollbackCause}`);
    expect(decisions.at(-1)!.events[0]).toMatchObject({ action: 'rollback-started', toStage: 'rolling_back' });
    expect(decisions.at(-1)!.events[0]!.details['inconclusive']).toHaveLength(2);
  });

  it('a window with no metric samples at all (the runner could not read any) is inconclusive too', () => {
    const checksOnly: Array<[number, Input]> = [];
    for (let ms = 0; ms <= WINDOW_END; ms += INTERVAL) checksOnly.push([ms, { type: 'checks', results: HEALTHY_CHECKS }]);
    const { last } = feed(watching(), checksOnly, M);
    expect(last.stage).toBe('monitoring');
    expect(last.progress.pausedBecause).toBe(
      'metrics inconclusive — error rate: 0 conclusive sample(s) cover 0ms, less than 2m; average response time: 0 conclusive sample(s) cover 0ms, less than 1m',
    );
  });

  it('promote on a window that is not paused is refused', () => {
    const r = refused(decideAndPlan(watching(), { type: 'promote', actor: 'carol' }, at(MINUTE), M));
    expect(r.code).toBe('STALE_ACTION');
  });
});

describe('decide + metrics: shadow mode', () => {
  it('a firing trigger records a shadow-finding and keeps monitoring; the window then succeeds', () => {
    const figures = (ms: number) => ({ errorRatePercent: ms <= 90 * SECOND ? 20 : 1 });
    const { decisions, last } = feed(watching(), every(0, WINDOW_END, figures), SHADOW);
    const fired = decisions[3]!;
    const cause =
      'error-rate trigger (critical): error rate above 5 % in every sample for 2m: 20 %, 20 %, 20 %, 20 % (4 samples, app-json /metrics)';
    expect(fired.deployment.stage).toBe('monitoring');
    expect(fired.deployment.reason).toBe(`shadow: would have rolled back — ${cause}`);
    expect(fired.deployment.wakeAt).toBe(iso(120 * SECOND));
    expect(fired.events).toHaveLength(1);
    expect(fired.events[0]).toMatchObject({ action: 'shadow-finding', fromStage: 'monitoring', toStage: 'monitoring' });
    expect(fired.events[0]!.details.shadowFinding).toMatchObject({ trigger: 'error-rate', level: 'critical', wouldHave: 'rolled back', cause });
    expect(fired.intents).toEqual([{ type: 'wait', until: iso(120 * SECOND) }]);
    // Traffic never moved.
    expect(decisions.some((r) => r.deployment.progress.targetSplit !== undefined)).toBe(false);
    expect(last.stage).toBe('succeeded');
  });

  it('a content failure is reported, not acted on', () => {
    const kevinMissing = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
    const r = accepted(decideAndPlan(watching(), sampled({}, { checks: kevinMissing }), at(0), SHADOW));
    expect(r.deployment.stage).toBe('monitoring');
    expect(r.events[0]).toMatchObject({ action: 'shadow-finding' });
    expect(r.events[0]!.details.shadowFinding).toMatchObject({ trigger: 'content', level: 'emergency' });
  });

  it('a breach that lasts to the end of the window does not keep the release monitoring forever', () => {
    // Shadow mode must not change the outcome: with clean health checks the window ends at its end.
    const { last } = feed(watching(), every(0, WINDOW_END + 10 * MINUTE, { errorRatePercent: 20 }), SHADOW);
    expect(last.stage).toBe('succeeded');
  });

  it('an inconclusive window does not pause in shadow mode; what it would have done is recorded', () => {
    const { decisions, last } = feed(watching(), every(0, WINDOW_END, noTraffic()), SHADOW);
    expect(last.stage).toBe('succeeded');
    expect(decisions.at(-1)!.events[0]!.details['shadowInconclusive']).toHaveLength(2);
  });
});

describe('decide + metrics: the sample history is recorded beside the status, one sample at a time', () => {
  it('each sample with figures is handed back to be recorded; the status itself carries no history', () => {
    const { decisions, last } = feed(watching(), every(0, 60 * SECOND, { errorRatePercent: 2 }), M);
    expect(decisions.map((r) => [r.metricSample?.at, r.metricSample?.green.errorRatePercent])).toEqual([
      [iso(0), 2],
      [iso(30 * SECOND), 2],
      [iso(60 * SECOND), 2],
    ]);
    expect(JSON.stringify(last)).not.toContain('errorRatePercent');
    expect(recordedHistoryOf(last).map((x) => x.at)).toEqual([iso(0), iso(30 * SECOND), iso(60 * SECOND)]);
  });

  it('asks for a bounded history (longest window / interval + 2 = 12 here, less the sample being judged)', () => {
    const long = watching({ progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: iso(HOUR_MS) } });
    expect(metricHistoryWanted(long.progress, M)).toEqual({ since: iso(), limit: 11 });
    const { last } = feed(long, every(0, 29 * INTERVAL, { errorRatePercent: 1 }), M);
    expect(last.stage).toBe('monitoring');
    expect(last.progress.samplesTaken).toBe(30);
    // Without a metrics source there is nothing to read back.
    expect(metricHistoryWanted(long.progress, settings())).toBeUndefined();
  });

  it('a restarted bot (status and history read back from the store) continues the run where it was', () => {
    const three = feed(watching(), every(0, 60 * SECOND, { errorRatePercent: 20 }), M).last;
    const reloaded = JSON.parse(JSON.stringify(three)) as Deployment;
    const history = JSON.parse(JSON.stringify(recordedHistoryOf(three))) as MetricSample[];
    const r = accepted(decideAndPlan(reloaded, sampled({ errorRatePercent: 20 }, { history }), at(90 * SECOND), M));
    expect(r.deployment.stage).toBe('rolling_back');
    // Without the history, the same sample would only start a run.
    expect(accepted(decideAndPlan(reloaded, sampled({ errorRatePercent: 20 }, { history: [] }), at(90 * SECOND), M)).deployment.stage).toBe('monitoring');
  });

  it('time the bot did not watch (down 4 min mid-window) is added to the window, and the event says so', () => {
    const before = feed(watching(), every(0, INTERVAL, { errorRatePercent: 1 }), M).last;
    expect(before.progress.lastWatchedAt).toBe(iso(INTERVAL));
    const back = 4 * MINUTE + INTERVAL;
    const resumed = accepted(decideAndPlan(before, sampled({ errorRatePercent: 1 }), at(back), M));
    // The previous sample was 4 min back; one interval of that was a normal wait, the rest unwatched.
    const unwatchedMs = back - INTERVAL - INTERVAL;
    expect(resumed.deployment.progress).toMatchObject({ monitorEndsAt: iso(WINDOW_END + unwatchedMs), unwatchedMs, lastWatchedAt: iso(back) });
    expect(resumed.events[0]).toMatchObject({ action: 'monitor-resumed' });
    expect(resumed.events[0]!.details['unwatched']).toEqual({ ms: unwatchedMs, from: iso(INTERVAL), to: iso(back), windowEndsAt: iso(WINDOW_END + unwatchedMs) });
    expect(resumed.deployment.reason).toContain(`not watched for 210s since ${iso(INTERVAL)}`);
    // The resumed sample is numbered on from the persisted counter, like any other sample.
    expect(sampleNumberOf(resumed.events[0]!)).toBe((before.progress.samplesTaken ?? 0) + 1);
    expect(resumed.deployment.progress.samplesTaken).toBe((before.progress.samplesTaken ?? 0) + 1);

    // At the original end it is still watching; it passes at the moved end, on conclusive samples.
    const { decisions, last } = feed(resumed.deployment, every(back + INTERVAL, WINDOW_END + unwatchedMs, { errorRatePercent: 1 }), M);
    expect(decisions.find((r) => r.deployment.stage !== 'monitoring')).toBe(decisions.at(-1));
    expect(last.stage).toBe('succeeded');
    expect(last.stageTimes.succeeded).toBe(iso(WINDOW_END + unwatchedMs));
  });

  it('a late sample within one watch (two intervals plus the health timeout) moves nothing', () => {
    const before = feed(watching(), every(0, INTERVAL, { errorRatePercent: 1 }), M).last;
    const late = INTERVAL + 2 * INTERVAL + 2 * SECOND; // exactly the allowed gap
    const r = accepted(decideAndPlan(before, sampled({ errorRatePercent: 1 }), at(late), M));
    expect(r.deployment.progress.monitorEndsAt).toBe(iso(WINDOW_END));
    expect(r.deployment.progress.unwatchedMs).toBeUndefined();
    expect(r.events[0]).toMatchObject({ action: 'monitor-sample' });
  });

  it('a new monitoring window (the next canary step, or a new switch) starts with an empty history', () => {
    const switching = inStage('switching', { progress: { attempt: 0, targetSplit: { [GREEN.id]: 100, [BLUE.id]: 0 } } });
    const r = accepted(decideAndPlan(switching, { type: 'split-verified', split: { [GREEN.id]: 100, [BLUE.id]: 0 } }, at(SECOND), M));
    // Samples recorded before the window started are not asked for.
    expect(metricHistoryWanted(r.deployment.progress, M)).toEqual({ since: iso(SECOND), limit: 11 });
  });

  it('the probe planned while monitoring asks for green\'s figures', () => {
    const r = accepted(decideAndPlan(watching(), sampled(), at(0), M));
    expect(r.intents).toEqual([{ type: 'wait', until: iso(INTERVAL) }]);
    expect(planStep(r.deployment, at(INTERVAL), M)).toEqual({
      type: 'probe',
      subject: { kind: 'version', versionId: GREEN.id },
      purpose: 'monitor',
      metrics: { green: GREEN.id },
    });
  });
});
