import { describe, expect, it } from 'vitest';
import {
  isErrorRequest,
  parseBehavior,
  resolveBehavior,
  SampleSite,
  type BehaviorSpec,
  type SiteVersion,
} from '../../sandbox/sample-site.ts';
import { manualClock } from '../support/stand-in-helpers.ts';

const VERSION_ID = '0b0f8a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b';

function version(behavior: BehaviorSpec = {}, hadTraffic = false): SiteVersion {
  return { id: VERSION_ID, tag: 'v2.4.0', number: 7, behavior, hadTraffic };
}

function json(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

describe('parseBehavior', () => {
  it('maps every preset to its BehaviorSpec', () => {
    expect(parseBehavior('healthy')).toEqual({});
    expect(parseBehavior('erroring:20')).toEqual({ errorPercent: 20 });
    expect(parseBehavior('slow:6000')).toEqual({ latencyMs: 6000 });
    expect(parseBehavior('no-kevin')).toEqual({ kevin: false });
    expect(parseBehavior('health-failing')).toEqual({ health: 'unhealthy', ready: false });
    expect(parseBehavior('fails-after-traffic')).toEqual({ afterTraffic: { health: 'unhealthy', errorPercent: 100 } });
    expect(parseBehavior('fails-after-traffic:erroring:20')).toEqual({ afterTraffic: { errorPercent: 20 } });
    expect(parseBehavior('  degraded ')).toEqual({ health: 'degraded' });
  });

  it('refuses anything else with an error naming the allowed presets', () => {
    for (const bad of ['broken', 'erroring:', 'erroring:150', 'slow:fast', 'fails-after-traffic:fails-after-traffic', '']) {
      expect(() => parseBehavior(bad)).toThrow(/Allowed presets: healthy, degraded, erroring:<percent>, slow:<ms>, no-kevin/);
    }
  });
});

describe('resolveBehavior', () => {
  it('fills the defaults', () => {
    expect(resolveBehavior({}, false)).toEqual({
      health: 'healthy',
      ready: true,
      kevin: true,
      errorPercent: 0,
      latencyMs: 0,
      reportsVersion: true,
    });
  });

  it('applies the afterTraffic overlay only once the version had traffic', () => {
    const spec = parseBehavior('fails-after-traffic');
    expect(resolveBehavior(spec, false).health).toBe('healthy');
    expect(resolveBehavior(spec, true)).toMatchObject({ health: 'unhealthy', errorPercent: 100, kevin: true });
  });
});

describe('isErrorRequest', () => {
  it('fails exactly p % of every run, evenly spread', () => {
    const failing = Array.from({ length: 20 }, (_, i) => i + 1).filter((n) => isErrorRequest(n, 20));
    expect(failing).toEqual([5, 10, 15, 20]);
    expect(Array.from({ length: 100 }, (_, i) => isErrorRequest(i + 1, 33)).filter(Boolean)).toHaveLength(33);
    expect(isErrorRequest(1, 0)).toBe(false);
    expect(isErrorRequest(1, 100)).toBe(true);
  });
});

describe('SampleSite', () => {
  it('serves a KEVIN home page with the version tag, and tags every answer with the version', async () => {
    const site = new SampleSite();
    const page = await site.respond(version(), { method: 'GET', path: '/' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['x-kevin-version']).toBe(VERSION_ID);
    expect(page.body).toContain('KEVIN');
    expect(page.body).toContain('Bitcoin Stamps');
    expect(page.body).toContain('v2.4.0');
  });

  it('drops every trace of KEVIN when kevin is false', async () => {
    const site = new SampleSite();
    const page = await site.respond(version({ kevin: false }), { method: 'GET', path: '/' });
    expect(page.status).toBe(200);
    expect(page.body.toLowerCase()).not.toContain('kevin');
    const detailed = json((await site.respond(version({ kevin: false }), { method: 'GET', path: '/health/detailed' })).body);
    expect(detailed).toMatchObject({
      status: 'healthy',
      checks: { kevinContent: false },
      cultural: { kevinBrandingPresent: false },
    });
  });

  it('answers /health according to the health state', async () => {
    const clock = manualClock();
    const site = new SampleSite({ clock: clock.clock });
    const healthy = await site.respond(version(), { method: 'GET', path: '/health' });
    expect(healthy.status).toBe(200);
    expect(json(healthy.body)).toEqual({ status: 'healthy', timestamp: '2026-11-26T09:00:00.000Z', versionId: VERSION_ID });

    const degraded = await site.respond(version({ health: 'degraded' }), { method: 'GET', path: '/health' });
    expect(degraded.status).toBe(200);
    expect(json(degraded.body).status).toBe('degraded');

    const unhealthy = await site.respond(version({ health: 'unhealthy' }), { method: 'GET', path: '/health' });
    expect(unhealthy.status).toBe(503);
    expect(json(unhealthy.body).status).toBe('unhealthy');

    const silent = await site.respond(version({ reportsVersion: false }), { method: 'GET', path: '/health' });
    expect(json(silent.body)).not.toHaveProperty('versionId');
  });

  it('answers /health/detailed in exactly the seed shape, all green when healthy', async () => {
    const site = new SampleSite({ clock: manualClock().clock });
    const answer = await site.respond(version(), { method: 'GET', path: '/health/detailed' });
    expect(answer.status).toBe(200);
    const body = json(answer.body);
    expect(Object.keys(body).sort()).toEqual(['checks', 'cultural', 'performance', 'status', 'timestamp', 'versionId']);
    expect(body).toEqual({
      status: 'healthy',
      checks: { database: true, cache: true, email: true, staticAssets: true, kevinContent: true },
      performance: { responseTime: expect.any(Number), memoryUsage: expect.any(Number), cpuUsage: expect.any(Number) },
      cultural: { kevinBrandingPresent: true, inquirySystemFunctional: true, communityDataAccurate: true },
      versionId: VERSION_ID,
      timestamp: '2026-11-26T09:00:00.000Z',
    });
  });

  it('reports failing checks when unhealthy or degraded', async () => {
    const site = new SampleSite();
    const unhealthy = await site.respond(version({ health: 'unhealthy' }), { method: 'GET', path: '/health/detailed' });
    expect(unhealthy.status).toBe(503);
    const body = json(unhealthy.body) as { status: string; checks: Record<string, boolean>; cultural: Record<string, boolean> };
    expect(body.status).toBe('unhealthy');
    expect(Object.values(body.checks)).toContain(false);
    expect(body.cultural.inquirySystemFunctional).toBe(false);

    const degraded = json((await site.respond(version({ health: 'degraded' }), { method: 'GET', path: '/health/detailed' })).body) as {
      status: string;
      checks: Record<string, boolean>;
    };
    expect(degraded.status).toBe('degraded');
    expect(Object.values(degraded.checks)).toContain(false);
  });

  it('answers /ready and /alive', async () => {
    const site = new SampleSite();
    const ready = await site.respond(version(), { method: 'GET', path: '/ready' });
    expect([ready.status, json(ready.body)]).toEqual([200, { ready: true }]);
    const notReady = await site.respond(version({ ready: false }), { method: 'GET', path: '/ready' });
    expect([notReady.status, json(notReady.body)]).toEqual([503, { ready: false }]);
    const alive = await site.respond(version({ health: 'unhealthy' }), { method: 'GET', path: '/alive' });
    expect([alive.status, json(alive.body)]).toEqual([200, { alive: true }]);
  });

  it('answers unknown paths with a 404 page', async () => {
    const site = new SampleSite();
    const answer = await site.respond(version(), { method: 'GET', path: '/no/such/page' });
    expect(answer.status).toBe(404);
    expect(answer.headers['x-kevin-version']).toBe(VERSION_ID);
  });

  it('fails exactly errorPercent of page requests and reports it in /metrics', async () => {
    const site = new SampleSite({ clock: manualClock().clock });
    const v = version({ errorPercent: 20 });
    const statuses: number[] = [];
    for (let i = 0; i < 50; i += 1) statuses.push((await site.respond(v, { method: 'GET', path: '/' })).status);
    // Probes are not page requests: they neither fail nor count.
    for (const path of ['/health', '/health/detailed', '/ready', '/alive']) {
      expect((await site.respond(v, { method: 'GET', path })).status).toBe(200);
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(10);
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(statuses[4]).toBe(500);

    const metrics = json((await site.respond(v, { method: 'GET', path: '/metrics' })).body);
    expect(metrics).toEqual({ errorRate: 20, avgResponseTime: expect.any(Number), requests: 50, windowSeconds: 60 });
  });

  it('keeps a 60-second sliding window on the injected clock', async () => {
    const clock = manualClock();
    const site = new SampleSite({ clock: clock.clock });
    const v = version({ errorPercent: 100 });
    for (let i = 0; i < 3; i += 1) await site.respond(v, { method: 'GET', path: '/' });
    clock.advance(30_000);
    await site.respond(version(), { method: 'GET', path: '/' }); // same version, behaviour since set healthy
    expect(site.metrics(VERSION_ID)).toMatchObject({ requests: 4, errorRate: 75 });
    clock.advance(30_001);
    expect(site.metrics(VERSION_ID)).toMatchObject({ requests: 1, errorRate: 0 });
    clock.advance(30_000);
    expect(site.metrics(VERSION_ID)).toEqual({ errorRate: 0, avgResponseTime: 0, requests: 0, windowSeconds: 60 });
  });

  it('switches to the afterTraffic overlay when told the version had traffic', async () => {
    const site = new SampleSite();
    const spec = parseBehavior('fails-after-traffic');
    expect((await site.respond(version(spec, false), { method: 'GET', path: '/health' })).status).toBe(200);
    expect((await site.respond(version(spec, true), { method: 'GET', path: '/health' })).status).toBe(503);
    expect((await site.respond(version(spec, true), { method: 'GET', path: '/' })).status).toBe(500);
  });

  it('stops waiting on artificial latency when closed', async () => {
    const site = new SampleSite();
    const pending = site.respond(version({ latencyMs: 60_000 }), { method: 'GET', path: '/' });
    site.close();
    await expect(pending).rejects.toThrow();
  });
});
