import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.upload('v2');
});
afterAll(async () => {
  await h.close();
});

async function deploymentCount(): Promise<number> {
  const r = await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?limit=200');
  return r.body.deployments.length;
}

describe('the HTTP surface', () => {
  it('answers the orchestrator probes and Prometheus', async () => {
    expect((await h.api('GET', '/healthz', undefined, null)).body).toEqual({ status: 'ok' });
    expect((await h.api('GET', '/readyz', undefined, null)).body).toEqual({ status: 'ready' });
    const metrics = await h.api<string>('GET', '/metrics', undefined, null);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    for (const name of [
      'kevin_deploy_deployments_total',
      'kevin_deploy_stage_duration_seconds',
      'kevin_deploy_rollbacks_total',
      'kevin_deploy_active_deployments',
      'kevin_deploy_queue_length',
    ]) {
      expect(metrics.body).toContain(`# TYPE ${name}`);
    }
    // Node's process metrics under their standard names, as stock dashboards expect them.
    expect(metrics.body).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics.body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(metrics.body).not.toContain('kevin_deploy_process_');
  });

  it.each([
    ['no header', undefined, /send "Authorization: Bearer <token>"/],
    ['a wrong token', 'Bearer not-a-token', /the bearer token is not valid/],
    ['a malformed header', 'Basic abc', /the bearer token is not valid/],
  ])('refuses %s with 401 and a problem body, writing nothing', async (_label, header, detail) => {
    const before = await deploymentCount();
    const response = await fetch(`${h.bot.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header ? { authorization: header } : {}) },
      body: JSON.stringify({ service: 'kevinstamp', environment: 'production', version: 'v2' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
    const problem = (await response.json()) as { code: string; title: string; detail: string };
    expect(problem.code).toBe('UNAUTHENTICATED');
    expect(problem.detail).toMatch(detail);
    expect(await deploymentCount()).toBe(before);
  });

  it('refuses an actor without the permission and says who may', async () => {
    const refused = await h.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.viewer);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(refused.body.detail).toBe('viewer may not deploy to kevinstamp/production; allowed: alice, ops, admins (ops)');
    expect(await deploymentCount()).toBe(0);
  });

  it.each([
    ['invalid JSON', 400, 'INVALID_JSON', '{"service": '],
    ['a JSON array', 400, 'USAGE', '[1,2]'],
    ['a missing version', 400, 'USAGE', { service: 'kevinstamp', environment: 'production' }],
    ['an unknown field (typo)', 400, 'USAGE', { service: 'kevinstamp', environment: 'production', version: 'v2', queu: true }],
    ['a version with spaces', 400, 'USAGE', { service: 'kevinstamp', environment: 'production', version: 'v 2' }],
    ['an unknown service', 404, 'UNKNOWN_SERVICE', { service: 'kevinstamps', environment: 'production', version: 'v2' }],
    ['an unknown environment', 404, 'UNKNOWN_ENVIRONMENT', { service: 'kevinstamp', environment: 'prod-eu', version: 'v2' }],
    ['a protected environment left implicit', 400, 'ENVIRONMENT_REQUIRED', { service: 'kevinstamp', version: 'v2' }],
    ['an unknown version', 404, 'VERSION_NOT_FOUND', { service: 'kevinstamp', environment: 'production', version: 'v7' }],
  ])('answers %s with %i %s and writes nothing', async (_label, status, code, body) => {
    const before = await deploymentCount();
    const response = await h.api('POST', '/api/v1/deployments', body, TOKENS.alice);
    expect(response.status).toBe(status);
    expect(response.type).toContain('application/problem+json');
    expect(response.body).toMatchObject({ code, status });
    expect(typeof response.body.title).toBe('string');
    expect(response.body.detail).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    expect(await deploymentCount()).toBe(before);
  });

  it('explains usage in a bad-argument refusal and lists known names', async () => {
    const missing = await h.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production' }, TOKENS.alice);
    expect(missing.body.detail).toMatch(/Usage: deploy SERVICE VERSION/);
    const unknown = await h.api('POST', '/api/v1/deployments', { service: 'kevinstamps', environment: 'production', version: 'v2' }, TOKENS.alice);
    expect(unknown.body.detail).toBe('unknown service "kevinstamps"; known services: kevinstamp');
    expect(unknown.body.knownServices).toEqual(['kevinstamp']);
  });

  it('answers unknown deployments and routes with 404 problems', async () => {
    const missing = await h.api('GET', '/api/v1/deployments/kd-doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('DEPLOYMENT_NOT_FOUND');
    const approve = await h.api('POST', '/api/v1/deployments/kd-doesnotexist/approve', {}, TOKENS.bob);
    expect(approve.status).toBe(404);
    const route = await h.api('GET', '/api/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.body.code).toBe('NOT_FOUND');
  });

  it('answers webhooks that are not configured with 404 problems, not ad-hoc JSON', async () => {
    for (const [path, variable] of [
      ['/pagerduty/webhooks', 'PAGERDUTY_WEBHOOK_SECRET'],
      ['/discord/interactions', 'DISCORD_PUBLIC_KEY'],
    ] as const) {
      const response = await fetch(`${h.bot.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
      const problem = (await response.json()) as { code: string; title: string; detail: string };
      expect(problem).toMatchObject({ code: 'NOT_FOUND', title: 'Not found' });
      expect(problem.detail).toContain(`set ${variable}`);
    }
  });

  it('enforces four-eyes and stale clicks through the API, changing nothing', async () => {
    const created = await h.api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    await h.waitForStage(created.body.id, 'awaiting_approval');
    const own = await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.ops);
    expect(own.status).toBe(200); // ops did not request it: allowed
    await h.waitForStage(created.body.id, ['monitoring', 'succeeded']);
    const stale = await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('STALE_ACTION');
    expect(stale.body.detail).toMatch(/nothing to approve/);
    const notApprover = await h.api('POST', `/api/v1/deployments/${created.body.id}/reject`, {}, TOKENS.alice);
    expect(notApprover.status).toBe(403);
    expect(notApprover.body.detail).toMatch(/alice may not approve or reject releases of kevinstamp\/production; allowed: role approver \(bob\), admins \(ops\)$/);
    await h.waitForStage(created.body.id, 'succeeded');

    h.upload('v3');
    const second = await h.api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v3' }, TOKENS.ops);
    await h.waitForStage(second.body.id, 'awaiting_approval');
    const selfApproval = await h.api('POST', `/api/v1/deployments/${second.body.id}/approve`, {}, TOKENS.ops);
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.code).toBe('FOUR_EYES');
    expect(selfApproval.body.detail).toMatch(/four-eyes is on for kevinstamp\/production, so someone else must approve it/);
    const still = await h.api<DeploymentView>('GET', `/api/v1/deployments/${second.body.id}`);
    expect(still.body.stage).toBe('awaiting_approval');
    expect(still.body.approvals).toEqual([]);
    await h.api('POST', `/api/v1/deployments/${second.body.id}/cancel`, {}, TOKENS.ops);
  });

  it('refuses a lock longer than a year with a 400 problem naming expiresAfter and the maximum, and locks nothing', async () => {
    for (const expiresAfter of ['99999999999h', '8761h', `${'9'.repeat(400)}h`]) {
      const refused = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'freeze', expiresAfter });
      expect(refused.status, expiresAfter).toBe(400);
      expect(refused.type).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ code: 'USAGE', title: 'Invalid request' });
      expect(refused.body.detail).toMatch(/^expiresAfter: must be at most 8760h \(365 days\)\. Usage: lock SERVICE/);
    }
    // 0 is not "for ever": it is refused like any other duration nobody means.
    const zero = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'freeze', expiresAfter: '0s' });
    expect(zero.status).toBe(400);
    expect(zero.body.detail).toMatch(/^expiresAfter: must be longer than 0; leave it out for a lock that lasts until unlock\./);
    const locks = await h.api<{ locks: unknown[] }>('GET', '/api/v1/locks');
    expect(locks.body.locks).toEqual([]);
    // A year exactly is a lock like any other.
    const year = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'freeze', expiresAfter: '8760h' });
    expect(year.status).toBe(201);
    expect(Date.parse(year.body.expiresAt) - Date.parse(year.body.since)).toBe(8760 * 3_600_000);
    expect((await h.api('DELETE', '/api/v1/locks/kevinstamp/production')).status).toBe(200);
  });

  it('lists status, history and locks in the contract shapes', async () => {
    const status = await h.api<{ targets: Array<Record<string, unknown>> }>('GET', '/api/v1/status?service=kevinstamp', undefined, TOKENS.viewer);
    expect(status.status).toBe(200);
    expect(status.body.targets[0]).toMatchObject({ service: 'kevinstamp', environment: 'production', protected: true, lock: null });
    const history = await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?service=kevinstamp&environment=production&limit=1');
    expect(history.body.deployments).toHaveLength(1);
    for (const key of ['id', 'service', 'environment', 'stage', 'version', 'previousVersion', 'strategy', 'split', 'requestedBy', 'approvals', 'reason', 'createdAt', 'updatedAt']) {
      expect(history.body.deployments[0]).toHaveProperty(key);
    }
    const badLimit = await h.api('GET', '/api/v1/deployments?limit=0');
    expect(badLimit.status).toBe(400);
    const locked = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'freeze' });
    expect(locked.status).toBe(201);
    const twice = await h.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('ALREADY_LOCKED');
    const notAdmin = await h.api('DELETE', '/api/v1/locks/kevinstamp/production', undefined, TOKENS.alice);
    expect(notAdmin.status).toBe(403);
    const unlocked = await h.api('DELETE', '/api/v1/locks/kevinstamp/production');
    expect(unlocked.body.unlocked).toMatchObject({ holder: 'ops', reason: 'freeze' });
    const again = await h.api('DELETE', '/api/v1/locks/kevinstamp/production');
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('NOT_LOCKED');
  });
});
