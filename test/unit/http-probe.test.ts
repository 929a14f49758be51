import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpProbe } from '../../src/adapters/probe/http-probe.ts';
import type { CheckResult } from '../../src/domain/deployment.ts';
import type { ProbeRequest } from '../../src/ports/probe.ts';
import { closedPort, healthyBasic, healthyDetailed, startHealthTarget, type HealthTarget } from '../support/health-target.ts';

/** The HTTP probe against a real local server that speaks the seed's health shapes. */

const GREEN = '6f1c2a9e-5b3d-4c7e-9a21-0d4e8b7f3c10';
const BLUE = '0b0f8a5e-1111-4222-8333-944455556666';

let target: HealthTarget;
const probe = new HttpProbe();

function request(overrides: Partial<ProbeRequest> = {}): ProbeRequest {
  return {
    baseUrl: target.url,
    headers: {},
    paths: { health: '/health', detailed: '/health/detailed', ready: '/ready' },
    contentChecks: [
      { path: '/', contains: 'KEVIN' },
      { path: '/about', contains: 'KEVIN' },
    ],
    timeoutMs: 5_000,
    expectVersion: GREEN,
    ...overrides,
  };
}

function check(results: CheckResult[], name: string): CheckResult {
  const found = results.find((r) => r.name === name);
  if (!found) throw new Error(`no "${name}" check in ${JSON.stringify(results.map((r) => r.name))}`);
  return found;
}

/** Every check except the named ones passed. */
function onlyFailing(results: CheckResult[]): string[] {
  return results.filter((r) => !r.ok).map((r) => r.name);
}

beforeEach(async () => {
  target = await startHealthTarget({ versionId: GREEN });
});

afterEach(async () => {
  await target.close();
});

describe('HttpProbe, healthy app', () => {
  it('passes every check, in the order health, detailed, ready, content…, version', async () => {
    const results = await probe.run(request());
    expect(results.map((r) => r.name)).toEqual(['health', 'detailed', 'ready', 'content /', 'content /about', 'version']);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(check(results, 'health').detail).toBe('200 healthy');
    expect(check(results, 'detailed').detail).toContain('every check and cultural flag true');
    expect(check(results, 'content /').detail).toContain('"KEVIN" present');
    expect(check(results, 'version').detail).toContain(GREEN.slice(0, 8));
    for (const r of results) expect(r.detail.length).toBeGreaterThan(0);
  });

  it('asks each endpoint with GET', async () => {
    await probe.run(request());
    const paths = target.requests.map((r) => r.path).sort();
    expect(paths).toEqual(['/', '/about', '/health', '/health/detailed', '/ready']);
    expect(target.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('sends the given headers (e.g. a version override) on every request', async () => {
    const override = `kevinstamp="${GREEN}"`;
    await probe.run(request({ headers: { 'Cloudflare-Workers-Version-Overrides': override, 'x-kevin-probe': 'yes' } }));
    expect(target.requests).toHaveLength(5);
    for (const r of target.requests) {
      expect(r.headers['cloudflare-workers-version-overrides']).toBe(override);
      expect(r.headers['x-kevin-probe']).toBe('yes');
      expect(r.headers['user-agent']).toBe('kevin-deploy-probe');
    }
  });

  it('works with a base URL that has a path and a trailing slash (preview URLs)', async () => {
    const results = await probe.run(request({ baseUrl: `${target.url}/__preview/6f1c2a9e/` }));
    expect(onlyFailing(results)).toEqual([]);
    expect(target.requests.map((r) => r.path)).toContain('/__preview/6f1c2a9e/health');
  });
});

describe('HttpProbe, /health', () => {
  it('fails on 503, quoting the status', async () => {
    target.answer('/health', { status: 503, json: { status: 'unhealthy', timestamp: '2026-11-26T09:00:00.000Z', versionId: GREEN } });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['health']);
    expect(check(results, 'health').detail).toContain('503');
  });

  it('fails on a 503 that is not even JSON', async () => {
    target.answer('/health', { status: 503, text: 'Service Unavailable' });
    const results = await probe.run(request());
    expect(check(results, 'health').ok).toBe(false);
    expect(check(results, 'health').detail).toContain('503');
  });

  it('fails on a 200 whose body is not JSON', async () => {
    target.answer('/health', { text: 'OK' });
    const health = check(await probe.run(request()), 'health');
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('not JSON');
  });

  it('fails on a 200 that says degraded', async () => {
    target.answer('/health', { json: { ...healthyBasic(GREEN), status: 'degraded' } });
    const health = check(await probe.run(request()), 'health');
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('degraded');
  });

  it('fails on a shape violation, naming the field', async () => {
    target.answer('/health', { json: { status: 'healthy' } });
    const health = check(await probe.run(request()), 'health');
    expect(health.ok).toBe(false);
    expect(health.detail).toContain('timestamp');
  });
});

describe('HttpProbe, /health/detailed', () => {
  it('fails when a field is missing, naming it', async () => {
    const body = healthyDetailed(GREEN);
    delete (body.checks as Partial<typeof body.checks>).cache;
    target.answer('/health/detailed', { json: body });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['detailed']);
    expect(check(results, 'detailed').detail).toContain('checks.cache');
  });

  it('fails when a whole section is missing or mistyped, naming it', async () => {
    const { cultural: _cultural, ...withoutCultural } = healthyDetailed(GREEN);
    target.answer('/health/detailed', { json: withoutCultural });
    expect(check(await probe.run(request()), 'detailed').detail).toContain('cultural');

    const mistyped = healthyDetailed(GREEN);
    (mistyped.performance as Record<string, unknown>).memoryUsage = '41 %';
    target.answer('/health/detailed', { json: mistyped });
    const detailed = check(await probe.run(request()), 'detailed');
    expect(detailed.ok).toBe(false);
    expect(detailed.detail).toContain('performance.memoryUsage');
  });

  it('fails when a check flag is false, naming it', async () => {
    const body = healthyDetailed(GREEN);
    body.checks.email = false;
    target.answer('/health/detailed', { json: body });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['detailed']);
    expect(check(results, 'detailed').detail).toContain('checks.email');
  });

  it('fails when a cultural flag is false, naming it', async () => {
    const body = healthyDetailed(GREEN);
    body.cultural.kevinBrandingPresent = false;
    target.answer('/health/detailed', { json: body });
    const detailed = check(await probe.run(request()), 'detailed');
    expect(detailed.ok).toBe(false);
    expect(detailed.detail).toContain('cultural.kevinBrandingPresent');
    expect(detailed.detail).not.toContain('checks.');
  });

  it('names every false flag at once', async () => {
    const body = healthyDetailed(GREEN);
    body.checks.cache = false;
    body.cultural.communityDataAccurate = false;
    target.answer('/health/detailed', { json: body });
    const detailed = check(await probe.run(request()), 'detailed');
    expect(detailed.detail).toContain('checks.cache');
    expect(detailed.detail).toContain('cultural.communityDataAccurate');
  });

  it('fails when the status is degraded even with every flag true', async () => {
    target.answer('/health/detailed', { json: { ...healthyDetailed(GREEN), status: 'degraded' } });
    const detailed = check(await probe.run(request()), 'detailed');
    expect(detailed.ok).toBe(false);
    expect(detailed.detail).toContain('degraded');
  });

  it('is skipped when paths.detailed is null', async () => {
    target.answer('/health/detailed', { status: 500, text: 'broken' });
    const results = await probe.run(request({ paths: { health: '/health', detailed: null, ready: '/ready' } }));
    expect(results.map((r) => r.name)).toEqual(['health', 'ready', 'content /', 'content /about', 'version']);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(target.requests.map((r) => r.path)).not.toContain('/health/detailed');
  });
});

describe('HttpProbe, /ready and content', () => {
  it('fails readiness on 503', async () => {
    target.answer('/ready', { status: 503, json: { ready: false } });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['ready']);
    expect(check(results, 'ready').detail).toContain('503');
  });

  it('skips readiness when paths.ready is null', async () => {
    const results = await probe.run(request({ paths: { health: '/health', detailed: '/health/detailed', ready: null } }));
    expect(results.map((r) => r.name)).not.toContain('ready');
    expect(target.requests.map((r) => r.path)).not.toContain('/ready');
  });

  it('fails a content check when the text is missing, saying what and where', async () => {
    target.answer('/', { text: '<html><body><h1>Bitcoin Stamps</h1></body></html>' });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['content /']);
    expect(check(results, 'content /').detail).toContain('"KEVIN" missing on /');
  });

  it('fails a page that answers 404 as a page (health) failure, not as missing content, even if the 404 page mentions the text', async () => {
    target.answer('/about', null);
    const results = await probe.run(request({ contentChecks: [{ path: '/about', contains: 'not found' }] }));
    // Missing KEVIN is an emergency; a page that errors is a health problem (and shows in the error rate).
    expect(onlyFailing(results)).toEqual(['page /about']);
    expect(check(results, 'page /about').detail).toContain('404');
  });
});

describe('HttpProbe, version', () => {
  it('fails when the app reports another version, naming both', async () => {
    target.answer('/health', { json: healthyBasic(BLUE) });
    target.answer('/health/detailed', { json: healthyDetailed(BLUE) });
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['version']);
    const version = check(results, 'version');
    expect(version.detail).toContain(BLUE.slice(0, 8));
    expect(version.detail).toContain(GREEN.slice(0, 8));
  });

  it('fails when only one endpoint reports another version', async () => {
    target.answer('/health/detailed', { json: healthyDetailed(BLUE) });
    expect(check(await probe.run(request()), 'version').ok).toBe(false);
  });

  it('passes with "not checked" when the app does not report its version', async () => {
    target.answer('/health', { json: healthyBasic() });
    target.answer('/health/detailed', { json: healthyDetailed() });
    const results = await probe.run(request());
    expect(results.every((r) => r.ok)).toBe(true);
    expect(check(results, 'version').detail).toContain('not checked');
  });

  it('has no version check when no version is expected', async () => {
    const results = await probe.run(request({ expectVersion: null }));
    expect(results.map((r) => r.name)).not.toContain('version');
  });
});

describe('HttpProbe, transport failures are results', () => {
  it('fails only the check whose endpoint does not answer within timeoutMs', async () => {
    target.answer('/ready', 'hang');
    const results = await probe.run(request({ timeoutMs: 300 }));
    expect(onlyFailing(results)).toEqual(['ready']);
    expect(check(results, 'ready').detail).toContain('no answer within 300 ms');
  });

  it('times out a response whose body stalls after the headers', async () => {
    target.answer('/health', 'stall-body');
    const results = await probe.run(request({ timeoutMs: 300 }));
    expect(onlyFailing(results)).toEqual(['health']);
    expect(check(results, 'health').detail).toContain('no answer within 300 ms');
  });

  it('fails the check with a reason when the connection is dropped', async () => {
    target.answer('/', 'reset');
    const results = await probe.run(request());
    expect(onlyFailing(results)).toEqual(['page /']);
    expect(check(results, 'page /').detail).toMatch(/^\/: \S/);
  });

  it('fails every check with a reason when the connection is refused, without throwing', async () => {
    const port = await closedPort();
    const results = await probe.run(request({ baseUrl: `http://127.0.0.1:${port}` }));
    expect(results.map((r) => r.name)).toEqual(['health', 'detailed', 'ready', 'page /', 'page /about', 'version']);
    for (const r of results.filter((x) => x.name !== 'version')) {
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/ECONNREFUSED/);
    }
  });

  it('does not throw when the request itself cannot be built', async () => {
    const results = await probe.run(request({ headers: { 'x-bad': 'line\nbreak' } }));
    expect(results.filter((r) => r.name !== 'version').every((r) => !r.ok && r.detail.length > 0)).toBe(true);
  });
});
