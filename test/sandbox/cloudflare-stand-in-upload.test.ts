import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import {
  edgeGet,
  scriptPath,
  STAND_IN_ACCOUNT,
  STAND_IN_READ_ONLY_TOKEN,
  STAND_IN_SCRIPT,
  STAND_IN_TOKEN,
  standInClient,
  startTestStandIn,
} from '../support/stand-in-helpers.ts';

/**
 * Version uploads as `wrangler versions upload` makes them (multipart: a JSON `metadata` part and
 * the module parts), sent with real fetch and a real FormData, and the change notifications a
 * host process uses to persist the stand-in's state.
 */

interface Envelope<T = any> {
  success: boolean;
  errors: Array<{ code: number; message: string }>;
  messages: unknown[];
  result: T;
}

interface WireVersion {
  id: string;
  number: number;
  metadata: Record<string, unknown>;
  annotations: Record<string, string>;
  resources?: {
    bindings: Array<Record<string, unknown>>;
    script: { etag: string; handlers: string[] };
    script_runtime: { compatibility_date: string; usage_model: string };
  };
  startup_time_ms?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WORKER_JS = "export default { fetch() { return new Response('KEVIN'); } };\n";

let standIn: CloudflareStandIn;

beforeEach(async () => {
  standIn = await startTestStandIn();
});

afterEach(async () => {
  await standIn?.close();
});

interface Metadata {
  main_module?: unknown;
  compatibility_date?: unknown;
  bindings?: unknown;
  annotations?: unknown;
  [key: string]: unknown;
}

/** A wrangler-shaped upload: metadata as a JSON string field, modules as files named by their part. */
function uploadForm(
  metadata: Metadata | string | undefined,
  modules: Record<string, string> = { 'worker.js': WORKER_JS },
): FormData {
  const form = new FormData();
  if (metadata !== undefined) form.set('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
  for (const [name, code] of Object.entries(modules)) {
    form.set(name, new Blob([code], { type: 'application/javascript+module' }), name);
  }
  return form;
}

function behaviorMetadata(behavior: string | undefined, annotations?: Record<string, string>): Metadata {
  return {
    main_module: 'worker.js',
    compatibility_date: '2026-11-01',
    ...(behavior === undefined ? {} : { bindings: [{ type: 'plain_text', name: 'SANDBOX_BEHAVIOR', text: behavior }] }),
    ...(annotations ? { annotations } : {}),
  };
}

async function upload(
  body: FormData | string,
  options: { token?: string; headers?: Record<string, string>; account?: string; script?: string } = {},
): Promise<{ status: number; envelope: Envelope<WireVersion> }> {
  const response = await fetch(`${standIn.apiBaseUrl}${scriptPath('versions', options.account, options.script)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token ?? STAND_IN_TOKEN}`, ...options.headers },
    body,
  });
  expect(response.headers.get('content-type')).toBe('application/json');
  return { status: response.status, envelope: (await response.json()) as Envelope<WireVersion> };
}

async function deployViaApi(versionId: string): Promise<void> {
  const envelope = (await standInClient(standIn).post(scriptPath('deployments'), {
    body: { strategy: 'percentage', versions: [{ version_id: versionId, percentage: 100 }] },
  })) as Envelope;
  expect(envelope.success).toBe(true);
}

describe('version upload (POST …/versions, multipart like wrangler)', () => {
  it('creates a version with its tag, message, bindings and behaviour, answered in the create-version shape', async () => {
    const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1' });
    const form = uploadForm({
      main_module: 'worker.js',
      compatibility_date: '2026-11-01',
      bindings: [
        { type: 'plain_text', name: 'SANDBOX_BEHAVIOR', text: 'erroring:100' },
        { type: 'plain_text', name: 'GREETING', text: 'hello KEVIN' },
        { type: 'secret_text', name: 'API_KEY', text: 'sup3r-s3cret' },
      ],
      annotations: { 'workers/tag': 'v2.4.0', 'workers/message': 'KEVINSTAMP v2.4.0' },
      keep_bindings: ['secret_text'], // other metadata fields wrangler sends are accepted
    }, { 'worker.js': WORKER_JS, 'chunk-1.js': 'export const x = 1;\n' });

    const { status, envelope } = await upload(form);
    expect(status).toBe(200);
    expect(envelope).toMatchObject({ success: true, errors: [], messages: [] });
    const created = envelope.result;
    expect(created).toEqual({
      id: expect.stringMatching(UUID),
      number: 2,
      metadata: {
        author_email: expect.any(String),
        author_id: expect.any(String),
        created_on: expect.any(String),
        modified_on: expect.any(String),
        source: 'api',
        hasPreview: true,
        has_preview: true,
      },
      annotations: { 'workers/tag': 'v2.4.0', 'workers/message': 'KEVINSTAMP v2.4.0', 'workers/triggered_by': 'upload' },
      resources: {
        bindings: [
          { type: 'plain_text', name: 'SANDBOX_BEHAVIOR', text: 'erroring:100' },
          { type: 'plain_text', name: 'GREETING', text: 'hello KEVIN' },
          { type: 'secret_text', name: 'API_KEY' },
        ],
        script: { etag: expect.stringMatching(/^[0-9a-f]{64}$/), handlers: ['fetch'] },
        script_runtime: { compatibility_date: '2026-11-01', usage_model: 'standard' },
      },
      startup_time_ms: 0,
    });
    // Secret values are neither echoed nor kept.
    expect(JSON.stringify(envelope)).not.toContain('sup3r-s3cret');
    expect(JSON.stringify(standIn.snapshot())).not.toContain('sup3r-s3cret');

    const client = standInClient(standIn);
    const listed = (await client.get(scriptPath('versions'))) as Envelope<{ items: WireVersion[] }>;
    expect(listed.result.items.map((v) => v.id)).toEqual([created.id, v1.id]);
    expect(listed.result.items[0]?.annotations).toEqual({
      'workers/tag': 'v2.4.0',
      'workers/message': 'KEVINSTAMP v2.4.0',
      'workers/triggered_by': 'upload',
    });

    const detail = await client.workers.scripts.versions.get(created.id, { account_id: STAND_IN_ACCOUNT, script_name: STAND_IN_SCRIPT });
    expect(detail.resources.script_runtime?.compatibility_date).toBe('2026-11-01');
    expect(detail.resources.script?.etag).toBe(created.resources?.script.etag);

    expect(standIn.versions(STAND_IN_SCRIPT)[0]).toMatchObject({
      id: created.id,
      tag: 'v2.4.0',
      message: 'KEVINSTAMP v2.4.0',
      behavior: { errorPercent: 100 },
      source: 'api',
      upload: { mainModule: 'worker.js', modules: ['worker.js', 'chunk-1.js'], compatibilityDate: '2026-11-01' },
    });

    // The requested behaviour is what the edge serves once the version is live.
    await deployViaApi(created.id);
    const home = await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`);
    expect([home.status, home.servedBy]).toEqual([500, created.id]);
    const health = await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'healthy', versionId: created.id });
  });

  it('serves an off-brand upload without KEVIN, and a version without the binding as healthy', async () => {
    const offBrand = (await upload(uploadForm(behaviorMetadata('no-kevin', { 'workers/tag': 'v3' })))).envelope.result;
    await deployViaApi(offBrand.id);
    const page = await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`);
    expect([page.status, page.servedBy]).toEqual([200, offBrand.id]);
    expect(page.text.toLowerCase()).not.toContain('kevin');
    expect(page.text).toContain('v3');

    const plain = (await upload(uploadForm({ main_module: 'worker.js' }))).envelope.result;
    expect(plain.annotations).toEqual({ 'workers/triggered_by': 'upload' });
    expect(plain.resources?.bindings).toEqual([]);
    expect(plain.resources?.script_runtime.compatibility_date).toBe('2026-01-01');
    expect(standIn.versions(STAND_IN_SCRIPT)[0]?.behavior).toEqual({});
    await deployViaApi(plain.id);
    const healthy = await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`);
    expect([healthy.status, healthy.servedBy]).toEqual([200, plain.id]);
    expect(healthy.text).toContain('KEVIN');
  });

  it('maps fails-after-traffic onto the afterTraffic overlay', async () => {
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    const green = (await upload(uploadForm(behaviorMetadata('fails-after-traffic')))).envelope.result;
    expect(standIn.versions(STAND_IN_SCRIPT)[0]?.behavior).toEqual({ afterTraffic: { health: 'unhealthy', errorPercent: 100 } });
    const preview = standIn.previewUrlTemplate(STAND_IN_SCRIPT).replace('{versionPrefix}', green.id.slice(0, 8));
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });
    expect((await edgeGet(`${preview}/health`)).status).toBe(200);
    await deployViaApi(green.id);
    expect((await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`)).status).toBe(503);
  });

  it('allows several uploads with the same tag, each a new version', async () => {
    const first = (await upload(uploadForm(behaviorMetadata(undefined, { 'workers/tag': 'v5' })))).envelope.result;
    const second = (await upload(uploadForm(behaviorMetadata(undefined, { 'workers/tag': 'v5' })))).envelope.result;
    expect(second.id).not.toBe(first.id);
    expect([first.number, second.number]).toEqual([1, 2]);
    expect(standIn.versions(STAND_IN_SCRIPT).map((v) => v.tag)).toEqual(['v5', 'v5']);
  });

  it('records wrangler uploads with source "wrangler"', async () => {
    const { envelope } = await upload(uploadForm({ main_module: 'worker.js' }), { headers: { 'user-agent': 'wrangler/4.40.0' } });
    expect(envelope.result.metadata['source']).toBe('wrangler');
    expect(standIn.versions(STAND_IN_SCRIPT)[0]?.source).toBe('wrangler');
  });

  it('keeps uploaded versions across a snapshot restart', async () => {
    const created = (await upload(uploadForm(behaviorMetadata('erroring:20', { 'workers/tag': 'v6' })))).envelope.result;
    const snapshot = JSON.parse(JSON.stringify(standIn.snapshot()));
    const before = standIn.versions(STAND_IN_SCRIPT);
    await standIn.close();
    standIn = await startTestStandIn({ state: snapshot });
    expect(standIn.versions(STAND_IN_SCRIPT)).toEqual(before);
    const detail = (await standInClient(standIn).get(scriptPath(`versions/${created.id}`))) as Envelope<WireVersion>;
    expect(detail.result.resources).toEqual(created.resources);
  });

  describe('refusals: a Cloudflare-style 400 and no version', () => {
    const cases: Array<{ name: string; body: () => FormData | string; headers?: Record<string, string>; message: RegExp }> = [
      {
        name: 'no metadata part',
        body: () => uploadForm(undefined),
        message: /^Missing the "metadata" part: a version upload needs a JSON "metadata" part naming main_module \(parts received: "worker\.js"\)$/,
      },
      {
        name: 'metadata that is not JSON',
        body: () => uploadForm('{"main_module": "worker.js",'),
        message: /^The "metadata" part is not valid JSON: /,
      },
      { name: 'metadata that is not an object', body: () => uploadForm('["worker.js"]'), message: /must be a JSON object/ },
      {
        name: 'no main_module',
        body: () => uploadForm({ compatibility_date: '2026-11-01' }),
        message: /^metadata\.main_module is required/,
      },
      {
        name: 'a main_module that names no part',
        body: () => uploadForm({ main_module: 'index.js' }),
        message: /^No such module "index\.js": metadata\.main_module must name one of the uploaded module parts \(uploaded: "worker\.js"\)$/,
      },
      {
        name: 'a main_module naming the metadata part itself',
        body: () => uploadForm({ main_module: 'metadata' }, {}),
        message: /^No such module "metadata".*\(uploaded: none\)$/,
      },
      {
        name: 'an unknown SANDBOX_BEHAVIOR preset',
        body: () => uploadForm(behaviorMetadata('sometimes-broken')),
        message:
          /^Binding SANDBOX_BEHAVIOR: Unknown sample-site behaviour "sometimes-broken" \(not a preset\)\. Allowed presets: healthy, degraded, erroring:<percent>, slow:<ms>, no-kevin, health-failing, fails-after-traffic/,
      },
      {
        name: 'an out-of-range SANDBOX_BEHAVIOR',
        body: () => uploadForm(behaviorMetadata('erroring:150')),
        message: /^Binding SANDBOX_BEHAVIOR: .*Allowed presets:/,
      },
      {
        name: 'SANDBOX_BEHAVIOR that is not plain_text',
        body: () =>
          uploadForm({ main_module: 'worker.js', bindings: [{ type: 'secret_text', name: 'SANDBOX_BEHAVIOR', text: 'healthy' }] }),
        message: /^Binding SANDBOX_BEHAVIOR must be a plain_text binding/,
      },
      {
        name: 'a malformed binding',
        body: () => uploadForm({ main_module: 'worker.js', bindings: [{ type: 'plain_text', text: 'x' }] }),
        message: /^metadata\.bindings\[0\] needs a "type" and a "name" string$/,
      },
      {
        name: 'a duplicated binding name',
        body: () =>
          uploadForm({
            main_module: 'worker.js',
            bindings: [
              { type: 'plain_text', name: 'A', text: '1' },
              { type: 'plain_text', name: 'A', text: '2' },
            ],
          }),
        message: /^Binding name 'A' is used more than once/,
      },
      {
        name: 'a non-string tag',
        body: () => uploadForm({ main_module: 'worker.js', annotations: { 'workers/tag': 7 } }),
        message: /^metadata\.annotations\["workers\/tag"\] must be a string, got 7$/,
      },
      {
        name: 'a malformed compatibility_date',
        body: () => uploadForm({ main_module: 'worker.js', compatibility_date: 'yesterday' }),
        message: /^metadata\.compatibility_date must be a date/,
      },
      {
        name: 'a JSON body instead of multipart',
        body: () => JSON.stringify({ main_module: 'worker.js' }),
        headers: { 'content-type': 'application/json' },
        message: /^A version upload must be a multipart\/form-data body with a JSON "metadata" part/,
      },
      {
        name: 'a multipart body that does not parse',
        body: () => '--nope\r\ngarbage',
        headers: { 'content-type': 'multipart/form-data; boundary=elsewhere' },
        message: /^Invalid version upload: the multipart\/form-data body could not be parsed/,
      },
    ];

    for (const c of cases) {
      it(`refuses ${c.name}`, async () => {
        const changes: number[] = [];
        standIn.onChange(() => changes.push(1));
        const { status, envelope } = await upload(c.body(), c.headers ? { headers: c.headers } : {});
        expect(status).toBe(400);
        expect(envelope).toMatchObject({ success: false, messages: [], result: null });
        expect(envelope.errors).toHaveLength(1);
        expect(envelope.errors[0]?.code).toBe(10021);
        expect(envelope.errors[0]?.message).toMatch(c.message);
        expect(standIn.versions(STAND_IN_SCRIPT)).toEqual([]);
        expect(changes).toEqual([]);
      });
    }
  });

  it('applies the auth rules of every write: read-only 403, bad token 401, other account 403, unknown script 404', async () => {
    const form = () => uploadForm(behaviorMetadata('healthy'));
    const readOnly = await upload(form(), { token: STAND_IN_READ_ONLY_TOKEN });
    expect(readOnly.status).toBe(403);
    expect(readOnly.envelope.errors).toEqual([{ code: 10000, message: 'Authentication error' }]);

    const wrong = await upload(form(), { token: 'not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.envelope.errors[0]?.code).toBe(10000);

    const otherAccount = await upload(form(), { account: 'ffffffffffffffffffffffffffffffff' });
    expect(otherAccount.status).toBe(403);

    const unknownScript = await upload(form(), { script: 'no-such-worker' });
    expect(unknownScript.status).toBe(404);
    expect(unknownScript.envelope.errors[0]?.code).toBe(10007);

    expect(standIn.versions(STAND_IN_SCRIPT)).toEqual([]);
    expect(standIn.apiRequests().map((r) => [r.method, r.status])).toEqual([
      ['POST', 403],
      ['POST', 401],
      ['POST', 403],
      ['POST', 404],
    ]);
  });

  it('is subject to injected faults like any API call', async () => {
    standIn.injectFault({ method: 'POST', path: '/versions', kind: 'status', status: 503 });
    const faulted = await upload(uploadForm(behaviorMetadata('healthy')));
    expect(faulted.status).toBe(503);
    expect(standIn.versions(STAND_IN_SCRIPT)).toEqual([]);
    expect((await upload(uploadForm(behaviorMetadata('healthy')))).status).toBe(200);
    expect(standIn.versions(STAND_IN_SCRIPT)).toHaveLength(1);
  });
});

describe('onChange', () => {
  const control = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${standIn.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });

  it('fires synchronously after every mutation, whatever its path, and never for reads or refusals', async () => {
    const seen: string[] = [];
    let label = '';
    // The snapshot taken inside the listener already holds the change: a host can persist it right there.
    const unsubscribe = standIn.onChange(() => {
      const snapshot = standIn.snapshot();
      const script = snapshot.scripts[0];
      seen.push(`${label}:${script?.versions.length}v/${script?.deployments.length}d`);
    });
    const client = standInClient(standIn);

    label = 'addVersion';
    const blue = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'blue' });
    expect(seen).toEqual(['addVersion:1v/0d']); // synchronous: already called when addVersion returns

    label = 'api-upload';
    const green = (await upload(uploadForm(behaviorMetadata('healthy', { 'workers/tag': 'green' })))).envelope.result;

    label = 'control-version';
    const created = await control(`/scripts/${STAND_IN_SCRIPT}/versions`, 'POST', { tag: 'yellow' });
    expect(created.status).toBe(201);
    const yellow = (await created.json()) as { id: string };

    label = 'deploy';
    standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 100 });

    label = 'api-deployment';
    await client.post(scriptPath('deployments'), {
      body: {
        strategy: 'percentage',
        versions: [
          { version_id: blue.id, percentage: 90 },
          { version_id: green.id, percentage: 10 },
        ],
      },
    });

    label = 'control-deployment';
    expect((await control(`/scripts/${STAND_IN_SCRIPT}/deployments`, 'POST', { split: { [yellow.id]: 100 } })).status).toBe(201);

    label = 'setBehavior';
    standIn.setBehavior(green.id, { kevin: false });

    label = 'control-behavior';
    expect((await control(`/versions/${yellow.id}/behavior`, 'PUT', 'erroring:20')).status).toBe(200);

    expect(seen).toEqual([
      'addVersion:1v/0d',
      'api-upload:2v/0d',
      'control-version:3v/0d',
      'deploy:3v/1d',
      'api-deployment:3v/2d',
      'control-deployment:3v/3d',
      'setBehavior:3v/3d',
      'control-behavior:3v/3d',
    ]);

    // None of these change persisted state.
    label = 'read-or-refused';
    await client.get(scriptPath('versions'));
    await client.get(scriptPath('deployments'));
    await client.get(scriptPath(`versions/${blue.id}`));
    await control('/state');
    await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/`);
    await edgeGet(`${standIn.trafficUrl(STAND_IN_SCRIPT)}/health`);
    await upload(uploadForm(behaviorMetadata('broken')));
    await upload(uploadForm(behaviorMetadata('healthy')), { token: STAND_IN_READ_ONLY_TOKEN });
    await client
      .post(scriptPath('deployments'), { body: { strategy: 'percentage', versions: [{ version_id: blue.id, percentage: 50 }] } })
      .catch(() => undefined);
    expect((await control('/versions/00000000-0000-4000-8000-000000000000/behavior', 'PUT', 'healthy')).status).toBe(400);
    standIn.injectFault({ kind: 'status', status: 500, path: 'nothing-matches' });
    standIn.clearFaults();
    expect(() => standIn.deploy(STAND_IN_SCRIPT, { [blue.id]: 40 })).toThrow();
    expect(seen).toHaveLength(8);

    unsubscribe();
    standIn.addVersion(STAND_IN_SCRIPT, {});
    expect(seen).toHaveLength(8);
  });

  it('counts a drop-after-apply upload: the change happened even though the answer was lost', async () => {
    let changes = 0;
    standIn.onChange(() => {
      changes += 1;
    });
    standIn.injectFault({ method: 'POST', path: '/versions', kind: 'drop-after-apply' });
    await expect(upload(uploadForm(behaviorMetadata('healthy')))).rejects.toThrow();
    expect(changes).toBe(1);
    expect(standIn.versions(STAND_IN_SCRIPT)).toHaveLength(1);
  });

  it('keeps notifying the other listeners when one throws', () => {
    const calls: string[] = [];
    standIn.onChange(() => {
      throw new Error('observer bug');
    });
    standIn.onChange(() => calls.push('second'));
    expect(() => standIn.addVersion(STAND_IN_SCRIPT, {})).not.toThrow();
    expect(calls).toEqual(['second']);
  });
});
