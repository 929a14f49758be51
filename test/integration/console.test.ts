import { request as httpRequest, type IncomingMessage } from 'node:http';
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import { ConsoleClient, csrfOf, textOf } from '../support/console-client.ts';
import { APEX_ROUTE, BLUE_SCRIPT, SHOP_DOMAIN, WWW_ROUTE } from '../support/routes-fixtures.ts';
import { startRoutesHarness } from '../support/routes-harness.ts';

/**
 * The operator console over HTTP against a real bot: sign-in and its cookie, forms that must come
 * from the console, refusals in the API's words, lock and unlock, releases asked for and decided
 * from pages, and the live event stream. (The browser tests drive the same pages in Chromium.)
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function sessionRows(harness: Harness): number {
  const db = new BetterSqlite3(join(harness.dir, 'kevin-deploy.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM console_sessions').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function signedIn(harness: Harness, token: string): Promise<ConsoleClient> {
  const client = new ConsoleClient(harness.bot.url);
  const answer = await client.signIn(token);
  expect(answer.status).toBe(303);
  return client;
}

describe('console sign-in', { timeout: 30_000 }, () => {
  it('sends people without a session to sign in, and / to the console', async () => {
    h = await startHarness();
    const client = new ConsoleClient(h.bot.url);
    expect((await client.get('/')).location).toBe('/console');
    const home = await client.get('/console/history?stage=monitoring');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/console/sign-in?next=%2Fconsole%2Fhistory%3Fstage%3Dmonitoring');
    const form = await client.get('/console/sign-in');
    expect(form.status).toBe(200);
    expect(form.html).toContain('<label for="token">API token</label>');
  });

  it('refuses a token that is not configured, in words, and makes no session', async () => {
    h = await startHarness();
    const client = new ConsoleClient(h.bot.url);
    const answer = await client.signIn('tok-nobody-0123456789');
    expect(answer.status).toBe(401);
    expect(textOf(answer.html)).toContain('That token is not valid');
    expect(client.cookie).toBeUndefined();
    expect(sessionRows(h)).toBe(0);
  });

  it('turns a valid token into an HttpOnly, SameSite=Strict, expiring cookie — Secure behind HTTPS — and goes where it was asked', async () => {
    h = await startHarness();
    const client = new ConsoleClient(h.bot.url);
    const answer = await client.post('/console/sign-in', { token: TOKENS.ops, next: '/console/alerts' });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe('/console/alerts');
    const [cookie] = answer.headers.getSetCookie();
    expect(cookie).toMatch(/^kd_console=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/console; HttpOnly; SameSite=Strict$/);
    // Only the digest is stored: the cookie's value is nowhere in the store.
    expect(sessionRows(h)).toBe(1);
    const home = await client.get('/console');
    expect(home.status).toBe(200);
    expect(textOf(home.html)).toContain('Signed in as ops (admin)');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(home.headers.get('cache-control')).toBe('no-store');

    const behindProxy = new ConsoleClient(h.bot.url);
    const secure = await behindProxy.signIn(TOKENS.bob, { 'x-forwarded-proto': 'https' });
    expect(secure.headers.getSetCookie()[0]).toMatch(/; Secure; SameSite=Strict$/);
    // Somewhere else after signing in is never followed: home instead.
    const elsewhere = await new ConsoleClient(h.bot.url).post('/console/sign-in', { token: TOKENS.bob, next: '//evil.example/console' });
    expect(elsewhere.location).toBe('/console');
  });

  it('signs out: the session is gone and its cookie no longer opens a page', async () => {
    h = await startHarness();
    const client = await signedIn(h, TOKENS.ops);
    const kept = client.cookie;
    const home = await client.get('/console');
    const out = await client.post('/console/sign-out', {}, { from: home });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie()[0]).toMatch(/^kd_console=; Max-Age=0/);
    expect(sessionRows(h)).toBe(0);
    client.cookie = kept;
    expect((await client.get('/console')).status).toBe(303);
  });
});

describe('console forms', { timeout: 30_000 }, () => {
  it('refuses a form without the page token or from another origin, and changes nothing; with both, locks and unlocks', async () => {
    h = await startHarness();
    const client = await signedIn(h, TOKENS.ops);
    const home = await client.get('/console');
    const fields = { service: 'kevinstamp', environment: 'production', reason: 'launch freeze' };

    const forged = await client.post('/console/locks', fields);
    expect(forged.status).toBe(403);
    expect(textOf(forged.html)).toContain('This form was not sent from a page of this console');
    const crossSite = await client.post('/console/locks', fields, { from: home, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toEqual([]);

    const locked = await client.post('/console/locks', { ...fields, expiresAfter: '2h' }, { from: home });
    expect(locked.status).toBe(303);
    expect(locked.location).toBe('/console?done=lock');
    const after = await client.get(locked.location!);
    expect(textOf(after.html)).toContain('Locked.');
    expect(textOf(after.html)).toContain('Locked by ops since');
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toMatchObject([{ service: 'kevinstamp', environment: 'production', holder: 'ops', reason: 'launch freeze' }]);

    const unlocked = await client.post('/console/locks/unlock', { service: 'kevinstamp', environment: 'production' }, { from: after });
    expect(unlocked.location).toBe('/console?done=unlock');
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toEqual([]);
  });

  it('answers a bad lock duration with the command\'s usage, and takes no lock', async () => {
    h = await startHarness();
    const client = await signedIn(h, TOKENS.ops);
    const home = await client.get('/console');
    const answer = await client.post('/console/locks', { service: 'kevinstamp', environment: 'production', reason: 'x', expiresAfter: 'soon' }, { from: home });
    expect(answer.status).toBe(400);
    expect(textOf(answer.html)).toMatch(/expiresAfter: .*Usage: lock SERVICE/);
    expect(answer.html).not.toMatch(/at \S+\.ts:\d+/);
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toEqual([]);
  });

  it('asks for a release, refuses approvals the way the API does (role, four-eyes), and lets an approver approve', async () => {
    h = await startHarness();
    h.upload('v2');
    const ops = await signedIn(h, TOKENS.ops);
    const form = await ops.get('/console/releases/new');
    expect(form.html).toContain('<option value="v2">');
    const asked = await ops.post('/console/releases', { target: 'kevinstamp/production', version: 'v2', note: '<script>alert("kevin")</script>' }, { from: form });
    expect(asked.status).toBe(303);
    const id = /\/console\/releases\/([^?]+)\?done=deploy/.exec(asked.location ?? '')?.[1];
    expect(id).toBeTruthy();
    await h.waitForStage(id!, 'awaiting_approval');

    const page = await ops.get(`/console/releases/${id}`);
    expect(page.html).toContain('&#60;script&#62;alert(&#34;kevin&#34;)&#60;/script&#62;');
    expect(page.html).not.toContain('<script>alert');
    expect(textOf(page.html)).toContain('awaiting approval');

    // Four-eyes: whoever asked for it may not approve it, and is told who may.
    const own = await ops.post(`/console/releases/${id}/approve`, {}, { from: page });
    expect(own.status).toBe(403);
    expect(textOf(own.html)).toContain("so someone else must approve it; allowed: role approver (bob), admins");
    // A deployer without the approver role is told who may.
    const alice = await signedIn(h, TOKENS.alice);
    const alicePage = await alice.get(`/console/releases/${id}`);
    const refused = await alice.post(`/console/releases/${id}/approve`, {}, { from: alicePage });
    expect(refused.status).toBe(403);
    expect(textOf(refused.html)).toMatch(/bob|role:approver|approver/);
    expect((await h.api('GET', `/api/v1/deployments/${id}`)).body.stage).toBe('awaiting_approval');

    const bob = await signedIn(h, TOKENS.bob);
    const bobPage = await bob.get(`/console/releases/${id}`);
    const approved = await bob.post(`/console/releases/${id}/approve`, {}, { from: bobPage });
    expect(approved.status).toBe(303);
    expect(approved.location).toBe(`/console/releases/${id}?done=approve`);
    await h.waitForStage(id!, 'succeeded');
    const audit = await bob.get(`/console/releases/${id}`);
    expect(textOf(audit.html)).toMatch(/bob approved/);
  });

  it('asks before a rollback, as Slack does, and rolls back with the reason in the audit trail', async () => {
    h = await startHarness({ monitorWindow: '30s' });
    h.upload('v2');
    const created = await h.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    await h.waitForStage(created.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    await h.waitForStage(created.body.id, 'monitoring');

    const ops = await signedIn(h, TOKENS.ops);
    const page = await ops.get(`/console/releases/${created.body.id}`);
    expect(page.html).toContain(`href="/console/releases/${created.body.id}/rollback"`);
    const question = await ops.get(`/console/releases/${created.body.id}/rollback`);
    expect(textOf(question.html)).toContain('All traffic goes back to v1');
    const done = await ops.post(`/console/releases/${created.body.id}/rollback`, { comment: 'checkout looks wrong' }, { from: question });
    expect(done.status).toBe(303);
    await h.waitForStage(created.body.id, 'rolled_back');
    const trail = textOf((await ops.get(`/console/releases/${created.body.id}`)).html);
    expect(trail).toContain('checkout looks wrong');
  });
});

describe('console live updates', { timeout: 30_000 }, () => {
  it('streams a change event with the deployment id when a release moves, and only to a signed-in page', async () => {
    h = await startHarness();
    const anonymous = await fetch(`${h.bot.url}/console/events`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);

    const client = await signedIn(h, TOKENS.ops);
    const harness = h;
    const received: string[] = [];
    const stream = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(`${harness.bot.url}/console/events`, { headers: { cookie: client.cookie!, accept: 'text/event-stream' } }, resolve);
      request.on('error', reject);
      request.end();
    });
    expect(stream.statusCode).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => received.push(chunk));

    h.upload('v2');
    const created = await h.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    await expect.poll(() => received.join(''), { timeout: 10_000 }).toContain(`event: change\ndata: {"id":"${created.body.id}"}\n\n`);
    expect(received.join('')).toMatch(/^retry: 2000\n/);
    stream.destroy();
  });

  it('closes open event streams when the bot shuts down, so it stops promptly', async () => {
    h = await startHarness();
    const client = await signedIn(h, TOKENS.ops);
    const harness = h;
    const ended = new Promise<void>((resolve, reject) => {
      const request = httpRequest(`${harness.bot.url}/console/events`, { headers: { cookie: client.cookie! } }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', reject);
      request.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.close();
    h = undefined;
    await ended;
  });
});

describe('console pages', { timeout: 30_000 }, () => {
  it('serves its assets with a content hash and a year of caching; unknown ones are 404', async () => {
    h = await startHarness();
    const client = await signedIn(h, TOKENS.ops);
    const home = await client.get('/console');
    const href = /href="(\/console\/assets\/console\.css\?v=[0-9a-f]{12})"/.exec(home.html)?.[1];
    expect(href).toBeTruthy();
    const css = await fetch(`${h.bot.url}${href}`);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${h.bot.url}/console/assets/../../package.json`)).status).toBe(404);
    expect((await fetch(`${h.bot.url}/console/assets/nothing.js`)).status).toBe(404);
  });

  it('shows history filtered by stage, the deployment metrics, and an alert that can be acknowledged once', async () => {
    h = await startHarness();
    h.upload('v2-broken', { afterTraffic: { kevin: false } });
    const created = await h.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2-broken' }, TOKENS.alice);
    await h.waitForStage(created.body.id, 'awaiting_approval');
    await h.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    await h.waitForStage(created.body.id, 'rolled_back');

    const ops = await signedIn(h, TOKENS.ops);
    const history = await ops.get('/console/history?stage=rolled_back');
    expect(history.html).toContain(`href="/console/releases/${created.body.id}"`);
    const none = await ops.get('/console/history?stage=succeeded');
    expect(textOf(none.html)).toContain('No deployments match.');

    const metrics = textOf((await ops.get('/console/metrics?days=7')).html);
    expect(metrics).toContain('1 release in 7 days');
    expect(metrics).toContain('100 % of 1 release that reached traffic were rolled back or failed');
    expect(metrics).toContain('1 rollback;');

    // The rollback's incident closed itself once blue was verified; green failing its checks opens one that stays open.
    h.upload('v3-sick', { health: 'unhealthy' });
    const sick = await h.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v3-sick' }, TOKENS.alice);
    await h.waitForStage(sick.body.id, 'failed');
    let alerts = await ops.get('/console/alerts');
    expect(textOf(alerts.html)).toMatch(/Resolved \d{4}-/);
    await expect.poll(async () => (alerts = await ops.get('/console/alerts')).html, { timeout: 10_000 }).toContain('name="incidentKey"');
    const incidentKey = /name="incidentKey" value="([^"]+)"/.exec(alerts.html)![1]!;
    const acked = await ops.post('/console/alerts/acknowledge', { incidentKey }, { from: alerts });
    expect(acked.location).toBe('/console/alerts?done=acknowledge');
    const after = await ops.get(acked.location!);
    expect(textOf(after.html)).toContain('Acknowledged by ops');
    expect(csrfOf(after.html)).toBeTruthy();
  });
});

describe('console sessions in the store', { timeout: 60_000 }, () => {
  it('outlive a restart of the bot (SQLite), and end when the token is no longer configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-console-'));
    const databaseUrl = `sqlite:${join(dir, 'kd.db')}`;
    try {
      h = await startHarness({ databaseUrl });
      const client = await signedIn(h, TOKENS.bob);
      await h.close();
      h = await startHarness({ databaseUrl });
      client.baseUrl = h.bot.url;
      const home = await client.get('/console');
      expect(home.status).toBe(200);
      expect(textOf(home.html)).toContain('Signed in as bob (approver)');
      await h.close();
      // bob's token removed from the environment: his session opens nothing any more.
      h = await startHarness({ databaseUrl, env: { KD_TOKEN_BOB: '' } });
      client.baseUrl = h.bot.url;
      expect((await client.get('/console')).status).toBe(303);
    } finally {
      await h?.close();
      h = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('work on Postgres too: a session made by one bot opens pages on another sharing the store', async () => {
    h = await startHarness({ dialect: 'postgres' });
    const client = await signedIn(h, TOKENS.ops);
    const other = await startHarness({ databaseUrl: h.schema!.url });
    try {
      client.baseUrl = other.bot.url;
      const home = await client.get('/console');
      expect(home.status).toBe(200);
      expect(textOf(home.html)).toContain('Signed in as ops (admin)');
    } finally {
      await other.close();
    }
  });
});

describe('console with blue and green as two Workers', { timeout: 30_000 }, () => {
  it('shows which Worker serves each route and custom domain on the targets page', async () => {
    h = await startRoutesHarness({ customDomain: true });
    const client = await signedIn(h, TOKENS.ops);
    const text = textOf((await client.get('/console')).html);
    expect(text).toContain(`Routes ${APEX_ROUTE} → ${BLUE_SCRIPT} (v1`);
    expect(text).toContain(`${WWW_ROUTE} → ${BLUE_SCRIPT} (v1`);
    expect(text).toContain(`${SHOP_DOMAIN} (custom domain) → ${BLUE_SCRIPT}`);
  });
});
