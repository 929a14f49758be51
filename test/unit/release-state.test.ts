import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../src/domain/deployment.ts';
import type { CommandInput } from '../../src/domain/inputs.ts';
import { allowedActions, stateOf, type ActionName } from '../../src/domain/release-state.ts';
import { STAGES } from '../../src/domain/stages.ts';
import { BLUE, GREEN, MINUTE, at, decideAndPlan, inStage, iso, settings } from '../support/domain-fixtures.ts';

/**
 * The typed situation of a release and the one answer to "what may people do now". decide()
 * accepts a command exactly when allowedActions() lists it — checked here for every stage and
 * every command — so the card's buttons, the CLI's hints and the engine can never disagree.
 */

const NOT_READY = { ready: false, detail: 'v1 is older than the newest 100 versions', checkedAt: iso() };
const READY = { ready: true, detail: 'v1 is deployable', checkedAt: iso() };

function monitoring(progress: Partial<Deployment['progress']>): Deployment {
  return inStage('monitoring', { progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: iso(5 * MINUTE), ...progress } });
}

/** Every situation worth telling apart, with what it should allow: [action, needsOverride, offered, meaning?]. */
const CASES: Array<{ name: string; d: Deployment; state: Record<string, unknown>; actions: Array<[ActionName, boolean, boolean, string?]> }> = [
  { name: 'queued', d: inStage('requested'), state: { stage: 'requested' }, actions: [['cancel', false, true]] },
  { name: 'resolving', d: inStage('resolving'), state: { stage: 'resolving' }, actions: [['cancel', false, true]] },
  { name: 'staging', d: inStage('staging'), state: { stage: 'staging' }, actions: [['cancel', false, true]] },
  { name: 'verifying', d: inStage('verifying'), state: { stage: 'verifying', attempt: 0 }, actions: [['cancel', false, true]] },
  {
    name: 'awaiting approval',
    d: inStage('awaiting_approval'),
    state: { stage: 'awaiting_approval', expiresAt: iso(60 * MINUTE), rollback: null },
    actions: [['approve', false, true], ['reject', false, true], ['cancel', false, true]],
  },
  {
    name: 'awaiting approval, a rollback would not be possible',
    d: inStage('awaiting_approval', { progress: { attempt: 0, approvalExpiresAt: iso(60 * MINUTE), rollbackReady: NOT_READY } }),
    state: { stage: 'awaiting_approval', rollback: NOT_READY },
    actions: [['approve', true, true], ['reject', false, true], ['cancel', false, true]],
  },
  {
    name: 'switching, readiness not checked yet',
    d: inStage('switching'),
    state: { stage: 'switching', phase: 'checking-rollback-readiness' },
    actions: [['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'switching, readiness checked',
    d: inStage('switching', { progress: { attempt: 0, targetSplit: { [GREEN.id]: 100, [BLUE.id]: 0 }, rollbackReady: READY } }),
    state: { stage: 'switching', phase: 'applying-split' },
    actions: [['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'monitoring, watching',
    d: monitoring({}),
    state: { stage: 'monitoring', phase: 'watching', endsAt: iso(5 * MINUTE), step: 0 },
    actions: [['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'monitoring, at a canary gate',
    d: monitoring({ awaitingPromotion: true, canaryStep: 0 }),
    state: { stage: 'monitoring', phase: 'at-gate', step: 0 },
    actions: [['promote', false, true], ['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'monitoring, the next step on hold (a rollback would not be possible)',
    d: monitoring({ awaitingPromotion: true, canaryStep: 1, rollbackReady: NOT_READY }),
    state: { stage: 'monitoring', phase: 'at-gate', step: 1, rollback: NOT_READY },
    actions: [['promote', true, true], ['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'monitoring, paused as inconclusive',
    d: monitoring({ pausedBecause: 'metrics inconclusive — no traffic' }),
    state: { stage: 'monitoring', phase: 'paused', because: 'metrics inconclusive — no traffic' },
    actions: [['promote', false, true, 'accept'], ['cancel', false, false], ['rollback', false, true]],
  },
  {
    name: 'rolling back, switching back',
    d: inStage('rolling_back'),
    state: { stage: 'rolling_back', phase: 'switching-back', cause: 'manual rollback by bob' },
    actions: [],
  },
  {
    name: 'rolling back, verifying blue',
    d: inStage('rolling_back', { progress: { attempt: 1, rollbackPhase: 'verify', rollbackCause: 'error-rate trigger' } }),
    state: { stage: 'rolling_back', phase: 'verifying-blue', cause: 'error-rate trigger' },
    actions: [],
  },
  {
    name: 'needs attention',
    d: inStage('needs_attention'),
    state: { stage: 'needs_attention' },
    actions: [['cancel', false, false], ['rollback', false, true, 'retry']],
  },
  {
    name: 'succeeded',
    d: inStage('succeeded'),
    state: { stage: 'succeeded' },
    actions: [['rollback', false, true, 'new-rollback']],
  },
  { name: 'rolled back', d: inStage('rolled_back'), state: { stage: 'rolled_back' }, actions: [] },
  { name: 'failed', d: inStage('failed'), state: { stage: 'failed' }, actions: [] },
];

describe('stateOf and allowedActions', () => {
  it.each(CASES)('$name', ({ d, state, actions }) => {
    expect(stateOf(d)).toMatchObject(state);
    expect(
      allowedActions(d).map((a) => [a.action, a.needsOverride, a.offered, ...(a.meaning ? [a.meaning] : [])]),
    ).toEqual(actions);
  });

  it('covers every stage of the contract', () => {
    const covered = new Set(CASES.map((c) => c.d.stage));
    for (const stage of STAGES.filter((s) => !['rejected', 'expired', 'cancelled'].includes(s))) expect(covered).toContain(stage);
  });

  it('a rollback deployment (not a release) offers no Rollback button, though a retry is accepted', () => {
    const d = inStage('needs_attention', { kind: 'rollback' });
    expect(allowedActions(d).map((a) => [a.action, a.offered])).toEqual([['cancel', false], ['rollback', false]]);
  });
});

describe('decide() accepts exactly the commands allowedActions() lists', () => {
  const S = settings({ approval: { fourEyes: false } });
  const COMMANDS: Record<Exclude<ActionName, never>, CommandInput> = {
    approve: { type: 'approve', actor: 'carol', override: true },
    reject: { type: 'reject', actor: 'carol' },
    promote: { type: 'promote', actor: 'carol', override: true },
    cancel: { type: 'cancel', actor: 'carol' },
    rollback: { type: 'rollback', actor: 'carol' },
  };
  for (const c of CASES.filter((x) => x.d.stage !== 'succeeded')) {
    it(`${c.name}`, () => {
      const listed = new Set(allowedActions(c.d).map((a) => a.action));
      for (const [name, command] of Object.entries(COMMANDS) as Array<[ActionName, CommandInput]>) {
        const decision = decideAndPlan(c.d, command, at(MINUTE), S);
        expect(decision.ok, `${name} in ${c.name}: ${decision.ok ? decision.deployment.stage : decision.refusal.message}`).toBe(listed.has(name));
      }
    });
  }
});
