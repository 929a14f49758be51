import {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  type APIError,
} from 'cloudflare';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudflareStandIn, StandInStateSnapshot } from '../../sandbox/cloudflare-stand-in.ts';
import { parseVersionOverrides } from '../../sandbox/version-overrides-header.ts';
import {
  edgeGet,
  edgeTally,
  manualClock,
  rejectionOf,
  scriptPath,
  STAND_IN_ACCOUNT,
  STAND_IN_READ_ONLY_TOKEN,
  STAND_IN_SCRIPT,
  standInClient,
  startTestStandIn,
} from '../support/stand-in-helpers.ts';

interface Envelope<T> {
  success: boolean;
  errors: Array<{ code: number; message: string }>;
  messages: unknown[];
  result: T;
  result_info?: { page: number; per_page: number; count: number; total_count: number; total_pages: number };
}

interface WireDeployment {
  id: string;
  created_on: string;
  source: string;
  strategy: string;
  author_email: string;
  annotations: Record<string, string>;
  versions: Array<{ version_id: string; percentage: number }>;
}

interface WireVersion {
  id: string;
  number: number;
  metadata: Record<string, unknown>;
  annotations: Record<string, string>;
}

const OVERRIDE_HEADER = 'Cloudflare-Workers-Version-Overrides';

function firstError(error: unknown): { code: number; message: string } | undefined {
  return (error as APIError).errors[0] as { code: number; message: string } | undefined;
}

let standIn: CloudflareStandIn;

afterEach(async () => {
  await standIn?.close();
});

describe('Cloudflare stand-in API, through the real SDK', () => {
  beforeEach(async () => {
    standIn = await startTestStandIn();
  });

  describe('authentication and routing', () => {
    it('answers a wrong or missing token with 401 / 10000', async () => {
      const wrong = standInClient(standIn, { token: 'not-the-token' });
      const error = await rejectionOf(wrong.get(scriptPath('versions')));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as APIError).status).toBe(401);
      expect(firstError(error)).toEqual({ code: 10000, message: 'Authentication error' });

      const response = await fetch(`${standIn.apiBaseUrl}${scriptPath('versions')}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({
        success: false,
        errors: [{ code: 10000, message: 'Authentication error' }],
        messages: [],
        result: null,
      });
    });

    it('lets a read-only token read but answers its writes with 403 / 10000', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1' });
      const readOnly = standInClient(standIn, { token: STAND_IN_READ_ONLY_TOKEN });
      const listed = (await readOnly.get(scriptPath('versions'))) as Envelope<{ items: WireVersion[] }>;
      expect(listed.result.items.map((v) => v.id)).toEqual([version.id]);

      const error = await rejectionOf(
        readOnly.post(scriptPath('deployments'), {
          body: { strategy: 'percentage', versions: [{ version_id: version.id, percentage: 100 }] },
        }),
      );
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(firstError(error)?.code).toBe(10000);
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);
    });

    it('answers an account the token cannot see with 403 / 10000', async () => {
      const client = standInClient(standIn);
      const error = await rejectionOf(client.get(scriptPath('versions', 'ffffffffffffffffffffffffffffffff')));
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(firstError(error)).toEqual({ code: 10000, message: 'Authentication error' });
    });

    it('answers an unknown script with 404 / 10007 and an unknown path with 404 / 7003', async () => {
      const client = standInClient(standIn);
      const missing = await rejectionOf(client.get(scriptPath('versions', STAND_IN_ACCOUNT, 'no-such-worker')));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(firstError(missing)).toEqual({ code: 10007, message: 'This Worker does not exist on your account.' });

      const unrouted = await rejectionOf(client.get(`/accounts/${STAND_IN_ACCOUNT}/workers/nothing-here`));
      expect(unrouted).toBeInstanceOf(NotFoundError);
      expect(firstError(unrouted)).toEqual({
        code: 7003,
        message: `Could not route to /accounts/${STAND_IN_ACCOUNT}/workers/nothing-here, perhaps your object identifier is invalid?`,
      });
    });

    it('returns the workers.dev subdomain', async () => {
      const client = standInClient(standIn);
      const typed = await client.workers.subdomains.get({ account_id: STAND_IN_ACCOUNT });
      expect(typed.subdomain).toBe('kevin-sandbox');
    });
  });

  describe('versions', () => {
    it('lists newest first with v4 pagination, as the typed SDK reads it', async () => {
      const created = Array.from({ length: 12 }, (_, i) =>
        standIn.addVersion(STAND_IN_SCRIPT, { tag: `v1.${i}.0`, message: `release ${i}` }),
      );
      const client = standInClient(standIn);

      const firstPage = await client.workers.scripts.versions.list(STAND_IN_SCRIPT, { account_id: STAND_IN_ACCOUNT });
      expect(firstPage.getPaginatedItems().map((v) => v.number)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
      expect(firstPage.result_info).toEqual({ page: 1, per_page: 10, count: 10, total_count: 12, total_pages: 2 });

      const all: string[] = [];
      for await (const v of client.workers.scripts.versions.list(STAND_IN_SCRIPT, { account_id: STAND_IN_ACCOUNT, per_page: 5 })) {
        all.push(v.id as string);
      }
      expect(all).toEqual(created.map((v) => v.id).reverse());

      const raw = (await client.get(scriptPath('versions'), { query: { page: 2, per_page: 10 } })) as Envelope<{ items: WireVersion[] }>;
      expect(raw.success).toBe(true);
      expect(raw.result.items.map((v) => v.number)).toEqual([2, 1]);
      expect(raw.result.items[0]).toEqual({
        id: created[1]?.id,
        number: 2,
        metadata: {
          author_email: expect.any(String),
          author_id: expect.any(String),
          created_on: expect.any(String),
          modified_on: expect.any(String),
          source: 'wrangler',
          hasPreview: true,
        },
        annotations: { 'workers/tag': 'v1.1.0', 'workers/message': 'release 1', 'workers/triggered_by': 'upload' },
      });
    });

    it('ignores pagination with deployable=true and returns the newest 100', async () => {
      for (let i = 0; i < 103; i += 1) standIn.addVersion(STAND_IN_SCRIPT, {});
      const client = standInClient(standIn);
      const raw = (await client.get(scriptPath('versions'), {
        query: { deployable: true, page: 3, per_page: 5 },
      })) as Envelope<{ items: WireVersion[] }>;
      expect(raw.result.items).toHaveLength(100);
      expect(raw.result.items[0]?.number).toBe(103);
      expect(raw.result.items[99]?.number).toBe(4);
    });

    it('gets one version with its resources, and refuses malformed or unknown ids', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v2.4.0' });
      const client = standInClient(standIn);
      const typed = await client.workers.scripts.versions.get(version.id, {
        account_id: STAND_IN_ACCOUNT,
        script_name: STAND_IN_SCRIPT,
      });
      expect(typed.id).toBe(version.id);
      expect(typed.number).toBe(1);
      expect(typed.resources.script?.handlers).toEqual(['fetch']);
      expect(typed.resources.script_runtime).toEqual({ compatibility_date: '2026-01-01', usage_model: 'standard' });
      expect((typed as unknown as WireVersion).annotations['workers/tag']).toBe('v2.4.0');

      const malformed = await rejectionOf(
        client.workers.scripts.versions.get('v2.4.0', { account_id: STAND_IN_ACCOUNT, script_name: STAND_IN_SCRIPT }),
      );
      expect(malformed).toBeInstanceOf(BadRequestError);
      expect(firstError(malformed)?.code).toBe(10004);

      const unknown = await rejectionOf(
        client.workers.scripts.versions.get('00000000-0000-4000-8000-000000000000', {
          account_id: STAND_IN_ACCOUNT,
          script_name: STAND_IN_SCRIPT,
        }),
      );
      expect(unknown).toBeInstanceOf(NotFoundError);
      expect(firstError(unknown)).toEqual({ code: 10071, message: 'The requested Worker version could not be found' });
    });
  });

  describe('deployments', () => {
    it('creates a deployment and lists deployments raw, newest first under result.deployments', async () => {
      const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
      const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'green' });
      standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
      const client = standInClient(standIn);

      const created = (await client.post(scriptPath('deployments'), {
        body: {
          strategy: 'percentage',
          versions: [
            { version_id: blue.id, percentage: 100 },
            { version_id: green.id, percentage: 0 },
          ],
          annotations: { 'workers/message': 'stage green' },
        },
        query: { force: false },
      })) as Envelope<WireDeployment>;
      expect(created.success).toBe(true);
      expect(created.result).toMatchObject({
        source: 'api',
        strategy: 'percentage',
        annotations: { 'workers/message': 'stage green', 'workers/triggered_by': 'deployment' },
        versions: [
          { version_id: blue.id, percentage: 100 },
          { version_id: green.id, percentage: 0 },
        ],
      });

      const typed = await client.workers.scripts.deployments.create(STAND_IN_SCRIPT, {
        account_id: STAND_IN_ACCOUNT,
        strategy: 'percentage',
        versions: [{ version_id: green.id, percentage: 100 }],
      });
      expect(typed.versions).toEqual([{ version_id: green.id, percentage: 100 }]);

      const listed = (await client.get(scriptPath('deployments'))) as Envelope<{ deployments: WireDeployment[] }>;
      expect(listed.result.deployments.map((d) => d.id)).toEqual([typed.id, created.result.id, standIn.deployments(STAND_IN_SCRIPT)[2]?.id]);
      expect(listed.result.deployments[2]?.source).toBe('wrangler');
      expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green.id]: 100 });

      // The SDK's typed list reads result.items, which this endpoint does not have: it yields nothing.
      const viaSdkList: unknown[] = [];
      for await (const d of client.workers.scripts.deployments.list(STAND_IN_SCRIPT, { account_id: STAND_IN_ACCOUNT })) {
        viaSdkList.push(d);
      }
      expect(viaSdkList).toEqual([]);
    });

    it('refuses invalid splits with Cloudflare-style 400s and applies none of them', async () => {
      const a = standIn.addVersion(STAND_IN_SCRIPT, {});
      const b = standIn.addVersion(STAND_IN_SCRIPT, {});
      const c = standIn.addVersion(STAND_IN_SCRIPT, {});
      const client = standInClient(standIn);
      const attempt = async (body: unknown) => {
        const error = await rejectionOf(client.post(scriptPath('deployments'), { body }));
        expect(error).toBeInstanceOf(BadRequestError);
        return firstError(error);
      };
      const v = (id: string, percentage: number) => ({ version_id: id, percentage });

      expect(await attempt({ strategy: 'immediate', versions: [v(a.id, 100)] })).toMatchObject({ code: 10210 });
      expect(await attempt({ strategy: 'percentage', versions: [] })).toMatchObject({ code: 10210 });
      expect(await attempt({ strategy: 'percentage', versions: [v(a.id, 40), v(b.id, 30), v(c.id, 30)] })).toMatchObject({
        code: 10210,
      });
      expect(await attempt({ strategy: 'percentage', versions: [v(a.id, 50), v(a.id, 50)] })).toMatchObject({ code: 10210 });
      expect(await attempt({ strategy: 'percentage', versions: [v(a.id, 60), v(b.id, 30)] })).toEqual({
        code: 10210,
        message: 'Invalid deployment: version percentages must sum to 100, got 90',
      });
      expect(await attempt({ strategy: 'percentage', versions: [v(a.id, 33.3), v(b.id, 66.6)] })).toMatchObject({ code: 10210 });
      const unknownId = '00000000-0000-4000-8000-000000000000';
      expect(await attempt({ strategy: 'percentage', versions: [v(unknownId, 100)] })).toEqual({
        code: 10210,
        message: `Invalid deployment: Version not found: ${unknownId}`,
      });
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);

      // Float tolerance: 33.33 + 66.67 is 100 within 0.01.
      await client.post(scriptPath('deployments'), { body: { strategy: 'percentage', versions: [v(a.id, 33.33), v(b.id, 66.67)] } });
      expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [a.id]: 33.33, [b.id]: 66.67 });
    });

    it('refuses a version older than the newest 100', async () => {
      const oldest = standIn.addVersion(STAND_IN_SCRIPT, {});
      for (let i = 0; i < 100; i += 1) standIn.addVersion(STAND_IN_SCRIPT, {});
      const error = await rejectionOf(
        standInClient(standIn).post(scriptPath('deployments'), {
          body: { strategy: 'percentage', versions: [{ version_id: oldest.id, percentage: 100 }] },
        }),
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(firstError(error)?.code).toBe(10210);
      expect(firstError(error)?.message).toMatch(/latest 100 versions/);
    });

    it('answers 10220 for a version whose secrets changed unless force=true', async () => {
      const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
      const green = standIn.addVersion(STAND_IN_SCRIPT, { secretsChanged: true });
      const client = standInClient(standIn);
      const body = {
        strategy: 'percentage',
        versions: [
          { version_id: blue.id, percentage: 100 },
          { version_id: green.id, percentage: 0 },
        ],
      };
      const error = await rejectionOf(client.post(scriptPath('deployments'), { body }));
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as APIError).errors).toEqual([
        { code: 10220, message: expect.stringContaining('A secret has changed since this version was active') },
      ]);
      expect(firstError(error)?.message).toMatch(/\?force=true/);
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);

      await client.post(scriptPath('deployments'), { body, query: { force: true } });
      expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue.id]: 100, [green.id]: 0 });
    });

    it('answers malformed JSON with 400 / 6007', async () => {
      const response = await fetch(`${standIn.apiBaseUrl}${scriptPath('deployments')}`, {
        method: 'POST',
        headers: { authorization: 'Bearer stand-in-token', 'content-type': 'application/json' },
        body: '{"strategy": "percentage",',
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as Envelope<null>).errors).toEqual([{ code: 6007, message: 'Malformed JSON in request body' }]);
    });

    it('tracks effective switches, the max percentage per version and the active split', async () => {
      const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
      const green = standIn.addVersion(STAND_IN_SCRIPT, {});
      const never = standIn.addVersion(STAND_IN_SCRIPT, {});
      standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
      standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
      standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
      expect(standIn.maxPercentSeen(STAND_IN_SCRIPT, green.id)).toBe(0);
      standIn.deploy(STAND_IN_SCRIPT, { [green.id]: 100 });

      expect(standIn.deployments(STAND_IN_SCRIPT)).toHaveLength(4);
      expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toEqual([
        { [blue.id]: 100 },
        { [blue.id]: 100, [green.id]: 0 },
        { [green.id]: 100 },
      ]);
      expect(standIn.maxPercentSeen(STAND_IN_SCRIPT, green.id)).toBe(100);
      expect(standIn.maxPercentSeen(STAND_IN_SCRIPT, blue.id)).toBe(100);
      expect(standIn.maxPercentSeen(STAND_IN_SCRIPT, never.id)).toBe(-1);
      expect(() => standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 50 })).toThrow(/sum to 100/);
    });
  });

  describe('faults', () => {
    const deploymentBody = (id: string) => ({ strategy: 'percentage', versions: [{ version_id: id, percentage: 100 }] });

    it('answers a 429 fault as the SDK RateLimitError with retry-after, without applying', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, {});
      standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'status', status: 429, retryAfterSeconds: 7 });
      const client = standInClient(standIn);
      const error = await rejectionOf(client.post(scriptPath('deployments'), { body: deploymentBody(version.id) }));
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as APIError).headers?.get('retry-after')).toBe('7');
      expect(firstError(error)?.code).toBe(971);
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);

      // Consumed: the next identical request goes through.
      await client.post(scriptPath('deployments'), { body: deploymentBody(version.id) });
      expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [version.id]: 100 });
    });

    it('answers a 5xx fault as InternalServerError and matches only the faulted method', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, {});
      standIn.injectFault({ method: 'POST', path: 'deployments$', kind: 'status', status: 503 });
      const client = standInClient(standIn);
      const listed = (await client.get(scriptPath('deployments'))) as Envelope<{ deployments: unknown[] }>;
      expect(listed.result.deployments).toEqual([]);
      const error = await rejectionOf(client.post(scriptPath('deployments'), { body: deploymentBody(version.id) }));
      expect(error).toBeInstanceOf(InternalServerError);
      expect((error as APIError).status).toBe(503);
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);
    });

    it('drop-after-apply applies the POST, loses the answer, and the SDK retry deploys the same split again', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, {});
      const seen: string[] = [];
      const unsubscribe = standIn.onRequest((req) => seen.push(`${req.method} ${req.path}`));
      standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'drop-after-apply' });

      const retrying = standInClient(standIn, { maxRetries: 1 });
      const result = (await retrying.post(scriptPath('deployments'), { body: deploymentBody(version.id) })) as Envelope<WireDeployment>;
      expect(result.success).toBe(true);

      expect(standIn.deployments(STAND_IN_SCRIPT)).toHaveLength(2);
      expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toEqual([{ [version.id]: 100 }]);
      const postPath = `POST /client/v4${scriptPath('deployments')}`;
      expect(seen).toEqual([postPath, postPath]);
      expect(standIn.apiRequests().map((r) => r.status)).toEqual([0, 200]);
      unsubscribe();
    });

    it('drop-before-apply loses the request entirely', async () => {
      const version = standIn.addVersion(STAND_IN_SCRIPT, {});
      standIn.injectFault({ kind: 'drop-before-apply', path: 'deployments' });
      const error = await rejectionOf(standInClient(standIn).post(scriptPath('deployments'), { body: deploymentBody(version.id) }));
      expect(error).toBeInstanceOf(APIConnectionError);
      expect(standIn.deployments(STAND_IN_SCRIPT)).toEqual([]);
    });

    it('consumes faults in injection order, honours times, and -1 means every request', async () => {
      const client = standInClient(standIn);
      standIn.injectFault({ path: '/versions', kind: 'status', status: 500, times: 2 });
      standIn.injectFault({ path: '/versions', kind: 'status', status: 429 });
      standIn.injectFault({ path: '/subdomain', kind: 'latency', latencyMs: 5, times: -1 });

      const outcomes: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        try {
          await client.get(scriptPath('versions'));
          outcomes.push('ok');
        } catch (error) {
          outcomes.push(String((error as APIError).status));
        }
      }
      expect(outcomes).toEqual(['500', '500', '429', 'ok']);
      for (let i = 0; i < 3; i += 1) {
        expect(((await client.get(`/accounts/${STAND_IN_ACCOUNT}/workers/subdomain`)) as Envelope<{ subdomain: string }>).result).toEqual({
          subdomain: 'kevin-sandbox',
        });
      }
      expect(standIn.pendingFaults()).toEqual([{ path: '/subdomain', kind: 'latency', latencyMs: 5, times: -1 }]);
      standIn.clearFaults();
      expect(standIn.pendingFaults()).toEqual([]);
    });
  });
});

describe('Cloudflare stand-in edge', () => {
  beforeEach(async () => {
    standIn = await startTestStandIn();
  });

  it('answers 503 before any deployment', async () => {
    standIn.addVersion(STAND_IN_SCRIPT, {});
    const answer = await edgeGet(standIn.trafficUrl(STAND_IN_SCRIPT));
    expect([answer.status, answer.text, answer.servedBy]).toEqual([503, 'no deployment', null]);
  });

  it('splits real traffic by the active deployment, exactly for integer percentages', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'green' });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 90, [green.id]: 10 });
    expect(await edgeTally(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`, 100)).toEqual({ [blue.id]: 90, [green.id]: 10 });

    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
    expect(await edgeTally(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`, 20)).toEqual({ [blue.id]: 20 });
    expect(standIn.servedBy(STAND_IN_SCRIPT)).toEqual({ [blue.id]: 110, [green.id]: 10 });
  });

  it('honours a valid override for a deployed version, even at 0 %, and ignores invalid ones', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
    const green = standIn.addVersion(STAND_IN_SCRIPT, {});
    const stray = standIn.addVersion(STAND_IN_SCRIPT, {});
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
    const url = `${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`;

    const pinned = await edgeGet(url, { [OVERRIDE_HEADER]: `${STAND_IN_SCRIPT}="${green.id}"` });
    expect(pinned.servedBy).toBe(green.id);
    expect(JSON.parse(pinned.text)).toMatchObject({ status: 'healthy', versionId: green.id });

    const spaced = await edgeGet(url, { [OVERRIDE_HEADER]: `other="x" ,  ${STAND_IN_SCRIPT}="${green.id}";q=1 ` });
    expect(spaced.servedBy).toBe(green.id);

    for (const header of [
      `${STAND_IN_SCRIPT}="${stray.id}"`, // a real version, but not in the active deployment
      `${STAND_IN_SCRIPT}="00000000-0000-4000-8000-000000000000"`,
      `${STAND_IN_SCRIPT}=${green.id}`, // not a string: unparseable as a Dictionary member
      `other-script="${green.id}"`,
      `${STAND_IN_SCRIPT}="${green.id}",`,
    ]) {
      expect((await edgeGet(url, { [OVERRIDE_HEADER]: header })).servedBy).toBe(blue.id);
    }
  });

  it('serves any version, deployed or not, on its preview path', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
    const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v2.4.0' });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    const template = standIn.previewUrlTemplate(STAND_IN_SCRIPT);
    expect(template).toBe(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/__preview/{versionPrefix}`);
    const preview = template.replace('{versionPrefix}', green.id.slice(0, 8));

    const health = await edgeGet(`${preview}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ versionId: green.id });
    const home = await edgeGet(preview);
    expect(home.servedBy).toBe(green.id);
    expect(home.text).toContain('v2.4.0');
    expect((await edgeGet(template.replace('{versionPrefix}', 'ffffffff'))).status).toBe(404);
    expect(standIn.maxPercentSeen(STAND_IN_SCRIPT, green.id)).toBe(-1);
  });

  it('flips an afterTraffic version unhealthy only once it had more than 0 %', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, {});
    const green = standIn.addVersion(STAND_IN_SCRIPT, { behavior: { afterTraffic: { health: 'unhealthy', errorPercent: 100 } } });
    const url = `${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`;
    const pin = { [OVERRIDE_HEADER]: `${STAND_IN_SCRIPT}="${green.id}"` };

    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
    expect((await edgeGet(url, pin)).status).toBe(200);

    standIn.deploy(STAND_IN_SCRIPT, { [green.id]: 100 });
    const after = await edgeGet(url);
    expect(after.servedBy).toBe(green.id);
    expect(after.status).toBe(503);
    expect((await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`)).status).toBe(500);

    // Rolled back, it stays broken: it did have traffic.
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100, [green.id]: 0 });
    expect((await edgeGet(url, pin)).status).toBe(503);
  });

  it('reports the real, deterministic error rate in /metrics', async () => {
    const clock = manualClock();
    await standIn.close();
    standIn = await startTestStandIn({ clock: clock.clock });
    const version = standIn.addVersion(STAND_IN_SCRIPT, { behavior: { errorPercent: 20 } });
    standIn.deploy(STAND_IN_SCRIPT, { [version.id]: 100 });
    const base = standIn.trafficUrl(STAND_IN_SCRIPT);

    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push((await edgeGet(`${base}/`)).status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(8);

    const metrics = JSON.parse((await edgeGet(`${base}/metrics`)).text) as Record<string, number>;
    expect(metrics).toMatchObject({ errorRate: 20, requests: 40, windowSeconds: 60 });

    clock.advance(61_000);
    expect(JSON.parse((await edgeGet(`${base}/metrics`)).text)).toMatchObject({ errorRate: 0, requests: 0 });
  });

  it('lets setBehavior change a live version', async () => {
    const version = standIn.addVersion(STAND_IN_SCRIPT, {});
    standIn.deploy(STAND_IN_SCRIPT, { [version.id]: 100 });
    const base = standIn.trafficUrl(STAND_IN_SCRIPT);
    expect((await edgeGet(`${base}/`)).text).toContain('KEVIN');
    standIn.setBehavior(version.id, { kevin: false });
    expect((await edgeGet(`${base}/`)).text).not.toContain('KEVIN');
    expect(() => standIn.setBehavior(version.id, { errorPercent: 101 })).toThrow();
  });
});

describe('Cloudflare-Workers-Version-Overrides parsing', () => {
  it('reads string members of an RFC 8941 Dictionary and ignores everything else', () => {
    const id = '0b0f8a5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
    expect(parseVersionOverrides(`kevinstamp="${id}"`)).toEqual(new Map([['kevinstamp', id]]));
    expect(parseVersionOverrides(` a="1",kevinstamp="${id}";p=?1, b=?0 `).get('kevinstamp')).toBe(id);
    expect(parseVersionOverrides(`kevinstamp = "${id}"`).get('kevinstamp')).toBe(id);
    expect(parseVersionOverrides('kevinstamp="a\\"b"').get('kevinstamp')).toBe('a"b');
    expect(parseVersionOverrides('kevinstamp="x", kevinstamp=token').has('kevinstamp')).toBe(false);
    expect(parseVersionOverrides('other=(1 2), kevinstamp="x"').get('kevinstamp')).toBe('x');
    for (const bad of ['kevinstamp="unterminated', 'kevinstamp="x",', '"kevinstamp"="x"', 'kevinstamp="x" y', '']) {
      expect(parseVersionOverrides(bad).size).toBe(0);
    }
    expect(parseVersionOverrides(undefined).size).toBe(0);
  });
});

describe('Cloudflare stand-in control surface and persistence', () => {
  beforeEach(async () => {
    standIn = await startTestStandIn();
  });

  const control = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${standIn.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });

  it('drives versions, behaviour, seeding and faults over HTTP without auth', async () => {
    const created = await control(`/scripts/${STAND_IN_SCRIPT}/versions`, 'POST', { tag: 'v2.4.0', behavior: 'no-kevin' });
    expect(created.status).toBe(201);
    const version = (await created.json()) as { id: string; number: number; behavior: unknown };
    expect(version).toMatchObject({ number: 1, behavior: { kevin: false } });

    const seeded = await control(`/scripts/${STAND_IN_SCRIPT}/deployments`, 'POST', { split: { [version.id]: 100 } });
    expect(seeded.status).toBe(201);
    expect((await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`)).text).not.toContain('KEVIN');

    const behavior = await control(`/versions/${version.id}/behavior`, 'PUT', 'erroring:100');
    expect(behavior.status).toBe(200);
    expect((await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`)).status).toBe(500);

    expect((await control('/faults', 'POST', { kind: 'status', status: 502, path: 'versions' })).status).toBe(201);
    expect((await control('/faults', 'POST', { kind: 'status' })).status).toBe(400);
    const badPreset = await control(`/versions/${version.id}/behavior`, 'PUT', 'sometimes-broken');
    expect(badPreset.status).toBe(400);
    expect(((await badPreset.json()) as { error: string }).error).toMatch(/Allowed presets/);

    const state = (await (await control('/state')).json()) as {
      scripts: Record<string, { versions: Array<{ id: string }>; activeSplit: unknown; effectiveSwitches: unknown[]; servedBy: unknown }>;
      faults: unknown[];
    };
    expect(state.scripts[STAND_IN_SCRIPT]?.versions.map((v) => v.id)).toEqual([version.id]);
    expect(state.scripts[STAND_IN_SCRIPT]?.activeSplit).toEqual({ [version.id]: 100 });
    expect(state.scripts[STAND_IN_SCRIPT]?.effectiveSwitches).toHaveLength(1);
    expect(state.scripts[STAND_IN_SCRIPT]?.servedBy).toEqual({ [version.id]: 2 });
    expect(state.faults).toHaveLength(1);

    expect((await control('/faults', 'DELETE')).status).toBe(200);
    expect(standIn.pendingFaults()).toEqual([]);
    // Control calls are not API calls.
    expect(standIn.apiRequests()).toEqual([]);
  });

  it('restarts from a snapshot with the same versions, deployments and traffic', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue', behavior: { latencyMs: 1 } });
    const green = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'green', secretsChanged: true });
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 50, [green.id]: 50 });
    // Through JSON text, as a persistence layer would store it.
    const snapshot = JSON.parse(JSON.stringify(standIn.snapshot())) as StandInStateSnapshot;
    await standIn.close();

    standIn = await startTestStandIn({ state: snapshot });
    expect(standIn.versions(STAND_IN_SCRIPT)).toEqual([green, blue]);
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue.id]: 50, [green.id]: 50 });
    expect(await edgeTally(standIn.trafficUrl(STAND_IN_SCRIPT), 4)).toEqual({ [blue.id]: 2, [green.id]: 2 });
    expect(standIn.addVersion(STAND_IN_SCRIPT, {}).number).toBe(3);
  });
});
