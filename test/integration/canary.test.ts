import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Evaluation } from '../../src/domain/metric-triggers.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { eventsOf, metricMonitorYaml, stagePath, startMetricHarness, type MetricHarness } from '../support/metric-harness.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';

/**
 * Canary releases against the Cloudflare stand-in: green's share rises step by step (10 → 50 →
 * 100), each step baked and judged on real traffic before the next; a failing step rolls back to
 * blue; a manual gate waits for a person; and no switch happens while blue could not be deployed
 * again without an explicit override.
 */

let h: MetricHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ENDED = ['succeeded', 'rolled_back', 'needs_attention', 'failed', 'rejected', 'expired', 'cancelled'] as const;

function canaryYaml(options: { bakeTime: string; manualGate?: boolean }): string {
  return `    strategy: { type: canary, steps: [10, 50, 100], bakeTime: ${options.bakeTime}${options.manualGate ? ', manualGate: true' : ''} }`;
}

/** The splits the release itself applied on the stand-in, after staging green at 0 %. */
function releaseSwitches(harness: MetricHarness, before: number): Array<Record<string, number>> {
  return harness.standIn.effectiveSwitches(STAND_IN_SCRIPT).slice(before);
}

describe('canary releases', () => {
  it('walks a healthy green 10 → 50 → 100 % on real traffic and succeeds, with exactly those splits applied in order', async () => {
    h = await startMetricHarness({
      monitorWindow: '1s',
      monitorExtraYaml: metricMonitorYaml({ contentTrigger: false }),
      extraServiceYaml: canaryYaml({ bakeTime: '1s' }),
    });
    h.startTraffic(20);
    const green = h.upload('v2');
    const seeded = h.standIn.effectiveSwitches(STAND_IN_SCRIPT).length; // v1 at 100 %
    const id = await h.release('v2');

    // The view shows where the canary is while it bakes.
    const first = await h.waitForView(id, (v) => v.stage === 'monitoring' && v.canary?.step === 1, 'bake step 1');
    expect(first.canary).toEqual({ step: 1, steps: 3, percent: 10, awaitingPromotion: false });
    expect(first.split).toEqual({ [green]: 10, [h.v1]: 90 });
    const intoMonitoring = (first.events ?? []).filter((e) => e.action === 'stage-changed' && e.to === 'monitoring');
    expect(intoMonitoring.at(-1)?.details.reason).toMatch(/^step 1 of 3: 10 % of traffic on v2 \([0-9a-f]{8}\); watching until /);
    const second = await h.waitForView(id, (v) => v.stage === 'monitoring' && v.canary?.step === 2, 'bake step 2');
    expect(second.canary).toEqual({ step: 2, steps: 3, percent: 50, awaitingPromotion: false });

    const done = await h.waitForStage(id, [...ENDED]);
    expect(done.stage).toBe('succeeded');
    expect(done.canary).toMatchObject({ step: 3, steps: 3, percent: 100 });
    expect(done.split).toEqual({ [green]: 100, [h.v1]: 0 });
    expect(releaseSwitches(h, seeded)).toEqual([
      { [h.v1]: 100, [green]: 0 }, // staging
      { [green]: 10, [h.v1]: 90 },
      { [green]: 50, [h.v1]: 50 },
      { [green]: 100, [h.v1]: 0 },
    ]);
    // Each intermediate step passed on its own evidence before the next began.
    const passed = eventsOf(done, 'step-passed');
    expect(passed.map((e) => e.details.reason)).toEqual([
      expect.stringMatching(/^step 1 of 3 \(10 %\) passed — error rate at most .*; step 2 of 3: 50 % of traffic to v2/),
      expect.stringMatching(/^step 2 of 3 \(50 %\) passed — error rate at most .*; step 3 of 3: 100 % of traffic to v2/),
    ]);
    expect(stagePath(done)).toEqual([
      'resolving', 'staging', 'verifying', 'awaiting_approval',
      'switching', 'monitoring', 'switching', 'monitoring', 'switching', 'monitoring', 'succeeded',
    ]);
    // The steps were judged on figures green really served.
    expect((done.evaluations as Evaluation[]).find((e) => e.signal === 'error-rate')).toMatchObject({ verdict: 'clear', source: 'app-json /metrics' });
  });

  it('rolls a canary that starts erroring at 10 % back to blue 100 %, never going on to 50 %', async () => {
    h = await startMetricHarness({
      monitorWindow: '3s',
      monitorExtraYaml: metricMonitorYaml({ contentTrigger: false }),
      extraServiceYaml: canaryYaml({ bakeTime: '3s' }),
    });
    h.startTraffic(20);
    const green = h.upload('v2-bad', { afterTraffic: { errorPercent: 50 } });
    const id = await h.release('v2-bad');
    const done = await h.waitForStage(id, [...ENDED]);
    expect(done.stage).toBe('rolled_back');
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, green)).toBe(10);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [green]: 0 });
    expect(done.split).toEqual({ [h.v1]: 100, [green]: 0 });
    const started = eventsOf(done, 'rollback-started');
    expect(started).toHaveLength(1);
    expect(started[0]!.details.trigger).toBe('error-rate');
    expect(done.reason).toMatch(/^rolled back to v1 \([0-9a-f]{8}\) \(error-rate trigger \(critical\): error rate above 5 % in every sample for 500ms: /);
    expect(eventsOf(done, 'step-passed')).toEqual([]);
    expect(done.canary).toMatchObject({ step: 1, percent: 10 });
  });

  describe('with a manual gate between steps', () => {
    const gated = { monitorWindow: '300ms', extraServiceYaml: canaryYaml({ bakeTime: '300ms', manualGate: true }) };

    it('waits at each gate until someone promotes, and the view says so', async () => {
      h = await startMetricHarness(gated);
      const green = h.upload('v2');
      const seeded = h.standIn.effectiveSwitches(STAND_IN_SCRIPT).length;
      const created = await h.deploy('v2');
      await h.waitForStage(created.body.id, 'awaiting_approval');
      const early = await h.act(created.body.id, 'promote');
      expect(early.status).toBe(409);
      expect(early.body.code).toBe('STALE_ACTION');
      await h.act(created.body.id, 'approve');
      const id = created.body.id;

      const gate1 = await h.waitForView(id, (v) => v.canary?.awaitingPromotion === true || (ENDED as readonly string[]).includes(v.stage), 'gate 1');
      expect(gate1.stage).toBe('monitoring');
      expect(gate1.canary).toEqual({ step: 1, steps: 3, percent: 10, awaitingPromotion: true });
      expect(gate1.nextCheckAt).toBeNull();
      expect(gate1.reason).toMatch(/^step 1 of 3 \(10 %\) passed.*\. Promote to 50 % or abort$/);
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 10, [h.v1]: 90 });
      // Waiting for a person: five intervals later nothing has moved and no more samples were taken.
      const samplesAtGate = eventsOf(gate1, 'monitor-sample').length;
      await sleep(500);
      const still = await h.show(id);
      expect(still.canary?.awaitingPromotion).toBe(true);
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 10, [h.v1]: 90 });
      expect(eventsOf(still, 'monitor-sample')).toHaveLength(samplesAtGate);

      const promoted = await h.act(id, 'promote');
      expect(promoted.status).toBe(200);
      expect(promoted.body.stage).toBe('switching');
      const gate2 = await h.waitForView(id, (v) => (v.canary?.awaitingPromotion === true && v.canary.step === 2) || (ENDED as readonly string[]).includes(v.stage), 'gate 2');
      expect(gate2.canary).toEqual({ step: 2, steps: 3, percent: 50, awaitingPromotion: true });
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 50, [h.v1]: 50 });

      expect((await h.act(id, 'promote')).status).toBe(200);
      const done = await h.waitForStage(id, [...ENDED]);
      expect(done.stage).toBe('succeeded');
      expect(eventsOf(done, 'promoted').map((e) => e.actor)).toEqual(['bob', 'bob']);
      expect(releaseSwitches(h, seeded)).toEqual([
        { [h.v1]: 100, [green]: 0 },
        { [green]: 10, [h.v1]: 90 },
        { [green]: 50, [h.v1]: 50 },
        { [green]: 100, [h.v1]: 0 },
      ]);
    });

    it('aborts at the gate with rollback: blue gets 100 % back and green never goes past 10 %', async () => {
      h = await startMetricHarness(gated);
      const green = h.upload('v2');
      const id = await h.release('v2');
      await h.waitForView(id, (v) => v.canary?.awaitingPromotion === true || (ENDED as readonly string[]).includes(v.stage), 'gate 1');
      const aborted = await h.act(id, 'rollback', { note: 'not today' }, TOKENS.alice);
      expect(aborted.status).toBe(200);
      expect(aborted.body.stage).toBe('rolling_back');
      const done = await h.waitForStage(id, [...ENDED]);
      expect(done.stage).toBe('rolled_back');
      expect(done.reason).toMatch(/manual rollback by alice: not today/);
      expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, green)).toBe(10);
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [green]: 0 });
      const late = await h.act(id, 'promote');
      expect(late.status).toBe(409);
    });
  });

  describe('rollback readiness', () => {
    /**
     * Stages green, then — like CI uploading on — adds 99 versions after green so blue (now the
     * 101st newest) falls out of what Cloudflare will deploy while green (the 100th) stays in it;
     * then approves. Returns the deployment waiting again for an approval with override.
     */
    async function blueOutOfReach(harness: MetricHarness): Promise<{ id: string; green: string; view: DeploymentView }> {
      const green = harness.upload('v2');
      const created = await harness.deploy('v2');
      const id = created.body.id;
      await harness.waitForStage(id, 'awaiting_approval'); // staged: blue 100 %, green 0 %
      for (let i = 0; i < 99; i++) harness.upload(`ci-${i}`);
      const approved = await harness.act(id, 'approve');
      expect(approved.status).toBe(200);
      const view = await harness.waitForView(id, (v) => v.rollbackReady !== null || (ENDED as readonly string[]).includes(v.stage), 'readiness checked');
      return { id, green, view };
    }

    it('does not switch while blue is out of the newest 100 versions: back to awaiting approval, and a plain approve is refused', async () => {
      h = await startMetricHarness();
      const { id, green, view } = await blueOutOfReach(h);
      expect(view.stage).toBe('awaiting_approval');
      expect(view.rollbackReady).toMatchObject({ ready: false });
      expect(view.rollbackReady!.detail).toMatch(/older than the newest 100 versions/);
      expect(view.reason).toMatch(/^a rollback to v1 \([0-9a-f]{8}\) would not be possible: .*Approve with override to switch anyway, or reject$/);
      expect(view.approvals).toEqual([]);
      expect(eventsOf(view, 'rollback-not-ready')).toHaveLength(1);
      // Nothing moved.
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [green]: 0 });
      expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, green)).toBe(0);

      const plain = await h.act(id, 'approve');
      expect(plain.status).toBe(409);
      expect(plain.body.code).toBe('ROLLBACK_NOT_READY');
      expect(plain.body.detail).toMatch(/approve with override to switch anyway/);
      expect((await h.show(id)).stage).toBe('awaiting_approval');
    });

    it('goes on with an approval with override: green gets all traffic and the release completes', async () => {
      h = await startMetricHarness();
      const { id, green } = await blueOutOfReach(h);
      const overridden = await h.act(id, 'approve', { override: true });
      expect(overridden.status).toBe(200);
      expect(overridden.body.stage).toBe('switching');
      const done = await h.waitForStage(id, [...ENDED]);
      expect(eventsOf(done, 'approved').at(-1)!.details.override).toBe(true);
      // Blue cannot be part of any deployment any more, so the switch must not list it.
      expect(done.stage, done.reason).toBe('succeeded');
      expect(h.standIn.activeSplit(STAND_IN_SCRIPT)[green]).toBe(100);
      expect(done.rollbackReady).toMatchObject({ ready: false });
    });
  });
});

