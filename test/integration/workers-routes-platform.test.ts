import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkersRoutesPlatform } from '../../src/adapters/cloudflare/workers-routes-platform.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import { PlatformError } from '../../src/ports/traffic-platform.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { edgeTally, rejectionOf, STAND_IN_READ_ONLY_TOKEN, STAND_IN_TOKEN } from '../support/stand-in-helpers.ts';
import {
  APEX_ROUTE,
  apiRouteChanges,
  BLUE_SCRIPT,
  GREEN_SCRIPT,
  ROUTES,
  routesTarget,
  scriptsServing,
  SHOP_DOMAIN,
  startRoutesStandIn,
  WWW_ROUTE,
  ZONE_ID,
  ZONE_NAME,
} from '../support/routes-fixtures.ts';
import { settingsCarriedByTarget } from '../support/workers-target.ts';

/**
 * The route-switching adapter against the stand-in: real HTTP, the real SDK, and the stand-in's
 * own records (routes, deployments, effective route changes) as the witness.
 */

let standIn: CloudflareStandIn;
let v1: string;
let target: TargetSettings;
let platform: WorkersRoutesPlatform;

async function start(options: { customDomain?: boolean } = {}): Promise<void> {
  ({ standIn, v1 } = await startRoutesStandIn(options));
  target = routesTarget(standIn, options);
  platform = adapter(STAND_IN_TOKEN);
}

function adapter(apiToken: string): WorkersRoutesPlatform {
  return new WorkersRoutesPlatform({ settingsOf: settingsCarriedByTarget, apiToken, baseUrl: standIn.apiBaseUrl });
}

function uploadGreen(tag: string, extra: { bindings?: Array<{ type: string; name: string }> } = {}): string {
  return standIn.addVersion(GREEN_SCRIPT, { tag, message: `release ${tag}`, ...extra }).id;
}

function routePuts(): number {
  return standIn.apiRequests().filter((r) => r.method === 'PUT' && r.path.includes('/workers/routes/')).length;
}

function writes(): number {
  return standIn.apiRequests().filter((r) => r.method !== 'GET').length;
}

async function platformError(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(PlatformError);
  return error as PlatformError;
}

const everyRouteOn = (script: string) => Object.fromEntries(ROUTES.map((r) => [r, script]));

afterEach(async () => {
  await standIn?.close();
});

describe('WorkersRoutesPlatform: reading', () => {
  beforeEach(() => start());

  it('reads the live version from the script behind the routes, and the idle script’s version at 0 %', async () => {
    expect((await platform.readTraffic(target)).split).toEqual({ [v1]: 100 });
    const v2 = uploadGreen('v2');
    standIn.deploy(GREEN_SCRIPT, { [v2]: 100 });
    const live = await platform.readTraffic(target);
    expect(live.split).toEqual({ [v1]: 100, [v2]: 0 });
    expect(live.versions).toEqual([
      { id: v1, tag: 'v1' },
      { id: v2, tag: 'v2' },
    ]);
  });

  it('resolves a release on the idle script, the live version itself, and refuses a release uploaded to the live script', async () => {
    const v2 = uploadGreen('v2');
    expect(await platform.resolveVersion(target, 'v2')).toEqual({ id: v2, tag: 'v2' });
    expect(await platform.resolveVersion(target, v2.slice(0, 8))).toEqual({ id: v2, tag: 'v2' });
    expect(await platform.resolveVersion(target, 'v1')).toEqual({ id: v1, tag: 'v1' });
    standIn.addVersion(BLUE_SCRIPT, { tag: 'v3' });
    const onLive = await platformError(platform.resolveVersion(target, 'v3'));
    expect(onLive.code).toBe('VERSION_NOT_DEPLOYABLE');
    expect(onLive.message).toContain(`upload the release to ${GREEN_SCRIPT}`);
    expect((await platformError(platform.resolveVersion(target, 'v9'))).code).toBe('VERSION_NOT_FOUND');
  });

  it('says which Worker each route serves, with its version', async () => {
    expect(await platform.describeRouting(target)).toEqual([
      { kind: 'route', name: APEX_ROUTE, servedBy: BLUE_SCRIPT, version: { id: v1, tag: 'v1' } },
      { kind: 'route', name: WWW_ROUTE, servedBy: BLUE_SCRIPT, version: { id: v1, tag: 'v1' } },
    ]);
  });

  it('refuses to read a target one of whose routes runs a Worker that is neither blue nor green', async () => {
    standIn.setRouteScript(WWW_ROUTE, null);
    const error = await platformError(platform.readTraffic(target));
    expect(error.code).toBe('CLOUDFLARE_REJECTED');
    expect(error.message).toContain(`${WWW_ROUTE} runs no Worker`);
  });

  it('reaches a version at its own Worker’s staging URL, with the override naming that Worker', async () => {
    const v2 = uploadGreen('v2');
    expect(await platform.reachVersion(target, v2)).toEqual({
      baseUrl: standIn.trafficUrl(GREEN_SCRIPT),
      headers: { 'Cloudflare-Workers-Version-Overrides': `${GREEN_SCRIPT}="${v2}"` },
    });
    const noStaging = { ...target, platform: { ...target.platform, stagingUrls: undefined } } as TargetSettings;
    expect((await platform.reachVersion(noStaging, v1)).baseUrl).toBe(`https://${BLUE_SCRIPT}.kevin-sandbox.workers.dev`);
  });
});

describe('WorkersRoutesPlatform.applySplit', () => {
  let v2: string;
  beforeEach(async () => {
    await start({ customDomain: true });
    v2 = uploadGreen('v2');
  });

  it('stages green on the idle script without moving a route, then switches every route and domain at once, then rolls back', async () => {
    // Staging: green alone on the Worker without routes; users see nothing of it.
    expect(await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage v2' })).toEqual({ [v1]: 100, [v2]: 0 });
    expect(standIn.activeSplit(GREEN_SCRIPT)).toEqual({ [v2]: 100 });
    expect(apiRouteChanges(standIn)).toEqual([]);
    expect(await edgeTally(standIn.hostUrl(ZONE_NAME), 3)).toEqual({ [v1]: 3 });

    // The switch: every route and the custom domain to green, verified.
    expect(await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' })).toEqual({ [v2]: 100, [v1]: 0 });
    expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(GREEN_SCRIPT), [SHOP_DOMAIN]: GREEN_SCRIPT });
    expect(apiRouteChanges(standIn)).toHaveLength(3);
    expect(await edgeTally(standIn.hostUrl(`www.${ZONE_NAME}`), 3)).toEqual({ [v2]: 3 });
    expect(await edgeTally(standIn.hostUrl(SHOP_DOMAIN), 2)).toEqual({ [v2]: 2 });

    // The rollback: everything back to blue, whose deployment was never touched.
    expect(await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'roll back' })).toEqual({ [v1]: 100, [v2]: 0 });
    expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(BLUE_SCRIPT), [SHOP_DOMAIN]: BLUE_SCRIPT });
    expect(apiRouteChanges(standIn)).toHaveLength(6);
    expect(standIn.deployments(BLUE_SCRIPT)).toHaveLength(1);
  });

  it('is a no-op when everything is in place: no write reaches Cloudflare', async () => {
    await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage' });
    await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' });
    const before = writes();
    expect(await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch again' })).toEqual({ [v2]: 100, [v1]: 0 });
    expect(writes()).toBe(before);
  });

  it('finishes a move that stopped half-way (a 5xx on the second route) on the next call, moving only what is left', async () => {
    await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage' });
    // The second route PUT is answered 503: the apex has moved, www has not.
    let puts = 0;
    const off = standIn.onRequest((req) => {
      if (req.method === 'PUT' && req.path.includes('/workers/routes/') && ++puts === 2) standIn.injectFault({ method: 'PUT', path: '/workers/routes/', kind: 'status', status: 503 });
    });
    const error = await platformError(platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' }));
    off();
    expect(error.retryable).toBe(true);
    expect(scriptsServing(standIn)).toEqual({ [APEX_ROUTE]: GREEN_SCRIPT, [WWW_ROUTE]: BLUE_SCRIPT, [SHOP_DOMAIN]: BLUE_SCRIPT });
    // Half the routes: the engine sees a split, not a switch.
    expect((await platform.readTraffic(target)).split).toEqual({ [v2]: 33.33, [v1]: 66.67 });

    const putsBefore = routePuts();
    expect(await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' })).toEqual({ [v2]: 100, [v1]: 0 });
    expect(routePuts() - putsBefore).toBe(1); // only www; the apex is not sent again
    expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(GREEN_SCRIPT), [SHOP_DOMAIN]: GREEN_SCRIPT });
    expect(apiRouteChanges(standIn)).toHaveLength(3);
  });

  it('undoes a half-done move when the rollback comes instead: every route back on blue', async () => {
    await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage' });
    // Both routes move; the custom domain's update keeps failing.
    standIn.injectFault({ method: 'PUT', path: '/workers/domains', kind: 'status', status: 502, times: -1 });
    await platformError(platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' }));
    expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(GREEN_SCRIPT), [SHOP_DOMAIN]: BLUE_SCRIPT });
    standIn.clearFaults();

    expect(await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'roll back' })).toEqual({ [v1]: 100, [v2]: 0 });
    expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(BLUE_SCRIPT), [SHOP_DOMAIN]: BLUE_SCRIPT });
    expect(apiRouteChanges(standIn)).toEqual([
      { name: APEX_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: WWW_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      { name: APEX_ROUTE, from: GREEN_SCRIPT, to: BLUE_SCRIPT },
      { name: WWW_ROUTE, from: GREEN_SCRIPT, to: BLUE_SCRIPT },
    ]);
  });

  for (const [name, fault] of [
    ['lost answer (applied, then dropped)', { kind: 'drop-after-apply' }],
    ['request lost before it arrived', { kind: 'drop-before-apply' }],
    ['429', { kind: 'status', status: 429, retryAfterSeconds: 1 }],
    ['503', { kind: 'status', status: 503 }],
  ] as const) {
    it(`with a ${name} on a route update, ends with each route on exactly one script and one effective change each`, async () => {
      await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage' });
      standIn.injectFault({ method: 'PUT', path: '/workers/routes/', ...fault });
      let result: Record<string, number> | undefined;
      for (let attempt = 0; attempt < 3 && !result; attempt++) {
        result = await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' }).catch((error: unknown) => {
          expect(error).toBeInstanceOf(PlatformError);
          expect((error as PlatformError).retryable).toBe(true);
          return undefined;
        });
      }
      expect(result).toEqual({ [v2]: 100, [v1]: 0 });
      expect(scriptsServing(standIn)).toEqual({ ...everyRouteOn(GREEN_SCRIPT), [SHOP_DOMAIN]: GREEN_SCRIPT });
      expect(apiRouteChanges(standIn)).toEqual([
        { name: APEX_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
        { name: WWW_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
        { name: SHOP_DOMAIN, from: BLUE_SCRIPT, to: GREEN_SCRIPT },
      ]);
    });
  }

  it('does not resend a route update whose answer was lost: it reads, sees it applied and goes on', async () => {
    await platform.applySplit(target, { [v1]: 100, [v2]: 0 }, { force: false, message: 'stage' });
    standIn.injectFault({ method: 'PUT', path: '/workers/routes/', kind: 'drop-after-apply' });
    expect(await platform.applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' })).toEqual({ [v2]: 100, [v1]: 0 });
    expect(routePuts()).toBe(2);
  });

  it('never deploys to a Worker that serves users, and refuses a split routes cannot express', async () => {
    const onBlue = standIn.addVersion(BLUE_SCRIPT, { tag: 'hotfix' }).id;
    const error = await platformError(platform.applySplit(target, { [onBlue]: 100 }, { force: false, message: 'switch' }));
    expect(error.code).toBe('CLOUDFLARE_REJECTED');
    expect(error.message).toContain(`${BLUE_SCRIPT} serves`);
    const half = await platformError(platform.applySplit(target, { [v2]: 50, [v1]: 50 }, { force: false, message: 'half' }));
    expect(half.message).toContain('routes move all traffic at once');
    expect(half.toFailure().nothingChanged).toBe(true);
    expect(writes()).toBe(0);
    expect(standIn.activeSplit(BLUE_SCRIPT)).toEqual({ [v1]: 100 });
  });
});

describe('WorkersRoutesPlatform.checkRollbackReadiness', () => {
  it('is ready while blue’s Worker still runs blue alone, and warns about bindings green lacks', async () => {
    ({ standIn, v1 } = await startRoutesStandIn());
    target = routesTarget(standIn);
    platform = adapter(STAND_IN_TOKEN);
    const blue = standIn.addVersion(BLUE_SCRIPT, { tag: 'v1b', bindings: [{ type: 'kv_namespace', name: 'SESSIONS' }, { type: 'plain_text', name: 'MODE' }] }).id;
    standIn.deploy(BLUE_SCRIPT, { [blue]: 100 });
    const green = uploadGreen('v2', { bindings: [{ type: 'plain_text', name: 'MODE' }] });
    standIn.deploy(GREEN_SCRIPT, { [green]: 100 });

    const readiness = await platform.checkRollbackReadiness(target, blue);
    expect(readiness.ready).toBe(true);
    expect(readiness.detail).toContain(`${BLUE_SCRIPT} still runs ${blue.slice(0, 8)} at 100 %`);
    expect(readiness.detail).toContain(`WARNING: ${GREEN_SCRIPT} lacks bindings ${BLUE_SCRIPT} has: SESSIONS (kv_namespace)`);

    const same = uploadGreen('v2b', { bindings: [{ type: 'kv_namespace', name: 'SESSIONS' }, { type: 'plain_text', name: 'MODE' }] });
    standIn.deploy(GREEN_SCRIPT, { [same]: 100 });
    expect((await platform.checkRollbackReadiness(target, blue)).detail).toContain('has every binding');

    // Someone deployed another version to blue's Worker: moving the routes back would not bring blue back.
    standIn.deploy(BLUE_SCRIPT, { [v1]: 100 });
    const gone = await platform.checkRollbackReadiness(target, blue);
    expect(gone.ready).toBe(false);
    expect(gone.detail).toContain(`${BLUE_SCRIPT} no longer runs ${blue.slice(0, 8)} alone`);
  });
});

describe('WorkersRoutesPlatform errors a person must fix', () => {
  beforeEach(() => start());

  it('answers a token that may not edit routes with CLOUDFLARE_PERMISSION naming Workers Routes and the zone', async () => {
    const v2 = uploadGreen('v2');
    standIn.deploy(GREEN_SCRIPT, { [v2]: 100 });
    const error = await platformError(adapter(STAND_IN_READ_ONLY_TOKEN).applySplit(target, { [v2]: 100, [v1]: 0 }, { force: false, message: 'switch' }));
    expect(error.code).toBe('CLOUDFLARE_PERMISSION');
    expect(error.message).toContain('Workers Routes: Edit');
    expect(error.message).toContain(ZONE_ID);
    expect(error.retryable).toBe(false);
  });

  it('names a configured route the zone does not have', async () => {
    const missing = { ...target, platform: { ...target.platform, routes: [...ROUTES, 'api.kevinstamp.com/*'] } } as TargetSettings;
    const error = await platformError(platform.readTraffic(missing));
    expect(error.code).toBe('CLOUDFLARE_REJECTED');
    expect(error.message).toContain('has no Workers route api.kevinstamp.com/*');
  });
});
