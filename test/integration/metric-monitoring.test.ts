import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Evaluation } from '../../src/domain/metric-triggers.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { runCli } from '../support/bot-process.ts';
import { eventsOf, metricMonitorYaml, stagePath, startMetricHarness, type MetricHarness } from '../support/metric-harness.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';

/**
 * Metric-driven monitoring end to end, in process: real traffic through the stand-in's edge
 * (a traffic collector, 20 GET/s), each version's `/metrics` read by the app-json source through
 * the version-override header, and the error-rate / response-time triggers deciding. Windows are
 * short (seconds) and the triggers' sustainedFor matches them; nothing here asserts a duration.
 */

let h: MetricHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ENDED = ['succeeded', 'rolled_back', 'needs_attention', 'failed'] as const;
const SOURCE = 'app-json /metrics';

function evaluation(list: readonly Evaluation[] | unknown, signal: Evaluation['signal']): Evaluation | undefined {
  return (list as Evaluation[] | undefined)?.find((e) => e.signal === signal);
}

/** The rollback of an erroring green names the signal, the values, the threshold, the window, the sample count and the source. */
function expectErrorRateRollback(done: DeploymentView, green: string, v1: string, standInSplit: Record<string, number>, sustainedFor = '500ms'): void {
  const sustainedForMs = sustainedFor.endsWith('ms') ? Number(sustainedFor.slice(0, -2)) : Number(sustainedFor.slice(0, -1)) * 1000;
  expect(done.stage).toBe('rolled_back');
  expect(stagePath(done)).toEqual(['resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'rolling_back', 'rolled_back']);
  expect(done.split).toEqual({ [v1]: 100, [green]: 0 });
  expect(standInSplit).toEqual({ [v1]: 100, [green]: 0 });

  const started = eventsOf(done, 'rollback-started');
  expect(started).toHaveLength(1);
  const details = started[0]!.details as { trigger: string; level: string; cause: string; evaluations: Evaluation[] };
  expect(details.trigger).toBe('error-rate');
  expect(details.level).toBe('critical');
  const fired = evaluation(details.evaluations, 'error-rate')!;
  expect(fired).toMatchObject({ signal: 'error-rate', verdict: 'fired', threshold: 5, unit: '%', sustainedForMs, source: SOURCE });
  // Every value of the run is above the threshold, and the count is the run's length.
  expect(fired.samples).toBeGreaterThanOrEqual(2);
  expect(fired.values).toHaveLength(fired.samples);
  for (const value of fired.values) expect(value).toBeGreaterThan(5);
  expect(fired.summary).toMatch(new RegExp(`^error rate above 5 % in every sample for ${sustainedFor}: [\\d.]+ %(, [\\d.]+ %)+ \\(\\d+ samples, app-json /metrics\\)$`));
  expect(fired.summary).toContain(`(${fired.samples} samples, ${SOURCE})`);

  // The reason says it in words, quoting the same evaluation.
  expect(done.reason).toContain('error-rate trigger (critical)');
  expect(done.reason).toContain(fired.summary);
  expect(done.reason).toMatch(/verified healthy/);
  expect(details.cause).toBe(`error-rate trigger (critical): ${fired.summary}`);

  // The view keeps what the triggers concluded at the last sample.
  expect(evaluation(done.evaluations, 'error-rate')).toMatchObject({ verdict: 'fired', samples: fired.samples, source: SOURCE });
  expect(evaluation(done.evaluations, 'response-time')).toMatchObject({ threshold: 2000, unit: 'ms', source: SOURCE });

  // Each monitoring sample recorded what the triggers saw, so the run can be followed sample by sample.
  const samples = eventsOf(done, 'monitor-sample');
  expect(samples.length).toBeGreaterThan(0);
  for (const sample of samples) {
    expect(evaluation(sample.details.evaluations, 'error-rate')).toMatchObject({ signal: 'error-rate', source: SOURCE });
  }
}

describe('metric-driven monitoring against real traffic through the edge', () => {
  it('rolls back a green that errors 20 % once it gets traffic, by the error-rate trigger, and says why in numbers', async () => {
    // The content trigger is off here so that nothing but the metric triggers can act; the next
    // test runs the same release with the default content trigger on.
    h = await startMetricHarness({ monitorWindow: '3s', monitorExtraYaml: metricMonitorYaml({ contentTrigger: false }) });
    h.startTraffic(20);
    const green = h.upload('v2', { afterTraffic: { errorPercent: 20 } });
    const id = await h.release('v2');
    const done = await h.waitForStage(id, [...ENDED]);
    expectErrorRateRollback(done, green, h.v1, h.standIn.activeSplit(STAND_IN_SCRIPT));
    // Green did have all traffic: the rollback undid a real switch.
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, green)).toBe(100);

    // `kevin-deploy status <id>` shows the evaluations with their verdicts.
    const status = await runCli(['status', id], { KEVIN_DEPLOY_URL: h.bot.url, KEVIN_DEPLOY_API_TOKEN: TOKENS.ops });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/fired:\s+error rate above 5 % in every sample for 500ms/);
  });

  it('rolls back a 20 %-erroring green by the error-rate trigger with the default content trigger on (a 500 from / is an error, not missing KEVIN content)', async () => {
    // The breach must last 2 s (about 20 samples): each sample's probe of `/` lands on one of
    // green's page requests, a fifth of which answer 500, so over a run that long the probe is
    // all but sure to meet one. That 500 is the error rate's business, not a missing KEVIN.
    h = await startMetricHarness({
      monitorWindow: '5s',
      monitorExtraYaml: metricMonitorYaml({ errorRate: { thresholdPercent: 5, sustainedFor: '2s' } }),
    });
    h.startTraffic(20);
    const green = h.upload('v2', { afterTraffic: { errorPercent: 20 } });
    const id = await h.release('v2');
    const done = await h.waitForStage(id, [...ENDED]);
    expect(eventsOf(done, 'rollback-started')[0]?.details.cause).not.toMatch(/^content trigger/);
    expectErrorRateRollback(done, green, h.v1, h.standIn.activeSplit(STAND_IN_SCRIPT), '2s');
  });

  it('rolls back a green that turns slow under traffic, by the response-time trigger', async () => {
    // Samples are spaced by the interval plus the probe's own time (a slow green answers probes
    // slowly too): the interval is chosen above the latency so consecutive samples form a run.
    h = await startMetricHarness({
      monitorWindow: '6s',
      monitorInterval: '500ms',
      monitorExtraYaml: metricMonitorYaml({ responseTime: { thresholdMs: 200, sustainedFor: '1s' }, contentTrigger: false }),
    });
    h.startTraffic(20);
    const green = h.upload('v2-slow', { afterTraffic: { latencyMs: 300 } });
    const id = await h.release('v2-slow');
    const done = await h.waitForStage(id, [...ENDED]);
    expect(done.stage).toBe('rolled_back');
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [green]: 0 });
    const started = eventsOf(done, 'rollback-started')[0]!;
    expect(started.details.trigger).toBe('response-time');
    const fired = evaluation(started.details.evaluations, 'response-time')!;
    expect(fired).toMatchObject({ verdict: 'fired', threshold: 200, unit: 'ms', sustainedForMs: 1000, source: SOURCE });
    expect(fired.samples).toBeGreaterThanOrEqual(2);
    for (const value of fired.values) expect(value).toBeGreaterThan(200);
    expect(fired.summary).toMatch(/^average response time above 200 ms in every sample for 1s: \d+ ms(, \d+ ms)+ \(\d+ samples, app-json \/metrics\)$/);
    expect(done.reason).toContain(`response-time trigger (critical): ${fired.summary}`);
    // The error rate was looked at too, and was fine.
    expect(evaluation(started.details.evaluations, 'error-rate')).toMatchObject({ verdict: 'clear' });
  });

  it('rolls back a green slower than two monitoring intervals by the response-time trigger (slow samples still form a sustained run)', async () => {
    // Every sample of this green takes longer than 2 × interval (its probes are slow too), and
    // every conclusive sample is far above the threshold: it must not escape the trigger.
    h = await startMetricHarness({
      monitorWindow: '4s',
      monitorInterval: '100ms',
      monitorExtraYaml: metricMonitorYaml({ responseTime: { thresholdMs: 200, sustainedFor: '1s' }, contentTrigger: false }),
    });
    h.startTraffic(20);
    h.upload('v2-very-slow', { afterTraffic: { latencyMs: 400 } });
    const id = await h.release('v2-very-slow');
    // Waits for an end, a pause, or (should the release do neither) well past the 4 s window.
    const settled = await h.waitForView(
      id,
      (v) =>
        (ENDED as readonly string[]).includes(v.stage) ||
        v.pausedBecause !== null ||
        (v.stageTimes.monitoring !== undefined && Date.now() > Date.parse(v.stageTimes.monitoring) + 15_000),
      'end, pause, or 15 s of monitoring',
    );
    expect(settled.pausedBecause, 'the window paused instead of the trigger firing').toBeNull();
    expect(settled.stage, settled.reason).toBe('rolled_back');
    expect(eventsOf(settled, 'rollback-started')[0]?.details.trigger).toBe('response-time');
  });

  it('passes a healthy green, and the succeeded reason explains the evaluations', async () => {
    h = await startMetricHarness({ monitorWindow: '3s', monitorExtraYaml: metricMonitorYaml() });
    h.startTraffic(20);
    const green = h.upload('v2');
    const id = await h.release('v2');
    const done = await h.waitForStage(id, [...ENDED]);
    expect(done.stage).toBe('succeeded');
    expect(done.split).toEqual({ [green]: 100, [h.v1]: 0 });
    expect(done.reason).toMatch(
      /^monitoring window of 3s passed clean \(\d+ samples\) — error rate at most [\d.]+ % ≤ 5 % over the last \d+ conclusive sample\(s\) \(app-json \/metrics\); average response time (?:at most \d+ ms|under 1 ms) ≤ 2000 ms over the last \d+ conclusive sample\(s\) \(app-json \/metrics\); v2 \([0-9a-f]{8}\) is the new last-known-good$/,
    );
    expect(evaluation(done.evaluations, 'error-rate')).toMatchObject({ verdict: 'clear', threshold: 5, sustainedForMs: 500, source: SOURCE });
    expect(evaluation(done.evaluations, 'response-time')).toMatchObject({ verdict: 'clear', threshold: 2000, source: SOURCE });
    const passed = eventsOf(done, 'monitoring-passed');
    expect(passed).toHaveLength(1);
    expect(evaluation(passed[0]!.details.evaluations, 'error-rate')?.verdict).toBe('clear');
    expect(eventsOf(done, 'rollback-started')).toEqual([]);
    // The figures were measured on real requests: green served the collector's traffic.
    expect(h.standIn.servedBy(STAND_IN_SCRIPT)[green]).toBeGreaterThan(0);
  });

  describe('a window without enough traffic to judge (no collector)', () => {
    // The sample site's /metrics also counts the bot's own probe of `/` (one page request per
    // sample, over a 60 s window), so "too little traffic" is set well above what the probes add.
    const quiet = { minRequests: 1000 };

    it('pauses instead of passing, then `promote` accepts the release', async () => {
      h = await startMetricHarness({ monitorWindow: '1500ms', monitorExtraYaml: metricMonitorYaml(quiet) });
      const green = h.upload('v2');
      const id = await h.release('v2');
      const paused = await h.waitForView(id, (v) => v.pausedBecause !== null || (ENDED as readonly string[]).includes(v.stage), 'pause');
      expect(paused.stage).toBe('monitoring');
      expect(paused.pausedBecause).toMatch(/^metrics inconclusive — error rate: 0 conclusive sample\(s\) cover 0ms, less than 500ms/);
      expect(paused.pausedBecause).toContain('average response time: 0 conclusive sample(s)');
      expect(paused.reason).toMatch(/^paused: metrics inconclusive — .*\. Promote to accept v2 \([0-9a-f]{8}\), or roll back$/);
      expect(paused.nextCheckAt).toBeNull();
      expect(paused.stageTimes.succeeded).toBeUndefined();
      expect(eventsOf(paused, 'monitoring-passed')).toEqual([]);
      expect(eventsOf(paused, 'paused')).toHaveLength(1);
      for (const e of paused.evaluations) expect(e.verdict).toBe('inconclusive');
      expect(evaluation(paused.evaluations, 'error-rate')?.summary).toMatch(/no conclusive figure \(fewer than 1000 requests in the sample; app-json \/metrics\)/);

      // A paused release waits for a person: five intervals later it has taken no more samples.
      const samplesBefore = eventsOf(paused, 'monitor-sample').length;
      await sleep(500);
      const again = await h.show(id);
      expect(again.stage).toBe('monitoring');
      expect(eventsOf(again, 'monitor-sample')).toHaveLength(samplesBefore);

      const promoted = await h.act(id, 'promote');
      expect(promoted.status).toBe(200);
      expect(promoted.body.stage).toBe('succeeded');
      const done = await h.show(id);
      expect(done.stage).toBe('succeeded');
      expect(done.reason).toMatch(/^accepted by bob \(metrics inconclusive — .*\); v2 \([0-9a-f]{8}\) is the new last-known-good$/);
      expect(eventsOf(done, 'promoted')[0]).toMatchObject({ actor: 'bob', from: 'monitoring', to: 'succeeded' });
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 100, [h.v1]: 0 });
      // Nothing left to promote.
      const twice = await h.act(id, 'promote');
      expect(twice.status).toBe(409);
      expect(twice.body.code).toBe('STALE_ACTION');
    });

    it('rolls back at the end of the window with onInconclusive: rollback', async () => {
      h = await startMetricHarness({ monitorWindow: '1500ms', monitorExtraYaml: metricMonitorYaml({ ...quiet, onInconclusive: 'rollback' }) });
      const green = h.upload('v2');
      const id = await h.release('v2');
      const done = await h.waitForStage(id, [...ENDED]);
      expect(done.stage).toBe('rolled_back');
      expect(done.reason).toMatch(/^rolled back to v1 \([0-9a-f]{8}\) \(metrics inconclusive — error rate: 0 conclusive sample\(s\)/);
      const started = eventsOf(done, 'rollback-started')[0]!;
      expect(started.details.inconclusive).toEqual(expect.arrayContaining([expect.stringMatching(/^error rate: 0 conclusive sample\(s\)/)]));
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [green]: 0 });
    });

    it('extends the window once with onInconclusive: extend, then pauses', async () => {
      h = await startMetricHarness({ monitorWindow: '1s', monitorExtraYaml: metricMonitorYaml({ ...quiet, onInconclusive: 'extend' }) });
      h.upload('v2');
      const id = await h.release('v2');
      const paused = await h.waitForView(id, (v) => v.pausedBecause !== null || (ENDED as readonly string[]).includes(v.stage), 'pause');
      expect(paused.stage).toBe('monitoring');
      const extended = eventsOf(paused, 'window-extended');
      expect(extended).toHaveLength(1);
      expect(extended[0]!.details.reason).toMatch(/^window extended until \S+: metrics inconclusive — /);
      const pausedEvents = eventsOf(paused, 'paused');
      expect(pausedEvents).toHaveLength(1);
      // The pause came after the extended window was watched too.
      expect(Date.parse(pausedEvents[0]!.at)).toBeGreaterThan(Date.parse(extended[0]!.at));
      const sampledAfterExtension = eventsOf(paused, 'monitor-sample').filter((e) => Date.parse(e.at) > Date.parse(extended[0]!.at));
      expect(sampledAfterExtension.length).toBeGreaterThan(0);
      expect(paused.pausedBecause).toMatch(/^metrics inconclusive — /);
    });
  });

  it('shadow mode reports what it would have done and never acts: the erroring release still succeeds', async () => {
    h = await startMetricHarness({ monitorWindow: '3s', monitorExtraYaml: metricMonitorYaml({ mode: 'shadow' }) });
    h.startTraffic(20);
    const green = h.upload('v2', { afterTraffic: { errorPercent: 20 } });
    const id = await h.release('v2');
    // The 3 s window ends on its own in shadow mode as in enforce mode; the generous bound only stops a hung release.
    const done = await h.waitForStage(id, [...ENDED], 20_000);
    expect(done.stage).toBe('succeeded');
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 100, [h.v1]: 0 });
    expect(eventsOf(done, 'rollback-started')).toEqual([]);
    // What each shadow finding says it would have done (recorded on the sample's event).
    const findings = eventsOf(done, 'shadow-finding').map((e) => ({ event: e, finding: (e.details.shadowFinding ?? e.details) as Record<string, unknown> }));
    const errorRate = findings.find((f) => f.finding.trigger === 'error-rate');
    expect(errorRate, `shadow findings: ${JSON.stringify(findings.map((f) => f.finding))}`).toBeDefined();
    expect(errorRate!.finding.wouldHave).toBe('rolled back');
    expect(errorRate!.finding.cause).toMatch(/^error-rate trigger \(critical\): error rate above 5 % in every sample for 500ms: /);
    expect(errorRate!.event.details.reason).toMatch(/^shadow: would have rolled back — error-rate trigger \(critical\): error rate above 5 % in every sample for 500ms: /);
    expect(evaluation(errorRate!.event.details.evaluations, 'error-rate')).toMatchObject({ verdict: 'fired', threshold: 5, source: SOURCE });
    expect(errorRate!.event.from).toBe('monitoring');
  });
});
