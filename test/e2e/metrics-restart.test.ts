import { afterEach, describe, expect, it } from 'vitest';
import type { EventView } from '../../src/domain/deployment-view.ts';
import type { Evaluation } from '../../src/domain/metric-triggers.ts';
import { sampleNumberOf } from '../../src/domain/monitor-evaluation.ts';
import { startTrafficCollector, type TrafficCollector } from '../../sandbox/traffic-collector.ts';
import { readStoredDeployment, readStoredMetricSamples, ROLLED_BACK_PATH, expectCompleteAuditTrail, startE2e, type E2eBot } from '../support/e2e-fixtures.ts';
import { metricMonitorYaml } from '../support/metric-harness.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';

/**
 * A restart in the middle of a monitoring window keeps the window's metric samples: the real
 * `kevin-deploy serve` is SIGKILLed while an error-rate breach is building (some breaching
 * samples recorded, not yet sustained long enough), started again on the same database, and the
 * trigger fires on a run that includes the samples taken before the kill — the run continued,
 * it did not start again from zero.
 *
 * Timings: samples every 2 s and a breach must last 8 s (four or more samples), so the kill lands
 * mid-run. A run survives a gap between samples of up to two intervals plus the health timeout;
 * the health timeout is set to 20 s here so that even a restart slowed down by a loaded machine
 * stays within it (with the default 2 s, a restart longer than 6 s rightly starts a new run, and
 * its first sample is recorded as `monitor-resumed`).
 */

let e: E2eBot | undefined;
let traffic: TrafficCollector | undefined;
afterEach(async () => {
  await traffic?.stop();
  traffic = undefined;
  await e?.close();
  e = undefined;
});

function errorRateOf(list: unknown): Evaluation | undefined {
  return (list as Evaluation[] | undefined)?.find((x) => x.signal === 'error-rate');
}

describe('metric monitoring across a SIGKILL and restart', () => {
  it('keeps the samples of a building error-rate breach and fires on the continued run', async () => {
    e = await startE2e({
      monitorWindow: '60s',
      // Only the metric triggers act here (a 500 from / would otherwise also fail the content check).
      monitorExtraYaml: metricMonitorYaml({ errorRate: { thresholdPercent: 5, sustainedFor: '8s' }, contentTrigger: false }),
      editYaml: (yaml) => yaml.replace(/^ {6}interval: 40ms$/m, '      interval: 2s').replace(/^ {6}timeout: 2s$/m, '      timeout: 20s'),
    });
    traffic = startTrafficCollector({ url: e.standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 20 });
    const green = e.upload('v2', { afterTraffic: { errorPercent: 20 } });
    const created = await e.deploy('v2');
    const id = created.id;
    await e.waitForStage(id, 'awaiting_approval');
    await e.approve(id);

    // Wait until the breach is building over at least two samples, then kill the bot at once.
    let building: Evaluation | undefined;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const view = await e.show(id);
      building = errorRateOf(view.evaluations);
      if (building?.verdict === 'building' && building.samples >= 2) break;
      expect(['switching', 'monitoring'], `${view.stage}: ${view.reason}\n${e.tail()}`).toContain(view.stage);
      expect(building?.verdict, 'the breach fired before the kill: the test needs a longer sustainedFor').not.toBe('fired');
      if (Date.now() > deadline) throw new Error(`no building error-rate evaluation: ${JSON.stringify(view.evaluations)}\n${e.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const killedAt = Date.now();
    await e.bot.stop('SIGKILL');

    // The window's samples are in the database, not only in the dead process's memory.
    const stored = readStoredDeployment(e, id);
    expect(stored.stage).toBe('monitoring');
    expect(stored.progress).not.toHaveProperty('metricSamples');
    const storedSamples = readStoredMetricSamples(e, id);
    const breachingBeforeKill = storedSamples.filter((s) => (s.green.errorRatePercent ?? 0) > 5 && Date.parse(s.at) < killedAt);
    expect(breachingBeforeKill.length).toBeGreaterThanOrEqual(2);

    await e.bot.restart();
    const done = await e.waitForStage(id, ['rolled_back', 'succeeded', 'needs_attention', 'failed'], 60_000);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(e.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [e.v1]: 100, [green]: 0 });
    expectCompleteAuditTrail(done, ROLLED_BACK_PATH);

    const started = (done.events ?? []).filter((x) => x.action === 'rollback-started');
    expect(started).toHaveLength(1);
    const firing = started[0]!;
    expect(firing.details.trigger).toBe('error-rate');
    const fired = errorRateOf(firing.details.evaluations)!;
    expect(fired).toMatchObject({ verdict: 'fired', threshold: 5, sustainedForMs: 8000, source: 'app-json /metrics' });

    // Which samples made the firing run: the last `fired.samples` ones, numbered by the persisted counter.
    const sampleEvents: EventView[] = (done.events ?? []).filter((x) => sampleNumberOf(x) !== undefined);
    const numbers = sampleEvents.map((x) => sampleNumberOf(x)!);
    // Nothing lost, nothing doubled: the sample counter survived the restart, from 1, whatever
    // action each sample was recorded under.
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    // The restart was shorter than the gap a run tolerates, so nothing was recorded as unwatched.
    expect(sampleEvents.filter((x) => x.action === 'monitor-resumed')).toEqual([]);
    const last = sampleNumberOf(firing)!;
    const run = sampleEvents.filter((x) => sampleNumberOf(x)! > last - fired.samples);
    expect(run).toHaveLength(fired.samples);
    const before = run.filter((x) => Date.parse(x.at) < killedAt);
    const after = run.filter((x) => Date.parse(x.at) > killedAt);
    expect(before.length, `run samples at ${run.map((x) => x.at).join(', ')}; killed at ${new Date(killedAt).toISOString()}`).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(before.length + after.length).toBe(fired.samples);
    // The samples from before the kill are the very ones that were building then.
    for (const sample of before) expect(errorRateOf(sample.details.evaluations)?.verdict).toBe('building');
  });
});
