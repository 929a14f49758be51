import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { BehaviorSpec } from '../../sandbox/cloudflare-stand-in.ts';
import {
  expectCompleteAuditTrail,
  HAPPY_PATH,
  readStoredDeployment,
  ROLLED_BACK_PATH,
  startE2e,
  type E2eBot,
  type E2eOptions,
  type StoredDeployment,
} from '../support/e2e-fixtures.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { STAND_IN_SCRIPT as SCRIPT } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * "Nothing lost, nothing doubled." A real `kevin-deploy serve` is SIGKILLed at every point of a
 * release — in each stage, and between sending the traffic switch to Cloudflare and recording
 * it — then started again on the same port and database. Each time the release must end where a
 * release without a crash would have ended, Cloudflare must have seen exactly one effective
 * switch per intended change, and the audit trail must tell the whole story with no gap.
 *
 * Where the kill lands is made certain, not hoped for: either the stand-in's request observer
 * kills the bot synchronously when a given platform call arrives (the call has been sent, its
 * answer never comes back), or a slow platform or a slow or not-yet-healthy version keeps the
 * bot in the stage while the test waits for it. The database file is read between the kill and
 * the restart to prove which stage the crash really hit.
 */

const TERMINAL: Stage[] = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

let e: E2eBot | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

interface CrashContext {
  e: E2eBot;
  green: string;
  /** Anything a case wants to compare after the restart. */
  memo: Record<string, unknown>;
}

interface CrashCase {
  point: string;
  options?: E2eOptions;
  green?: BehaviorSpec;
  /** Anything before the release that must not count as its switches (returns the release's id, kept as memo.queued). */
  prepare?(ctx: CrashContext): Promise<string>;
  /** Creates the release, drives it to the crash point and SIGKILLs the bot there; returns the deployment id. */
  crash(ctx: CrashContext): Promise<string>;
  /** The stage the database holds after the kill. */
  killedIn: Stage;
  checkStored?(stored: StoredDeployment, ctx: CrashContext): void;
  /** Undo what only served to hold the bot in the stage (faults, slow or failing behaviour). */
  beforeRestart?(ctx: CrashContext): void;
  afterRestart?(ctx: CrashContext, id: string): Promise<void>;
  outcome: 'succeeded' | 'rolled_back';
  /** The stage changes of the audit trail, when not the plain happy or rolled-back path. */
  auditPath?: Stage[];
}

function apiCount(e: E2eBot, method: string, suffix: string): number {
  return e.standIn.apiRequests().filter((r) => r.method === method && r.path.endsWith(suffix)).length;
}

function killNow(e: E2eBot): void {
  e.bot.child.kill('SIGKILL');
}

/**
 * SIGKILLs the bot from inside the stand-in's request observer: the request (body read) has
 * reached "Cloudflare" and will be applied, but the bot never learns the answer.
 */
function killOnRequest(e: E2eBot, match: (req: { method: string; path: string; index: number }) => boolean): Promise<void> {
  let index = 0;
  return new Promise((resolve) => {
    const off = e.standIn.onRequest((req) => {
      index += 1;
      if (!match({ ...req, index })) return;
      off();
      killNow(e);
      resolve();
    });
  });
}

const isDeploymentsCall = (method: string) => (req: { method: string; path: string }) =>
  req.method === method && req.path.endsWith('/deployments');

async function releaseToApproval(ctx: CrashContext): Promise<DeploymentView> {
  const d = await ctx.e.deploy('v2');
  await ctx.e.waitForStage(d.id, 'awaiting_approval');
  return d;
}

async function waitForView(e: E2eBot, id: string, holds: (v: DeploymentView) => boolean, what: string): Promise<DeploymentView> {
  let last: DeploymentView | undefined;
  await waitFor(
    async () => {
      last = await e.show(id);
      if (TERMINAL.includes(last.stage)) throw new Error(`${id} ended (${last.stage}: ${last.reason}) before ${what}`);
      return holds(last);
    },
    { timeoutMs: 60_000, intervalMs: 40, describe: () => `${what}; ${id} is ${last?.stage}: ${last?.reason}` },
  );
  return last!;
}

const CASES: CrashCase[] = [
  {
    // A request resolves its version when it is admitted; a queued one reads the live traffic when
    // its turn comes — in the runner, in `resolving`.
    point: 'resolving (a queued release whose turn came, while the live deployment is read)',
    async prepare({ e, memo }) {
      e.upload('blocker');
      const blocker = await e.deploy('blocker');
      await e.waitForStage(blocker.id, 'awaiting_approval');
      const queued = await e.deploy('v2', { queue: true });
      expect(queued.stage).toBe('requested');
      memo.blocker = blocker.id;
      return queued.id;
    },
    async crash({ e, memo }) {
      // Every read of the live deployment is slow, so the runner's resolve step takes seconds.
      e.standIn.injectFault({ method: 'GET', path: '/deployments', kind: 'latency', latencyMs: 2_000, times: -1 });
      const seen = apiCount(e, 'GET', '/deployments');
      const cancelled = await e.api<DeploymentView>('POST', `/api/v1/deployments/${memo.blocker as string}/cancel`, {}, TOKENS.alice);
      expect(cancelled.body.stage).toBe('cancelled');
      await waitFor(() => apiCount(e, 'GET', '/deployments') > seen, { timeoutMs: 30_000 });
      killNow(e);
      return memo.queued as string;
    },
    killedIn: 'resolving',
    checkStored(stored) {
      expect(stored.split).toEqual({});
    },
    beforeRestart({ e }) {
      e.standIn.clearFaults();
    },
    outcome: 'succeeded',
    auditPath: ['requested', ...HAPPY_PATH],
  },
  {
    point: 'staging (the 0 % split sent, its answer lost)',
    async crash({ e }) {
      const killed = killOnRequest(e, isDeploymentsCall('POST'));
      const d = await e.deploy('v2');
      await killed;
      return d.id;
    },
    killedIn: 'staging',
    checkStored(stored, { e, green }) {
      expect(stored.progress.targetSplit).toEqual({ [e.v1]: 100, [green]: 0 });
      // Cloudflare applied it; the bot never recorded it.
      expect(e.standIn.activeSplit(SCRIPT)).toEqual({ [e.v1]: 100, [green]: 0 });
    },
    outcome: 'succeeded',
  },
  {
    point: 'verifying (green probed, not healthy yet)',
    options: { healthAttempts: 200 },
    green: { health: 'unhealthy', latencyMs: 300 },
    async crash({ e, green }) {
      const d = await e.deploy('v2');
      await waitForView(e, d.id, (v) => v.stage === 'verifying' && v.checks.length > 0, 'green to have been probed');
      const served = e.standIn.servedBy(SCRIPT)[green] ?? 0;
      await waitFor(() => (e.standIn.servedBy(SCRIPT)[green] ?? 0) > served, { timeoutMs: 30_000 });
      killNow(e); // a probe of green is in flight
      return d.id;
    },
    killedIn: 'verifying',
    checkStored(stored, { e, green }) {
      expect(stored.progress.attempt).toBeGreaterThanOrEqual(1);
      expect(e.standIn.maxPercentSeen(SCRIPT, green)).toBe(0);
    },
    beforeRestart({ e, green }) {
      e.standIn.setBehavior(green, {}); // green becomes healthy while the bot is down
    },
    outcome: 'succeeded',
  },
  {
    point: 'awaiting_approval',
    async crash(ctx) {
      const d = await releaseToApproval(ctx);
      ctx.memo.expiresAt = (await ctx.e.show(d.id)).nextCheckAt;
      killNow(ctx.e);
      return d.id;
    },
    killedIn: 'awaiting_approval',
    checkStored(stored, ctx) {
      expect(stored.wakeAt).toBe(ctx.memo.expiresAt);
    },
    async afterRestart(ctx, id) {
      // The approval deadline comes from the stored timestamp, not from a timer restarted at boot.
      const view = await ctx.e.show(id);
      expect(view.stage).toBe('awaiting_approval');
      expect(view.nextCheckAt).toBe(ctx.memo.expiresAt);
    },
    outcome: 'succeeded',
  },
  {
    point: 'switching (before the switch was sent)',
    async crash(ctx) {
      const { e } = ctx;
      const d = await releaseToApproval(ctx);
      // The switch first reads the live deployment; that read is where the bot dies.
      const killed = killOnRequest(e, isDeploymentsCall('GET'));
      const posts = apiCount(e, 'POST', '/deployments');
      await e.approve(d.id);
      await killed;
      expect(apiCount(e, 'POST', '/deployments')).toBe(posts);
      return d.id;
    },
    killedIn: 'switching',
    checkStored(stored, { e, green }) {
      expect(stored.split).toEqual({ [e.v1]: 100, [green]: 0 });
      expect(e.standIn.activeSplit(SCRIPT)).toEqual({ [e.v1]: 100, [green]: 0 });
    },
    outcome: 'succeeded',
  },
  {
    point: 'between switch requested and switch recorded',
    async crash(ctx) {
      const { e, green } = ctx;
      const d = await releaseToApproval(ctx);
      const killed = killOnRequest(e, isDeploymentsCall('POST'));
      await e.approve(d.id);
      await killed;
      // The observer ran before the stand-in applied the change: Cloudflare now serves green.
      await waitFor(() => e.standIn.activeSplit(SCRIPT)[green] === 100, { timeoutMs: 10_000 });
      return d.id;
    },
    killedIn: 'switching',
    checkStored(stored, { e, green }) {
      // Sent, applied, never recorded.
      expect(stored.split).toEqual({ [e.v1]: 100, [green]: 0 });
      expect(stored.progress.targetSplit).toEqual({ [green]: 100, [e.v1]: 0 });
      expect(e.standIn.activeSplit(SCRIPT)).toEqual({ [green]: 100, [e.v1]: 0 });
    },
    outcome: 'succeeded',
  },
  {
    point: 'monitoring',
    options: { monitorWindow: '6s' },
    async crash(ctx) {
      const { e } = ctx;
      const d = await releaseToApproval(ctx);
      await e.approve(d.id);
      await waitForView(e, d.id, (v) => v.stage === 'monitoring', 'monitoring to start');
      killNow(e);
      return d.id;
    },
    killedIn: 'monitoring',
    checkStored(stored, { e, green }) {
      expect(stored.split).toEqual({ [green]: 100, [e.v1]: 0 });
      expect(typeof stored.progress.monitorEndsAt).toBe('string');
    },
    outcome: 'succeeded',
  },
  {
    point: 'rolling_back (before the switch back was sent)',
    options: { monitorWindow: '60s' },
    green: { afterTraffic: { health: 'unhealthy' } },
    async crash(ctx) {
      const { e } = ctx;
      const d = await releaseToApproval(ctx);
      // After approval: the switch reads, posts, reads again; monitoring only probes the edge;
      // the third read of the live deployment is the rollback's own — the bot dies there.
      let reads = 0;
      const killed = killOnRequest(e, (req) => isDeploymentsCall('GET')(req) && ++reads === 3);
      await e.approve(d.id);
      await killed;
      return d.id;
    },
    killedIn: 'rolling_back',
    checkStored(stored, { e, green }) {
      expect(stored.progress.rollbackPhase).toBe('switch');
      expect(stored.progress.targetSplit).toEqual({ [e.v1]: 100, [green]: 0 });
      expect(e.standIn.activeSplit(SCRIPT)).toEqual({ [green]: 100, [e.v1]: 0 });
    },
    outcome: 'rolled_back',
  },
  {
    point: 'rolling_back (traffic back on blue, blue being verified)',
    options: { monitorWindow: '60s', editYaml: (yaml) => yaml.replace('verifyAttempts: 3', 'verifyAttempts: 500') },
    green: { afterTraffic: { health: 'unhealthy' } },
    async crash(ctx) {
      const { e } = ctx;
      // Blue answers only after a while: it serves nothing until the rollback gives it traffic back.
      e.standIn.setBehavior(e.v1, { health: 'unhealthy', latencyMs: 200 });
      const d = await releaseToApproval(ctx);
      await e.approve(d.id);
      await waitForView(
        e,
        d.id,
        (v) => v.stage === 'rolling_back' && (v.events ?? []).some((ev) => ev.action === 'rollback-verify-attempt-failed'),
        'the rollback to verify blue',
      );
      killNow(e);
      return d.id;
    },
    killedIn: 'rolling_back',
    checkStored(stored, { e, green }) {
      expect(stored.progress.rollbackPhase).toBe('verify');
      expect(stored.split).toEqual({ [e.v1]: 100, [green]: 0 });
    },
    beforeRestart({ e }) {
      e.standIn.setBehavior(e.v1, {});
    },
    outcome: 'rolled_back',
  },
];

async function runCase(c: CrashCase): Promise<void> {
  e = await startE2e(c.options);
  const ctx: CrashContext = { e, green: e.upload('v2', c.green), memo: {} };
  const { green } = ctx;
  if (c.prepare) ctx.memo.queued = await c.prepare(ctx);
  const switchesBefore = e.standIn.effectiveSwitches(SCRIPT).length;
  const deploymentsBefore = e.standIn.deployments(SCRIPT).length;

  const id = await c.crash(ctx);
  const exit = await e.bot.exited();
  expect(exit.signal, 'the bot died by SIGKILL').toBe('SIGKILL');

  const stored = readStoredDeployment(e, id);
  expect(stored.stage, 'the stage the crash hit').toBe(c.killedIn);
  c.checkStored?.(stored, ctx);
  c.beforeRestart?.(ctx);

  await e.bot.restart();
  await c.afterRestart?.(ctx, id);

  let view = await e.waitForStage(id, ['awaiting_approval', ...TERMINAL], 90_000);
  if (view.stage === 'awaiting_approval') {
    await e.approve(id);
    view = await e.waitForStage(id, TERMINAL, 90_000);
  }
  expect(view.stage, view.reason).toBe(c.outcome);

  const toGreen = { [green]: 100, [e.v1]: 0 };
  const toBlue = { [e.v1]: 100, [green]: 0 };
  const intended = c.outcome === 'succeeded' ? [toBlue, toGreen] : [toBlue, toGreen, toBlue];
  // staging, switch (and the switch back): each exactly once.
  expect(e.standIn.effectiveSwitches(SCRIPT).slice(switchesBefore)).toEqual(intended);
  // Not even a repeated no-op deployment: every switch read the live state before writing.
  expect(e.standIn.deployments(SCRIPT).length - deploymentsBefore).toBe(intended.length);
  expect(e.standIn.activeSplit(SCRIPT)).toEqual(intended.at(-1));
  expect(view.split).toEqual(intended.at(-1));

  const shown = await e.show(id);
  expectCompleteAuditTrail(shown, c.auditPath ?? (c.outcome === 'succeeded' ? HAPPY_PATH : ROLLED_BACK_PATH));
  expect(shown.approvals.map((a) => a.actor)).toEqual(['bob']);
  expect(shown.events!.filter((ev) => ev.action === 'approved')).toHaveLength(1);
  if (c.outcome === 'rolled_back') {
    expect(shown.events!.filter((ev) => ev.to === 'rolling_back' && ev.from !== 'rolling_back')).toHaveLength(1);
    expect(shown.events!.filter((ev) => ev.action === 'rollback-switched')).toHaveLength(1);
  }
  // The restarted bot is healthy and holds no stale work.
  expect((await fetch(`${e.bot.url}/readyz`)).status).toBe(200);
}

describe('crash safety: SIGKILL at every point of a release, then restart', { timeout: 240_000 }, () => {
  for (const c of CASES) {
    it(`killed in ${c.point}: ends ${c.outcome}, each switch exactly once, complete audit trail`, async () => {
      await runCase(c);
    });
  }

  it('a manual rollback killed between its switch requested and recorded: rolled back once, trail complete', async () => {
    e = await startE2e({ monitorWindow: '400ms' });
    const green = e.upload('v2');
    const release = await e.deploy('v2');
    await e.waitForStage(release.id, 'awaiting_approval');
    await e.approve(release.id);
    expect((await e.waitForStage(release.id, TERMINAL)).stage).toBe('succeeded');
    const switchesBefore = e.standIn.effectiveSwitches(SCRIPT).length;
    const deploymentsBefore = e.standIn.deployments(SCRIPT).length;

    const killed = killOnRequest(e, isDeploymentsCall('POST'));
    const created = await e.api<DeploymentView>('POST', '/api/v1/rollbacks', { service: 'kevinstamp', environment: 'production', note: 'gallery bug' }, TOKENS.alice);
    expect(created.status).toBe(201);
    const id = created.body.id;
    await killed;
    expect((await e.bot.exited()).signal).toBe('SIGKILL');
    await waitFor(() => e!.standIn.activeSplit(SCRIPT)[e!.v1] === 100, { timeoutMs: 10_000 });
    const stored = readStoredDeployment(e, id);
    expect(stored.stage).toBe('rolling_back');
    expect(stored.progress.rollbackPhase).toBe('switch');

    await e.bot.restart();
    const done = await e.waitForStage(id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(done.version).toEqual({ id: e.v1, tag: 'v1' });
    expect(e.standIn.effectiveSwitches(SCRIPT).slice(switchesBefore)).toEqual([{ [e.v1]: 100, [green]: 0 }]);
    expect(e.standIn.deployments(SCRIPT).length - deploymentsBefore).toBe(1);
    expectCompleteAuditTrail(await e.show(id), ['resolving', 'rolling_back', 'rolled_back']);
  });

  it('killed in monitoring while a rollback trigger builds up: the count survives and the rollback happens once', async () => {
    // Every monitoring sample takes ~0.8 s and fails; 3 consecutive failures fire the trigger.
    e = await startE2e({ monitorWindow: '120s' });
    const green = e.upload('v2', { afterTraffic: { health: 'unhealthy', latencyMs: 800 } });
    const switchesBefore = e.standIn.effectiveSwitches(SCRIPT).length;
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');
    await e.approve(d.id);
    const building = await waitForView(
      e,
      d.id,
      (v) => v.stage === 'monitoring' && /\b[12] consecutive failing sample/.test(v.reason),
      'the first failing monitoring samples',
    );
    killNow(e);
    expect((await e.bot.exited()).signal).toBe('SIGKILL');
    expect(building.reason).toMatch(/health: 503/);

    const stored = readStoredDeployment(e, d.id);
    expect(stored.stage).toBe('monitoring');
    const countedBeforeCrash = stored.progress.consecutiveHealthFailures as number;
    expect(countedBeforeCrash).toBeGreaterThanOrEqual(1);
    expect(countedBeforeCrash).toBeLessThan(3);

    await e.bot.restart();
    const done = await e.waitForStage(d.id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(done.reason).toMatch(/3 consecutive health-check failures/);

    const shown = await e.show(d.id);
    expectCompleteAuditTrail(shown, ROLLED_BACK_PATH);
    const events = shown.events!;
    expect(events.filter((ev) => ev.action === 'rollback-started')).toHaveLength(1);
    // The failure count carried over the crash: exactly 3 failing samples were recorded in all
    // (2 as monitoring samples — the first after the restart may be recorded as `monitor-resumed`,
    // when the bot was away longer than a watch — the 3rd with the rollback it started), not 3 more.
    const failingSamples = events.filter(
      (ev) => (ev.action === 'monitor-sample' || ev.action === 'monitor-resumed') && ((ev.details.checks as Array<{ ok: boolean }>) ?? []).some((c) => !c.ok),
    );
    expect(failingSamples).toHaveLength(2);
    expect(e.standIn.effectiveSwitches(SCRIPT).slice(switchesBefore)).toEqual([
      { [e.v1]: 100, [green]: 0 },
      { [green]: 100, [e.v1]: 0 },
      { [e.v1]: 100, [green]: 0 },
    ]);
    expect(e.standIn.activeSplit(SCRIPT)).toEqual({ [e.v1]: 100, [green]: 0 });
  });
});
