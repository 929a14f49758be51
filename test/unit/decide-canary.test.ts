import { describe, expect, it } from 'vitest';
import type { TargetSettings } from '../../src/config/schema.ts';
import { SYSTEM_ACTOR } from '../../src/domain/actors.ts';
import { stepsOf } from '../../src/domain/canary-steps.ts';
import type { Deployment, Split } from '../../src/domain/deployment.ts';
import type { Input } from '../../src/domain/inputs.ts';
import { planStep } from '../../src/domain/plan-step.ts';
import {
  type PlannedDecision,
  decideAndPlan,
  BLUE,
  GREEN,
  HEALTHY_CHECKS,
  HOUR,
  MINUTE,
  SECOND,
  accepted,
  at,
  checksFailing,
  inStage,
  iso,
  refused,
  sampled,
  settings,
} from '../support/domain-fixtures.ts';

/**
 * Canary releases (steps [10, 50, 100], a bake per step, optional manual gate) and rollback
 * readiness (checked before every switch). Metrics source none unless a test says otherwise:
 * health and content triggers only, so a clean bake is conclusive.
 */
const CANARY = settings({ strategy: { type: 'canary', steps: [10, 50, 100], bakeTime: '2m' } });
const GATED = settings({ strategy: { type: 'canary', steps: [10, 50, 100], bakeTime: '2m', manualGate: true } });
const BLUE_GREEN = settings();

const INTERVAL = 30 * SECOND;
const BAKE = 2 * MINUTE;
const WINDOW = 5 * MINUTE;

const split = (green: number): Split => ({ [GREEN.id]: green, [BLUE.id]: 100 - green });
/** Approved with override while blue cannot be deployed: green is the only version in the deployment. */
const GREEN_ALONE: Split = { [GREEN.id]: 100 };
const ROLLED_BACK: Split = { [BLUE.id]: 100, [GREEN.id]: 0 };

const approve = (actor: string, override?: boolean): Input => ({ type: 'approve', actor, ...(override ? { override } : {}) });
const promote = (actor: string, override?: boolean): Input => ({ type: 'promote', actor, ...(override ? { override } : {}) });
const ready: Input = { type: 'readiness', ready: true, detail: 'v1 (aaaaaaaa) is deployable' };
const NOT_READY_DETAIL = 'v1 (aaaaaaaa) cannot be deployed: secrets changed since it was uploaded (10220)';
const notReady: Input = { type: 'readiness', ready: false, detail: NOT_READY_DETAIL };
const clean: Input = { type: 'checks', results: HEALTHY_CHECKS };
const verified = (s: Split): Input => ({ type: 'split-verified', split: s });

type Ok = Extract<PlannedDecision, { ok: true }>;

/** A tiny runner: applies inputs in order, each at its time, and keeps every decision. */
class Run {
  readonly decisions: Ok[] = [];
  constructor(
    public d: Deployment,
    readonly s: TargetSettings,
  ) {}

  apply(input: Input, ms: number): Ok {
    const r = accepted(decideAndPlan(this.d, input, at(ms), this.s));
    this.decisions.push(r);
    this.d = r.deployment;
    return r;
  }

  /** Clean samples every interval from `fromMs` until the stage leaves monitoring or `toMs` passes; returns the last decision. */
  bake(fromMs: number, toMs: number, input: Input | ((ms: number) => Input) = clean): Ok {
    let last: Ok | undefined;
    for (let ms = fromMs; ms <= toMs; ms += INTERVAL) {
      last = this.apply(typeof input === 'function' ? input(ms) : input, ms);
      if (this.d.stage !== 'monitoring' || this.d.progress.awaitingPromotion || this.d.progress.pausedBecause) break;
    }
    return last!;
  }
}

describe('stepsOf', () => {
  it.each([
    { name: 'blue-green is the single step [100]', s: BLUE_GREEN, steps: [100] },
    { name: 'canary [10, 50, 100] as written', s: CANARY, steps: [10, 50, 100] },
    { name: 'canary [10, 50]: 100 is appended', s: settings({ strategy: { type: 'canary', steps: [10, 50] } }), steps: [10, 50, 100] },
    { name: 'canary [25]: 100 is appended', s: settings({ strategy: { type: 'canary', steps: [25] } }), steps: [25, 100] },
    { name: 'canary [100]: one step', s: settings({ strategy: { type: 'canary', steps: [100] } }), steps: [100] },
  ])('$name', ({ s, steps }) => {
    expect(stepsOf(s)).toEqual(steps);
  });
});

describe('canary: steps [10, 50, 100], bake 2m, no gate', () => {
  it('walks every step: split, readiness, bake; the last step watches the full window, then succeeded', () => {
    const run = new Run(inStage('awaiting_approval'), CANARY);

    // Approve → step 1 of 3, rollback readiness checked first.
    const approved = run.apply(approve('bob'), MINUTE);
    expect(approved.deployment.stage).toBe('switching');
    expect(approved.deployment.reason).toBe('approved by bob; step 1 of 3: 10 % of traffic to v2 (bbbbbbbb)');
    expect(approved.deployment.progress).toEqual({ attempt: 0, targetSplit: split(10), canaryStep: 0 });
    expect(approved.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);

    const readied = run.apply(ready, MINUTE + SECOND);
    expect(readied.deployment.stage).toBe('switching');
    expect(readied.deployment.progress.rollbackReady).toEqual({ ready: true, detail: 'v1 (aaaaaaaa) is deployable', checkedAt: iso(MINUTE + SECOND) });
    expect(readied.events[0]).toMatchObject({ action: 'rollback-readiness', fromStage: 'switching', toStage: 'switching' });
    expect(readied.intents).toEqual([{ type: 'apply-split', split: split(10) }]);

    // Split verified → monitoring for the bake time, not the full window.
    const t1 = 2 * MINUTE;
    const step1 = run.apply(verified(split(10)), t1);
    expect(step1.deployment.stage).toBe('monitoring');
    expect(step1.deployment.split).toEqual(split(10));
    expect(step1.deployment.progress).toMatchObject({ canaryStep: 0, monitorStartedAt: iso(t1), monitorEndsAt: iso(t1 + BAKE) });
    expect(step1.deployment.reason).toBe(`step 1 of 3: 10 % of traffic on v2 (bbbbbbbb); watching until ${iso(t1 + BAKE)}`);
    expect(step1.intents).toEqual([{ type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'monitor' }]);

    // A clean bake → step 2 (50 / 50) at once, readiness checked again for this switch.
    const passed1 = run.bake(t1, t1 + BAKE);
    expect(passed1.deployment.stage).toBe('switching');
    expect(passed1.deployment.progress).toEqual({ attempt: 0, targetSplit: split(50), canaryStep: 1 });
    expect(passed1.deployment.reason).toBe('step 1 of 3 (10 %) passed; step 2 of 3: 50 % of traffic to v2 (bbbbbbbb)');
    expect(passed1.events).toEqual([
      expect.objectContaining({ action: 'step-passed', actor: SYSTEM_ACTOR, fromStage: 'monitoring', toStage: 'switching' }),
    ]);
    expect(passed1.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);

    run.apply(ready, t1 + BAKE + SECOND);
    const t2 = t1 + BAKE + 2 * SECOND;
    const step2 = run.apply(verified(split(50)), t2);
    expect(step2.deployment.progress).toMatchObject({ canaryStep: 1, monitorEndsAt: iso(t2 + BAKE) });
    expect(step2.deployment.reason).toBe(`step 2 of 3: 50 % of traffic on v2 (bbbbbbbb); watching until ${iso(t2 + BAKE)}`);

    const passed2 = run.bake(t2, t2 + BAKE);
    expect(passed2.deployment.stage).toBe('switching');
    expect(passed2.deployment.progress).toEqual({ attempt: 0, targetSplit: split(100), canaryStep: 2 });
    expect(passed2.deployment.reason).toBe('step 2 of 3 (50 %) passed; step 3 of 3: 100 % of traffic to v2 (bbbbbbbb)');

    run.apply(ready, t2 + BAKE + SECOND);
    const t3 = t2 + BAKE + 2 * SECOND;
    const step3 = run.apply(verified(split(100)), t3);
    // The last step watches the full monitor.window.
    expect(step3.deployment.progress).toMatchObject({ canaryStep: 2, monitorEndsAt: iso(t3 + WINDOW) });
    expect(step3.deployment.reason).toBe(`step 3 of 3: 100 % of traffic on v2 (bbbbbbbb); watching until ${iso(t3 + WINDOW)}`);

    // After 2m of the last step it is still watching.
    run.bake(t3, t3 + BAKE);
    expect(run.d.stage).toBe('monitoring');
    const done = run.bake(t3 + BAKE + INTERVAL, t3 + WINDOW);
    expect(done.deployment.stage).toBe('succeeded');
    expect(done.deployment.reason).toBe('monitoring window of 5m passed clean (11 samples); v2 (bbbbbbbb) is the new last-known-good');
    expect(done.intents).toEqual([{ type: 'none' }]);

    // Readiness was checked once per switch: three switches, three checks.
    expect(run.decisions.flatMap((r) => r.events).filter((e) => e.action === 'rollback-readiness')).toHaveLength(3);
  });

  it('steps [10, 50] without 100: 100 is the appended last step', () => {
    const s = settings({ strategy: { type: 'canary', steps: [10, 50], bakeTime: '2m' } });
    const r = accepted(decideAndPlan(inStage('awaiting_approval'), approve('bob'), at(MINUTE), s));
    expect(r.deployment.reason).toBe('approved by bob; step 1 of 3: 10 % of traffic to v2 (bbbbbbbb)');
    const lastSwitch = inStage('monitoring', {
      split: split(50),
      progress: { attempt: 0, canaryStep: 1, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) },
    });
    const next = accepted(decideAndPlan(lastSwitch, clean, at(BAKE), s));
    expect(next.deployment.stage).toBe('switching');
    expect(next.deployment.progress.targetSplit).toEqual(split(100));
    expect(next.deployment.progress.canaryStep).toBe(2);
  });

  it('no bakeTime: each step watches the full monitor.window', () => {
    const s = settings({ strategy: { type: 'canary', steps: [10, 50, 100] } });
    const d = inStage('switching', { progress: { attempt: 0, targetSplit: split(10), canaryStep: 0 } });
    const r = accepted(decideAndPlan(d, verified(split(10)), at(SECOND), s));
    expect(r.deployment.progress.monitorEndsAt).toBe(iso(SECOND + WINDOW));
  });

  it('a failing step rolls back to blue 100 %', () => {
    const d = inStage('monitoring', {
      split: split(50),
      progress: { attempt: 0, canaryStep: 1, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) },
    });
    const kevinMissing = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
    const r = accepted(decideAndPlan(d, { type: 'checks', results: kevinMissing }, at(INTERVAL), CANARY));
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
    expect(r.deployment.reason).toBe('rolling back to v1 (aaaaaaaa): content trigger (emergency): content check failed — content /: "KEVIN" missing on /');
    expect(r.intents).toEqual([{ type: 'apply-split', split: ROLLED_BACK }]);
  });

  it('three failing health samples in a step roll back too', () => {
    const run = new Run(
      inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } }),
      CANARY,
    );
    const failing = checksFailing({ name: 'health', detail: '503 from /health' });
    const last = run.bake(0, BAKE, { type: 'checks', results: failing });
    expect(last.deployment.stage).toBe('rolling_back');
    expect(last.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
    expect(run.decisions).toHaveLength(3);
  });

  it('a manual rollback or cancel during a step rolls back to blue 100 %', () => {
    const d = inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } });
    for (const input of [{ type: 'rollback', actor: 'carol' }, { type: 'cancel', actor: 'carol' }] as Input[]) {
      const r = accepted(decideAndPlan(d, input, at(INTERVAL), CANARY));
      expect(r.deployment.stage).toBe('rolling_back');
      expect(r.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
    }
  });

  it('promote while a step is baking without a gate is refused', () => {
    const d = inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } });
    expect(refused(decideAndPlan(d, promote('carol'), at(INTERVAL), CANARY)).code).toBe('STALE_ACTION');
  });
});

describe('canary with a manual gate', () => {
  const baking = () =>
    inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } });

  function atGate(): Run {
    const run = new Run(baking(), GATED);
    run.bake(0, BAKE);
    return run;
  }

  it('a clean bake stays monitoring, awaiting promotion, waiting for a person', () => {
    const run = atGate();
    const gate = run.decisions.at(-1)!;
    expect(gate.deployment.stage).toBe('monitoring');
    expect(gate.deployment.progress.awaitingPromotion).toBe(true);
    expect(gate.deployment.wakeAt).toBeNull();
    expect(gate.deployment.split).toEqual(split(10));
    expect(gate.deployment.reason).toBe('step 1 of 3 (10 %) passed. Promote to 50 % or abort');
    expect(gate.events).toEqual([expect.objectContaining({ action: 'step-passed', fromStage: 'monitoring', toStage: 'monitoring' })]);
    expect(gate.intents).toEqual([{ type: 'wait', until: null }]);
    // However long nobody acts, nothing happens.
    expect(planStep(gate.deployment, at(BAKE + HOUR), GATED)).toEqual({ type: 'wait', until: null });
  });

  it('promote → step 2 (50 / 50), by the person who promoted', () => {
    const run = atGate();
    const r = run.apply(promote('carol'), BAKE + MINUTE);
    expect(r.deployment.stage).toBe('switching');
    expect(r.deployment.progress).toEqual({ attempt: 0, targetSplit: split(50), canaryStep: 1 });
    expect(r.deployment.reason).toBe('promoted by carol; step 2 of 3: 50 % of traffic to v2 (bbbbbbbb)');
    expect(r.events).toEqual([
      expect.objectContaining({ action: 'promoted', actor: 'carol', fromStage: 'monitoring', toStage: 'switching' }),
    ]);
    expect(r.events[0]!.details).toMatchObject({ promotedBy: 'carol' });
    expect(r.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);
  });

  it('abort (rollback) at the gate → rolling_back to blue 100 %', () => {
    const run = atGate();
    const r = run.apply({ type: 'rollback', actor: 'carol', comment: 'abort' }, BAKE + MINUTE);
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
    expect(r.deployment.reason).toBe('rolling back to v1 (aaaaaaaa): manual rollback by carol: abort');
    expect(r.events).toEqual([expect.objectContaining({ action: 'rollback-requested', actor: 'carol', toStage: 'rolling_back' })]);
  });

  it('the gate is between steps only: the last step ends in succeeded without asking', () => {
    const d = inStage('monitoring', {
      split: split(100),
      progress: { attempt: 0, canaryStep: 2, monitorStartedAt: iso(), monitorEndsAt: iso(WINDOW) },
    });
    const r = accepted(decideAndPlan(d, clean, at(WINDOW), GATED));
    expect(r.deployment.stage).toBe('succeeded');
  });

  it('a second promote after the first is refused', () => {
    const run = atGate();
    run.apply(promote('carol'), BAKE + MINUTE);
    expect(refused(decideAndPlan(run.d, promote('dave'), at(BAKE + 2 * MINUTE), GATED)).code).toBe('STALE_ACTION');
  });
});

describe('canary with metrics: an inconclusive step', () => {
  const METRICS = settings({ strategy: { type: 'canary', steps: [10, 50, 100], bakeTime: '2m' }, monitor: { metrics: { source: 'app-json' } } });
  const noTraffic: Input = sampled({ errorRatePercent: null, avgResponseMs: null, requests: 0, problem: "no requests in the app's window yet" });

  it('pauses the step; promote goes on to the next step, by the person who promoted', () => {
    const run = new Run(
      inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } }),
      METRICS,
    );
    run.bake(0, BAKE, noTraffic);
    expect(run.d.stage).toBe('monitoring');
    expect(run.d.progress.pausedBecause).toMatch(/^metrics inconclusive — /);
    expect(run.d.wakeAt).toBeNull();
    const r = run.apply(promote('carol'), BAKE + MINUTE);
    expect(r.deployment.stage).toBe('switching');
    expect(r.deployment.progress).toEqual({ attempt: 0, targetSplit: split(50), canaryStep: 1 });
    expect(r.deployment.reason).toBe('promoted by carol; step 2 of 3: 50 % of traffic to v2 (bbbbbbbb)');
  });

  it('a clean, conclusive bake (5 samples over 2m) goes on by itself', () => {
    const run = new Run(
      inStage('monitoring', { split: split(10), progress: { attempt: 0, canaryStep: 0, monitorStartedAt: iso(), monitorEndsAt: iso(BAKE) } }),
      METRICS,
    );
    run.bake(0, BAKE, sampled({ errorRatePercent: 0.5 }));
    expect(run.d.stage).toBe('switching');
    expect(run.d.reason).toMatch(/^step 1 of 3 \(10 %\) passed — error rate at most 0\.5 % ≤ 5 %/);
  });
});

describe('canary with the relative trigger (green worse than blue)', () => {
  const REL = settings({
    strategy: { type: 'canary', steps: [10, 50, 100], bakeTime: '2m' },
    monitor: { metrics: { source: 'app-json' }, triggers: { relativeErrorRate: { maxPointsAboveBlue: 2, sustainedFor: '1m' } } },
  });
  const step = (green: number) =>
    inStage('monitoring', {
      split: split(green),
      progress: { attempt: 0, canaryStep: green === 100 ? 2 : 0, monitorStartedAt: iso(), monitorEndsAt: iso(green === 100 ? WINDOW : BAKE) },
    });

  it('while blue serves, the probe asks for blue\'s figures and the trigger fires on a sustained gap', () => {
    const d = step(10);
    expect(planStep(d, at(0), REL)).toMatchObject({ metrics: { green: GREEN.id, blue: BLUE.id } });
    const run = new Run(d, REL);
    // Green at 4 % is under the absolute 5 %, but 3.5 points worse than blue at 0.5 %.
    const last = run.bake(0, BAKE, sampled({ errorRatePercent: 4 }, { blue: { errorRatePercent: 0.5 } }));
    expect(run.decisions).toHaveLength(2);
    expect(last.deployment.stage).toBe('rolling_back');
    expect(last.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
    expect(last.deployment.progress.rollbackCause).toMatch(/^relative-error-rate trigger \(critical\): /);
    expect(last.deployment.progress.rollbackCause).toContain('3.5 points, 3.5 points');
    expect(last.deployment.progress.rollbackCause).toContain('2 points');
    expect(last.events[0]!.details).toMatchObject({ trigger: 'relative-error-rate', level: 'critical' });
  });

  it('at the last step (blue 0 %) the same figures do not fire: there is no blue to compare with', () => {
    const d = step(100);
    expect(planStep(d, at(0), REL)).toMatchObject({ metrics: { green: GREEN.id } });
    expect(planStep(d, at(0), REL)).not.toMatchObject({ metrics: { blue: BLUE.id } });
    const run = new Run(d, REL);
    run.bake(0, WINDOW, sampled({ errorRatePercent: 4 }, { blue: { errorRatePercent: 0.5 } }));
    expect(run.d.stage).toBe('succeeded');
  });

  it('a step whose blue figures never came is inconclusive, not a pass', () => {
    const run = new Run(step(10), REL);
    run.bake(0, BAKE, sampled({ errorRatePercent: 1 }));
    expect(run.d.stage).toBe('monitoring');
    expect(run.d.progress.pausedBecause).toContain("green's error rate minus blue's");
  });

  it('a clean step with both figures passes to the next step', () => {
    const run = new Run(step(10), REL);
    run.bake(0, BAKE, sampled({ errorRatePercent: 1 }, { blue: { errorRatePercent: 0.8 } }));
    expect(run.d.stage).toBe('switching');
    expect(run.d.progress.targetSplit).toEqual(split(50));
  });
});

describe('rollback readiness before the first switch', () => {
  const switching = (more: Partial<Deployment> = {}) => inStage('switching', { progress: { attempt: 0, targetSplit: split(100), canaryStep: 0 }, ...more });

  it('ready → recorded, then the split', () => {
    const r = accepted(decideAndPlan(switching(), ready, at(SECOND), BLUE_GREEN));
    expect(r.deployment.stage).toBe('switching');
    expect(r.deployment.reason).toBe('in switching — rollback ready');
    expect(r.deployment.progress.rollbackReady).toEqual({ ready: true, detail: 'v1 (aaaaaaaa) is deployable', checkedAt: iso(SECOND) });
    expect(r.deployment.wakeAt).toBe(iso(SECOND));
    expect(r.events).toEqual([
      expect.objectContaining({
        action: 'rollback-readiness',
        details: { reason: 'in switching — rollback ready', ready: true, detail: 'v1 (aaaaaaaa) is deployable', checkedAt: iso(SECOND) },
      }),
    ]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: split(100) }]);
  });

  it('blue in a split the platform accepted without --force: the detail adds that no secrets change is pending', () => {
    const staged = switching({ stageTimes: { requested: iso(-MINUTE), staging: iso(-30 * SECOND), switching: iso() } });
    const r = accepted(decideAndPlan(staged, ready, at(SECOND), BLUE_GREEN));
    expect(r.deployment.progress.rollbackReady?.detail).toBe(
      'v1 (aaaaaaaa) is deployable; the platform accepted a split with blue in it (no secrets change pending)',
    );
    const forced = accepted(decideAndPlan({ ...staged, force: true }, ready, at(SECOND), BLUE_GREEN));
    expect(forced.deployment.progress.rollbackReady?.detail).toBe('v1 (aaaaaaaa) is deployable');
  });

  it('not ready → awaiting_approval again, approvals cleared, the finding recorded', () => {
    const now = at(SECOND);
    const d = switching({ approvals: [{ actor: 'bob', at: iso() }], progress: { attempt: 0, targetSplit: split(100), canaryStep: 0, lastChecks: HEALTHY_CHECKS } });
    const r = accepted(decideAndPlan(d, notReady, now, BLUE_GREEN));
    const expiresAt = iso(SECOND + HOUR);
    const rollbackReady = { ready: false, detail: NOT_READY_DETAIL, checkedAt: iso(SECOND) };
    expect(r.deployment.stage).toBe('awaiting_approval');
    expect(r.deployment.approvals).toEqual([]);
    expect(r.deployment.split).toEqual(d.split);
    expect(r.deployment.reason).toBe(
      `a rollback to v1 (aaaaaaaa) would not be possible: ${NOT_READY_DETAIL}. Approve with override to switch anyway, or reject`,
    );
    expect(r.deployment.progress).toEqual({ attempt: 0, approvalExpiresAt: expiresAt, rollbackReady, lastChecks: HEALTHY_CHECKS });
    expect(r.deployment.wakeAt).toBe(expiresAt);
    expect(r.events).toEqual([
      expect.objectContaining({
        action: 'rollback-not-ready',
        fromStage: 'switching',
        toStage: 'awaiting_approval',
        details: { reason: r.deployment.reason, ...rollbackReady },
      }),
    ]);
    expect(r.intents).toEqual([{ type: 'wait', until: expiresAt }]);
  });

  describe('then', () => {
    const reopened = () => accepted(decideAndPlan(switching({ approvals: [{ actor: 'bob', at: iso() }] }), notReady, at(SECOND), BLUE_GREEN)).deployment;

    it('a plain approve is refused: ROLLBACK_NOT_READY', () => {
      expect(refused(decideAndPlan(reopened(), approve('bob'), at(MINUTE), BLUE_GREEN))).toEqual({
        code: 'ROLLBACK_NOT_READY',
        message: `a rollback to v1 (aaaaaaaa) would not be possible (${NOT_READY_DETAIL}); approve with override to switch anyway`,
      });
    });

    it('four-eyes still applies to an approve with override', () => {
      expect(refused(decideAndPlan(reopened(), approve('alice', true), at(MINUTE), BLUE_GREEN)).code).toBe('FOUR_EYES');
    });

    it('approve with override → switching green alone (Cloudflare refuses any deployment listing blue); the readiness step then proceeds although not ready', () => {
      const run = new Run(reopened(), BLUE_GREEN);
      const approved = run.apply(approve('bob', true), MINUTE);
      expect(approved.deployment.stage).toBe('switching');
      expect(approved.deployment.approvals).toEqual([{ actor: 'bob', at: iso(MINUTE) }]);
      expect(approved.deployment.progress).toEqual({ attempt: 0, targetSplit: GREEN_ALONE, canaryStep: 0, readinessOverride: true });
      expect(approved.deployment.reason).toBe('approved by bob with override; switching all traffic to v2 (bbbbbbbb) alone (blue cannot be deployed any more)');
      expect(approved.events).toEqual([expect.objectContaining({ action: 'approved', actor: 'bob', details: expect.objectContaining({ override: true }) })]);
      expect(approved.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);

      const checked = run.apply(notReady, MINUTE + SECOND);
      expect(checked.deployment.stage).toBe('switching');
      expect(checked.deployment.reason).toBe(
        `approved by bob with override; switching all traffic to v2 (bbbbbbbb) alone (blue cannot be deployed any more) — rollback NOT ready (${NOT_READY_DETAIL}); switching anyway, as approved with override`,
      );
      expect(checked.deployment.progress.rollbackReady).toEqual({ ready: false, detail: NOT_READY_DETAIL, checkedAt: iso(MINUTE + SECOND) });
      expect(checked.intents).toEqual([{ type: 'apply-split', split: GREEN_ALONE }]);

      const monitoring = run.apply(verified(GREEN_ALONE), MINUTE + 2 * SECOND);
      expect(monitoring.deployment.stage).toBe('monitoring');
      // What was accepted stays visible while watching.
      expect(monitoring.deployment.progress).toMatchObject({ readinessOverride: true, rollbackReady: { ready: false } });
    });

    it('reject is still possible', () => {
      expect(accepted(decideAndPlan(reopened(), { type: 'reject', actor: 'bob' }, at(MINUTE), BLUE_GREEN)).deployment.stage).toBe('rejected');
    });

    it('the re-opened approval expires like any other', () => {
      const r = accepted(decideAndPlan(reopened(), { type: 'tick' }, at(SECOND + HOUR), BLUE_GREEN));
      expect(r.deployment.stage).toBe('expired');
    });

    it('with auto approval the policy does not override by itself: a person must', () => {
      const auto = settings({ approval: { mode: 'auto' } });
      const r = accepted(decideAndPlan(switching(), notReady, at(SECOND), auto));
      expect(r.deployment.stage).toBe('awaiting_approval');
      expect(r.deployment.approvals).toEqual([]);
    });
  });

  it('a readiness answer outside switching means nothing', () => {
    expect(refused(decideAndPlan(inStage('monitoring'), ready, at(SECOND), BLUE_GREEN)).code).toBe('IGNORED_INPUT');
    expect(refused(decideAndPlan(inStage('awaiting_approval'), notReady, at(SECOND), BLUE_GREEN)).code).toBe('IGNORED_INPUT');
  });

  it('a platform retry during the switch does not re-check readiness', () => {
    const checked = accepted(decideAndPlan(switching(), ready, at(SECOND), BLUE_GREEN)).deployment;
    const retried = accepted(
      decideAndPlan(checked, { type: 'platform-error', error: { code: 'CLOUDFLARE_UNAVAILABLE', message: 'Cloudflare answered 503', retryable: true } }, at(2 * SECOND), BLUE_GREEN),
    );
    expect(retried.deployment.progress.rollbackReady).toEqual(checked.progress.rollbackReady);
    expect(planStep(retried.deployment, at(HOUR), BLUE_GREEN)).toEqual({ type: 'apply-split', split: split(100) });
  });
});

describe('rollback readiness before a later canary step', () => {
  const switchingStep2 = () =>
    inStage('switching', { split: split(10), progress: { attempt: 0, targetSplit: split(50), canaryStep: 1 } });

  function onHold(): Run {
    const run = new Run(switchingStep2(), CANARY);
    run.apply(notReady, SECOND);
    return run;
  }

  it('not ready → monitoring on hold (awaiting promotion at the previous step), traffic unchanged', () => {
    const run = onHold();
    const r = run.decisions[0]!;
    expect(r.deployment.stage).toBe('monitoring');
    expect(r.deployment.split).toEqual(split(10));
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.deployment.progress).toMatchObject({
      awaitingPromotion: true,
      canaryStep: 0,
      rollbackReady: { ready: false, detail: NOT_READY_DETAIL, checkedAt: iso(SECOND) },
    });
    expect(r.deployment.reason).toBe(
      `step 2 is on hold: a rollback to v1 (aaaaaaaa) would not be possible (${NOT_READY_DETAIL}). Promote with override to go on, or roll back`,
    );
    expect(r.events).toEqual([expect.objectContaining({ action: 'rollback-not-ready', fromStage: 'switching', toStage: 'monitoring' })]);
    expect(r.intents).toEqual([{ type: 'wait', until: null }]);
  });

  it('a plain promote is refused: ROLLBACK_NOT_READY', () => {
    expect(refused(decideAndPlan(onHold().d, promote('carol'), at(MINUTE), CANARY))).toEqual({
      code: 'ROLLBACK_NOT_READY',
      message: `a rollback would not be possible (${NOT_READY_DETAIL}); promote with override to go on`,
    });
  });

  it('promote with override → green alone at 100 % (blue cannot be listed in a deployment any more), and the readiness step then proceeds', () => {
    const run = onHold();
    const promoted = run.apply(promote('carol', true), MINUTE);
    expect(promoted.deployment.stage).toBe('switching');
    expect(promoted.deployment.progress).toEqual({ attempt: 0, targetSplit: GREEN_ALONE, canaryStep: 2, readinessOverride: true });
    expect(promoted.deployment.reason).toBe('promoted by carol; switching all traffic to v2 (bbbbbbbb) alone (blue cannot be deployed any more)');
    expect(promoted.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);
    const checked = run.apply(notReady, MINUTE + SECOND);
    expect(checked.deployment.stage).toBe('switching');
    expect(checked.intents).toEqual([{ type: 'apply-split', split: GREEN_ALONE }]);
  });

  it('rollback while on hold → rolling_back to blue 100 %', () => {
    const r = accepted(decideAndPlan(onHold().d, { type: 'rollback', actor: 'carol' }, at(MINUTE), CANARY));
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress.targetSplit).toEqual(ROLLED_BACK);
  });

  it('ready before a later step → it goes on', () => {
    const r = accepted(decideAndPlan(switchingStep2(), ready, at(SECOND), CANARY));
    expect(r.deployment.stage).toBe('switching');
    expect(r.intents).toEqual([{ type: 'apply-split', split: split(50) }]);
  });
});
