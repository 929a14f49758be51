import { describe, expect, it } from 'vitest';
import type { Deployment, Split } from '../../src/domain/deployment.ts';
import { planStep, type Step } from '../../src/domain/plan-step.ts';
import { STAGES, TERMINAL_STAGES, type Stage } from '../../src/domain/stages.ts';
import { BLUE, GREEN, SECOND, at, deepFreeze, inStage, iso, settings } from '../support/domain-fixtures.ts';

const S = settings();
const NOW = at(10 * SECOND);
const PAST = iso(5 * SECOND);
const EXACTLY_NOW = iso(10 * SECOND);
const FUTURE = iso(20 * SECOND);

const STAGED: Split = { [BLUE.id]: 100, [GREEN.id]: 0 };
const SWITCHED: Split = { [GREEN.id]: 100, [BLUE.id]: 0 };

const verifyGreen: Step = { type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'verify-green' };
// Monitoring probes green itself by version (during a canary step the production URL mostly reaches blue).
const monitorGreen: Step = { type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'monitor' };
const checkBlue: Step = { type: 'check-readiness', versionId: BLUE.id };
const READY = { ready: true, detail: 'v1 (aaaaaaaa) is deployable', checkedAt: PAST };
const verifyBlue: Step = { type: 'probe', subject: { kind: 'live', expectVersion: BLUE.id }, purpose: 'verify-rollback' };

const rollingBack = (phase: 'switch' | 'verify' | undefined, wakeAt: string | null, more: Partial<Deployment> = {}): Deployment =>
  inStage('rolling_back', {
    wakeAt,
    progress: { attempt: 0, targetSplit: STAGED, ...(phase ? { rollbackPhase: phase } : {}) },
    ...more,
  });

interface Case {
  name: string;
  d: Deployment;
  step: Step;
}

/** For each stage, the step when the wake time has not come yet and when it has (or is now). */
const cases: Case[] = [
  { name: 'requested (waits for the lock, whatever wakeAt says)', d: inStage('requested'), step: { type: 'wait', until: null } },
  { name: 'requested with a past wakeAt', d: inStage('requested', { wakeAt: PAST }), step: { type: 'wait', until: null } },

  { name: 'resolving, before wakeAt', d: inStage('resolving', { wakeAt: FUTURE }), step: { type: 'wait', until: FUTURE } },
  { name: 'resolving, wakeAt passed', d: inStage('resolving', { wakeAt: PAST }), step: { type: 'resolve', ref: 'v2', version: null } },
  { name: 'resolving, wakeAt exactly now', d: inStage('resolving', { wakeAt: EXACTLY_NOW }), step: { type: 'resolve', ref: 'v2', version: null } },
  { name: 'resolving, no wakeAt', d: inStage('resolving', { wakeAt: null }), step: { type: 'resolve', ref: 'v2', version: null } },
  {
    name: 'resolving a version resolved at admission (a queued release): only the live traffic is read',
    d: inStage('resolving', { wakeAt: PAST, version: { id: 'f00dfeed-0000-4000-8000-000000000002', tag: 'v2' } }),
    step: { type: 'resolve', ref: 'v2', version: { id: 'f00dfeed-0000-4000-8000-000000000002', tag: 'v2' } },
  },

  { name: 'staging, before wakeAt', d: inStage('staging', { wakeAt: FUTURE }), step: { type: 'wait', until: FUTURE } },
  { name: 'staging, wakeAt passed', d: inStage('staging', { wakeAt: PAST }), step: { type: 'apply-split', split: STAGED } },
  {
    name: 'staging without a target split',
    d: inStage('staging', { wakeAt: PAST, progress: { attempt: 0 } }),
    step: { type: 'wait', until: null },
  },

  { name: 'verifying, before wakeAt', d: inStage('verifying', { wakeAt: FUTURE }), step: { type: 'wait', until: FUTURE } },
  { name: 'verifying, wakeAt passed', d: inStage('verifying', { wakeAt: PAST }), step: verifyGreen },
  { name: 'verifying, wakeAt exactly now', d: inStage('verifying', { wakeAt: EXACTLY_NOW }), step: verifyGreen },
  {
    name: 'verifying without a known green',
    d: inStage('verifying', { wakeAt: PAST, version: null }),
    step: { type: 'wait', until: null },
  },

  {
    name: 'awaiting_approval, before the expiry',
    d: inStage('awaiting_approval', { wakeAt: FUTURE }),
    step: { type: 'wait', until: FUTURE },
  },
  { name: 'awaiting_approval, expiry passed', d: inStage('awaiting_approval', { wakeAt: PAST }), step: { type: 'tick' } },
  { name: 'awaiting_approval, expiry exactly now', d: inStage('awaiting_approval', { wakeAt: EXACTLY_NOW }), step: { type: 'tick' } },

  { name: 'switching, before wakeAt', d: inStage('switching', { wakeAt: FUTURE }), step: { type: 'wait', until: FUTURE } },
  { name: 'switching, wakeAt passed, readiness not checked yet', d: inStage('switching', { wakeAt: PAST }), step: checkBlue },
  {
    name: 'switching, wakeAt passed, readiness checked',
    d: inStage('switching', { wakeAt: PAST, progress: { attempt: 0, targetSplit: SWITCHED, rollbackReady: READY } }),
    step: { type: 'apply-split', split: SWITCHED },
  },
  {
    name: 'switching, readiness checked and found NOT ready (approved with override): the split all the same',
    d: inStage('switching', {
      wakeAt: PAST,
      progress: { attempt: 0, targetSplit: SWITCHED, readinessOverride: true, rollbackReady: { ...READY, ready: false } },
    }),
    step: { type: 'apply-split', split: SWITCHED },
  },
  {
    name: 'switching, readiness checked, retrying the split after a platform error',
    d: inStage('switching', { wakeAt: PAST, progress: { attempt: 2, targetSplit: SWITCHED, rollbackReady: READY, lastError: '503' } }),
    step: { type: 'apply-split', split: SWITCHED },
  },
  {
    name: 'switching without a target split',
    d: inStage('switching', { wakeAt: PAST, progress: { attempt: 0 } }),
    step: { type: 'wait', until: null },
  },

  { name: 'monitoring, before wakeAt', d: inStage('monitoring', { wakeAt: FUTURE }), step: { type: 'wait', until: FUTURE } },
  { name: 'monitoring, wakeAt passed', d: inStage('monitoring', { wakeAt: PAST }), step: monitorGreen },
  {
    // Nothing to probe: wait for a person, as verifying does. (A wait until a passed time would
    // make the runner re-arm at once, forever.)
    name: 'monitoring without a known green',
    d: inStage('monitoring', { wakeAt: PAST, version: null }),
    step: { type: 'wait', until: null },
  },
  {
    name: 'monitoring at a canary gate (waits for Promote or Abort, whatever wakeAt says)',
    d: inStage('monitoring', { wakeAt: PAST, progress: { attempt: 0, canaryStep: 0, awaitingPromotion: true } }),
    step: { type: 'wait', until: null },
  },
  {
    name: 'monitoring paused on an inconclusive window (waits for Promote or Rollback)',
    d: inStage('monitoring', { wakeAt: PAST, progress: { attempt: 0, pausedBecause: 'metrics inconclusive — …' } }),
    step: { type: 'wait', until: null },
  },

  { name: 'rolling_back (switch), before wakeAt', d: rollingBack('switch', FUTURE), step: { type: 'wait', until: FUTURE } },
  { name: 'rolling_back (switch), wakeAt passed', d: rollingBack('switch', PAST), step: { type: 'apply-split', split: STAGED } },
  { name: 'rolling_back (no phase recorded = switch)', d: rollingBack(undefined, PAST), step: { type: 'apply-split', split: STAGED } },
  { name: 'rolling_back (verify), before wakeAt', d: rollingBack('verify', FUTURE), step: { type: 'wait', until: FUTURE } },
  { name: 'rolling_back (verify), wakeAt passed', d: rollingBack('verify', PAST), step: verifyBlue },
  {
    name: 'rolling_back (verify) of a rollback deployment: the version rolled back to',
    d: rollingBack('verify', PAST, { kind: 'rollback', version: BLUE, previousVersion: GREEN }),
    step: verifyBlue,
  },

  { name: 'needs_attention (waits for a person)', d: inStage('needs_attention'), step: { type: 'wait', until: null } },
  { name: 'needs_attention with a past wakeAt', d: inStage('needs_attention', { wakeAt: PAST }), step: { type: 'wait', until: null } },
];

const terminal = STAGES.filter((s) => TERMINAL_STAGES.has(s)).flatMap((stage): Case[] => [
  { name: `${stage} (terminal)`, d: inStage(stage), step: { type: 'none' } },
  { name: `${stage} (terminal) with a past wakeAt`, d: inStage(stage, { wakeAt: PAST }), step: { type: 'none' } },
  { name: `${stage} (terminal) with a future wakeAt`, d: inStage(stage, { wakeAt: FUTURE }), step: { type: 'none' } },
]);

describe('planStep', () => {
  it.each([...cases, ...terminal])('$name', ({ d, step }) => {
    expect(planStep(d, NOW, S)).toEqual(step);
  });

  it('covers every stage', () => {
    const covered = new Set<Stage>([...cases, ...terminal].map((c) => c.d.stage));
    expect([...covered].sort()).toEqual([...STAGES].sort());
  });

  it('is a pure function of the status and the time: same answer twice, nothing mutated', () => {
    for (const { d } of [...cases, ...terminal]) {
      const snapshot = structuredClone(d);
      const frozen = deepFreeze(structuredClone(d));
      expect(planStep(frozen, NOW, S)).toEqual(planStep(frozen, new Date(NOW.getTime()), S));
      expect(frozen).toEqual(snapshot);
    }
  });

  describe('monitoring with a metrics source', () => {
    const APP_JSON_SETTINGS = settings({ monitor: { metrics: { source: 'app-json' } } });
    const RELATIVE = settings({
      monitor: { metrics: { source: 'app-json' }, triggers: { relativeErrorRate: { maxPointsAboveBlue: 2, sustainedFor: '1m' } } },
    });
    const CANARY_SPLIT: Split = { [GREEN.id]: 10, [BLUE.id]: 90 };

    it('asks for green\'s figures with the probe', () => {
      expect(planStep(inStage('monitoring', { wakeAt: PAST }), NOW, APP_JSON_SETTINGS)).toEqual({ ...monitorGreen, metrics: { green: GREEN.id } });
    });

    it('source none: no figures asked for', () => {
      expect(planStep(inStage('monitoring', { wakeAt: PAST }), NOW, S)).toEqual(monitorGreen);
      expect(planStep(inStage('monitoring', { wakeAt: PAST }), NOW, S)).not.toHaveProperty('metrics');
    });

    it('with the relative trigger and blue still serving (a canary step), asks for blue\'s figures too', () => {
      const d = inStage('monitoring', { wakeAt: PAST, split: CANARY_SPLIT });
      expect(planStep(d, NOW, RELATIVE)).toEqual({ ...monitorGreen, metrics: { green: GREEN.id, blue: BLUE.id } });
    });

    it('blue at 0 % (after the full switch): nothing to compare with, so green only', () => {
      expect(planStep(inStage('monitoring', { wakeAt: PAST }), NOW, RELATIVE)).toEqual({ ...monitorGreen, metrics: { green: GREEN.id } });
    });

    it('blue serving but no relative trigger configured: green only', () => {
      const d = inStage('monitoring', { wakeAt: PAST, split: CANARY_SPLIT });
      expect(planStep(d, NOW, APP_JSON_SETTINGS)).toEqual({ ...monitorGreen, metrics: { green: GREEN.id } });
    });

    it('the probe still targets green by version during a canary step', () => {
      const d = inStage('monitoring', { wakeAt: PAST, split: CANARY_SPLIT });
      expect(planStep(d, NOW, S)).toEqual(monitorGreen);
    });
  });

  it('returns a wait that names the stored wake time, so a restarted runner re-arms the same deadline', () => {
    const d = inStage('monitoring', { wakeAt: FUTURE });
    const step = planStep(d, NOW, S);
    expect(step).toEqual({ type: 'wait', until: d.wakeAt });
    // One millisecond past the stored time the same status is due.
    expect(planStep(d, new Date(Date.parse(FUTURE) + 1), S)).toEqual(monitorGreen);
  });
});
