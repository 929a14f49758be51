import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkersPlatform } from '../../src/adapters/cloudflare/workers-platform.ts';
import { AppJsonSource } from '../../src/adapters/metrics/app-json-source.ts';
import { analyticsWindow, CloudflareAnalyticsSource, VERSION_METRICS_QUERY } from '../../src/adapters/metrics/cloudflare-analytics-source.ts';
import { PrometheusSource } from '../../src/adapters/metrics/prometheus-source.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import type { MetricReading } from '../../src/domain/metric-reading.ts';
import type { MetricSubject } from '../../src/ports/metrics-source.ts';
import type { VersionEndpoint } from '../../src/ports/traffic-platform.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { freePort } from '../../sandbox/free-port.ts';
import { startFakePrometheus, type FakePrometheus } from '../fakes/prometheus-api.ts';
import { manualClock, STAND_IN_ACCOUNT, STAND_IN_SCRIPT, STAND_IN_TOKEN, standInClient, startTestStandIn } from '../support/stand-in-helpers.ts';
import { settingsCarriedByTarget, withPlatform, workersTarget } from '../support/workers-target.ts';

/**
 * The three metrics sources over real HTTP: app-json against the Cloudflare stand-in's edge (the
 * sample site computes its figures from the requests it really served), Prometheus against a
 * loopback fake of its HTTP API, Cloudflare analytics against the stand-in's GraphQL endpoint
 * (figures from the edge's own invocation log, stamped with the stand-in's injected clock).
 */

type Metrics = TargetSettings['monitor']['metrics'];

function withMetrics(target: TargetSettings, metrics: Metrics): TargetSettings {
  return { ...target, monitor: { ...target.monitor, metrics } };
}

function withTimeout(target: TargetSettings, timeoutMs: number): TargetSettings {
  return { ...target, health: { ...target.health, timeout: timeoutMs } };
}

function subject(versionId: string, endpoint: VersionEndpoint, role: MetricSubject['role'] = 'green'): MetricSubject {
  return { versionId, role, endpoint };
}

interface Hit {
  status: number;
  servedBy: string | null;
}

/** Sequential GETs (sequential keeps the sample site's deterministic error pattern exact). */
async function hit(endpoint: VersionEndpoint, n: number, path = '/'): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (let i = 0; i < n; i += 1) {
    const response = await fetch(`${endpoint.baseUrl.replace(/\/+$/, '')}${path}`, { headers: endpoint.headers });
    await response.arrayBuffer();
    hits.push({ status: response.status, servedBy: response.headers.get('x-kevin-version') });
  }
  return hits;
}

const errorsIn = (hits: Hit[]): number => hits.filter((h) => h.status === 500).length;

function expectNoFigures(reading: MetricReading): void {
  expect(reading.errorRatePercent).toBeNull();
  expect(reading.avgResponseMs).toBeNull();
}

let standIn: CloudflareStandIn | undefined;
const servers: Server[] = [];

afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** A tiny HTTP server answering /metrics with whatever the test sets. */
async function startMetricsApp(): Promise<{ url: string; answer(status: number, body: string, headers?: Record<string, string>): void }> {
  let current = { status: 200, body: '{}', headers: {} as Record<string, string> };
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(current.status, { 'content-type': 'application/json', ...current.headers });
    res.end(current.body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer(status, body, headers = {}) {
      current = { status, body, headers };
    },
  };
}

describe('AppJsonSource', () => {
  const source = new AppJsonSource({ settingsOf: settingsCarriedByTarget });
  let target: TargetSettings;
  let platform: WorkersPlatform;
  let blue: string;
  let green: string;

  beforeEach(async () => {
    // A frozen clock: every request falls in the sample site's 60-second metrics window.
    standIn = await startTestStandIn({ clock: manualClock().clock });
    blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1' }).id;
    green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v2', behavior: { errorPercent: 20 } }).id;
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100, [green]: 0 });
    target = workersTarget({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT) });
    platform = new WorkersPlatform({ settingsOf: settingsCarriedByTarget, apiToken: STAND_IN_TOKEN, baseUrl: standIn.apiBaseUrl });
  });

  it("reads green's own figures through the version override while blue keeps all traffic, and blue's apart", async () => {
    const greenEndpoint = await platform.reachVersion(target, green);
    const greenHits = await hit(greenEndpoint, 20);
    expect(greenHits.every((h) => h.servedBy === green)).toBe(true);
    expect(errorsIn(greenHits)).toBe(4);
    const blueHits = await hit({ baseUrl: target.productionUrl, headers: {} }, 10);
    expect(blueHits.every((h) => h.servedBy === blue && h.status === 200)).toBe(true);

    const greenReading = await source.read(target, subject(green, greenEndpoint), new Date());
    expect(greenReading).toMatchObject({ source: 'app-json /metrics', errorRatePercent: 20, requests: 20 });
    expect(greenReading.avgResponseMs).toEqual(expect.any(Number));
    expect(greenReading.problem).toBeUndefined();

    const blueEndpoint = await platform.reachVersion(target, blue);
    const blueReading = await source.read(target, subject(blue, blueEndpoint, 'blue'), new Date());
    expect(blueReading).toMatchObject({ source: 'app-json /metrics', errorRatePercent: 0, requests: 10 });
    expect(blueReading.problem).toBeUndefined();
  });

  it('reads the same figures at the preview URL', async () => {
    const preview = workersTarget({
      productionUrl: standIn!.trafficUrl(STAND_IN_SCRIPT),
      reach: `{ mode: preview-url, urlTemplate: "${standIn!.previewUrlTemplate(STAND_IN_SCRIPT)}" }`,
    });
    const endpoint = await platform.reachVersion(preview, green);
    expect(endpoint.headers).toEqual({});
    await hit(endpoint, 10);
    const reading = await source.read(preview, subject(green, endpoint), new Date());
    expect(reading).toMatchObject({ errorRatePercent: 20, requests: 10 });
  });

  it('uses monitor.metrics.path', async () => {
    const app = await startMetricsApp();
    app.answer(200, JSON.stringify({ errorRate: 1.5, avgResponseTime: 80, requestCount: 42 }));
    const settings = withMetrics(target, { source: 'app-json', path: '/internal/stats' });
    const reading = await source.read(settings, subject(green, { baseUrl: `${app.url}/`, headers: {} }), new Date());
    expect(reading).toEqual({ source: 'app-json /internal/stats', errorRatePercent: 1.5, avgResponseMs: 80, requests: 42 });
  });

  it('says so when another version answered (an override the edge ignored)', async () => {
    // Not in the deployment: Cloudflare ignores the override silently and blue answers.
    const outside = standIn!.addVersion(STAND_IN_SCRIPT, { tag: 'v3' }).id;
    const endpoint = await platform.reachVersion(target, outside);
    const reading = await source.read(target, subject(outside, endpoint), new Date());
    expectNoFigures(reading);
    expect(reading.requests).toBeNull();
    expect(reading.problem).toContain('answered by another version');
    expect(reading.problem).toContain(blue.slice(0, 8));
  });

  it('gives null figures when the version served no requests in its window', async () => {
    const endpoint = await platform.reachVersion(target, green);
    const reading = await source.read(target, subject(green, endpoint), new Date());
    expect(reading).toMatchObject({ errorRatePercent: null, avgResponseMs: null, requests: 0 });
    expect(reading.problem).toContain('no requests');
  });

  it('reports requests as null when the app does not count them', async () => {
    const app = await startMetricsApp();
    app.answer(200, JSON.stringify({ errorRate: 3, avgResponseTime: 120.5 }));
    const reading = await source.read(target, subject(green, { baseUrl: app.url, headers: {} }), new Date());
    expect(reading).toEqual({ source: 'app-json /metrics', errorRatePercent: 3, avgResponseMs: 120.5, requests: null });
  });

  it('never throws: unreachable, timeout, non-2xx, not JSON, wrong shape → null figures and a problem', async () => {
    const unreachable = await source.read(target, subject(green, { baseUrl: `http://127.0.0.1:${await freePort()}`, headers: {} }), new Date());
    expectNoFigures(unreachable);
    expect(unreachable.problem).toMatch(/^unreachable: /);

    const slow = standIn!.addVersion(STAND_IN_SCRIPT, { tag: 'slow', behavior: { latencyMs: 60_000 } }).id;
    standIn!.deploy(STAND_IN_SCRIPT, { [blue]: 100, [slow]: 0 });
    const timedOut = await source.read(withTimeout(target, 150), subject(slow, await platform.reachVersion(target, slow)), new Date());
    expectNoFigures(timedOut);
    expect(timedOut.problem).toBe('no answer from /metrics within 150 ms');

    const app = await startMetricsApp();
    const at = { baseUrl: app.url, headers: {} };
    app.answer(503, JSON.stringify({ errorRate: 0, avgResponseTime: 1 }));
    expect((await source.read(target, subject(green, at), new Date())).problem).toBe('HTTP 503 from /metrics');
    app.answer(200, '<html>metrics</html>');
    expect((await source.read(target, subject(green, at), new Date())).problem).toBe('/metrics did not answer JSON');
    app.answer(200, JSON.stringify({ errorRate: '5%', avgResponseTime: 1 }));
    const wrongShape = await source.read(target, subject(green, at), new Date());
    expectNoFigures(wrongShape);
    expect(wrongShape.problem).toContain('unexpected shape from /metrics (errorRate');
    app.answer(200, JSON.stringify({ errorRate: 150, avgResponseTime: 1 }));
    expect((await source.read(target, subject(green, at), new Date())).problem).toContain('unexpected shape');
    app.answer(200, JSON.stringify({ errorRate: 1, avgResponseTime: 1, requests: 5 }), { 'x-kevin-version': blue });
    expect((await source.read(target, subject(green, at), new Date())).problem).toContain('answered by another version');
  });
});

describe('PrometheusSource', () => {
  const VERSION = '0b0f8a5e-1111-4222-8333-444455556666';
  const ERROR_RATE = '100 * sum(rate(worker_errors_total{script="{script}",version="{version}"}[1m])) / sum(rate(worker_requests_total{script="{script}",version="{version}"}[1m]))';
  const LATENCY = 'sum(rate(worker_duration_ms_sum{version="{version}"}[1m])) / sum(rate(worker_duration_ms_count{version="{version}"}[1m]))';
  const REQUESTS = 'sum(increase(worker_requests_total{version="{version}"}[1m]))';
  const expand = (query: string): string => query.replaceAll('{version}', VERSION).replaceAll('{script}', STAND_IN_SCRIPT);
  const NOW = new Date('2026-11-26T09:00:30.250Z');
  const source = new PrometheusSource({ settingsOf: settingsCarriedByTarget });
  let prom: FakePrometheus;
  let settings: TargetSettings;
  const the = subject(VERSION, { baseUrl: 'https://kevinstamp.example', headers: {} });

  beforeEach(async () => {
    prom = await startFakePrometheus();
    settings = withMetrics(workersTarget({ productionUrl: 'https://kevinstamp.example' }), {
      source: 'prometheus',
      url: prom.url,
      errorRate: ERROR_RATE,
      avgResponseTime: LATENCY,
      requests: REQUESTS,
    });
    prom.setSeries(expand(ERROR_RATE), 2.5);
    prom.setSeries(expand(LATENCY), 143.75);
    prom.setSeries(expand(REQUESTS), 1200);
  });

  afterEach(async () => {
    await prom.close();
  });

  it('reads each signal from its query, with {version} and {script} substituted, at the sample time', async () => {
    const reading = await source.read(settings, the, NOW);
    expect(reading).toEqual({ source: 'prometheus', errorRatePercent: 2.5, avgResponseMs: 143.75, requests: 1200 });

    const queries = prom.queries();
    expect(queries.map((q) => q.query).sort()).toEqual([expand(ERROR_RATE), expand(LATENCY), expand(REQUESTS)].sort());
    for (const q of queries) {
      expect(q.query).toContain(`version="${VERSION}"`);
      expect(q.query).not.toContain('{version}');
      expect(q.timeSeconds).toBe(NOW.getTime() / 1000);
    }
    expect(queries.find((q) => q.query === expand(ERROR_RATE))?.query).toContain(`script="${STAND_IN_SCRIPT}"`);
  });

  it('accepts a trailing slash on the URL, and scalar results', async () => {
    prom.setSeries(expand(ERROR_RATE), { scalar: 0 });
    const prefixed = withMetrics(settings, { ...(settings.monitor.metrics as Extract<Metrics, { source: 'prometheus' }>), url: `${prom.url}/` });
    expect(await source.read(prefixed, the, NOW)).toEqual({ source: 'prometheus', errorRatePercent: 0, avgResponseMs: 143.75, requests: 1200 });
  });

  it('an empty vector is "no data" for that figure only', async () => {
    prom.setSeries(expand(LATENCY), null);
    const reading = await source.read(settings, the, NOW);
    expect(reading).toMatchObject({ errorRatePercent: 2.5, avgResponseMs: null, requests: 1200 });
    expect(reading.problem).toBe('avgResponseTime: no data for this version');
  });

  it('NaN, several series and out-of-range values are not guessed at', async () => {
    prom.setSeries(expand(ERROR_RATE), Number.NaN);
    prom.setSeries(expand(LATENCY), { series: [{ metric: { colo: 'AMS' }, value: 100 }, { metric: { colo: 'FRA' }, value: 200 }] });
    let reading = await source.read(settings, the, NOW);
    expect(reading).toMatchObject({ errorRatePercent: null, avgResponseMs: null, requests: 1200 });
    expect(reading.problem).toContain('errorRate: no data (NaN)');
    expect(reading.problem).toContain('avgResponseTime: the query returned 2 series');

    prom.setSeries(expand(ERROR_RATE), 0.3);
    prom.setSeries(expand(LATENCY), 10);
    prom.setSeries(expand(REQUESTS), 0);
    reading = await source.read(settings, the, NOW);
    expect(reading).toMatchObject({ errorRatePercent: null, avgResponseMs: null, requests: 0 });
    expect(reading.problem).toContain('no requests');

    prom.setSeries(expand(REQUESTS), 10);
    prom.setSeries(expand(ERROR_RATE), 250);
    reading = await source.read(settings, the, NOW);
    expect(reading.errorRatePercent).toBeNull();
    expect(reading.problem).toContain('errorRate: 250 is not an error rate in percent');
  });

  it("status 'error' answers become the problem, with Prometheus's errorType and message", async () => {
    prom.setError(expand(REQUESTS), { errorType: 'execution', error: 'many-to-many matching not allowed' });
    let reading = await source.read(settings, the, NOW);
    expect(reading).toMatchObject({ errorRatePercent: 2.5, avgResponseMs: 143.75, requests: null });
    expect(reading.problem).toBe('requests: Prometheus error (execution): many-to-many matching not allowed');

    const broken = withMetrics(settings, {
      ...(settings.monitor.metrics as Extract<Metrics, { source: 'prometheus' }>),
      avgResponseTime: 'sum(rate(worker_duration_ms_sum{version="{version}"}[1m])',
    });
    reading = await source.read(broken, the, NOW);
    expect(reading.avgResponseMs).toBeNull();
    expect(reading.problem).toContain('avgResponseTime: Prometheus error (bad_data): invalid parameter "query"');
  });

  it('Prometheus down or unavailable: null figures and one problem', async () => {
    prom.setDown(true);
    let reading = await source.read(settings, the, NOW);
    expect(reading).toMatchObject({ source: 'prometheus', errorRatePercent: null, avgResponseMs: null, requests: null });
    expect(reading.problem).toMatch(/^Prometheus unreachable: /);

    prom.setDown('unavailable');
    reading = await source.read(settings, the, NOW);
    expectNoFigures(reading);
    expect(reading.problem).toMatch(/^Prometheus error \(unavailable\): /);

    await prom.close();
    reading = await source.read(settings, the, NOW);
    expect(reading.problem).toMatch(/^Prometheus unreachable: /);
  });
});

describe('CloudflareAnalyticsSource against the stand-in GraphQL endpoint', () => {
  const T0 = Date.parse('2026-11-26T09:00:00.000Z');
  const LAG = 120_000;
  let clock: ReturnType<typeof manualClock>;
  let target: TargetSettings;
  let source: CloudflareAnalyticsSource;
  let platform: WorkersPlatform;
  let blue: string;
  let green: string;

  beforeEach(async () => {
    clock = manualClock(new Date(T0 - 60_000).toISOString());
    standIn = await startTestStandIn({ clock: clock.clock });
    blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1' }).id;
    green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v2', behavior: { errorPercent: 20 } }).id;
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100, [green]: 0 });
    target = withMetrics(workersTarget({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT) }), { source: 'cloudflare-analytics', lag: LAG });
    source = new CloudflareAnalyticsSource({ settingsOf: settingsCarriedByTarget, apiToken: STAND_IN_TOKEN, baseUrl: standIn.apiBaseUrl, maxRetries: 0 });
    platform = new WorkersPlatform({ settingsOf: settingsCarriedByTarget, apiToken: STAND_IN_TOKEN, baseUrl: standIn.apiBaseUrl });
  });

  it('reads the interval that ended `lag` ago: [now − lag − interval, now − lag]', () => {
    expect(target.monitor.interval).toBe(30_000);
    const window = analyticsWindow(target, new Date(T0 + 130_000));
    expect(window).toEqual({ since: new Date(T0 - 20_000), until: new Date(T0 + 10_000) });
  });

  it('counts per version what the edge really served in the window, and nothing outside it', async () => {
    const greenEndpoint = await platform.reachVersion(target, green);
    const blueEndpoint = { baseUrl: target.productionUrl, headers: {} };
    // T0 − 60 s: older than the window.
    const older = await hit(greenEndpoint, 5);
    await hit(blueEndpoint, 2);
    clock.advance(60_000);
    // T0: inside.
    const inside = await hit(greenEndpoint, 20);
    const blueInside = await hit(blueEndpoint, 10);
    clock.advance(60_000);
    // T0 + 60 s: newer than the window.
    const newer = await hit(greenEndpoint, 7);
    expect([...older, ...inside, ...newer].every((h) => h.servedBy === green)).toBe(true);
    expect(blueInside.every((h) => h.servedBy === blue && h.status === 200)).toBe(true);

    const now = new Date(T0 + 130_000); // window [T0 − 20 s, T0 + 10 s]
    const greenReading = await source.read(target, subject(green, greenEndpoint), now);
    expect(greenReading).toMatchObject({ source: 'cloudflare-analytics', requests: 20, errorRatePercent: (100 * errorsIn(inside)) / 20 });
    expect(errorsIn(inside)).toBeGreaterThan(0);
    expect(greenReading.avgResponseMs).toEqual(expect.any(Number));
    expect(greenReading.avgResponseMs).toBeGreaterThanOrEqual(0);
    expect(greenReading.problem).toBeUndefined();

    const blueReading = await source.read(target, subject(blue, blueEndpoint, 'blue'), now);
    expect(blueReading).toMatchObject({ requests: 10, errorRatePercent: 0 });

    // One minute later the window holds the newer batch only.
    const later = await source.read(target, subject(green, greenEndpoint), new Date(T0 + 190_000));
    expect(later).toMatchObject({ requests: 7, errorRatePercent: (100 * errorsIn(newer)) / 7 });

    // The stand-in's log is the witness: what it counts is what was served.
    const logged = standIn!.invocations(STAND_IN_SCRIPT).filter((i) => i.versionId === green);
    expect(logged).toHaveLength(32);
    expect(logged.filter((i) => i.status === 'scriptThrewException')).toHaveLength(errorsIn([...older, ...inside, ...newer]));
  });

  it('no rows → requests 0, figures null, "no data yet"', async () => {
    const reading = await source.read(target, subject(green, await platform.reachVersion(target, green)), new Date(T0 + 130_000));
    expect(reading).toMatchObject({ source: 'cloudflare-analytics', requests: 0, errorRatePercent: null, avgResponseMs: null });
    expect(reading.problem).toContain('no data yet');
  });

  it('GraphQL errors on HTTP 200 become the problem', async () => {
    const other = withPlatform(target, { accountId: 'ffffffffffffffffffffffffffffffff' });
    const reading = await source.read(other, subject(green, { baseUrl: target.productionUrl, headers: {} }), new Date(T0));
    expect(reading).toMatchObject({ errorRatePercent: null, avgResponseMs: null, requests: null });
    expect(reading.problem).toBe('Cloudflare analytics refused the query: not authorized for that account (at viewer.accounts)');
  });

  it('a rejected token, or Cloudflare failing, becomes the problem', async () => {
    const wrongToken = new CloudflareAnalyticsSource({ settingsOf: settingsCarriedByTarget, apiToken: 'not-the-token', baseUrl: standIn!.apiBaseUrl, maxRetries: 0 });
    const the = subject(green, { baseUrl: target.productionUrl, headers: {} });
    expect((await wrongToken.read(target, the, new Date(T0))).problem).toContain('(401)');

    standIn!.injectFault({ method: 'POST', path: '/graphql', kind: 'status', status: 503, times: 1 });
    const failed = await source.read(target, the, new Date(T0));
    expectNoFigures(failed);
    expect(failed.problem).toContain('HTTP 503');

    const closedPort = new CloudflareAnalyticsSource({ settingsOf: settingsCarriedByTarget, apiToken: STAND_IN_TOKEN, baseUrl: `http://127.0.0.1:${await freePort()}/client/v4`, maxRetries: 0 });
    expect((await closedPort.read(target, the, new Date(T0))).problem).toMatch(/^Cloudflare analytics unreachable/);
  });
});

describe('the stand-in GraphQL Analytics endpoint', () => {
  beforeEach(async () => {
    standIn = await startTestStandIn({ clock: manualClock().clock });
  });

  type GraphqlAnswer = { data: unknown; errors: Array<Record<string, unknown>> | null };
  async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlAnswer> {
    return standInClient(standIn!).post<GraphqlAnswer>('/graphql', { body: { query, variables } });
  }

  it('groups by the selected dimensions and honours the scriptVersion filter', async () => {
    const blue = standIn!.addVersion(STAND_IN_SCRIPT, { tag: 'v1' }).id;
    const green = standIn!.addVersion(STAND_IN_SCRIPT, { tag: 'v2', behavior: { errorPercent: 50 } }).id;
    standIn!.deploy(STAND_IN_SCRIPT, { [blue]: 100, [green]: 0 });
    const edge = standIn!.trafficUrl(STAND_IN_SCRIPT);
    await hit({ baseUrl: edge, headers: {} }, 3);
    const greenHits = await hit({ baseUrl: edge, headers: { 'Cloudflare-Workers-Version-Overrides': `${STAND_IN_SCRIPT}="${green}"` } }, 4);
    await hit({ baseUrl: edge, headers: {} }, 1, '/health'); // probes are invocations too

    const since = '2026-11-26T08:00:00Z';
    const until = '2026-11-26T10:00:00Z';
    const byVersion = await graphql(
      `query ($a: string!, $s: Time!, $u: Time!) { viewer { accounts(filter: {accountTag: $a}) {
        rows: workersInvocationsAdaptive(limit: 10, filter: {scriptName: "${STAND_IN_SCRIPT}", datetime_geq: $s, datetime_leq: $u}) {
          sum { requests errors } dimensions { scriptVersion } } } } }`,
      { a: STAND_IN_ACCOUNT, s: since, u: until },
    );
    expect(byVersion.errors).toBeNull();
    const rows = (byVersion.data as { viewer: { accounts: Array<{ rows: Array<{ sum: { requests: number; errors: number }; dimensions: { scriptVersion: string } }> }> } })
      .viewer.accounts[0]!.rows;
    expect(Object.fromEntries(rows.map((r) => [r.dimensions.scriptVersion, r.sum]))).toEqual({
      [blue]: { requests: 4, errors: 0 },
      [green]: { requests: 4, errors: errorsIn(greenHits) },
    });

    // The adapter's own query, verbatim.
    const exact = await graphql(VERSION_METRICS_QUERY, { accountTag: STAND_IN_ACCOUNT, scriptName: STAND_IN_SCRIPT, scriptVersion: green, since, until });
    expect(exact.errors).toBeNull();
    const [row, ...rest] = (exact.data as { viewer: { accounts: Array<{ workersInvocationsAdaptive: Array<Record<string, Record<string, unknown>>> }> } }).viewer
      .accounts[0]!.workersInvocationsAdaptive;
    expect(rest).toEqual([]);
    expect(row!['sum']).toEqual({ requests: 4, errors: errorsIn(greenHits) });
    expect(row!['dimensions']).toEqual({ scriptVersion: green });
    expect(row!['quantiles']).toEqual({ cpuTimeP50: expect.any(Number), wallTimeP50: expect.any(Number) });
  });

  it('answers a query it cannot serve with GraphQL errors on HTTP 200: message, path, extensions', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['{ viewer { zones(filter: {zoneTag: "z"}) { httpRequests1mGroups(limit: 1) { sum { requests } } } } }', {}, /unknown field "zones"/],
      ['{ viewer { accounts(filter: {accountTag: "a"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } }', {}, /error parsing query/],
      [
        `{ viewer { accounts(filter: {accountTag: "${STAND_IN_ACCOUNT}"}) { workersInvocationsAdaptive(limit: 1) { sum { cpuTimeUs } } } } }`,
        {},
        /unknown field "cpuTimeUs"/,
      ],
      [
        `{ viewer { accounts(filter: {accountTag: "${STAND_IN_ACCOUNT}"}) { workersInvocationsAdaptive(limit: 1, filter: {colo: "AMS"}) { sum { requests } } } } }`,
        {},
        /unknown field "colo" in the filter/,
      ],
      [
        `{ viewer { accounts(filter: {accountTag: "${STAND_IN_ACCOUNT}"}) { workersInvocationsAdaptive(limit: 0) { sum { requests } } } } }`,
        {},
        /limit must be positive/,
      ],
      [
        `{ viewer { accounts(filter: {accountTag: "${STAND_IN_ACCOUNT}"}) { workersInvocationsAdaptive(limit: 1, filter: {datetime_geq: "yesterday"}) { sum { requests } } } } }`,
        {},
        /error parsing args/,
      ],
      ['query ($a: string!) { viewer { accounts(filter: {accountTag: $a}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }', {}, /"\$a" of type string! was not provided/],
      ['mutation { deleteEverything }', {}, /only queries are supported/],
    ];
    for (const [query, variables, message] of cases) {
      const answer = await graphql(query, variables);
      expect(answer.data, query).toBeNull();
      expect(answer.errors, query).toHaveLength(1);
      const [error] = answer.errors!;
      expect(error!['message'], query).toMatch(message);
      expect(error).toHaveProperty('path');
      expect(error!['extensions']).toEqual({ timestamp: '2026-11-26T09:00:00.000Z' });
    }
    // HTTP 200 every time: the SDK resolved instead of throwing, and the stand-in recorded it so.
    const statuses = standIn!.apiRequests().filter((r) => r.path === '/client/v4/graphql').map((r) => r.status);
    expect(statuses).toEqual(cases.map(() => 200));
  });

  it('refuses a missing or unknown token like the rest of the stand-in', async () => {
    const response = await fetch(`${standIn!.apiBaseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: JSON.stringify({ query: '{ viewer { accounts(filter: {accountTag: "x"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ success: false, errors: [{ code: 10000 }] });
  });
});
