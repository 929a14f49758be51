import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { TOKENS, type Harness } from '../support/bot-harness.ts';
import { startRoutesHarness } from '../support/routes-harness.ts';
import { apiRouteChanges, APEX_ROUTE, BLUE_SCRIPT, GREEN_SCRIPT, ROUTES, scriptsServing, SHOP_DOMAIN, WWW_ROUTE, ZONE_NAME } from '../support/routes-fixtures.ts';
import { edgeTally } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Blue and green as two Workers behind the zone's routes (platform cloudflare-workers-routes),
 * through the whole bot: HTTP API, runner, store, the route-switching adapter, the stand-in.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function deploy(harness: Harness, version: string): Promise<DeploymentView> {
  const created = await harness.api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version }, TOKENS.alice);
  expect(created.status).toBe(201);
  return created.body;
}

async function approve(harness: Harness, id: string): Promise<void> {
  const approved = await harness.api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob);
  expect(approved.status).toBe(200);
}

const allOn = (script: string, extra: Record<string, string> = {}) => ({ ...Object.fromEntries(ROUTES.map((r) => [r, script])), ...extra });

describe('a release of blue and green as two Workers, switched by route', () => {
  it('deploys green to the idle Worker, checks it there, then moves every route and domain at once after approval', async () => {
    h = await startRoutesHarness({ customDomain: true });
    const v2 = h.upload('v2');
    const d = await deploy(h, 'v2');

    const awaiting = await h.waitForStage(d.id, 'awaiting_approval');
    expect(awaiting.version).toEqual({ id: v2, tag: 'v2' });
    expect(awaiting.previousVersion).toEqual({ id: h.v1, tag: 'v1' });
    expect(awaiting.split).toEqual({ [h.v1]: 100, [v2]: 0 });
    expect(awaiting.checks.every((c) => c.ok)).toBe(true);
    expect(awaiting.checks.find((c) => c.name === 'version')?.detail).toBe(`reports ${v2.slice(0, 8)}`);
    // Green runs alone on the Worker without routes; no route moved, users still on blue.
    expect(h.standIn.activeSplit(GREEN_SCRIPT)).toEqual({ [v2]: 100 });
    expect(apiRouteChanges(h.standIn)).toEqual([]);
    expect(await edgeTally(h.standIn.hostUrl(ZONE_NAME), 2)).toEqual({ [h.v1]: 2 });

    await approve(h, d.id);
    const done = await h.waitForStage(d.id, 'succeeded');
    expect(done.split).toEqual({ [v2]: 100, [h.v1]: 0 });
    expect(scriptsServing(h.standIn)).toEqual(allOn(GREEN_SCRIPT, { [SHOP_DOMAIN]: GREEN_SCRIPT }));
    // One effective change per route and domain, none repeated.
    expect(apiRouteChanges(h.standIn)).toEqual([
      { name: APEX_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: WWW_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: SHOP_DOMAIN, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
    ]);
    expect(await edgeTally(h.standIn.hostUrl(`www.${ZONE_NAME}`), 2)).toEqual({ [v2]: 2 });
    // Blue's Worker was never touched: its only deployment is the one it had.
    expect(h.standIn.deployments(BLUE_SCRIPT)).toHaveLength(1);

    const readiness = done.events!.find((e) => e.action === 'rollback-readiness');
    expect(String((readiness?.details as { detail?: string }).detail)).toContain(`${BLUE_SCRIPT} still runs ${h.v1.slice(0, 8)} at 100 %`);

    // status says which Worker serves which route.
    const status = await h.api<{ targets: Array<{ routing?: unknown }> }>('GET', '/api/v1/status?service=kevinstamp');
    expect(status.body.targets[0]!.routing).toEqual([
      { kind: 'route', name: APEX_ROUTE, servedBy: GREEN_SCRIPT, version: { id: v2, tag: 'v2' } },
      { kind: 'route', name: WWW_ROUTE, servedBy: GREEN_SCRIPT, version: { id: v2, tag: 'v2' } },
      { kind: 'custom-domain', name: SHOP_DOMAIN, servedBy: GREEN_SCRIPT, version: { id: v2, tag: 'v2' } },
    ]);

    // The next release goes to the Worker that is idle now: blue's.
    const v3 = h.standIn.addVersion(BLUE_SCRIPT, { tag: 'v3' }).id;
    const next = await deploy(h, 'v3');
    await h.waitForStage(next.id, 'awaiting_approval');
    expect(h.standIn.activeSplit(BLUE_SCRIPT)).toEqual({ [v3]: 100 });
    expect(scriptsServing(h.standIn)).toEqual(allOn(GREEN_SCRIPT, { [SHOP_DOMAIN]: GREEN_SCRIPT }));
  });

  it('rolls a green that breaks under users back by moving the routes back to blue, untouched', async () => {
    h = await startRoutesHarness({ monitorWindow: '5s' });
    const nasty = h.upload('v2-nasty', { afterTraffic: { health: 'unhealthy' } });
    const d = await deploy(h, 'v2-nasty');
    // Green passes its checks: it has had no users yet.
    await h.waitForStage(d.id, 'awaiting_approval');
    await approve(h, d.id);
    const rolledBack = await h.waitForStage(d.id, 'rolled_back');
    expect(rolledBack.reason).toMatch(/3 consecutive health-check failures/);
    expect(rolledBack.reason).toMatch(/verified healthy/);
    expect(rolledBack.split).toEqual({ [h.v1]: 100, [nasty]: 0 });
    expect(scriptsServing(h.standIn)).toEqual(allOn(BLUE_SCRIPT));
    expect(apiRouteChanges(h.standIn)).toEqual([
      { name: APEX_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: WWW_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: APEX_ROUTE, from: GREEN_SCRIPT, to: BLUE_SCRIPT },
      { name: WWW_ROUTE, from: GREEN_SCRIPT, to: BLUE_SCRIPT },
    ]);
    expect(h.standIn.deployments(BLUE_SCRIPT)).toHaveLength(1);
    expect(await edgeTally(h.standIn.hostUrl(ZONE_NAME), 2)).toEqual({ [h.v1]: 2 });
  });

  it('rolls a succeeded release back by hand: the routes go back to the Worker that still runs blue', async () => {
    h = await startRoutesHarness();
    const v2 = h.upload('v2');
    const d = await deploy(h, 'v2');
    await h.waitForStage(d.id, 'awaiting_approval');
    await approve(h, d.id);
    await h.waitForStage(d.id, 'succeeded');

    const rollback = await h.api<DeploymentView>('POST', '/api/v1/rollbacks', { service: 'kevinstamp', environment: 'production', note: 'gallery bug' }, TOKENS.alice);
    expect(rollback.status).toBe(201);
    const done = await h.waitForStage(rollback.body.id, 'rolled_back');
    expect(done.version).toEqual({ id: h.v1, tag: 'v1' });
    expect(done.previousVersion).toEqual({ id: v2, tag: 'v2' });
    expect(scriptsServing(h.standIn)).toEqual(allOn(BLUE_SCRIPT));
    expect(apiRouteChanges(h.standIn)).toHaveLength(4);
    expect(h.standIn.deployments(BLUE_SCRIPT)).toHaveLength(1);
  });

  it('switches once per route through Cloudflare 429, 5xx and an answer lost after the route moved', async () => {
    h = await startRoutesHarness();
    const v2 = h.upload('v2');
    const d = await deploy(h, 'v2');
    await h.waitForStage(d.id, 'awaiting_approval');
    const path = '/workers/routes/';
    h.standIn.injectFault({ method: 'PUT', path, kind: 'status', status: 429, retryAfterSeconds: 0 });
    h.standIn.injectFault({ method: 'PUT', path, kind: 'status', status: 503 });
    h.standIn.injectFault({ method: 'PUT', path, kind: 'drop-after-apply' });
    await approve(h, d.id);
    const done = await h.waitForStage(d.id, 'succeeded');
    expect(done.split).toEqual({ [v2]: 100, [h.v1]: 0 });
    expect(scriptsServing(h.standIn)).toEqual(allOn(GREEN_SCRIPT));
    expect(apiRouteChanges(h.standIn)).toHaveLength(2);
    expect(done.events!.filter((e) => e.action === 'platform-retry').length).toBeGreaterThanOrEqual(2);
    await waitFor(() => h!.standIn.pendingFaults().length === 0);
  });

  it('warns before the switch when green lacks a binding blue has, in the rollback-readiness detail', async () => {
    h = await startRoutesHarness();
    const blue = h.standIn.addVersion(BLUE_SCRIPT, { tag: 'v1b', bindings: [{ type: 'durable_object_namespace', name: 'COUNTER' }] }).id;
    h.standIn.deploy(BLUE_SCRIPT, { [blue]: 100 });
    h.upload('v2');
    const d = await deploy(h, 'v2');
    await h.waitForStage(d.id, 'awaiting_approval');
    await approve(h, d.id);
    const done = await h.waitForStage(d.id, 'succeeded');
    const readiness = done.events!.find((e) => e.action === 'rollback-readiness');
    expect(String((readiness?.details as { detail?: string }).detail)).toContain(`WARNING: ${GREEN_SCRIPT} lacks bindings ${BLUE_SCRIPT} has: COUNTER (durable_object_namespace)`);
  });

  it('refuses a release uploaded to the Worker that serves users, and changes nothing', async () => {
    h = await startRoutesHarness();
    h.standIn.addVersion(BLUE_SCRIPT, { tag: 'v2' });
    const refused = await h.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('VERSION_NOT_DEPLOYABLE');
    expect(refused.body.detail).toContain(`upload the release to ${GREEN_SCRIPT}`);
    expect(h.standIn.apiRequests().filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
