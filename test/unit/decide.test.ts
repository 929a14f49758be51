import { describe, expect, it } from 'vitest';
import { stageInWords } from '../../src/domain/stage-words.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import { AUTO_APPROVER, SYSTEM_ACTOR } from '../../src/domain/actors.ts';
import type { CheckResult, Deployment, DeploymentEvent, Split, VersionInfo } from '../../src/domain/deployment.ts';
import type { GreenReach, Input, PlatformFailure } from '../../src/domain/inputs.ts';
import { planStep } from '../../src/domain/plan-step.ts';
import { STAGES, TERMINAL_STAGES, type Stage } from '../../src/domain/stages.ts';
import {
  type PlannedDecision,
  decideAndPlan,
  BLUE,
  GREEN,
  HEALTHY_CHECKS,
  HOUR,
  MINUTE,
  OTHER,
  SECOND,
  T0,
  accepted,
  at,
  checksFailing,
  deepFreeze,
  deployment,
  inStage,
  iso,
  refused,
  settings,
} from '../support/domain-fixtures.ts';

const S = settings();
const ID = 'dep-0001';

// ── inputs ────────────────────────────────────────────────────────────────────────────────────

const claimed: Input = { type: 'claimed' };
const tick: Input = { type: 'tick' };
function resolved(version: VersionInfo, split: Split, versions: VersionInfo[] = [BLUE, GREEN, OTHER], greenReach: GreenReach = 'in-split'): Input {
  return { type: 'resolved', version, live: { split, versions }, greenReach };
}
function platformError(retryable: boolean, code = 'CLOUDFLARE_UNAVAILABLE', message = 'Cloudflare answered 503', nothingChanged = false): Input {
  const error: PlatformFailure = { code, message, retryable, ...(nothingChanged ? { nothingChanged } : {}) };
  return { type: 'platform-error', error };
}
function splitVerified(split: Split): Input {
  return { type: 'split-verified', split };
}
function checks(results: CheckResult[]): Input {
  return { type: 'checks', results };
}
const approve = (actor: string): Input => ({ type: 'approve', actor });
const promote = (actor: string): Input => ({ type: 'promote', actor });
const readiness = (ready: boolean, detail = ready ? 'v1 (aaaaaaaa) is deployable' : 'v1 (aaaaaaaa) cannot be deployed'): Input => ({
  type: 'readiness',
  ready,
  detail,
});
const reject = (actor: string, comment?: string): Input => ({ type: 'reject', actor, comment });
const cancel = (actor: string): Input => ({ type: 'cancel', actor });
const rollback = (actor: string, comment?: string): Input => ({ type: 'rollback', actor, comment });

const STAGED: Split = { [BLUE.id]: 100, [GREEN.id]: 0 };
const SWITCHED: Split = { [GREEN.id]: 100, [BLUE.id]: 0 };
const HEALTH_503 = checksFailing({ name: 'health', detail: '503 from /health' });
const KEVIN_MISSING = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });

/** The audit event decideAndPlan() writes, with `details.reason` taken from the deployment it produced. */
function event(
  now: Date,
  action: string,
  fromStage: Stage,
  toStage: Stage,
  reason: string,
  more: { actor?: string; details?: Record<string, unknown> } = {},
): DeploymentEvent {
  return {
    deploymentId: ID,
    at: now.toISOString(),
    actor: more.actor ?? SYSTEM_ACTOR,
    action,
    fromStage,
    toStage,
    details: { reason, ...(more.details ?? {}) },
  };
}

/** Every accepted decision names exactly one next step: the one planStep derives from the new status. */
function expectPlannedStep(decision: Extract<PlannedDecision, { ok: true }>, now: Date, s: TargetSettings = S): void {
  expect(decision.intents).toEqual([planStep(decision.deployment, now, s)]);
}

// ── requested ─────────────────────────────────────────────────────────────────────────────────

describe('decide: requested', () => {
  it('claimed → resolving, due at once, counters fresh, one stage-changed event, next step resolve', () => {
    const d = inStage('requested');
    const now = at(2 * SECOND);
    const r = accepted(decideAndPlan(d, claimed, now, S));
    expect(r.deployment).toEqual({
      ...d,
      stage: 'resolving',
      reason: 'resolving the requested version',
      stageTimes: { ...d.stageTimes, resolving: now.toISOString() },
      progress: { attempt: 0 },
      wakeAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    expect(r.events).toEqual([event(now, 'stage-changed', 'requested', 'resolving', 'resolving the requested version')]);
    expect(r.intents).toEqual([{ type: 'resolve', ref: 'v2', version: null }]);
  });
});

// ── resolving ─────────────────────────────────────────────────────────────────────────────────

describe('decide: resolving + resolved', () => {
  const now = at(3 * SECOND);

  it('a release in version-override mode → staging with blue 100 / green 0 as the target split', () => {
    const d = inStage('resolving');
    const r = accepted(decideAndPlan(d, resolved(GREEN, { [BLUE.id]: 100 }), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('staging');
    expect(n.version).toEqual(GREEN);
    expect(n.previousVersion).toEqual(BLUE);
    expect(n.split).toEqual({ [BLUE.id]: 100 });
    expect(n.progress).toEqual({ attempt: 0, targetSplit: { [BLUE.id]: 100, [GREEN.id]: 0 } });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.stageTimes.staging).toBe(now.toISOString());
    expect(n.reason).toBe('making v2 (bbbbbbbb) reachable with 0 % of traffic');
    expect(r.events).toEqual([event(now, 'stage-changed', 'resolving', 'staging', n.reason)]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: { [BLUE.id]: 100, [GREEN.id]: 0 } }]);
  });

  it('names blue by id alone when the platform did not describe the live version', () => {
    const r = accepted(decideAndPlan(inStage('resolving'), resolved(GREEN, { [BLUE.id]: 100 }, [GREEN]), now, S));
    expect(r.deployment.previousVersion).toEqual({ id: BLUE.id, tag: null });
  });

  it('blue listed at 100 beside versions at 0 % still counts as the one live version', () => {
    const r = accepted(decideAndPlan(inStage('resolving'), resolved(GREEN, { [BLUE.id]: 100, [OTHER.id]: 0 }), now, S));
    expect(r.deployment.stage).toBe('staging');
    expect(r.deployment.previousVersion).toEqual(BLUE);
  });

  it('a platform that reaches green on its own (preview URLs): staging passes straight to verifying, recording both stages and why staging did nothing', () => {
    const s = settings({ platform: { reach: { mode: 'preview-url' } } });
    const d = inStage('resolving');
    const r = accepted(decideAndPlan(d, resolved(GREEN, { [BLUE.id]: 100 }, undefined, 'on-its-own'), now, s));
    const n = r.deployment;
    expect(n.stage).toBe('verifying');
    expect(n.version).toEqual(GREEN);
    expect(n.previousVersion).toEqual(BLUE);
    expect(n.split).toEqual({ [BLUE.id]: 100 });
    expect(n.progress).toEqual({ attempt: 0 });
    expect(n.progress.targetSplit).toBeUndefined();
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.stageTimes).toEqual({ ...d.stageTimes, staging: now.toISOString(), verifying: now.toISOString() });
    expect(n.reason).toBe('checking green before any traffic (attempt 1 of 3)');
    // Exactly one event per stage entered, in order: the skipped staging, then verifying.
    expect(r.events).toEqual([
      event(now, 'stage-changed', 'resolving', 'staging', 'green is reachable on its own; no split change needed', {
        details: { skipped: 'split change', why: 'the platform reaches green without a split' },
      }),
      event(now, 'stage-changed', 'staging', 'verifying', n.reason),
    ]);
    expect(r.intents).toEqual([{ type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'verify-green' }]);
  });

  it('the requested version already live → failed, saying so', () => {
    const r = accepted(decideAndPlan(inStage('resolving'), resolved(GREEN, { [GREEN.id]: 100 }), now, S));
    expect(r.deployment.stage).toBe('failed');
    expect(r.deployment.reason).toBe('v2 (bbbbbbbb) is already live on kevinstamp/production');
    expect(r.deployment.version).toEqual(GREEN);
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'failed', 'resolving', 'failed', r.deployment.reason)]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it.each([
    {
      name: 'two other versions',
      split: { [BLUE.id]: 60, [OTHER.id]: 40 },
      words: 'v1 (aaaaaaaa) 60 %, v0 (cccccccc) 40 %',
    },
    {
      name: 'green itself half-live',
      split: { [BLUE.id]: 50, [GREEN.id]: 50 },
      words: 'v1 (aaaaaaaa) 50 %, v2 (bbbbbbbb) 50 %',
    },
  ])('traffic split between $name with none at 100 → failed naming the split', ({ split, words }) => {
    const r = accepted(decideAndPlan(inStage('resolving'), resolved(GREEN, split), now, S));
    expect(r.deployment.stage).toBe('failed');
    expect(r.deployment.reason).toBe(
      `traffic is split (${words}); finish or roll back that rollout before starting another`,
    );
    expect(r.deployment.split).toEqual(split);
    expect(r.events).toEqual([event(now, 'failed', 'resolving', 'failed', r.deployment.reason)]);
  });

  describe('a rollback deployment', () => {
    const rollbackDeployment = () =>
      inStage('resolving', { kind: 'rollback', versionRef: 'v1', requestedBy: 'bob', reason: 'manual rollback by bob: errors up' });

    it('→ rolling_back with the old version at 100 and the replaced one at 0', () => {
      const d = rollbackDeployment();
      const r = accepted(decideAndPlan(d, resolved(BLUE, { [GREEN.id]: 100 }), now, S));
      const n = r.deployment;
      expect(n.stage).toBe('rolling_back');
      expect(n.version).toEqual(BLUE);
      expect(n.previousVersion).toEqual(GREEN);
      expect(n.split).toEqual({ [GREEN.id]: 100 });
      expect(n.progress).toEqual({
        attempt: 0,
        targetSplit: { [BLUE.id]: 100, [GREEN.id]: 0 },
        rollbackPhase: 'switch',
        rollbackCause: 'manual rollback by bob: errors up',
      });
      expect(n.wakeAt).toBe(now.toISOString());
      expect(n.reason).toBe('switching traffic back to v1 (aaaaaaaa)');
      expect(r.events).toEqual([event(now, 'stage-changed', 'resolving', 'rolling_back', n.reason)]);
      expect(r.intents).toEqual([{ type: 'apply-split', split: { [BLUE.id]: 100, [GREEN.id]: 0 } }]);
    });

    it('goes ahead whatever the split: the biggest share is the one replaced', () => {
      const r = accepted(decideAndPlan(rollbackDeployment(), resolved(BLUE, { [OTHER.id]: 30, [GREEN.id]: 70 }), now, S));
      expect(r.deployment.stage).toBe('rolling_back');
      expect(r.deployment.previousVersion).toEqual(GREEN);
      expect(r.deployment.progress.targetSplit).toEqual({ [BLUE.id]: 100, [GREEN.id]: 0 });
    });

    it('when the version rolled back to already has the biggest (not full) share, the replaced one is another version', () => {
      // Live: blue 60 / green 40 (a half-finished rollout). Rolling back to blue must give blue 100,
      // and replace green — never list blue as both the target and the version replaced at 0 %.
      const r = accepted(decideAndPlan(rollbackDeployment(), resolved(BLUE, { [BLUE.id]: 60, [GREEN.id]: 40 }), now, S));
      expect(r.deployment.stage).toBe('rolling_back');
      expect(r.deployment.progress.targetSplit).toEqual({ [BLUE.id]: 100, [GREEN.id]: 0 });
      expect(r.deployment.previousVersion).toEqual(GREEN);
    });

    it('a retried resolve does not leak the retry words into the rollback cause', () => {
      const retried = accepted(decideAndPlan(rollbackDeployment(), platformError(true), now, S)).deployment;
      const r = accepted(decideAndPlan(retried, resolved(BLUE, { [GREEN.id]: 100 }), at(10 * SECOND), S));
      expect(r.deployment.stage).toBe('rolling_back');
      expect(r.deployment.progress.rollbackCause).toBe('manual rollback by bob: errors up');
    });

    it('the version rolled back to already live → failed', () => {
      const r = accepted(decideAndPlan(rollbackDeployment(), resolved(BLUE, { [BLUE.id]: 100 }), now, S));
      expect(r.deployment.stage).toBe('failed');
      expect(r.deployment.reason).toBe('v1 (aaaaaaaa) is already live on kevinstamp/production');
    });
  });
});

describe('decide: platform errors and retries (resolving, staging, switching, rolling_back share one rule)', () => {
  const now = at(4 * SECOND);

  it.each([
    { before: 0, attempt: 1, delay: 2 * SECOND, next: 2 },
    { before: 1, attempt: 2, delay: 4 * SECOND, next: 3 },
    { before: 2, attempt: 3, delay: 8 * SECOND, next: 4 },
  ])(
    'resolving, retryable, attempt $attempt of 4 → stays, wakes after $delay ms (exponential from the 2s backoff)',
    ({ before, attempt, delay, next }) => {
      const d = inStage('resolving', { progress: { attempt: before } });
      const r = accepted(decideAndPlan(d, platformError(true), now, S));
      const n = r.deployment;
      expect(n.stage).toBe('resolving');
      expect(n.progress).toEqual({ attempt, lastError: 'Cloudflare answered 503', stageReason: d.reason });
      expect(n.wakeAt).toBe(new Date(now.getTime() + delay).toISOString());
      expect(n.stageTimes).toEqual(d.stageTimes);
      expect(n.reason).toContain(` — Cloudflare answered 503; retrying (attempt ${next} of 4)`);
      expect(r.events).toEqual([
        event(now, 'platform-retry', 'resolving', 'resolving', n.reason, {
          details: { error: { code: 'CLOUDFLARE_UNAVAILABLE', message: 'Cloudflare answered 503', retryable: true }, attempt },
        }),
      ]);
      expect(r.intents).toEqual([{ type: 'wait', until: n.wakeAt }]);
    },
  );

  it('the backoff is capped at one minute', () => {
    const s = settings({ switch: { attempts: 100, backoff: '20s' } });
    const d = inStage('resolving', { progress: { attempt: 5 } });
    const r = accepted(decideAndPlan(d, platformError(true), now, s));
    expect(r.deployment.wakeAt).toBe(new Date(now.getTime() + MINUTE).toISOString());
  });

  it('the reason does not pile up "retrying" clauses retry after retry', () => {
    const first = accepted(decideAndPlan(inStage('resolving'), platformError(true), now, S)).deployment;
    const second = accepted(decideAndPlan(first, platformError(true), at(10 * SECOND), S)).deployment;
    expect(second.progress.attempt).toBe(2);
    expect(second.reason).toContain('retrying (attempt 3 of 4)');
    expect(second.reason.match(/Cloudflare answered 503/g)).toHaveLength(1);
    expect(second.reason).not.toContain('attempt 2 of 4');
  });

  it.each([
    { name: 'not retryable', retryable: false, before: 0 },
    { name: 'retryable but attempts exhausted', retryable: true, before: 3 },
  ])('resolving, $name → failed with the platform message', ({ retryable, before }) => {
    const d = inStage('resolving', { progress: { attempt: before } });
    const r = accepted(decideAndPlan(d, platformError(retryable, 'VERSION_NOT_FOUND', 'no version matches v2'), now, S));
    expect(r.deployment.stage).toBe('failed');
    expect(r.deployment.reason).toBe('no version matches v2');
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'failed', 'resolving', 'failed', 'no version matches v2')]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('staging, retryable → stays, keeping the target split for the next attempt', () => {
    const d = inStage('staging');
    const r = accepted(decideAndPlan(d, platformError(true), now, S));
    expect(r.deployment.stage).toBe('staging');
    expect(r.deployment.progress).toEqual({ attempt: 1, targetSplit: STAGED, lastError: 'Cloudflare answered 503', stageReason: d.reason });
    expect(r.deployment.wakeAt).toBe(new Date(now.getTime() + 2 * SECOND).toISOString());
    expect(r.events.map((e) => [e.action, e.fromStage, e.toStage])).toEqual([['platform-retry', 'staging', 'staging']]);
  });

  it.each([
    { name: 'not retryable', retryable: false, before: 0 },
    { name: 'retryable but attempts exhausted', retryable: true, before: 3 },
  ])('staging, $name → failed, traffic untouched', ({ retryable, before }) => {
    const d = inStage('staging', { progress: { attempt: before, targetSplit: STAGED } });
    const r = accepted(decideAndPlan(d, platformError(retryable, 'CLOUDFLARE_FORBIDDEN', 'the token lacks Workers Scripts:Edit'), now, S));
    expect(r.deployment.stage).toBe('failed');
    expect(r.deployment.reason).toBe('could not make green reachable: the token lacks Workers Scripts:Edit; traffic untouched');
    expect(r.events).toEqual([event(now, 'failed', 'staging', 'failed', r.deployment.reason)]);
  });

  it('switching, retryable → stays, keeping the target split', () => {
    const d = inStage('switching', { progress: { attempt: 1, targetSplit: SWITCHED } });
    const r = accepted(decideAndPlan(d, platformError(true), now, S));
    expect(r.deployment.stage).toBe('switching');
    expect(r.deployment.progress).toEqual({ attempt: 2, targetSplit: SWITCHED, lastError: 'Cloudflare answered 503', stageReason: d.reason });
    expect(r.deployment.wakeAt).toBe(new Date(now.getTime() + 4 * SECOND).toISOString());
    expect(r.intents).toEqual([{ type: 'wait', until: r.deployment.wakeAt }]);
  });

  it.each([true, false])('switching, refused by the platform with nothing changed (retryable: %s) → failed at once, traffic untouched', (retryable) => {
    const message = 'secrets changed since this version was uploaded (10220); redeploy or use --force';
    const r = accepted(decideAndPlan(inStage('switching'), platformError(retryable, 'CLOUDFLARE_SECRETS_CHANGED', message, true), now, S));
    expect(r.deployment.stage).toBe('failed');
    expect(r.deployment.reason).toBe(`${message}; traffic untouched`);
    expect(r.events).toEqual([event(now, 'failed', 'switching', 'failed', r.deployment.reason)]);
  });

  it.each([
    { name: 'retryable error, attempts exhausted', retryable: true, before: 3 },
    { name: 'non-retryable error', retryable: false, before: 0 },
  ])('switching, $name → rolling_back to blue', ({ retryable, before }) => {
    const d = inStage('switching', { progress: { attempt: before, targetSplit: SWITCHED } });
    const r = accepted(decideAndPlan(d, platformError(retryable, 'CLOUDFLARE_UNAVAILABLE', 'Cloudflare answered 503'), now, S));
    const n = r.deployment;
    const cause = 'the switch to green failed: Cloudflare answered 503';
    expect(n.stage).toBe('rolling_back');
    expect(n.reason).toBe(`rolling back to v1 (aaaaaaaa): ${cause}`);
    expect(n.progress).toEqual({ attempt: 0, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: cause });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(r.events).toEqual([
      event(now, 'rollback-started', 'switching', 'rolling_back', n.reason, { details: { cause } }),
    ]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: STAGED }]);
  });
});

// ── staging ───────────────────────────────────────────────────────────────────────────────────

describe('decide: staging', () => {
  it('split-verified → verifying with the verified split, due at once, next step probing green by version', () => {
    const now = at(5 * SECOND);
    const d = inStage('staging');
    const r = accepted(decideAndPlan(d, splitVerified(STAGED), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('verifying');
    expect(n.split).toEqual(STAGED);
    expect(n.progress).toEqual({ attempt: 0 });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.reason).toBe('checking green before any traffic (attempt 1 of 3)');
    expect(n.stageTimes.verifying).toBe(now.toISOString());
    expect(r.events).toEqual([event(now, 'stage-changed', 'staging', 'verifying', n.reason)]);
    expect(r.intents).toEqual([{ type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'verify-green' }]);
  });
});

// ── verifying ─────────────────────────────────────────────────────────────────────────────────

describe('decide: verifying', () => {
  const now = at(20 * SECOND);

  it('every check ok → awaiting_approval, waking at the approval expiry', () => {
    const d = inStage('verifying', { progress: { attempt: 1 } });
    const r = accepted(decideAndPlan(d, checks(HEALTHY_CHECKS), now, S));
    const n = r.deployment;
    const expiresAt = new Date(now.getTime() + HOUR).toISOString();
    expect(n.stage).toBe('awaiting_approval');
    expect(n.wakeAt).toBe(expiresAt);
    expect(n.progress).toEqual({ attempt: 0, lastChecks: HEALTHY_CHECKS, approvalExpiresAt: expiresAt });
    expect(n.approvals).toEqual([]);
    expect(n.reason).toBe(`green passed every check; waiting for 1 approval(s) until ${expiresAt}`);
    expect(r.events).toEqual([
      event(now, 'verified', 'verifying', 'awaiting_approval', n.reason, { details: { attempt: 2, checks: HEALTHY_CHECKS } }),
    ]);
    expect(r.intents).toEqual([{ type: 'wait', until: expiresAt }]);
  });

  it('every check ok with approval.mode auto → straight to switching, approved by policy:auto', () => {
    const s = settings({ approval: { mode: 'auto' } });
    const d = inStage('verifying');
    const r = accepted(decideAndPlan(d, checks(HEALTHY_CHECKS), now, s));
    const n = r.deployment;
    expect(n.stage).toBe('switching');
    expect(n.approvals).toEqual([{ actor: AUTO_APPROVER, at: now.toISOString() }]);
    expect(AUTO_APPROVER).toBe('policy:auto');
    // Blue-green is the single canary step [100]: step index 0.
    expect(n.progress).toEqual({ attempt: 0, targetSplit: SWITCHED, canaryStep: 0 });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.reason).toBe('approved automatically by policy; switching all traffic to v2 (bbbbbbbb)');
    expect(n.stageTimes).toEqual({ ...d.stageTimes, awaiting_approval: now.toISOString(), switching: now.toISOString() });
    const expiresAt = new Date(now.getTime() + HOUR).toISOString();
    // One event per stage entered: verified, then the policy's approval.
    expect(r.events).toEqual([
      event(now, 'verified', 'verifying', 'awaiting_approval', `green passed every check; waiting for 1 approval(s) until ${expiresAt}`, {
        details: { attempt: 1, checks: HEALTHY_CHECKS },
      }),
      event(now, 'approved', 'awaiting_approval', 'switching', n.reason, { actor: 'policy:auto' }),
    ]);
    // Before the switch: can traffic still go back to blue?
    expect(r.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);
  });

  it('a failing check before the last attempt → stays, attempt+1, waking after the health interval', () => {
    const d = inStage('verifying');
    const r = accepted(decideAndPlan(d, checks(HEALTH_503), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('verifying');
    expect(n.progress).toEqual({ attempt: 1, lastChecks: HEALTH_503 });
    expect(n.wakeAt).toBe(new Date(now.getTime() + 10 * SECOND).toISOString());
    expect(n.reason).toBe('green not healthy yet (attempt 1 of 3): health: 503 from /health');
    expect(n.stageTimes).toEqual(d.stageTimes);
    expect(r.events).toEqual([
      event(now, 'verify-attempt-failed', 'verifying', 'verifying', n.reason, { details: { attempt: 1, checks: HEALTH_503 } }),
    ]);
    expect(r.intents).toEqual([{ type: 'wait', until: n.wakeAt }]);
  });

  it('failing at the last attempt → failed, traffic untouched, naming what failed and who keeps the traffic', () => {
    const d = inStage('verifying', { progress: { attempt: 2, lastChecks: HEALTH_503 } });
    const r = accepted(decideAndPlan(d, checks(KEVIN_MISSING), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('failed');
    expect(n.reason).toBe(
      'green failed its checks 3 times — content /: "KEVIN" missing on /; traffic untouched (v1 (aaaaaaaa) keeps 100 %)',
    );
    expect(n.reason).toContain('traffic untouched');
    expect(n.progress).toEqual({ attempt: 0, lastChecks: KEVIN_MISSING });
    expect(n.wakeAt).toBeNull();
    expect(r.events).toEqual([
      event(now, 'failed', 'verifying', 'failed', n.reason, { details: { attempt: 3, checks: KEVIN_MISSING } }),
    ]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });
});

// ── awaiting_approval ─────────────────────────────────────────────────────────────────────────

describe('decide: awaiting_approval', () => {
  it('a tick before the expiry is ignored', () => {
    const refusal = refused(decideAndPlan(inStage('awaiting_approval'), tick, at(HOUR - 1), S));
    expect(refusal.code).toBe('IGNORED_INPUT');
    expect(refusal.message).toBe(`tick means nothing to ${ID} while it is awaiting approval`);
  });

  it.each([
    { name: 'at', offset: HOUR },
    { name: 'after', offset: HOUR + 5 * MINUTE },
  ])('a tick $name the expiry → expired, traffic untouched', ({ offset }) => {
    const now = at(offset);
    const r = accepted(decideAndPlan(inStage('awaiting_approval'), tick, now, S));
    expect(r.deployment.stage).toBe('expired');
    expect(r.deployment.reason).toBe('nobody approved within 1h; traffic untouched');
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'approval-expired', 'awaiting_approval', 'expired', r.deployment.reason)]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('approve → switching with green 100 / blue 0 as the target split', () => {
    const now = at(10 * MINUTE);
    const r = accepted(decideAndPlan(inStage('awaiting_approval'), approve('bob'), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('switching');
    expect(n.approvals).toEqual([{ actor: 'bob', at: now.toISOString() }]);
    expect(n.progress).toEqual({ attempt: 0, targetSplit: { [GREEN.id]: 100, [BLUE.id]: 0 }, canaryStep: 0 });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.reason).toBe('approved by bob; switching all traffic to v2 (bbbbbbbb)');
    expect(r.events).toEqual([event(now, 'approved', 'awaiting_approval', 'switching', n.reason, { actor: 'bob' })]);
    // Rollback readiness first; the split after it.
    expect(r.intents).toEqual([{ type: 'check-readiness', versionId: BLUE.id }]);
  });

  it('with approval.required 2 the first approval keeps it waiting (same expiry); the second switches', () => {
    const s = settings({ approval: { required: 2 } });
    const first = at(2 * MINUTE);
    const one = accepted(decideAndPlan(inStage('awaiting_approval'), approve('bob'), first, s));
    expect(one.deployment.stage).toBe('awaiting_approval');
    expect(one.deployment.approvals).toEqual([{ actor: 'bob', at: first.toISOString() }]);
    expect(one.deployment.reason).toBe('1 of 2 approvals');
    expect(one.deployment.wakeAt).toBe(iso(HOUR));
    expect(one.deployment.progress.approvalExpiresAt).toBe(iso(HOUR));
    expect(one.events).toEqual([
      event(first, 'approved', 'awaiting_approval', 'awaiting_approval', '1 of 2 approvals', {
        actor: 'bob',
        details: { approvals: 1 },
      }),
    ]);
    expect(one.intents).toEqual([{ type: 'wait', until: iso(HOUR) }]);

    const second = at(3 * MINUTE);
    const two = accepted(decideAndPlan(one.deployment, approve('carol'), second, s));
    expect(two.deployment.stage).toBe('switching');
    expect(two.deployment.approvals).toEqual([
      { actor: 'bob', at: first.toISOString() },
      { actor: 'carol', at: second.toISOString() },
    ]);
    expect(two.deployment.progress.targetSplit).toEqual(SWITCHED);
    expect(two.events).toEqual([
      event(second, 'approved', 'awaiting_approval', 'switching', 'approved by carol; switching all traffic to v2 (bbbbbbbb)', {
        actor: 'carol',
      }),
    ]);
  });

  it.each([
    { comment: 'smoke test failed on staging', reason: 'rejected by bob: smoke test failed on staging; traffic untouched' },
    { comment: undefined, reason: 'rejected by bob; traffic untouched' },
  ])('reject (comment: $comment) → rejected, quoting the comment', ({ comment, reason }) => {
    const now = at(MINUTE);
    const r = accepted(decideAndPlan(inStage('awaiting_approval'), reject('bob', comment), now, S));
    expect(r.deployment.stage).toBe('rejected');
    expect(r.deployment.reason).toBe(reason);
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'rejected', 'awaiting_approval', 'rejected', reason, { actor: 'bob' })]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });
});

// ── switching ─────────────────────────────────────────────────────────────────────────────────

describe('decide: switching', () => {
  it('split-verified → monitoring, window ending now + monitor.window, first sample due at once', () => {
    const now = at(7 * SECOND);
    const d = inStage('switching');
    const r = accepted(decideAndPlan(d, splitVerified(SWITCHED), now, S));
    const n = r.deployment;
    const endsAt = new Date(now.getTime() + 5 * MINUTE).toISOString();
    expect(n.stage).toBe('monitoring');
    expect(n.split).toEqual(SWITCHED);
    expect(n.progress).toEqual({ attempt: 0, monitorStartedAt: now.toISOString(), monitorEndsAt: endsAt, lastWatchedAt: now.toISOString(), canaryStep: 0 });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.approvals).toEqual(d.approvals);
    expect(n.reason).toBe(`v2 (bbbbbbbb) has all traffic; watching until ${endsAt}`);
    expect(r.events).toEqual([event(now, 'stage-changed', 'switching', 'monitoring', n.reason)]);
    // Green is probed by version: the probe must reach green whatever the split.
    expect(r.intents).toEqual([{ type: 'probe', subject: { kind: 'version', versionId: GREEN.id }, purpose: 'monitor' }]);
  });
});

// ── monitoring ────────────────────────────────────────────────────────────────────────────────

describe('decide: monitoring', () => {
  const endsAt = iso(5 * MINUTE);

  it('a clean sample before the window ends → stays, next sample after the interval', () => {
    const now = at(MINUTE);
    const d = inStage('monitoring');
    const r = accepted(decideAndPlan(d, checks(HEALTHY_CHECKS), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('monitoring');
    expect(n.progress).toEqual({
      ...d.progress,
      samplesTaken: 1,
      consecutiveHealthFailures: 0,
      lastChecks: HEALTHY_CHECKS,
      lastWatchedAt: now.toISOString(),
      // No metrics source in these settings: nothing evaluated, and that is recorded.
      lastEvaluations: [],
    });
    expect(n.wakeAt).toBe(new Date(now.getTime() + 30 * SECOND).toISOString());
    expect(n.reason).toBe(`watching: 1 clean sample(s), window ends ${endsAt}`);
    expect(r.events).toEqual([
      event(now, 'monitor-sample', 'monitoring', 'monitoring', n.reason, { details: { sample: 1, checks: HEALTHY_CHECKS, evaluations: [] } }),
    ]);
    expect(r.intents).toEqual([{ type: 'wait', until: n.wakeAt }]);
  });

  it('a clean sample less than one interval before the end → wakes exactly at the window end', () => {
    const r = accepted(decideAndPlan(inStage('monitoring'), checks(HEALTHY_CHECKS), at(5 * MINUTE - 10 * SECOND), S));
    expect(r.deployment.stage).toBe('monitoring');
    expect(r.deployment.wakeAt).toBe(endsAt);
  });

  it.each([
    { name: 'at', offset: 5 * MINUTE },
    { name: 'after', offset: 5 * MINUTE + 12 * SECOND },
  ])('a clean sample $name the window end → succeeded, green the new last-known-good', ({ offset }) => {
    const now = at(offset);
    const d = inStage('monitoring', {
      progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: endsAt, samplesTaken: 10, consecutiveHealthFailures: 0 },
    });
    const r = accepted(decideAndPlan(d, checks(HEALTHY_CHECKS), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('succeeded');
    expect(n.reason).toBe('monitoring window of 5m passed clean (11 samples); v2 (bbbbbbbb) is the new last-known-good');
    expect(n.progress).toMatchObject({ samplesTaken: 11, consecutiveHealthFailures: 0, lastChecks: HEALTHY_CHECKS });
    expect(n.split).toEqual(SWITCHED);
    expect(n.wakeAt).toBeNull();
    expect(r.events).toEqual([
      event(now, 'monitoring-passed', 'monitoring', 'succeeded', n.reason, { details: { sample: 11, checks: HEALTHY_CHECKS, evaluations: [] } }),
    ]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('failing health samples are counted while consecutive and the count resets on a clean one', () => {
    const s1 = accepted(decideAndPlan(inStage('monitoring'), checks(HEALTH_503), at(30 * SECOND), S)).deployment;
    expect(s1.stage).toBe('monitoring');
    expect(s1.progress.consecutiveHealthFailures).toBe(1);
    expect(s1.reason).toBe('watching: 1 consecutive failing sample(s) — health: 503 from /health');
    expect(s1.wakeAt).toBe(iso(60 * SECOND));

    const s2 = accepted(decideAndPlan(s1, checks(HEALTH_503), at(60 * SECOND), S)).deployment;
    expect(s2.stage).toBe('monitoring');
    expect(s2.progress.consecutiveHealthFailures).toBe(2);
    expect(s2.progress.samplesTaken).toBe(2);

    const s3 = accepted(decideAndPlan(s2, checks(HEALTHY_CHECKS), at(90 * SECOND), S)).deployment;
    expect(s3.stage).toBe('monitoring');
    expect(s3.progress.consecutiveHealthFailures).toBe(0);
    expect(s3.progress.samplesTaken).toBe(3);

    const s4 = accepted(decideAndPlan(s3, checks(HEALTH_503), at(120 * SECOND), S)).deployment;
    expect(s4.stage).toBe('monitoring');
    expect(s4.progress.consecutiveHealthFailures).toBe(1);
  });

  it('the third consecutive failing health sample → rolling_back, naming the trigger', () => {
    const now = at(2 * MINUTE);
    const d = inStage('monitoring', {
      progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: endsAt, samplesTaken: 4, consecutiveHealthFailures: 2 },
    });
    const r = accepted(decideAndPlan(d, checks(HEALTH_503), now, S));
    const n = r.deployment;
    const cause = 'health-failures trigger (critical): 3 consecutive health-check failures (limit 3) — health: 503 from /health';
    expect(n.stage).toBe('rolling_back');
    expect(n.reason).toBe(`rolling back to v1 (aaaaaaaa): ${cause}`);
    expect(n.progress).toMatchObject({
      attempt: 0,
      targetSplit: STAGED,
      rollbackPhase: 'switch',
      rollbackCause: cause,
      consecutiveHealthFailures: 3,
      samplesTaken: 5,
      lastChecks: HEALTH_503,
    });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(r.events).toEqual([
      event(now, 'rollback-started', 'monitoring', 'rolling_back', n.reason, {
        details: { cause, trigger: 'health-failures', level: 'critical', sample: 5, checks: HEALTH_503, evaluations: [] },
      }),
    ]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: STAGED }]);
  });

  it('a failing content check → rolling_back at once as an emergency', () => {
    const now = at(30 * SECOND);
    const r = accepted(decideAndPlan(inStage('monitoring'), checks(KEVIN_MISSING), now, S));
    const n = r.deployment;
    const cause = 'content trigger (emergency): content check failed — content /: "KEVIN" missing on /';
    expect(n.stage).toBe('rolling_back');
    expect(n.progress.rollbackCause).toBe(cause);
    expect(n.progress.targetSplit).toEqual(STAGED);
    expect(r.events).toEqual([
      event(now, 'rollback-started', 'monitoring', 'rolling_back', `rolling back to v1 (aaaaaaaa): ${cause}`, {
        details: { cause, trigger: 'content', level: 'emergency', sample: 1, checks: KEVIN_MISSING, evaluations: [] },
      }),
    ]);
  });

  it('a failing health sample at the window end does not end the release as "passed clean"', () => {
    // One failure already counted (limit 3), and the sample taken at the window end fails again:
    // the trigger has not fired yet, but the window did not pass clean either.
    const now = at(5 * MINUTE);
    const d = inStage('monitoring', {
      progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: endsAt, samplesTaken: 10, consecutiveHealthFailures: 1 },
    });
    const r = accepted(decideAndPlan(d, checks(HEALTH_503), now, S));
    // Green is failing its health checks right now: it must not become the last-known-good.
    expect(r.deployment.stage).not.toBe('succeeded');
    expect(r.deployment.stage).toBe('monitoring');
    expect(r.deployment.progress.consecutiveHealthFailures).toBe(2);
    expect(r.deployment.wakeAt).toBe(new Date(now.getTime() + 30 * SECOND).toISOString());
  });
});

// ── rolling_back ──────────────────────────────────────────────────────────────────────────────

describe('decide: rolling_back', () => {
  const verifyPhase = (progress: Partial<Deployment['progress']> = {}) =>
    inStage('rolling_back', {
      split: STAGED,
      progress: { attempt: 0, targetSplit: STAGED, rollbackPhase: 'verify', rollbackCause: 'manual rollback by bob', ...progress },
    });

  it('phase switch + split-verified → phase verify, due at once, next step probing the live URL for blue', () => {
    const now = at(2 * SECOND);
    const d = inStage('rolling_back', {
      progress: { attempt: 2, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: 'manual rollback by bob', lastError: 'x' },
    });
    const r = accepted(decideAndPlan(d, splitVerified(STAGED), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('rolling_back');
    expect(n.split).toEqual(STAGED);
    expect(n.progress).toEqual({ ...d.progress, attempt: 0, rollbackPhase: 'verify' });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(n.reason).toBe('v1 (aaaaaaaa) has all traffic again; verifying its health');
    expect(r.events).toEqual([
      event(now, 'rollback-switched', 'rolling_back', 'rolling_back', n.reason, { details: { split: STAGED } }),
    ]);
    expect(r.intents).toEqual([{ type: 'probe', subject: { kind: 'live', expectVersion: BLUE.id }, purpose: 'verify-rollback' }]);
  });

  it('phase switch + retryable error → stays, retrying with backoff', () => {
    const now = at(2 * SECOND);
    const r = accepted(decideAndPlan(inStage('rolling_back'), platformError(true), now, S));
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress).toMatchObject({ attempt: 1, rollbackPhase: 'switch', lastError: 'Cloudflare answered 503' });
    expect(r.deployment.wakeAt).toBe(new Date(now.getTime() + 2 * SECOND).toISOString());
  });

  it.each([
    { name: 'retryable, attempts exhausted', retryable: true, before: 3 },
    { name: 'not retryable', retryable: false, before: 0 },
  ])('phase switch + error ($name) → needs_attention, stating the traffic as last verified', ({ retryable, before }) => {
    const now = at(9 * SECOND);
    const d = inStage('rolling_back', {
      progress: { attempt: before, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: 'manual rollback by bob' },
    });
    const error: PlatformFailure = { code: 'CLOUDFLARE_UNAVAILABLE', message: 'Cloudflare answered 503', retryable };
    const r = accepted(decideAndPlan(d, { type: 'platform-error', error }, now, S));
    const n = r.deployment;
    expect(n.stage).toBe('needs_attention');
    expect(n.reason).toBe(
      'the switch back to v1 (aaaaaaaa) failed: Cloudflare answered 503. Traffic as last verified: v2 (bbbbbbbb) 100 %, v1 (aaaaaaaa) 0 %. ' +
        'Retry with `kevin-deploy rollback kevinstamp --env production` or set the split by hand on the platform',
    );
    expect(n.progress.lastError).toBe('Cloudflare answered 503');
    expect(n.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'rollback-failed', 'rolling_back', 'needs_attention', n.reason, { details: { error } })]);
    expect(r.intents).toEqual([{ type: 'wait', until: null }]);
  });

  it('phase verify + every check ok → rolled_back, quoting the cause', () => {
    const now = at(4 * SECOND);
    const r = accepted(decideAndPlan(verifyPhase(), checks(HEALTHY_CHECKS), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('rolled_back');
    expect(n.reason).toBe('rolled back to v1 (aaaaaaaa) (manual rollback by bob); it is verified healthy');
    expect(n.progress).toMatchObject({ attempt: 1, lastChecks: HEALTHY_CHECKS });
    expect(n.wakeAt).toBeNull();
    expect(r.events).toEqual([
      event(now, 'rollback-verified', 'rolling_back', 'rolled_back', n.reason, { details: { attempt: 1, checks: HEALTHY_CHECKS } }),
    ]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('phase verify + failing checks before verifyAttempts → stays, waking after verifyInterval', () => {
    const now = at(4 * SECOND);
    const r = accepted(decideAndPlan(verifyPhase(), checks(HEALTH_503), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('rolling_back');
    expect(n.progress).toMatchObject({ attempt: 1, rollbackPhase: 'verify', lastChecks: HEALTH_503 });
    expect(n.wakeAt).toBe(new Date(now.getTime() + 3 * SECOND).toISOString());
    expect(n.reason).toBe('v1 (aaaaaaaa) has all traffic; not healthy yet (attempt 1 of 3): health: 503 from /health');
    expect(r.events).toEqual([
      event(now, 'rollback-verify-attempt-failed', 'rolling_back', 'rolling_back', n.reason, {
        details: { attempt: 1, checks: HEALTH_503 },
      }),
    ]);
  });

  it('phase verify + failing at verifyAttempts → needs_attention', () => {
    const now = at(4 * SECOND);
    const r = accepted(decideAndPlan(verifyPhase({ attempt: 2 }), checks(HEALTH_503), now, S));
    const n = r.deployment;
    expect(n.stage).toBe('needs_attention');
    expect(n.reason).toBe('traffic is 100 % on v1 (aaaaaaaa) but it fails its checks after 3 attempts — health: 503 from /health');
    expect(n.wakeAt).toBeNull();
    expect(r.events).toEqual([
      event(now, 'rollback-unhealthy', 'rolling_back', 'needs_attention', n.reason, { details: { attempt: 3, checks: HEALTH_503 } }),
    ]);
    expect(r.intents).toEqual([{ type: 'wait', until: null }]);
  });

  it('a rollback deployment verifies the version it rolled back to', () => {
    const d = inStage('rolling_back', {
      kind: 'rollback',
      version: BLUE,
      previousVersion: GREEN,
      progress: { attempt: 0, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: 'manual rollback by bob' },
    });
    const r = accepted(decideAndPlan(d, splitVerified(STAGED), at(1), S));
    expect(r.intents).toEqual([{ type: 'probe', subject: { kind: 'live', expectVersion: BLUE.id }, purpose: 'verify-rollback' }]);
    const done = accepted(decideAndPlan(r.deployment, checks(HEALTHY_CHECKS), at(2), S));
    expect(done.deployment.stage).toBe('rolled_back');
    expect(done.deployment.reason).toBe('rolled back to v1 (aaaaaaaa) (manual rollback by bob); it is verified healthy');
  });
});

// ── needs_attention ───────────────────────────────────────────────────────────────────────────

describe('decide: needs_attention', () => {
  it('rollback → rolling_back again (a retry), by the person who asked', () => {
    const now = at(MINUTE);
    const d = inStage('needs_attention', { progress: { attempt: 3, rollbackCause: 'manual rollback by bob', lastError: 'Cloudflare answered 503' } });
    const r = accepted(decideAndPlan(d, rollback('ops', 'retry'), now, S));
    const n = r.deployment;
    const cause = 'manual rollback by ops: retry';
    expect(n.stage).toBe('rolling_back');
    expect(n.reason).toBe(`rolling back to v1 (aaaaaaaa): ${cause}`);
    expect(n.progress).toEqual({
      attempt: 0,
      targetSplit: STAGED,
      rollbackPhase: 'switch',
      rollbackCause: cause,
      lastError: 'Cloudflare answered 503',
    });
    expect(n.wakeAt).toBe(now.toISOString());
    expect(r.events).toEqual([
      event(now, 'rollback-requested', 'needs_attention', 'rolling_back', n.reason, { actor: 'ops', details: { cause } }),
    ]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: STAGED }]);
  });

  it('cancel → cancelled, stating the traffic left behind', () => {
    const now = at(MINUTE);
    const r = accepted(decideAndPlan(inStage('needs_attention'), cancel('ops'), now, S));
    expect(r.deployment.stage).toBe('cancelled');
    expect(r.deployment.reason).toBe(
      'closed by ops after needing attention; traffic left as last verified: v2 (bbbbbbbb) 100 %, v1 (aaaaaaaa) 0 %',
    );
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.events).toEqual([event(now, 'cancelled', 'needs_attention', 'cancelled', r.deployment.reason, { actor: 'ops' })]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it('with no version to roll back to known, a rollback lands in needs_attention saying so', () => {
    const now = at(MINUTE);
    const d = inStage('monitoring', { previousVersion: null });
    const r = accepted(decideAndPlan(d, rollback('bob'), now, S));
    expect(r.deployment.stage).toBe('needs_attention');
    expect(r.deployment.reason).toBe('manual rollback by bob; but no version to roll back to is known');
    expect(r.events).toEqual([
      event(now, 'rollback-requested', 'monitoring', 'needs_attention', r.deployment.reason),
    ]);
  });
});

// ── refusals ──────────────────────────────────────────────────────────────────────────────────

const ALL_INPUTS: Input[] = [
  claimed,
  tick,
  resolved(GREEN, { [BLUE.id]: 100 }),
  platformError(true),
  splitVerified(SWITCHED),
  checks(HEALTHY_CHECKS),
  readiness(true),
  approve('bob'),
  promote('bob'),
  reject('bob'),
  cancel('bob'),
  rollback('bob'),
];

const TERMINAL = STAGES.filter((s) => TERMINAL_STAGES.has(s));
const NON_TERMINAL = STAGES.filter((s) => !TERMINAL_STAGES.has(s));
const PRE_TRAFFIC: Stage[] = ['requested', 'resolving', 'staging', 'verifying', 'awaiting_approval'];

describe('decide refusals', () => {
  it.each(TERMINAL.flatMap((stage) => ALL_INPUTS.map((input) => ({ stage, input, type: input.type }))))(
    'any input on a terminal stage → STALE_ACTION ($stage, $type)',
    ({ stage, input }) => {
      const d = inStage(stage, { reason: 'it ended' });
      const refusal = refused(decideAndPlan(d, input, at(MINUTE), S));
      expect(refusal.code).toBe('STALE_ACTION');
      expect(refusal.message).toBe(`${ID} already ended: it ${stageInWords(stage)} (it ended)`);
    },
  );

  it.each(NON_TERMINAL.filter((s) => s !== 'awaiting_approval'))('approve while %s → STALE_ACTION naming the real stage', (stage) => {
    const d = inStage(stage, { reason: 'busy' });
    const refusal = refused(decideAndPlan(d, approve('bob'), at(MINUTE), S));
    expect(refusal.code).toBe('STALE_ACTION');
    expect(refusal.message).toBe(`nothing to approve: ${ID} ${stageInWords(stage)} since ${iso()} (busy)`);
  });

  it('the stale message falls back to updatedAt when the stage has no recorded time', () => {
    const d = inStage('verifying', { stageTimes: {}, updatedAt: iso(-5 * SECOND), reason: 'busy' });
    const refusal = refused(decideAndPlan(d, approve('bob'), at(MINUTE), S));
    expect(refusal.message).toBe(`nothing to approve: ${ID} is verifying green since ${iso(-5 * SECOND)} (busy)`);
  });

  it('four-eyes on (protected production): the requester may not approve', () => {
    expect(S.approval.fourEyes).toBe(true);
    const refusal = refused(decideAndPlan(inStage('awaiting_approval'), approve('alice'), at(MINUTE), S));
    expect(refusal).toEqual({
      code: 'FOUR_EYES',
      message: `alice requested ${ID}; four-eyes is on for kevinstamp/production, so someone else must approve it`,
    });
  });

  it.each([
    { name: 'turned off explicitly', s: () => settings({ approval: { fourEyes: false } }) },
    { name: 'off by default in an unprotected environment', s: () => settings({}, { environment: 'staging' }) },
  ])('four-eyes $name: the requester may approve', ({ s }) => {
    const target = s();
    expect(target.approval.fourEyes).toBe(false);
    const now = at(MINUTE);
    const r = accepted(decideAndPlan(inStage('awaiting_approval'), approve('alice'), now, target));
    expect(r.deployment.stage).toBe('switching');
    expect(r.deployment.approvals).toEqual([{ actor: 'alice', at: now.toISOString() }]);
  });

  it('the same approver twice → ALREADY_APPROVED', () => {
    const s = settings({ approval: { required: 2 } });
    const d = inStage('awaiting_approval', { approvals: [{ actor: 'bob', at: iso(MINUTE) }] });
    const refusal = refused(decideAndPlan(d, approve('bob'), at(2 * MINUTE), s));
    expect(refusal).toEqual({ code: 'ALREADY_APPROVED', message: `bob already approved ${ID}; it needs another approver` });
  });

  it.each(NON_TERMINAL)('promote while %s with no gate and no pause → STALE_ACTION naming the real stage', (stage) => {
    const d = inStage(stage, { reason: 'busy' });
    const refusal = refused(decideAndPlan(d, promote('bob'), at(MINUTE), S));
    expect(refusal).toEqual({ code: 'STALE_ACTION', message: `nothing to promote: ${ID} ${stageInWords(stage)} since ${iso()} (busy)` });
  });

  it.each(NON_TERMINAL.filter((s) => s !== 'awaiting_approval'))('reject while %s → STALE_ACTION', (stage) => {
    const d = inStage(stage, { reason: 'busy' });
    const refusal = refused(decideAndPlan(d, reject('bob', 'no'), at(MINUTE), S));
    expect(refusal.code).toBe('STALE_ACTION');
    expect(refusal.message).toBe(`nothing to reject: ${ID} ${stageInWords(stage)} since ${iso()} (busy)`);
  });

  it.each(PRE_TRAFFIC)('cancel while %s → cancelled, traffic untouched', (stage) => {
    const now = at(MINUTE);
    const d = inStage(stage);
    const r = accepted(decideAndPlan(d, cancel('bob'), now, S));
    const reason = `cancelled by bob while ${stage.replace('_', ' ')}; traffic untouched`;
    expect(r.deployment.stage).toBe('cancelled');
    expect(r.deployment.reason).toBe(reason);
    expect(r.deployment.wakeAt).toBeNull();
    expect(r.deployment.split).toEqual(d.split);
    expect(r.events).toEqual([event(now, 'cancelled', stage, 'cancelled', reason, { actor: 'bob' })]);
    expect(r.intents).toEqual([{ type: 'none' }]);
  });

  it.each(['switching', 'monitoring'] as const)('cancel while %s → rolling_back to blue', (stage) => {
    const now = at(MINUTE);
    const r = accepted(decideAndPlan(inStage(stage), cancel('bob'), now, S));
    const cause = 'cancelled by bob after the switch';
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.reason).toBe(`rolling back to v1 (aaaaaaaa): ${cause}`);
    expect(r.deployment.progress).toMatchObject({ attempt: 0, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: cause });
    expect(r.events).toEqual([
      event(now, 'cancelled', stage, 'rolling_back', r.deployment.reason, { actor: 'bob', details: { cause } }),
    ]);
    expect(r.intents).toEqual([{ type: 'apply-split', split: STAGED }]);
  });

  it('cancel while rolling_back → STALE_ACTION', () => {
    const refusal = refused(decideAndPlan(inStage('rolling_back', { reason: 'busy' }), cancel('bob'), at(MINUTE), S));
    expect(refusal).toEqual({ code: 'STALE_ACTION', message: `cannot cancel now: ${ID} is rolling back since ${iso()} (busy)` });
  });

  it.each(['switching', 'monitoring'] as const)('rollback while %s → rolling_back (manual)', (stage) => {
    const now = at(MINUTE);
    const r = accepted(decideAndPlan(inStage(stage), rollback('bob', 'error rate up'), now, S));
    const cause = 'manual rollback by bob: error rate up';
    expect(r.deployment.stage).toBe('rolling_back');
    expect(r.deployment.progress).toMatchObject({ targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: cause });
    expect(r.events).toEqual([
      event(now, 'rollback-requested', stage, 'rolling_back', `rolling back to v1 (aaaaaaaa): ${cause}`, {
        actor: 'bob',
        details: { cause },
      }),
    ]);
  });

  it.each(PRE_TRAFFIC)('rollback while %s (before the switch) → NOTHING_TO_ROLL_BACK', (stage) => {
    const d = inStage(stage, { reason: 'busy' });
    const refusal = refused(decideAndPlan(d, rollback('bob'), at(MINUTE), S));
    expect(refusal).toEqual({
      code: 'NOTHING_TO_ROLL_BACK',
      message: `nothing to roll back: ${ID} ${stageInWords(stage)} since ${iso()} (busy); traffic has not moved to green — cancel it instead`,
    });
  });

  it('rollback while rolling_back → STALE_ACTION', () => {
    const refusal = refused(decideAndPlan(inStage('rolling_back', { reason: 'busy' }), rollback('bob'), at(MINUTE), S));
    expect(refusal).toEqual({ code: 'STALE_ACTION', message: `already rolling back: ${ID} is rolling back since ${iso()} (busy)` });
  });

  const OBSERVATIONS: Input[] = ALL_INPUTS.filter((i) => !['approve', 'promote', 'reject', 'cancel', 'rollback'].includes(i.type));
  /** The observations each stage acts on; every other observation is ignored. */
  const FITTING: Record<string, Input['type'][]> = {
    requested: ['claimed'],
    resolving: ['resolved', 'platform-error'],
    staging: ['split-verified', 'platform-error'],
    verifying: ['checks'],
    awaiting_approval: [], // tick only at/after expiry; the tick case is tested above
    switching: ['readiness', 'split-verified', 'platform-error'],
    monitoring: ['checks'],
    needs_attention: [],
  };
  const misfits = Object.entries(FITTING).flatMap(([stage, fitting]) =>
    OBSERVATIONS.filter((i) => !fitting.includes(i.type)).map((input) => ({ stage: stage as Stage, input, type: input.type })),
  );

  it.each(misfits)('$type while $stage → IGNORED_INPUT', ({ stage, input }) => {
    // awaiting_approval: the tick comes before the expiry, so it is a misfit too.
    const refusal = refused(decideAndPlan(inStage(stage), input, at(MINUTE), S));
    expect(refusal).toEqual({ code: 'IGNORED_INPUT', message: `${input.type} means nothing to ${ID} while it ${stageInWords(stage)}` });
  });

  it.each([
    { phase: 'switch' as const, input: checks(HEALTHY_CHECKS) },
    { phase: 'switch' as const, input: tick },
    { phase: 'switch' as const, input: claimed },
    { phase: 'verify' as const, input: splitVerified(STAGED) },
    { phase: 'verify' as const, input: platformError(true) },
    { phase: 'verify' as const, input: tick },
  ])('$input.type while rolling_back in phase $phase → IGNORED_INPUT', ({ phase, input }) => {
    const d = inStage('rolling_back', { progress: { attempt: 0, targetSplit: STAGED, rollbackPhase: phase } });
    const refusal = refused(decideAndPlan(d, input, at(MINUTE), S));
    expect(refusal).toEqual({
      code: 'IGNORED_INPUT',
      message: `${input.type} means nothing to ${ID} while it is rolling back (${phase})`,
    });
  });
});

// ── purity ────────────────────────────────────────────────────────────────────────────────────

describe('decide is pure', () => {
  const cases: Array<{ name: string; d: () => Deployment; input: Input; now: Date; s: TargetSettings }> = [
    { name: 'claimed', d: () => inStage('requested'), input: claimed, now: at(1), s: S },
    { name: 'resolved', d: () => inStage('resolving'), input: resolved(GREEN, { [BLUE.id]: 100 }), now: at(1), s: S },
    {
      name: 'resolved, preview-url',
      d: () => inStage('resolving'),
      input: resolved(GREEN, { [BLUE.id]: 100 }),
      now: at(1),
      s: settings({ platform: { reach: { mode: 'preview-url' } } }),
    },
    { name: 'retry', d: () => inStage('switching'), input: platformError(true), now: at(1), s: S },
    { name: 'verified, auto', d: () => inStage('verifying'), input: checks(HEALTHY_CHECKS), now: at(1), s: settings({ approval: { mode: 'auto' } }) },
    { name: 'verify failed', d: () => inStage('verifying'), input: checks(HEALTH_503), now: at(1), s: S },
    { name: 'approve', d: () => inStage('awaiting_approval'), input: approve('bob'), now: at(1), s: S },
    { name: 'readiness ready', d: () => inStage('switching'), input: readiness(true), now: at(1), s: S },
    { name: 'readiness not ready', d: () => inStage('switching'), input: readiness(false), now: at(1), s: S },
    {
      name: 'promote at a gate',
      d: () => inStage('monitoring', { split: { [GREEN.id]: 10, [BLUE.id]: 90 }, progress: { attempt: 0, canaryStep: 0, awaitingPromotion: true } }),
      input: promote('bob'),
      now: at(1),
      s: settings({ strategy: { type: 'canary', steps: [10, 50, 100], manualGate: true } }),
    },
    {
      name: 'metric sample',
      d: () => inStage('monitoring'),
      input: { type: 'checks', results: HEALTHY_CHECKS, metrics: { green: { source: 'app-json /metrics', errorRatePercent: 9, avgResponseMs: 100, requests: 50 } } },
      now: at(1),
      s: settings({ monitor: { metrics: { source: 'app-json' } } }),
    },
    { name: 'monitor sample', d: () => inStage('monitoring'), input: checks(HEALTH_503), now: at(1), s: S },
    { name: 'trigger', d: () => inStage('monitoring'), input: checks(KEVIN_MISSING), now: at(1), s: S },
    { name: 'rollback verify', d: () => inStage('rolling_back', { progress: { attempt: 0, rollbackPhase: 'verify' } }), input: checks(HEALTH_503), now: at(1), s: S },
    { name: 'refusal', d: () => inStage('succeeded'), input: approve('bob'), now: at(1), s: S },
    { name: 'deployment() default', d: () => deployment(), input: claimed, now: at(1), s: S },
  ];

  it.each(cases)('$name: same inputs give deep-equal outputs, and nothing it was given is mutated', ({ d, input, now, s }) => {
    const original = d();
    const snapshot = structuredClone(original);
    const settingsSnapshot = structuredClone(s);
    const inputSnapshot = structuredClone(input);
    const frozen = deepFreeze(structuredClone(original));
    const frozenSettings = deepFreeze(structuredClone(s));
    const frozenInput = deepFreeze(structuredClone(input));
    const nowSnapshot = now.getTime();

    const first = decideAndPlan(frozen, frozenInput, now, frozenSettings);
    const second = decideAndPlan(frozen, frozenInput, new Date(nowSnapshot), frozenSettings);
    expect(second).toEqual(first);
    expect(decideAndPlan(original, input, now, s)).toEqual(first);

    expect(frozen).toEqual(snapshot);
    expect(original).toEqual(snapshot);
    expect(s).toEqual(settingsSnapshot);
    expect(input).toEqual(inputSnapshot);
    expect(now.getTime()).toBe(nowSnapshot);
    if (first.ok) {
      expect(first.deployment).not.toBe(frozen);
      expect(first.deployment.updatedAt).toBe(now.toISOString());
    }
  });

  it('T0 is what the fixtures say', () => {
    expect(iso()).toBe(T0.toISOString());
  });
});

describe('decide: every accepted decision plans exactly the step planStep derives', () => {
  it.each([
    { name: 'claimed', d: inStage('requested'), input: claimed },
    { name: 'resolved', d: inStage('resolving'), input: resolved(GREEN, { [BLUE.id]: 100 }) },
    { name: 'staged', d: inStage('staging'), input: splitVerified(STAGED) },
    { name: 'verified', d: inStage('verifying'), input: checks(HEALTHY_CHECKS) },
    { name: 'approved', d: inStage('awaiting_approval'), input: approve('bob') },
    { name: 'rollback ready', d: inStage('switching'), input: readiness(true) },
    { name: 'rollback not ready', d: inStage('switching'), input: readiness(false) },
    { name: 'switched', d: inStage('switching'), input: splitVerified(SWITCHED) },
    { name: 'sampled', d: inStage('monitoring'), input: checks(HEALTHY_CHECKS) },
    { name: 'rolled back switch', d: inStage('rolling_back'), input: splitVerified(STAGED) },
  ])('$name', ({ d, input }) => {
    const now = at(MINUTE);
    expectPlannedStep(accepted(decideAndPlan(d, input, now, S)), now);
  });
});
