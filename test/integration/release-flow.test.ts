import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import { waitFor } from '../support/wait-for.ts';
import { jumpableClock } from '../support/jumpable-clock.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function deploy(harness: Harness, version: string, extra: Record<string, unknown> = {}, token: string = TOKENS.alice) {
  return harness.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version, ...extra }, token);
}

// The same release flow on each store: SQLite (one replica) and Postgres (several).
describe.each(['sqlite', 'postgres'] as const)('a blue-green release against the Cloudflare stand-in (%s store)', (dialect) => {
  it('stages green at 0 %, verifies it, waits for approval, switches, monitors and succeeds', async () => {
    h = await startHarness({ dialect });
    const v2 = h.upload('v2');
    const created = await deploy(h, 'v2', { note: 'new KEVIN gallery' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ service: 'kevinstamp', environment: 'production', requestedBy: 'alice', versionRef: 'v2' });

    const awaiting = await h.waitForStage(created.body.id, 'awaiting_approval');
    expect(awaiting.version).toEqual({ id: v2, tag: 'v2' });
    expect(awaiting.previousVersion).toEqual({ id: h.v1, tag: 'v1' });
    expect(awaiting.split).toEqual({ [h.v1]: 100, [v2]: 0 });
    expect(awaiting.checks.map((c) => c.name)).toEqual(['health', 'detailed', 'ready', 'content /', 'version']);
    expect(awaiting.checks.every((c) => c.ok)).toBe(true);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [v2]: 0 });
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, v2)).toBe(0);

    const approved = await h.api<DeploymentView>('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    expect(approved.status).toBe(200);
    const done = await h.waitForStage(created.body.id, 'succeeded');
    expect(done.split).toEqual({ [v2]: 100, [h.v1]: 0 });
    expect(done.approvals.map((a) => a.actor)).toEqual(['bob']);
    expect(Object.keys(done.stageTimes)).toEqual(
      expect.arrayContaining(['requested', 'resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded']),
    );
    // Real traffic on the edge is now served by green.
    const answer = await fetch(h.standIn.trafficUrl(STAND_IN_SCRIPT));
    expect(answer.headers.get('x-kevin-version')).toBe(v2);

    const shown = await h.api<DeploymentView>('GET', `/api/v1/deployments/${created.body.id}`);
    const actions = shown.body.events!.map((e) => e.action);
    expect(actions[0]).toBe('requested');
    expect(actions).toContain('verified');
    expect(actions).toContain('approved');
    expect(actions).toContain('monitoring-passed');
    expect(h.standIn.effectiveSwitches(STAND_IN_SCRIPT).slice(1)).toEqual([
      { [h.v1]: 100, [v2]: 0 },
      { [v2]: 100, [h.v1]: 0 },
    ]);
  });

  it('fails a green that is unhealthy without ever giving it traffic', async () => {
    h = await startHarness({ dialect });
    const bad = h.upload('v2-bad', { health: 'unhealthy', ready: false });
    const created = await deploy(h, 'v2-bad');
    const failed = await h.waitForStage(created.body.id, 'failed');
    expect(failed.reason).toMatch(/green failed its checks 3 times/);
    expect(failed.reason).toMatch(/traffic untouched/);
    expect(failed.checks.find((c) => c.name === 'health')).toMatchObject({ ok: false });
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, bad)).toBe(0);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)[h.v1]).toBe(100);
  });

  it('rolls back automatically after 3 consecutive health failures under traffic', async () => {
    h = await startHarness({ dialect, monitorWindow: '5s' });
    const nasty = h.upload('v2-nasty', { afterTraffic: { health: 'unhealthy' } });
    const created = await deploy(h, 'v2-nasty');
    await h.waitForStage(created.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    const rolledBack = await h.waitForStage(created.body.id, 'rolled_back');
    expect(rolledBack.reason).toMatch(/3 consecutive health-check failures/);
    expect(rolledBack.reason).toMatch(/verified healthy/);
    expect(rolledBack.split).toEqual({ [h.v1]: 100, [nasty]: 0 });
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [nasty]: 0 });
  });

  it('rolls back at once when the KEVIN content disappears under traffic', async () => {
    h = await startHarness({ dialect, monitorWindow: '5s' });
    h.upload('v2-no-kevin', { afterTraffic: { kevin: false } });
    const created = await deploy(h, 'v2-no-kevin');
    await h.waitForStage(created.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    const rolledBack = await h.waitForStage(created.body.id, 'rolled_back');
    expect(rolledBack.reason).toMatch(/content trigger \(emergency\)/);
    expect(rolledBack.reason).toMatch(/"KEVIN" missing on \//);
  });

  it('refuses an unknown version without writing anything', async () => {
    h = await startHarness({ dialect });
    const refused = await deploy(h, 'v9');
    expect(refused.status).toBe(404);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'VERSION_NOT_FOUND', title: 'Version not found' });
    expect(refused.body.detail).toMatch(/no version of kevinstamp matches "v9"/);
    const history = await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments');
    expect(history.body.deployments).toEqual([]);
  });

  it('waits for the lock holder and refuses a second release, naming the active one', async () => {
    h = await startHarness({ dialect });
    h.upload('v2');
    h.upload('v3');
    const first = await deploy(h, 'v2');
    await h.waitForStage(first.body.id, 'awaiting_approval');
    const second = await deploy(h, 'v3');
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('TARGET_BUSY');
    expect(second.body.detail).toContain(first.body.id);
    expect(second.body.detail).toContain('requested by alice');
    expect(second.body.detail).toContain('awaiting approval');

    const queued = await deploy(h, 'v3', { queue: true });
    expect(queued.status).toBe(201);
    expect(queued.body).toMatchObject({ stage: 'requested', queuePosition: 1 });
    await h.api('POST', `/api/v1/deployments/${first.body.id}/reject`, { comment: 'not today' }, TOKENS.bob);
    const started = await h.waitForStage(queued.body.id, 'awaiting_approval');
    expect(started.version?.tag).toBe('v3');
    const rejected = await h.api<DeploymentView>('GET', `/api/v1/deployments/${first.body.id}`);
    expect(rejected.body.reason).toBe('rejected by bob: not today; traffic untouched');
  });

  it('a refused deploy costs no Cloudflare call; an admitted release lists versions once and reads the deployment once', async () => {
    h = await startHarness({ dialect });
    h.upload('v2');
    h.upload('v3');
    const versionListings = () => h!.standIn.apiRequests().filter((r) => r.method === 'GET' && r.path.endsWith('/versions')).length;
    const cloudflareCalls = () => h!.standIn.apiRequests().length;

    const before = { calls: cloudflareCalls(), listings: versionListings() };
    const first = await deploy(h, 'v2');
    expect(first.status).toBe(201);
    await h.waitForStage(first.body.id, 'awaiting_approval');
    // Resolving v2 and reading what is live share one version listing, and neither is repeated in the runner.
    const deploymentReads = h.standIn.apiRequests().filter((r) => r.method === 'GET' && r.path.endsWith('/deployments')).length;
    expect(versionListings() - before.listings).toBe(1); // resolve v2 and name what is live, from one listing
    expect(deploymentReads).toBe(3); // the live split at admission; staging's read before and after its write
    // /metrics counts the same calls per kind, as the stand-in saw them.
    const scraped = await (await fetch(`${h.bot.url}/metrics`)).text();
    const counted = (call: string) => Number(new RegExp(`kevin_deploy_cloudflare_api_calls_total\\{call="${call}",outcome="ok"\\} (\\d+)`).exec(scraped)?.[1] ?? 0);
    expect(counted('list-deployable-versions')).toBe(versionListings());
    expect(counted('read-deployment')).toBe(deploymentReads);
    expect(counted('create-deployment')).toBe(h.standIn.apiRequests().filter((r) => r.method === 'POST' && r.path.endsWith('/deployments')).length);

    // Busy target, frozen target, unauthorized user: refused from the store alone.
    const atRest = cloudflareCalls();
    for (let i = 0; i < 20; i++) expect((await deploy(h, 'v3')).status).toBe(409);
    expect((await deploy(h, 'v3', {}, TOKENS.viewer)).status).toBe(403);
    expect(cloudflareCalls()).toBe(atRest);
    await h.api('POST', `/api/v1/deployments/${first.body.id}/cancel`, {}, TOKENS.alice);
    await h.waitForStage(first.body.id, 'cancelled');
    expect((await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'freeze' }, TOKENS.ops)).status).toBe(201);
    const frozenAt = cloudflareCalls();
    for (let i = 0; i < 20; i++) expect((await deploy(h, 'v3')).status).toBe(409);
    expect(cloudflareCalls()).toBe(frozenAt);
  });

  it('expires an approval nobody gives, when its time is up and not before', async () => {
    const time = jumpableClock();
    h = await startHarness({ dialect, approvalExpiresAfter: '2h', clock: time.clock });
    h.upload('v2');
    const created = await deploy(h, 'v2');
    await h.waitForStage(created.body.id, 'awaiting_approval');
    time.jump(2 * 3_600_000 - 60_000); // a minute before the deadline: still waiting
    await sleep(300); // six runner scans
    expect((await h.api<DeploymentView>('GET', `/api/v1/deployments/${created.body.id}`)).body.stage).toBe('awaiting_approval');
    time.jump(60_000);
    const expired = await h.waitForStage(created.body.id, 'expired');
    expect(expired.reason).toMatch(/nobody approved within 2h/);
  });

  it('cancels before the switch (traffic untouched) and after it (a rollback)', async () => {
    h = await startHarness({ dialect, monitorWindow: '10s' });
    const v2 = h.upload('v2');
    const early = await deploy(h, 'v2');
    await h.waitForStage(early.body.id, 'awaiting_approval');
    const cancelled = await h.api<DeploymentView>('POST', `/api/v1/deployments/${early.body.id}/cancel`, {}, TOKENS.alice);
    expect(cancelled.body.stage).toBe('cancelled');
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, v2)).toBe(0);

    const late = await deploy(h, 'v2');
    await h.waitForStage(late.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${late.body.id}/approve`, {}, TOKENS.bob);
    await h.waitForStage(late.body.id, 'monitoring');
    const cancelAfter = await h.api<DeploymentView>('POST', `/api/v1/deployments/${late.body.id}/cancel`, {}, TOKENS.alice);
    expect(cancelAfter.body.stage).toBe('rolling_back');
    const done = await h.waitForStage(late.body.id, 'rolled_back');
    expect(done.reason).toMatch(/cancelled by alice after the switch/);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)[h.v1]).toBe(100);
  });

  it('freezes a target: deploys refused, rollbacks allowed, unlock starts the queue', async () => {
    h = await startHarness({ dialect });
    h.upload('v2');
    const lock = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'community event' });
    expect(lock.status).toBe(201);
    const refused = await deploy(h, 'v2');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('TARGET_LOCKED');
    expect(refused.body.detail).toContain('frozen by ops');
    expect(refused.body.detail).toContain('community event');
    // A freeze never blocks a rollback.
    const rollback = await h.api<DeploymentView>('POST', '/api/v1/rollbacks', { service: 'kevinstamp', environment: 'production', to: 'v2' }, TOKENS.alice);
    expect(rollback.status).toBe(201);
    await h.waitForStage(rollback.body.id, 'rolled_back');
    const unlocked = await h.api('DELETE', '/api/v1/locks/kevinstamp/production');
    expect(unlocked.status).toBe(200);
    h.upload('v3');
    const allowed = await deploy(h, 'v3');
    expect(allowed.status).toBe(201);
  });

  it('lifts a timed freeze by itself and then starts the queue it held back', async () => {
    const time = jumpableClock();
    h = await startHarness({ dialect, clock: time.clock });
    h.upload('v2');
    h.upload('v3');
    const active = await deploy(h, 'v2');
    await h.waitForStage(active.body.id, 'awaiting_approval');
    const queued = await deploy(h, 'v3', { queue: true });
    const lock = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'launch party', expiresAfter: '30m' });
    expect(lock.status).toBe(201);
    expect(lock.body.expiresAt).not.toBeNull();
    await h.api('POST', `/api/v1/deployments/${active.body.id}/reject`, {}, TOKENS.bob);
    const held = await h.api<DeploymentView>('GET', `/api/v1/deployments/${queued.body.id}`);
    expect(held.body.stage).toBe('requested'); // the freeze holds the queue while it is in force
    await sleep(300); // six runner scans: still held
    expect((await h.api<DeploymentView>('GET', `/api/v1/deployments/${queued.body.id}`)).body.stage).toBe('requested');
    time.jump(30 * 60_000);
    const started = await h.waitForStage(queued.body.id, 'awaiting_approval');
    expect(started.version?.tag).toBe('v3');
    const status = await h.api('GET', '/api/v1/status?service=kevinstamp');
    expect(status.body.targets[0].lock).toBeNull();
    const badDuration = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'x', expiresAfter: '10' });
    expect(badDuration.status).toBe(400);
    expect(badDuration.body.detail).toMatch(/expected a duration/);
  });

  it('rolls back the live release by hand after it succeeded, to the previous known-good version', async () => {
    h = await startHarness({ dialect });
    const v2 = h.upload('v2');
    const created = await deploy(h, 'v2');
    await h.waitForStage(created.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    await h.waitForStage(created.body.id, 'succeeded');

    const rollback = await h.api<DeploymentView>('POST', '/api/v1/rollbacks', { service: 'kevinstamp', environment: 'production', note: 'gallery bug' }, TOKENS.alice);
    expect(rollback.status).toBe(201);
    expect(rollback.body.kind).toBe('rollback');
    const done = await h.waitForStage(rollback.body.id, 'rolled_back');
    expect(done.version).toEqual({ id: h.v1, tag: 'v1' });
    expect(done.previousVersion).toEqual({ id: v2, tag: 'v2' });
    expect(done.reason).toMatch(/manual rollback by alice: gallery bug/);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [v2]: 0 });

    const again = await h.api('POST', '/api/v1/rollbacks', { service: 'kevinstamp', environment: 'production', to: 'v1' }, TOKENS.alice);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('VERSION_ALREADY_LIVE');
  });

  it('switches exactly once through Cloudflare 429, 5xx and a response lost after the change', async () => {
    h = await startHarness({ dialect });
    const v2 = h.upload('v2');
    const created = await deploy(h, 'v2');
    await h.waitForStage(created.body.id, 'awaiting_approval');
    const path = 'deployments';
    h.standIn.injectFault({ method: 'POST', path, kind: 'status', status: 429, retryAfterSeconds: 0 });
    h.standIn.injectFault({ method: 'POST', path, kind: 'status', status: 503 });
    h.standIn.injectFault({ method: 'POST', path, kind: 'drop-after-apply' });
    const before = h.standIn.effectiveSwitches(STAND_IN_SCRIPT).length;
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    const done = await h.waitForStage(created.body.id, 'succeeded');
    expect(done.split).toEqual({ [v2]: 100, [h.v1]: 0 });
    const switches = h.standIn.effectiveSwitches(STAND_IN_SCRIPT).slice(before);
    expect(switches).toEqual([{ [v2]: 100, [h.v1]: 0 }]);
    const shown = await h.api<DeploymentView>('GET', `/api/v1/deployments/${created.body.id}`);
    expect(shown.body.events!.filter((e) => e.action === 'platform-retry').length).toBeGreaterThanOrEqual(2);
    await waitFor(() => h!.standIn.pendingFaults().length === 0);
  });
});
