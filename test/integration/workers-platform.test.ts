import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkersPlatform } from '../../src/adapters/cloudflare/workers-platform.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import { PlatformError } from '../../src/ports/traffic-platform.ts';
import type { CloudflareStandIn, FaultSpec, StandInStateSnapshot } from '../../sandbox/cloudflare-stand-in.ts';
import { STATE_FORMAT } from '../../sandbox/stand-in-state.ts';
import { edgeGet, rejectionOf, STAND_IN_ACCOUNT, STAND_IN_SCRIPT, startTestStandIn } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';
import { settingsCarriedByTarget, withPlatform, workersTarget } from '../support/workers-target.ts';

/**
 * The Workers adapter against the Cloudflare stand-in: real HTTP, the real `cloudflare` SDK
 * inside the adapter, the stand-in's own records as the witness of what reached "Cloudflare".
 */

// Distinctive tokens, so "the token never appears in an error" is a meaningful check.
const TOKEN = 'cf-token-Zq7xW2pL9mK4vB8n';
const READ_ONLY_TOKEN = 'cf-read-only-token-Hs3jR6tY1uE5';
const WRONG_TOKEN = 'cf-wrong-token-Nd8cV0bX2zA7';
const SECRETS = [TOKEN, READ_ONLY_TOKEN, WRONG_TOKEN];
const OVERRIDE_HEADER = 'Cloudflare-Workers-Version-Overrides';
const OTHER_ACCOUNT = 'ffffffffffffffffffffffffffffffff';

let standIn: CloudflareStandIn;
let target: TargetSettings;
let platform: WorkersPlatform;
/** Every PlatformError a test saw; afterEach checks that none of them quotes a token. */
let seenErrors: PlatformError[];

async function start(options: { subdomain?: string; state?: StandInStateSnapshot; reach?: string } = {}): Promise<void> {
  standIn = await startTestStandIn({
    apiToken: TOKEN,
    readOnlyTokens: [READ_ONLY_TOKEN],
    ...(options.subdomain ? { subdomain: options.subdomain } : {}),
    ...(options.state ? { state: options.state } : {}),
  });
  target = workersTarget({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT), ...(options.reach ? { reach: options.reach } : {}) });
  platform = adapter(TOKEN);
}

function adapter(apiToken: string): WorkersPlatform {
  return new WorkersPlatform({ settingsOf: settingsCarriedByTarget, apiToken, baseUrl: standIn.apiBaseUrl });
}

async function platformError(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(PlatformError);
  seenErrors.push(error as PlatformError);
  return error as PlatformError;
}

function upload(tag?: string, extra: { message?: string; secretsChanged?: boolean } = {}): string {
  return standIn.addVersion(STAND_IN_SCRIPT, { ...(tag !== undefined ? { tag } : {}), ...extra }).id;
}

function postsToDeployments(): number {
  return standIn.apiRequests().filter((r) => r.method === 'POST' && r.path.endsWith('/deployments')).length;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

beforeEach(() => {
  seenErrors = [];
});

afterEach(async () => {
  for (const error of seenErrors) {
    for (const secret of SECRETS) {
      expect(error.message).not.toContain(secret);
      expect(String(error)).not.toContain(secret);
      expect(error.stack ?? '').not.toContain(secret);
      expect(JSON.stringify(error.toFailure())).not.toContain(secret);
    }
  }
  await standIn?.close();
});

describe('WorkersPlatform.resolveVersion', () => {
  beforeEach(async () => {
    await start();
  });

  it('finds a version by full id, by 8-character prefix, by tag and by message', async () => {
    const v1 = upload('v1.0.0', { message: 'first release' });
    const v2 = upload('v2.4.0', { message: 'release 2.4.0: new stamp gallery' });
    upload('v2.5.0');

    expect(await platform.resolveVersion(target, v2)).toEqual({ id: v2, tag: 'v2.4.0' });
    expect(await platform.resolveVersion(target, v2.toUpperCase())).toEqual({ id: v2, tag: 'v2.4.0' });
    expect(await platform.resolveVersion(target, v1.slice(0, 8))).toEqual({ id: v1, tag: 'v1.0.0' });
    expect(await platform.resolveVersion(target, 'v2.4.0')).toEqual({ id: v2, tag: 'v2.4.0' });
    expect(await platform.resolveVersion(target, ' v2.4.0 ')).toEqual({ id: v2, tag: 'v2.4.0' });
    expect(await platform.resolveVersion(target, 'release 2.4.0: new stamp gallery')).toEqual({ id: v2, tag: 'v2.4.0' });
  });

  it('reports a version without a tag with tag null', async () => {
    const untagged = upload(undefined, { message: 'hotfix' });
    expect(await platform.resolveVersion(target, untagged.slice(0, 8))).toEqual({ id: untagged, tag: null });
    expect(await platform.resolveVersion(target, 'hotfix')).toEqual({ id: untagged, tag: null });
  });

  it('takes the newest version when a tag was uploaded twice', async () => {
    const first = upload('v3.0.0');
    const second = upload('v3.0.0');
    upload('v3.0.1');
    const found = await platform.resolveVersion(target, 'v3.0.0');
    expect(found).toEqual({ id: second, tag: 'v3.0.0' });
    expect(found.id).not.toBe(first);
  });

  it('finds a version whose tag looks like an id prefix (an 8-character git short SHA)', async () => {
    // CI uploads with `wrangler versions upload --tag <sha>`; an 8-hex-digit short SHA must still resolve as a tag.
    const tagged = upload('c0ffee42');
    expect(await platform.resolveVersion(target, 'c0ffee42')).toEqual({ id: tagged, tag: 'c0ffee42' });
  });

  it('refuses an ambiguous 8-character prefix and asks for the full id', async () => {
    await standIn.close();
    const shared = 'abcdef01';
    const older = `${shared}-0000-4000-8000-000000000001`;
    const newer = `${shared}-0000-4000-8000-000000000002`;
    const version = (id: string, number: number, tag: string) => ({
      id,
      script: STAND_IN_SCRIPT,
      number,
      tag,
      createdOn: `2026-11-2${number}T09:00:00.000Z`,
      secretsChanged: false,
      behavior: {},
    });
    await start({
      state: {
        format: STATE_FORMAT,
        scripts: [{ name: STAND_IN_SCRIPT, versions: [version(newer, 2, 'v2'), version(older, 1, 'v1')], deployments: [] }],
      },
    });

    const error = await platformError(platform.resolveVersion(target, shared));
    expect(error.code).toBe('VERSION_NOT_FOUND');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('2 versions');
    expect(error.message).toContain('full id');

    // Each full id still resolves.
    expect(await platform.resolveVersion(target, older)).toEqual({ id: older, tag: 'v1' });
    expect(await platform.resolveVersion(target, newer)).toEqual({ id: newer, tag: 'v2' });
  });

  it('answers an unknown ref with VERSION_NOT_FOUND, not retryable, saying what it looked for', async () => {
    upload('v1.0.0');
    for (const ref of ['v9.9.9', 'deadbeef', '00000000-0000-4000-8000-000000000000']) {
      const error = await platformError(platform.resolveVersion(target, ref));
      expect(error.code).toBe('VERSION_NOT_FOUND');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`"${ref}"`);
      expect(error.message).toContain(STAND_IN_SCRIPT);
      expect(error.message).toMatch(/tag/);
      expect(error.message).toMatch(/newest 100/);
    }
  });

  it('answers a version older than the newest 100 with VERSION_NOT_DEPLOYABLE', async () => {
    const ancient = upload('v0.0.1');
    const oldestDeployable = upload('v0.0.2');
    for (let i = 0; i < 99; i += 1) upload(`v1.0.${i}`);
    expect(standIn.versions(STAND_IN_SCRIPT)).toHaveLength(101);

    const error = await platformError(platform.resolveVersion(target, ancient));
    expect(error.code).toBe('VERSION_NOT_DEPLOYABLE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(ancient.slice(0, 8));
    expect(error.message).toMatch(/newest 100/);
    expect(error.message).toMatch(/upload it again/);

    // The 100th newest is still deployable.
    expect(await platform.resolveVersion(target, oldestDeployable)).toEqual({ id: oldestDeployable, tag: 'v0.0.2' });
    // By tag, the old one is out of reach: not found among the newest 100.
    const byTag = await platformError(platform.resolveVersion(target, 'v0.0.1'));
    expect(byTag.code).toBe('VERSION_NOT_FOUND');
    expect(byTag.message).toMatch(/newest 100/);
  });
});

describe('WorkersPlatform.readTraffic and listVersions', () => {
  beforeEach(async () => {
    await start();
  });

  it('returns the live split and the versions in it with their tags', async () => {
    const blue = upload('v1.0.0');
    const green = upload(undefined, { message: 'untagged build' });
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 90, [green]: 10 });

    const live = await platform.readTraffic(target);
    expect(live.split).toEqual({ [blue]: 90, [green]: 10 });
    expect([...live.versions].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: blue, tag: 'v1.0.0' },
        { id: green, tag: null },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('returns an empty split when the script has no deployment yet', async () => {
    upload('v1.0.0');
    // The advice for an empty script is Cloudflare's to give (wrangler), so the adapter carries it.
    expect(await platform.readTraffic(target)).toEqual({ split: {}, versions: [], emptyAdvice: expect.stringContaining('wrangler deploy') });
  });

  it('lists recent versions newest first, up to the limit', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => upload(`v1.${i}.0`));
    const listed = await platform.listVersions(target, 3);
    expect(listed.map((v) => ({ id: v.id, tag: v.tag }))).toEqual([
      { id: ids[4], tag: 'v1.4.0' },
      { id: ids[3], tag: 'v1.3.0' },
      { id: ids[2], tag: 'v1.2.0' },
    ]);
    // What a chooser shows besides: who uploaded it, when, and its message.
    for (const v of listed) {
      expect(typeof v.author).toBe('string');
      expect(Date.parse(v.createdAt ?? '')).not.toBeNaN();
      expect(v).toHaveProperty('message');
    }
  });
});

describe('WorkersPlatform.applySplit', () => {
  let blue: string;
  let green: string;

  beforeEach(async () => {
    await start();
    blue = upload('v1.0.0');
    green = upload('v2.0.0');
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100 });
  });

  it('sets the split, verifies it and records the message', async () => {
    const staged = await platform.applySplit(target, { [blue]: 100, [green]: 0 }, { force: false, message: 'stage v2.0.0' });
    expect(staged).toEqual({ [blue]: 100, [green]: 0 });
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue]: 100, [green]: 0 });
    expect(standIn.deployments(STAND_IN_SCRIPT)[0]?.message).toBe('stage v2.0.0');

    const switched = await platform.applySplit(target, { [green]: 100, [blue]: 0 }, { force: false, message: 'x'.repeat(250) });
    expect(switched).toEqual({ [green]: 100, [blue]: 0 });
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [green]: 100, [blue]: 0 });
    // Cloudflare caps the message at 100 characters.
    expect(standIn.deployments(STAND_IN_SCRIPT)[0]?.message).toHaveLength(100);
    expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toHaveLength(3);
    expect(postsToDeployments()).toBe(2);
  });

  it('is a no-op when the split is already applied: no POST reaches Cloudflare', async () => {
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100, [green]: 0 });
    const deploymentsBefore = standIn.deployments(STAND_IN_SCRIPT).length;
    const requestsBefore = standIn.apiRequests().length;

    const result = await platform.applySplit(target, { [blue]: 100, [green]: 0 }, { force: false, message: 'stage again' });
    expect(result).toEqual({ [blue]: 100, [green]: 0 });

    const made = standIn.apiRequests().slice(requestsBefore);
    expect(made.length).toBeGreaterThan(0);
    expect(made.every((r) => r.method === 'GET')).toBe(true);
    expect(postsToDeployments()).toBe(0);
    expect(standIn.deployments(STAND_IN_SCRIPT)).toHaveLength(deploymentsBefore);
  });

  it('does not treat a version listed at 0 % as the same split as that version absent', async () => {
    const result = await platform.applySplit(target, { [blue]: 100, [green]: 0 }, { force: false, message: 'stage' });
    expect(result).toEqual({ [blue]: 100, [green]: 0 });
    expect(postsToDeployments()).toBe(1);
  });

  const faults: Array<{ name: string; fault: FaultSpec; firstCall: 'succeeds' | { code: string } }> = [
    // The switch is made and the answer lost: the adapter must read back and see it done.
    { name: 'drop-after-apply', fault: { method: 'POST', path: '/deployments', kind: 'drop-after-apply' }, firstCall: 'succeeds' },
    {
      name: '429',
      fault: { method: 'POST', path: '/deployments', kind: 'status', status: 429, retryAfterSeconds: 3 },
      firstCall: { code: 'CLOUDFLARE_RATE_LIMITED' },
    },
    { name: '503', fault: { method: 'POST', path: '/deployments', kind: 'status', status: 503 }, firstCall: { code: 'CLOUDFLARE_UNAVAILABLE' } },
    // The connection is lost before anything happened: the adapter must say "try again", not "done".
    {
      name: 'drop-before-apply',
      fault: { method: 'POST', path: '/deployments', kind: 'drop-before-apply' },
      firstCall: { code: 'CLOUDFLARE_UNAVAILABLE' },
    },
  ];

  for (const { name, fault, firstCall } of faults) {
    it(`with a ${name} on the switch POST, still ends with exactly one effective switch`, async () => {
      const wanted = { [green]: 100, [blue]: 0 };
      const switchesBefore = standIn.effectiveSwitches(STAND_IN_SCRIPT).length;
      standIn.injectFault(fault);

      // What the engine does: call again while the adapter says a retry can help.
      let result: Record<string, number> | undefined;
      const failures: PlatformError[] = [];
      for (let attempt = 0; attempt < 4 && result === undefined; attempt += 1) {
        try {
          result = await platform.applySplit(target, wanted, { force: false, message: 'switch to v2.0.0' });
        } catch (error) {
          expect(error).toBeInstanceOf(PlatformError);
          seenErrors.push(error as PlatformError);
          expect((error as PlatformError).retryable).toBe(true);
          // A retryable failure leaves the old split in place, never half a switch.
          expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue]: 100 });
          failures.push(error as PlatformError);
        }
      }

      expect(result).toEqual(wanted);
      expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual(wanted);
      expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toHaveLength(switchesBefore + 1);
      expect(standIn.effectiveSwitches(STAND_IN_SCRIPT).at(-1)).toEqual(wanted);
      if (firstCall === 'succeeds') {
        expect(failures).toEqual([]);
        // One POST: not retried blindly after the lost answer.
        expect(postsToDeployments()).toBe(1);
      } else {
        expect(failures.map((f) => f.code)).toEqual([firstCall.code]);
        expect(postsToDeployments()).toBe(2);
      }

      // And once more for good measure: converged, nothing sent.
      const postsBefore = postsToDeployments();
      expect(await platform.applySplit(target, wanted, { force: false, message: 'switch to v2.0.0' })).toEqual(wanted);
      expect(postsToDeployments()).toBe(postsBefore);
      expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toHaveLength(switchesBefore + 1);
    });
  }

  it('does not double a switch whose POST timed out and landed later', async () => {
    const slow = new WorkersPlatform({ settingsOf: settingsCarriedByTarget, apiToken: TOKEN, baseUrl: standIn.apiBaseUrl, timeoutMs: 300 });
    const wanted = { [green]: 100, [blue]: 0 };
    const switchesBefore = standIn.effectiveSwitches(STAND_IN_SCRIPT).length;
    standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'latency', latencyMs: 1_500 });

    const first = await platformError(slow.applySplit(target, wanted, { force: false, message: 'switch' }));
    expect(first.retryable).toBe(true);
    let result: Record<string, number> | undefined;
    for (let attempt = 0; attempt < 3 && result === undefined; attempt += 1) {
      result = await slow.applySplit(target, wanted, { force: false, message: 'switch' }).catch((error: unknown) => {
        seenErrors.push(error as PlatformError);
        expect((error as PlatformError).retryable).toBe(true);
        return undefined;
      });
    }
    expect(result).toEqual(wanted);
    // Let the delayed POST land before judging.
    await waitFor(() => standIn.apiRequests().every((r) => r.status !== 0), { describe: () => 'the delayed POST to be answered' });
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual(wanted);
    expect(standIn.effectiveSwitches(STAND_IN_SCRIPT)).toHaveLength(switchesBefore + 1);
  });

  it('answers a split Cloudflare refuses with CLOUDFLARE_REJECTED quoting Cloudflare, not retryable', async () => {
    const error = await platformError(platform.applySplit(target, { [green]: 50 }, { force: false, message: 'half' }));
    expect(error.code).toBe('CLOUDFLARE_REJECTED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('10210');
    expect(error.message).toContain('sum to 100');
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue]: 100 });
  });

  it('says when Cloudflare asks to retry after a 429', async () => {
    standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'status', status: 429, retryAfterSeconds: 7 });
    const error = await platformError(platform.applySplit(target, { [green]: 100 }, { force: false, message: 'switch' }));
    expect(error.code).toBe('CLOUDFLARE_RATE_LIMITED');
    expect(error.message).toContain('7 s');
  });

  it('refuses a version whose secrets changed unless forced (error 10220)', async () => {
    const rebuilt = upload('v2.0.1', { secretsChanged: true });
    const wanted = { [blue]: 100, [rebuilt]: 0 };

    const error = await platformError(platform.applySplit(target, wanted, { force: false, message: 'stage v2.0.1' }));
    expect(error.code).toBe('CLOUDFLARE_SECRETS_CHANGED');
    // The domain ends the release with traffic untouched on such a refusal, instead of rolling back.
    expect(error.nothingChanged).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('--force');
    expect(error.message).toContain(STAND_IN_SCRIPT);
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue]: 100 });

    expect(await platform.applySplit(target, wanted, { force: true, message: 'stage v2.0.1' })).toEqual(wanted);
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual(wanted);
  });
});

describe('WorkersPlatform errors a person must fix', () => {
  let blue: string;
  let green: string;

  beforeEach(async () => {
    await start();
    blue = upload('v1.0.0');
    green = upload('v2.0.0');
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100 });
  });

  it('answers a bad token with CLOUDFLARE_AUTH, not retryable', async () => {
    const wrong = adapter(WRONG_TOKEN);
    for (const call of [
      wrong.resolveVersion(target, 'v1.0.0'),
      wrong.readTraffic(target),
      wrong.applySplit(target, { [green]: 100 }, { force: false, message: 'switch' }),
    ]) {
      const error = await platformError(call);
      expect(error.code).toBe('CLOUDFLARE_AUTH');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('CLOUDFLARE_API_TOKEN');
    }
    expect(standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [blue]: 100 });
  });

  it('answers a read-only token on applySplit with CLOUDFLARE_PERMISSION naming the account and Workers Scripts', async () => {
    const readOnly = adapter(READ_ONLY_TOKEN);
    // Reading is allowed…
    expect((await readOnly.readTraffic(target)).split).toEqual({ [blue]: 100 });
    // …writing is not.
    const error = await platformError(readOnly.applySplit(target, { [blue]: 100, [green]: 0 }, { force: false, message: 'stage' }));
    expect(error.code).toBe('CLOUDFLARE_PERMISSION');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(STAND_IN_ACCOUNT);
    expect(error.message).toContain('Workers Scripts');
    expect(standIn.deployments(STAND_IN_SCRIPT)).toHaveLength(1);
  });

  it('answers an unknown script with CLOUDFLARE_SCRIPT_NOT_FOUND naming it', async () => {
    const missing = withPlatform(target, { scriptName: 'no-such-worker' });
    for (const call of [
      platform.resolveVersion(missing, 'v1.0.0'),
      platform.resolveVersion(missing, blue),
      platform.readTraffic(missing),
      platform.applySplit(missing, { [green]: 100 }, { force: false, message: 'switch' }),
    ]) {
      const error = await platformError(call);
      expect(error.code).toBe('CLOUDFLARE_SCRIPT_NOT_FOUND');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('no-such-worker');
      expect(error.message).toContain(STAND_IN_ACCOUNT);
    }
  });

  it('answers a wrong account id with CLOUDFLARE_PERMISSION naming that account', async () => {
    const elsewhere = withPlatform(target, { accountId: OTHER_ACCOUNT });
    for (const call of [platform.resolveVersion(elsewhere, 'v1.0.0'), platform.readTraffic(elsewhere)]) {
      const error = await platformError(call);
      expect(error.code).toBe('CLOUDFLARE_PERMISSION');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(OTHER_ACCOUNT);
      expect(error.message).toMatch(/accountId|CLOUDFLARE_ACCOUNT_ID/);
    }
  });

  it('answers an unreachable API with a retryable CLOUDFLARE_UNAVAILABLE', async () => {
    const baseUrl = standIn.apiBaseUrl;
    await standIn.close();
    const gone = new WorkersPlatform({ settingsOf: settingsCarriedByTarget, apiToken: TOKEN, baseUrl, timeoutMs: 2_000 });
    const error = await platformError(gone.readTraffic(target));
    expect(error.code).toBe('CLOUDFLARE_UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });
});

describe('WorkersPlatform.reachVersion', () => {
  it('in version-override mode: the production URL plus the override header, honoured by the edge', async () => {
    await start();
    const blue = upload('v1.0.0');
    const green = upload('v2.0.0');
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100, [green]: 0 });
    const requestsBefore = standIn.apiRequests().length;

    const endpoint = await platform.reachVersion(target, green);
    expect(endpoint).toEqual({
      baseUrl: standIn.trafficUrl(STAND_IN_SCRIPT),
      headers: { [OVERRIDE_HEADER]: `${STAND_IN_SCRIPT}="${green}"` },
    });
    expect(standIn.apiRequests()).toHaveLength(requestsBefore);

    const viaOverride = await edgeGet(joinUrl(endpoint.baseUrl, '/health'), endpoint.headers);
    expect(viaOverride.status).toBe(200);
    expect(viaOverride.servedBy).toBe(green);
    expect(JSON.parse(viaOverride.text).versionId).toBe(green);

    const plain = await edgeGet(joinUrl(endpoint.baseUrl, '/health'));
    expect(plain.servedBy).toBe(blue);
  });

  it('in preview-url mode with {versionPrefix}: a URL that version answers, without asking the API', async () => {
    await start();
    // The template needs the edge's port, so build the target once the stand-in is up.
    target = workersTarget({
      productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT),
      reach: `{ mode: preview-url, urlTemplate: "${standIn.previewUrlTemplate(STAND_IN_SCRIPT)}" }`,
    });
    const blue = upload('v1.0.0');
    const green = upload('v2.0.0');
    standIn.deploy(STAND_IN_SCRIPT, { [blue]: 100 });
    const requestsBefore = standIn.apiRequests().length;

    const endpoint = await platform.reachVersion(target, green);
    expect(endpoint).toEqual({ baseUrl: `${standIn.trafficUrl(STAND_IN_SCRIPT)}/__preview/${green.slice(0, 8)}`, headers: {} });
    expect(standIn.apiRequests()).toHaveLength(requestsBefore);

    const answer = await edgeGet(joinUrl(endpoint.baseUrl, '/health'));
    expect(answer.status).toBe(200);
    expect(answer.servedBy).toBe(green);
  });

  it('in preview-url mode with {subdomain}: fills in the workers.dev subdomain from the API', async () => {
    await start({ subdomain: 'kevin-test-sub', reach: '{ mode: preview-url }' });
    const green = upload('v2.0.0');

    const endpoint = await platform.reachVersion(target, green);
    expect(endpoint).toEqual({ baseUrl: `https://${green.slice(0, 8)}-${STAND_IN_SCRIPT}.kevin-test-sub.workers.dev`, headers: {} });
    const subdomainCalls = standIn.apiRequests().filter((r) => r.path.endsWith(`/accounts/${STAND_IN_ACCOUNT}/workers/subdomain`));
    expect(subdomainCalls.length).toBeGreaterThanOrEqual(1);
    expect(subdomainCalls.every((r) => r.method === 'GET' && r.status === 200)).toBe(true);

    const custom = workersTarget({
      productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT),
      reach: '{ mode: preview-url, urlTemplate: "https://{subdomain}.example.test/{scriptName}/{versionId}" }',
    });
    expect(await platform.reachVersion(custom, green)).toEqual({
      baseUrl: `https://kevin-test-sub.example.test/${STAND_IN_SCRIPT}/${green}`,
      headers: {},
    });
  });
});
