import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import {
  MAX_RECENT_FAILURES,
  NO_VERSION,
  startTrafficCollector,
  type TrafficCollector,
  type TrafficStats,
} from '../../sandbox/traffic-collector.ts';
import { edgeGet, manualClock, STAND_IN_SCRIPT, startTestStandIn } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The synthetic traffic collector against a real stand-in edge. Nothing here asserts rates or
 * durations: only that what the collector counts is consistent with itself and with what the
 * edge says it served.
 */

let standIn: CloudflareStandIn;
const collectors: TrafficCollector[] = [];

function collect(options: Parameters<typeof startTrafficCollector>[0]): TrafficCollector {
  const collector = startTrafficCollector(options);
  collectors.push(collector);
  return collector;
}

beforeEach(async () => {
  standIn = await startTestStandIn();
});

afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.stop()));
  await standIn?.close();
});

function expectConsistent(stats: TrafficStats): void {
  expect(stats.sent).toBe(stats.ok + stats.failed);
  const perVersion = Object.values(stats.byVersion);
  expect(perVersion.reduce((sum, v) => sum + v.ok, 0)).toBe(stats.ok);
  expect(perVersion.reduce((sum, v) => sum + v.failed, 0)).toBe(stats.failed);
  expect(stats.lastFailures.length).toBe(Math.min(stats.failed, MAX_RECENT_FAILURES));
}

function totals(stats: TrafficStats): Record<string, number> {
  return Object.fromEntries(Object.entries(stats.byVersion).map(([id, v]) => [id, v.ok + v.failed]));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('startTrafficCollector', () => {
  it('counts answers by version across a 50/50 split, exactly as the edge served them', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'green' });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 50, [green.id]: 50 });

    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 40 });
    await waitFor(() => collector.stats().sent >= 12, { describe: () => JSON.stringify(collector.stats()) });
    await collector.stop();

    const stats = collector.stats();
    expectConsistent(stats);
    expect(stats.inFlight).toBe(0);
    expect(stats.failed).toBe(0);
    expect(Object.keys(stats.byVersion).sort()).toEqual([blue.id, green.id].sort());
    // Only the collector talked to the edge, so its tally is the edge's, request for request.
    expect(totals(stats)).toEqual(standIn.servedBy(STAND_IN_SCRIPT));
    // The edge's round-robin alternates: a 50/50 split never drifts more than one request apart.
    const blueCount = stats.byVersion[blue.id]?.ok ?? 0;
    const greenCount = stats.byVersion[green.id]?.ok ?? 0;
    expect(Math.abs(blueCount - greenCount)).toBeLessThanOrEqual(1);

    // Each version's /metrics on the edge is built from these very requests.
    const template = standIn.previewUrlTemplate(STAND_IN_SCRIPT);
    for (const [id, count] of [
      [blue.id, blueCount],
      [green.id, greenCount],
    ] as const) {
      const metrics = JSON.parse((await edgeGet(`${template.replace('{versionPrefix}', id.slice(0, 8))}/metrics`)).text);
      expect(metrics).toMatchObject({ requests: count, errorRate: 0 });
    }
  });

  it('counts the failures of an erroring version and keeps the last 20 of them', async () => {
    const clock = manualClock();
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'green', behavior: { errorPercent: 100 } });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 50, [green.id]: 50 });

    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 60, clock: clock.clock });
    await waitFor(() => collector.stats().failed > MAX_RECENT_FAILURES, { describe: () => JSON.stringify(collector.stats()) });
    await collector.stop();

    const stats = collector.stats();
    expectConsistent(stats);
    expect(stats.since).toBe('2026-11-26T09:00:00.000Z');
    expect(stats.byVersion[green.id]).toEqual({ ok: 0, failed: stats.failed });
    expect(stats.byVersion[blue.id]).toEqual({ ok: stats.ok, failed: 0 });
    expect(stats.lastFailures).toHaveLength(MAX_RECENT_FAILURES);
    for (const failure of stats.lastFailures) {
      expect(failure).toEqual({
        at: '2026-11-26T09:00:00.000Z',
        status: 500,
        version: green.id,
        detail: expect.stringMatching(/^HTTP 500: .*Internal Server Error/),
      });
    }

    const preview = standIn.previewUrlTemplate(STAND_IN_SCRIPT).replace('{versionPrefix}', green.id.slice(0, 8));
    const metrics = JSON.parse((await edgeGet(`${preview}/metrics`)).text);
    expect(metrics).toMatchObject({ requests: stats.failed, errorRate: 100 });
  });

  it('uses the path, and keeps a path prefix in the url', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    const broken = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'broken', behavior: { health: 'unhealthy' } });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    const preview = standIn.previewUrlTemplate(STAND_IN_SCRIPT).replace('{versionPrefix}', broken.id.slice(0, 8));

    const collector = collect({ url: `${preview}/`, path: 'health', ratePerSecond: 40 });
    await waitFor(() => collector.stats().failed >= 3);
    await collector.stop();

    const stats = collector.stats();
    expectConsistent(stats);
    expect(stats.ok).toBe(0);
    expect(Object.keys(stats.byVersion)).toEqual([broken.id]);
    expect(stats.lastFailures[0]).toMatchObject({ status: 503, version: broken.id, detail: expect.stringContaining('unhealthy') });
    expect(standIn.servedBy(STAND_IN_SCRIPT)).toEqual({ [broken.id]: stats.sent });
  });

  it('counts answers that name no version, and network errors, under NO_VERSION', async () => {
    standIn.addVersion(STAND_IN_SCRIPT, {});
    const noDeployment = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 40 });
    await waitFor(() => noDeployment.stats().failed >= 2);
    await noDeployment.stop();
    const edgeStats = noDeployment.stats();
    expectConsistent(edgeStats);
    expect(edgeStats.byVersion).toEqual({ [NO_VERSION]: { ok: 0, failed: edgeStats.failed } });
    expect(edgeStats.lastFailures[0]).toMatchObject({ status: 503, version: null, detail: 'HTTP 503: no deployment' });

    const unreachable = collect({ url: `http://127.0.0.1:${await closedPort()}`, ratePerSecond: 40, timeoutMs: 2000 });
    await waitFor(() => unreachable.stats().failed >= 2);
    await unreachable.stop();
    const refused = unreachable.stats();
    expectConsistent(refused);
    expect(refused.byVersion).toEqual({ [NO_VERSION]: { ok: 0, failed: refused.failed } });
    expect(refused.lastFailures[0]).toMatchObject({ status: 'error', version: null, detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('counts a request that outlives timeoutMs as a failure', async () => {
    const slow = standIn.addVersion(STAND_IN_SCRIPT, { behavior: { latencyMs: 60_000 } });
    standIn.deploy(STAND_IN_SCRIPT, { [slow.id]: 100 });
    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 20, timeoutMs: 50, maxInFlight: 2 });
    await waitFor(() => collector.stats().failed >= 2);
    await collector.stop();
    const stats = collector.stats();
    expectConsistent(stats);
    expect(stats.lastFailures[0]).toMatchObject({ status: 'error', version: null, detail: 'no answer within 50 ms' });
  });

  it('stop() ends the traffic: nothing reaches the edge afterwards', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 40 });
    await waitFor(() => collector.stats().sent >= 3);
    await collector.stop();

    const servedAtStop = standIn.servedBy(STAND_IN_SCRIPT);
    const statsAtStop = collector.stats();
    expect(statsAtStop.inFlight).toBe(0);
    expect(servedAtStop).toEqual(totals(statsAtStop));
    await sleep(300); // many ticks' worth at 40/s
    expect(standIn.servedBy(STAND_IN_SCRIPT)).toEqual(servedAtStop);
    expect(collector.stats()).toEqual(statsAtStop);
    await collector.stop(); // idempotent
  });

  it('reset() starts counting afresh', async () => {
    const clock = manualClock();
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { behavior: { errorPercent: 50 } });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 40, clock: clock.clock });
    await waitFor(() => collector.stats().failed >= 2);

    clock.advance(90_000);
    collector.reset();
    const fresh = collector.stats();
    expect(fresh).toMatchObject({ sent: 0, ok: 0, failed: 0, byVersion: {}, lastFailures: [], since: '2026-11-26T09:01:30.000Z' });

    await waitFor(() => collector.stats().sent >= 4);
    await collector.stop();
    const after = collector.stats();
    expectConsistent(after);
    expect(after.since).toBe('2026-11-26T09:01:30.000Z');
    expect(Object.keys(after.byVersion)).toEqual([blue.id]);
  });

  it('refuses options it cannot honour', () => {
    const url = 'http://127.0.0.1:1';
    for (const ratePerSecond of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1000]) {
      expect(() => startTrafficCollector({ url, ratePerSecond })).toThrow(/ratePerSecond/);
    }
    expect(() => startTrafficCollector({ url, ratePerSecond: 1, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => startTrafficCollector({ url, ratePerSecond: 1, maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => startTrafficCollector({ url: 'not a url', ratePerSecond: 1 })).toThrow();
  });
});

describe('GET /__stand-in/traffic', () => {
  const trafficRoute = () => fetch(`${standIn.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in/traffic`);

  it('is 404 until a collector is attached, then serves its stats', async () => {
    expect((await trafficRoute()).status).toBe(404);

    const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    const collector = collect({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond: 40 });
    const detach = standIn.attachTrafficStats(() => collector.stats());
    await waitFor(() => collector.stats().sent >= 2);
    await collector.stop();

    const response = await trafficRoute();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const served = (await response.json()) as TrafficStats;
    expect(served).toEqual(JSON.parse(JSON.stringify(collector.stats())));
    expect(served.byVersion[blue.id]?.ok).toBe(served.sent);
    // Control calls are not API calls.
    expect(standIn.apiRequests()).toEqual([]);

    detach();
    expect((await trafficRoute()).status).toBe(404);
  });

  it('answers 500 when the provider throws, and a replaced provider is not detached by the old handle', async () => {
    const detachFirst = standIn.attachTrafficStats(() => {
      throw new Error('collector gone');
    });
    const failing = await trafficRoute();
    expect(failing.status).toBe(500);
    expect(await failing.json()).toEqual({ error: 'collector gone' });

    standIn.attachTrafficStats(() => ({ sent: 0 }));
    detachFirst();
    expect(await (await trafficRoute()).json()).toEqual({ sent: 0 });
  });
});
