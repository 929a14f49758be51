import { BadRequestError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError, type APIError } from 'cloudflare';
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudflareStandIn, StandInStateSnapshot } from '../../sandbox/cloudflare-stand-in.ts';
import { edgeGet, edgeTally, rejectionOf, STAND_IN_ACCOUNT, STAND_IN_READ_ONLY_TOKEN, standInClient, startTestStandIn } from '../support/stand-in-helpers.ts';
import {
  APEX_ROUTE,
  apiRouteChanges,
  BLUE_SCRIPT,
  GREEN_SCRIPT,
  SHOP_DOMAIN,
  startRoutesStandIn,
  WWW_ROUTE,
  ZONE_ID,
  ZONE_NAME,
} from '../support/routes-fixtures.ts';

/**
 * The stand-in's zones: Workers routes and custom domains through the real SDK
 * (`client.workers.routes`, `client.workers.domains`), and the production hostnames' edges that
 * send traffic to whichever script a route points at.
 */

let standIn: CloudflareStandIn;
let v1: string;

afterEach(async () => {
  await standIn?.close();
});

function firstError(error: unknown): { code: number; message: string } | undefined {
  return (error as APIError).errors[0] as { code: number; message: string } | undefined;
}

function routeId(pattern: string): string {
  const route = standIn.workerRoutes(ZONE_ID).find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  return route.id;
}

async function start(options: Parameters<typeof startRoutesStandIn>[0] = {}): Promise<void> {
  ({ standIn, v1 } = await startRoutesStandIn(options));
}

describe('Workers routes', () => {
  it('lists the zone routes with 32-hex ids and their scripts, as the typed SDK reads them', async () => {
    await start({ otherRoutes: [{ pattern: 'kevinstamp.com/static/*', script: null }] });
    const client = standInClient(standIn);
    const routes = [];
    for await (const route of client.workers.routes.list({ zone_id: ZONE_ID })) routes.push(route);
    expect(routes.map((r) => ({ pattern: r.pattern, script: r.script }))).toEqual([
      { pattern: APEX_ROUTE, script: BLUE_SCRIPT },
      { pattern: WWW_ROUTE, script: BLUE_SCRIPT },
      // A route without a Worker has no script at all on the wire.
      { pattern: 'kevinstamp.com/static/*', script: undefined },
    ]);
    for (const route of routes) expect(route.id).toMatch(/^[0-9a-f]{32}$/);
    const one = await client.workers.routes.get(routes[0]!.id, { zone_id: ZONE_ID });
    expect(one).toEqual({ id: routes[0]!.id, pattern: APEX_ROUTE, script: BLUE_SCRIPT });
  });

  it('moves a route to another script with PUT, records one effective change, and a repeat changes nothing', async () => {
    await start();
    const client = standInClient(standIn);
    const id = routeId(APEX_ROUTE);
    const updated = await client.workers.routes.update(id, { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT });
    expect(updated).toEqual({ id, pattern: APEX_ROUTE, script: GREEN_SCRIPT });
    await client.workers.routes.update(id, { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT });
    expect(apiRouteChanges(standIn)).toEqual([{ name: APEX_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT }]);
    expect(standIn.serving(ZONE_NAME, '/')).toEqual({ script: GREEN_SCRIPT, via: 'route', name: APEX_ROUTE });
    expect(standIn.serving(`www.${ZONE_NAME}`, '/')).toEqual({ script: BLUE_SCRIPT, via: 'route', name: WWW_ROUTE });
  });

  it("refuses with Cloudflare's codes: an unknown script (10019), a pattern outside the zone (10022) or taken (10020), an unknown route (10009)", async () => {
    await start();
    const client = standInClient(standIn);
    const id = routeId(APEX_ROUTE);
    const noScript = await rejectionOf(client.workers.routes.update(id, { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: 'kevinstamp-purple' }));
    expect(noScript).toBeInstanceOf(BadRequestError);
    expect(firstError(noScript)?.code).toBe(10019);
    const outside = await rejectionOf(client.workers.routes.update(id, { zone_id: ZONE_ID, pattern: 'example.com/*', script: GREEN_SCRIPT }));
    expect(firstError(outside)?.code).toBe(10022);
    const taken = await rejectionOf(client.workers.routes.update(id, { zone_id: ZONE_ID, pattern: WWW_ROUTE, script: GREEN_SCRIPT }));
    expect(firstError(taken)?.code).toBe(10020);
    const unknown = await rejectionOf(client.workers.routes.update('0'.repeat(32), { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT }));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(firstError(unknown)?.code).toBe(10009);
    expect(apiRouteChanges(standIn)).toEqual([]);
  });

  it('answers a zone the token cannot see, and a read-only token writing, with 403 / 10000', async () => {
    await start();
    const otherZone = await rejectionOf(standInClient(standIn).workers.routes.list({ zone_id: 'f'.repeat(32) }));
    expect(otherZone).toBeInstanceOf(PermissionDeniedError);
    expect(firstError(otherZone)?.code).toBe(10000);
    const readOnly = standInClient(standIn, { token: STAND_IN_READ_ONLY_TOKEN });
    expect((await readOnly.workers.routes.list({ zone_id: ZONE_ID })).result).toHaveLength(2);
    const write = await rejectionOf(readOnly.workers.routes.update(routeId(APEX_ROUTE), { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT }));
    expect(write).toBeInstanceOf(PermissionDeniedError);
    expect(standIn.serving(ZONE_NAME)?.script).toBe(BLUE_SCRIPT);
  });

  it('injects 429, 5xx and a dropped answer on the route update like on any other endpoint', async () => {
    await start();
    const client = standInClient(standIn);
    const id = routeId(APEX_ROUTE);
    const body = { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT };
    standIn.injectFault({ method: 'PUT', path: '/workers/routes/', kind: 'status', status: 429, retryAfterSeconds: 3 });
    const limited = await rejectionOf(client.workers.routes.update(id, body));
    expect(limited).toBeInstanceOf(RateLimitError);
    standIn.injectFault({ method: 'PUT', path: '/workers/routes/', kind: 'status', status: 503 });
    expect(await rejectionOf(client.workers.routes.update(id, body))).toBeInstanceOf(InternalServerError);
    expect(standIn.serving(ZONE_NAME)?.script).toBe(BLUE_SCRIPT);
    standIn.injectFault({ method: 'PUT', path: '/workers/routes/', kind: 'drop-after-apply' });
    await rejectionOf(client.workers.routes.update(id, body));
    // Applied although the answer was lost.
    expect(standIn.serving(ZONE_NAME)?.script).toBe(GREEN_SCRIPT);
    expect(apiRouteChanges(standIn)).toHaveLength(1);
  });
});

describe('Workers custom domains', () => {
  it('lists domains (filtered by hostname) and moves one to another Worker with PUT, keeping its id', async () => {
    await start({ customDomain: true });
    const client = standInClient(standIn);
    const listed = (await client.workers.domains.list({ account_id: STAND_IN_ACCOUNT, hostname: SHOP_DOMAIN })).result;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ hostname: SHOP_DOMAIN, service: BLUE_SCRIPT, zone_id: ZONE_ID, zone_name: ZONE_NAME, environment: 'production' });
    expect((await client.workers.domains.list({ account_id: STAND_IN_ACCOUNT, hostname: 'nothing.kevinstamp.com' })).result).toEqual([]);

    const moved = await client.workers.domains.update({ account_id: STAND_IN_ACCOUNT, hostname: SHOP_DOMAIN, service: GREEN_SCRIPT, zone_id: ZONE_ID });
    expect(moved).toMatchObject({ id: listed[0]!.id, hostname: SHOP_DOMAIN, service: GREEN_SCRIPT });
    expect(apiRouteChanges(standIn)).toEqual([{ name: SHOP_DOMAIN, from: BLUE_SCRIPT, to: GREEN_SCRIPT }]);
    // A custom domain wins over any route for its hostname.
    expect(standIn.serving(SHOP_DOMAIN)).toEqual({ script: GREEN_SCRIPT, via: 'custom-domain', name: SHOP_DOMAIN });
  });

  it('refuses an unknown Worker (404 / 10007) and a hostname outside the account zones (403)', async () => {
    await start({ customDomain: true });
    const client = standInClient(standIn);
    const unknown = await rejectionOf(client.workers.domains.update({ account_id: STAND_IN_ACCOUNT, hostname: SHOP_DOMAIN, service: 'nope', zone_id: ZONE_ID }));
    expect(firstError(unknown)?.code).toBe(10007);
    const outside = await rejectionOf(client.workers.domains.update({ account_id: STAND_IN_ACCOUNT, hostname: 'shop.example.com', service: GREEN_SCRIPT }));
    expect(outside).toBeInstanceOf(PermissionDeniedError);
  });
});

describe('production hostnames', () => {
  it('serve whichever script the route points at, moving real traffic when the route moves', async () => {
    await start({ customDomain: true });
    const v2 = standIn.addVersion(GREEN_SCRIPT, { tag: 'v2' }).id;
    standIn.deploy(GREEN_SCRIPT, { [v2]: 100 });
    expect(await edgeTally(standIn.hostUrl(ZONE_NAME), 4)).toEqual({ [v1]: 4 });
    // green's own address (its workers.dev) serves green without any route.
    expect((await edgeGet(standIn.trafficUrl(GREEN_SCRIPT))).servedBy).toBe(v2);

    await standInClient(standIn).workers.routes.update(routeId(APEX_ROUTE), { zone_id: ZONE_ID, pattern: APEX_ROUTE, script: GREEN_SCRIPT });
    expect(await edgeTally(standIn.hostUrl(ZONE_NAME), 4)).toEqual({ [v2]: 4 });
    expect(await edgeTally(standIn.hostUrl(`www.${ZONE_NAME}`), 2)).toEqual({ [v1]: 2 });
    expect(await edgeTally(standIn.hostUrl(SHOP_DOMAIN), 2)).toEqual({ [v1]: 2 });
    expect(standIn.servedByHost(ZONE_NAME)).toEqual({ [BLUE_SCRIPT]: 4, [GREEN_SCRIPT]: 4 });
  });

  it('answer 502 where no Worker runs, saying why', async () => {
    await start();
    standIn.setRouteScript(WWW_ROUTE, null);
    const answer = await edgeGet(standIn.hostUrl(`www.${ZONE_NAME}`));
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('runs no Worker');
    expect(standIn.routingChanges()).toEqual([expect.objectContaining({ name: WWW_ROUTE, from: BLUE_SCRIPT, to: null, source: 'seed' })]);
  });

  it('come back from a snapshot with the routing they had, ignoring the seed', async () => {
    await start();
    await standInClient(standIn).workers.routes.update(routeId(WWW_ROUTE), { zone_id: ZONE_ID, pattern: WWW_ROUTE, script: GREEN_SCRIPT });
    const snapshot = JSON.parse(JSON.stringify(standIn.snapshot())) as StandInStateSnapshot;
    await standIn.close();
    standIn = await startTestStandIn({
      scripts: [BLUE_SCRIPT, GREEN_SCRIPT],
      state: snapshot,
      zones: [{ id: ZONE_ID, name: ZONE_NAME, routes: [{ pattern: WWW_ROUTE, script: BLUE_SCRIPT }] }],
    });
    expect(standIn.serving(`www.${ZONE_NAME}`)?.script).toBe(GREEN_SCRIPT);
    expect(standIn.serving(ZONE_NAME)?.script).toBe(BLUE_SCRIPT);
    expect(apiRouteChanges(standIn)).toEqual([{ name: WWW_ROUTE, from: BLUE_SCRIPT, to: GREEN_SCRIPT }]);
    expect((await edgeGet(standIn.hostUrl(ZONE_NAME))).servedBy).toBe(v1);
  });
});
