import { afterEach, describe, expect, it } from 'vitest';
import type { Stage } from '../../src/domain/stages.ts';
import { expectCompleteAuditTrail, HAPPY_PATH, readStoredDeployment, ROLLED_BACK_PATH } from '../support/e2e-fixtures.ts';
import { APEX_ROUTE, apiRouteChanges, BLUE_SCRIPT, GREEN_SCRIPT, ROUTES, scriptsServing, SHOP_DOMAIN, WWW_ROUTE } from '../support/routes-fixtures.ts';
import { startRoutesE2e, type RoutesE2e } from '../support/routes-e2e.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Blue and green as two Workers switched by route, with the real `kevin-deploy serve` SIGKILLed
 * in the middle of moving the routes (some moved, some not) and Cloudflare failing the route
 * updates. Every case must end with each route on exactly one script — all on green after a
 * release, all on blue after a rollback — with one effective change per route and direction.
 */

const TERMINAL: Stage[] = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

let e: RoutesE2e | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

const isRoutePut = (req: { method: string; path: string }) => req.method === 'PUT' && req.path.includes('/workers/routes/');

function routePuts(env: RoutesE2e): number {
  return env.standIn.apiRequests().filter(isRoutePut).length;
}

/** SIGKILLs the bot when the n-th route update reaches "Cloudflare": it is applied, its answer never read. */
function killOnRoutePut(env: RoutesE2e, nth: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const off = env.standIn.onRequest((req) => {
      if (!isRoutePut(req) || ++seen !== nth) return;
      off();
      env.bot.child.kill('SIGKILL');
      resolve();
    });
  });
}

const allOn = (script: string, extra: Record<string, string> = {}) => ({ ...Object.fromEntries(ROUTES.map((r) => [r, script])), ...extra });
const toGreen = (names: string[]) => names.map((name) => ({ name, from: BLUE_SCRIPT, to: GREEN_SCRIPT }));
const toBlue = (names: string[]) => names.map((name) => ({ name, from: GREEN_SCRIPT, to: BLUE_SCRIPT }));

describe('route switching survives SIGKILL and Cloudflare failures', { timeout: 240_000 }, () => {
  it('killed after the first of three moves: the restarted bot moves only the rest, each once', async () => {
    e = await startRoutesE2e({ customDomain: true });
    const green = e.upload('v2');
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');
    const killed = killOnRoutePut(e, 1);
    await e.approve(d.id);
    await killed;
    expect((await e.bot.exited()).signal).toBe('SIGKILL');

    // Half-way: the apex runs green, www and the shop domain still blue.
    await waitFor(() => e!.standIn.serving('kevinstamp.com')?.script === GREEN_SCRIPT, { timeoutMs: 10_000 });
    expect(scriptsServing(e.standIn)).toEqual({ [APEX_ROUTE]: GREEN_SCRIPT, [WWW_ROUTE]: BLUE_SCRIPT, [SHOP_DOMAIN]: BLUE_SCRIPT });
    const stored = readStoredDeployment(e, d.id);
    expect(stored.stage).toBe('switching');
    expect(stored.progress.targetSplit).toEqual({ [green]: 100, [e.v1]: 0 });

    await e.bot.restart();
    const done = await e.waitForStage(d.id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('succeeded');
    expect(done.split).toEqual({ [green]: 100, [e.v1]: 0 });
    expect(scriptsServing(e.standIn)).toEqual(allOn(GREEN_SCRIPT, { [SHOP_DOMAIN]: GREEN_SCRIPT }));
    expect(apiRouteChanges(e.standIn)).toEqual(toGreen([APEX_ROUTE, WWW_ROUTE, SHOP_DOMAIN]));
    // The apex's update was sent once, by the bot that died; the restarted one read it and went on.
    expect(routePuts(e)).toBe(2);
    expectCompleteAuditTrail(await e.show(d.id), HAPPY_PATH);
  });

  it('killed half-way through the switch back of a rollback: the restarted bot finishes it, every route on blue', async () => {
    e = await startRoutesE2e({ monitorWindow: '60s' });
    const green = e.upload('v2', { afterTraffic: { health: 'unhealthy' } });
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');
    // Updates 1 and 2 switch to green; 3 is the rollback's first move back.
    const killed = killOnRoutePut(e, 3);
    await e.approve(d.id);
    await killed;
    expect((await e.bot.exited()).signal).toBe('SIGKILL');
    await waitFor(() => e!.standIn.serving('kevinstamp.com')?.script === BLUE_SCRIPT, { timeoutMs: 10_000 });
    expect(scriptsServing(e.standIn)).toEqual({ [APEX_ROUTE]: BLUE_SCRIPT, [WWW_ROUTE]: GREEN_SCRIPT });
    const stored = readStoredDeployment(e, d.id);
    expect(stored.stage).toBe('rolling_back');
    expect(stored.progress.rollbackPhase).toBe('switch');

    await e.bot.restart();
    const done = await e.waitForStage(d.id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(done.split).toEqual({ [e.v1]: 100, [green]: 0 });
    expect(scriptsServing(e.standIn)).toEqual(allOn(BLUE_SCRIPT));
    expect(apiRouteChanges(e.standIn)).toEqual([...toGreen([APEX_ROUTE, WWW_ROUTE]), ...toBlue([APEX_ROUTE, WWW_ROUTE])]);
    expect(routePuts(e)).toBe(4);
    expect(e.standIn.deployments(BLUE_SCRIPT)).toHaveLength(1);
    expectCompleteAuditTrail(await e.show(d.id), ROLLED_BACK_PATH);
  });

  it('killed while green is deployed to the idle Worker (answer lost): one deployment, no route moved before approval', async () => {
    e = await startRoutesE2e();
    const green = e.upload('v2');
    const killed = new Promise<void>((resolve) => {
      const off = e!.standIn.onRequest((req) => {
        if (req.method !== 'POST' || !req.path.endsWith(`/scripts/${GREEN_SCRIPT}/deployments`)) return;
        off();
        e!.bot.child.kill('SIGKILL');
        resolve();
      });
    });
    const d = await e.deploy('v2');
    await killed;
    expect((await e.bot.exited()).signal).toBe('SIGKILL');
    expect(readStoredDeployment(e, d.id).stage).toBe('staging');

    await e.bot.restart();
    await e.waitForStage(d.id, 'awaiting_approval', 90_000);
    expect(e.standIn.deployments(GREEN_SCRIPT)).toHaveLength(1);
    expect(e.standIn.activeSplit(GREEN_SCRIPT)).toEqual({ [green]: 100 });
    expect(apiRouteChanges(e.standIn)).toEqual([]);
    await e.approve(d.id);
    expect((await e.waitForStage(d.id, TERMINAL, 90_000)).stage).toBe('succeeded');
    expect(apiRouteChanges(e.standIn)).toEqual(toGreen([APEX_ROUTE, WWW_ROUTE]));
  });

  it('through 429, 5xx and a dropped answer on the route updates: succeeded, each route moved once', async () => {
    e = await startRoutesE2e();
    const green = e.upload('v2');
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');
    const path = '/workers/routes/';
    e.standIn.injectFault({ method: 'PUT', path, kind: 'status', status: 429, retryAfterSeconds: 0 });
    e.standIn.injectFault({ method: 'PUT', path, kind: 'drop-after-apply' });
    e.standIn.injectFault({ method: 'PUT', path, kind: 'status', status: 502 });
    await e.approve(d.id);
    const done = await e.waitForStage(d.id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('succeeded');
    expect(done.split).toEqual({ [green]: 100, [e.v1]: 0 });
    expect(scriptsServing(e.standIn)).toEqual(allOn(GREEN_SCRIPT));
    expect(apiRouteChanges(e.standIn)).toEqual(toGreen([APEX_ROUTE, WWW_ROUTE]));
    expect(e.standIn.pendingFaults()).toEqual([]);
  });

  it('when Cloudflare keeps refusing the second route update, the release rolls back and the first route moves back', async () => {
    e = await startRoutesE2e();
    const green = e.upload('v2');
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');
    // www's updates always fail with 503: the apex moves, www never does; the switch gives up.
    e.standIn.injectFault({ method: 'PUT', path: `/workers/routes/${e.standIn.workerRoutes(e.standIn.zones()[0]!.id).find((r) => r.pattern === WWW_ROUTE)!.id}`, kind: 'status', status: 503, times: -1 });
    await e.approve(d.id);
    const done = await e.waitForStage(d.id, TERMINAL, 90_000);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(done.reason).toMatch(/the switch to green failed/);
    expect(done.split).toEqual({ [e.v1]: 100, [green]: 0 });
    expect(scriptsServing(e.standIn)).toEqual(allOn(BLUE_SCRIPT));
    expect(apiRouteChanges(e.standIn)).toEqual([...toGreen([APEX_ROUTE]), ...toBlue([APEX_ROUTE])]);
  });
});
