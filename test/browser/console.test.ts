import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoredAlert } from '../../src/ports/alert-outbox.ts';
import { accessibilityViolations, launchChromium, screenshotPath, VIEWPORTS } from '../support/browser.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import {
  CONSOLE_PAGE_BUDGET,
  fitsViewport,
  focused,
  kilobytes,
  liveText,
  openWeighed,
  problemsOf,
  signedInContext,
  tabThrough,
  type Viewport,
} from '../support/console-browser.ts';
import { metricMonitorYaml, startMetricHarness } from '../support/metric-harness.ts';

/**
 * The operator console in a real browser (Debian's Chromium, headless): signing in with the
 * keyboard, a release moving on its page without a reload, four-eyes between two people, the
 * monitoring chart of a release a metric trigger rolled back, locks, alerts, the connection
 * dropping and coming back, the Outbox — and every page through axe-core, on a phone, with the
 * keyboard alone, and weighed.
 */

let browser: Browser;
let h: Harness | undefined;
let contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
  await h?.close();
  h = undefined;
});

/** A signed-in context, closed after the test. */
async function contextOf(harness: Harness, token: string, viewport: Viewport = VIEWPORTS.desktop): Promise<BrowserContext> {
  const context = await signedInContext(browser, harness.bot.url, token, viewport);
  contexts.push(context);
  return context;
}

async function anonymousContext(viewport: Viewport = VIEWPORTS.desktop): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  return context;
}

/** The stage badge in the release page's heading. */
async function headingStage(page: Page): Promise<string> {
  return ((await page.locator('h1 .stage').textContent()) ?? '').trim();
}

interface Answer {
  status: number;
  /** Where the form's answer came from: the POST itself, or where its 303 led (`…?done=approve`). */
  url: string;
  /** The notice above the page as the server sent it ("Approved.", a refusal). */
  notice: string | undefined;
}

const ENTITY = /&#(\d+);/g;

/**
 * Submits a form (by a click or a key) and waits for the page that answers it. The notice is read
 * from the answer as sent: the page's script takes `?done=` out of the address, and a live
 * refresh after the release moves on may replace it.
 */
async function submitWith(page: Page, submit: () => Promise<void>): Promise<Answer> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)),
    page.waitForEvent('load'),
    submit(),
  ]);
  const body = await response.text();
  const notice = /<p class="notice (?:ok|error)" role="(?:status|alert)">([^<]*)<\/p>/.exec(body)?.[1]?.replace(ENTITY, (_, code: string) => String.fromCharCode(Number(code)));
  return { status: response.status(), url: response.url(), notice };
}

/** A release of `tag` asked for by alice over the API, waiting for approval. */
async function awaitingApproval(harness: Harness, tag: string): Promise<string> {
  const created = await harness.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: tag }, TOKENS.alice);
  expect(created.status).toBe(201);
  await harness.waitForStage(created.body.id, 'awaiting_approval');
  return created.body.id;
}

/** A release whose green loses KEVIN's content under traffic: approved by bob, rolled back by the content trigger. */
async function rolledBack(harness: Harness): Promise<string> {
  harness.upload('v2-no-kevin', { afterTraffic: { kevin: false } });
  const id = await awaitingApproval(harness, 'v2-no-kevin');
  expect((await harness.api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob)).status).toBe(200);
  await harness.waitForStage(id, 'rolled_back');
  return id;
}

/** A green that fails its checks: the release fails and its incident stays open until someone acknowledges it. */
async function failedVerification(harness: Harness): Promise<string> {
  harness.upload('v3-sick', { health: 'unhealthy' });
  const created = await harness.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v3-sick' }, TOKENS.alice);
  expect(created.status).toBe(201);
  await harness.waitForStage(created.body.id, 'failed');
  return created.body.id;
}

async function alertsOf(harness: Harness): Promise<StoredAlert[]> {
  return (await harness.api<{ alerts: StoredAlert[] }>('GET', '/api/v1/alerts?limit=500')).body.alerts;
}

const NAVIGATION = ['Targets', 'History', 'Metrics', 'Alerts', 'Outbox'];

/** Every alert channel delivers to its local sink (email too: the target names a recipient). */
const OUTBOX_OPTIONS = { localAlertSinks: true, extraServiceYaml: "    alerts:\n      emailTo: [oncall@kevinstamp.example]\n      smsTo: ['+15555550101']\n" };

interface PageReport {
  bytes: Record<string, number>;
  tabStops: Record<string, number>;
}

/**
 * Everything every console page must do, at desktop and phone width, each load in a fresh context
 * (an empty cache: the weight is a first visit's): answer 200 without a console error or a CSP
 * refusal, pass axe (also with every <details> opened), fit a 375 px phone, stay under the weight
 * budget, and be walkable with the keyboard — the skip link first (on screen when focused, and
 * taking the focus to <main>), then the header's links in order, every stop with a visible
 * outline. Screenshots: console-<name>-desktop|phone.png.
 */
async function auditPage(harness: Harness, name: string, path: string, token: string | null): Promise<PageReport> {
  const report: PageReport = { bytes: {}, tabStops: {} };
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS) as Array<[keyof typeof VIEWPORTS, Viewport]>) {
    const context = token ? await contextOf(harness, token, viewport) : await anonymousContext(viewport);
    const loaded = await openWeighed(context, harness.bot.url, path);
    const { page } = loaded;
    expect(loaded.status, `${name} answers 200`).toBe(200);
    expect(new URL(page.url()).pathname, `${name} is not redirected`).toBe(path.split('?')[0]);

    expect(await accessibilityViolations(page), `${name} (${viewportName}) passes axe`).toEqual([]);
    const fit = await fitsViewport(page);
    expect(fit.fits, `${name} (${viewportName}) is ${fit.scrollWidth} px wide in a ${fit.innerWidth} px viewport`).toBe(true);
    await page.screenshot({ path: screenshotPath(`console-${name}-${viewportName}`), fullPage: true });

    // What is folded away must pass too, and fit, when it is opened.
    const folded = await page.evaluate<number>(`(() => { const all = [...document.querySelectorAll('details:not([open])')]; for (const d of all) d.open = true; return all.length; })()`);
    if (folded > 0) {
      await page.waitForLoadState('load');
      expect(await accessibilityViolations(page), `${name} (${viewportName}) with its ${folded} <details> open passes axe`).toEqual([]);
      const openFit = await fitsViewport(page);
      expect(openFit.fits, `${name} (${viewportName}) opened is ${openFit.scrollWidth} px wide in a ${openFit.innerWidth} px viewport`).toBe(true);
    }

    report.bytes[viewportName] = loaded.bytes;
    expect(
      loaded.bytes,
      `${name} (${viewportName}) weighs ${kilobytes(loaded.bytes)}: ${loaded.parts.map((p) => `${new URL(p.url).pathname} ${kilobytes(p.bytes)}`).join(', ')}`,
    ).toBeLessThan(CONSOLE_PAGE_BUDGET);

    // The keyboard alone, from the top of the page loaded afresh.
    await page.goto(`${harness.bot.url}${path}`);
    const stops = await tabThrough(page);
    const header = token ? ['Skip to the page', 'kevin-deploy', ...NAVIGATION] : ['Skip to the page', 'kevin-deploy'];
    expect(stops.slice(0, header.length).map((s) => s.text), `${name} (${viewportName}): Tab reaches the skip link, then the header's links in order`).toEqual(header);
    for (const stop of stops) {
      const what = `${name} (${viewportName}): the focused ${stop.tag}${stop.id ? `#${stop.id}` : ''} "${stop.text}"`;
      expect(stop.outlineStyle, `${what} shows an outline`).not.toBe('none');
      expect(stop.outlineWidth, `${what} shows an outline`).not.toBe('0px');
    }
    report.tabStops[viewportName] = stops.length;
    // The skip link comes into view when focused, and takes the focus past the header to the page itself.
    await page.goto(`${harness.bot.url}${path}`);
    await page.keyboard.press('Tab');
    const skip = await page.getByRole('link', { name: 'Skip to the page' }).boundingBox();
    expect(skip && skip.x >= 0 && skip.y >= 0 && skip.x + skip.width <= viewport.width, `${name} (${viewportName}): the focused skip link is on screen at ${JSON.stringify(skip)}`).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement.id'), `${name} (${viewportName}): the skip link moves the focus to <main>`).toBe('main');

    expect(loaded.problems, `${name} (${viewportName}): no console errors or CSP refusals`).toEqual([]);
    await page.close();
  }
  console.log(
    `page weight | ${name.padEnd(18)} | desktop ${kilobytes(report.bytes.desktop!).padStart(9)} | phone ${kilobytes(report.bytes.phone!).padStart(9)} | budget ${kilobytes(CONSOLE_PAGE_BUDGET)} | tab stops ${report.tabStops.desktop}/${report.tabStops.phone}`,
  );
  return report;
}

describe('signing in to the console in Chromium', { timeout: 60_000 }, () => {
  it('signs in with the keyboard alone and lands on the targets page; a wrong token is refused in words', async () => {
    h = await startHarness();
    const harness = h;
    const page = await (await anonymousContext()).newPage();
    const problems = problemsOf(page);
    await page.goto(`${harness.bot.url}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');

    const typeToken = async (token: string) => {
      // Tab from the top: the skip link, the brand, then the token field.
      const stops: Array<string | undefined> = [];
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Tab');
        const stop = await focused(page);
        stops.push(stop?.id || stop?.text);
      }
      expect(stops).toEqual(['Skip to the page', 'kevin-deploy', 'token']);
      await page.keyboard.type(token);
      return (await submitWith(page, () => page.keyboard.press('Enter'))).status;
    };

    expect(await typeToken('tok-nobody-0123456789')).toBe(401);
    expect(await page.getByRole('alert').textContent()).toBe('That token is not valid. Use an API token this bot is configured with.');
    expect(await page.locator('h1').textContent()).toBe('Sign in to kevin-deploy');
    expect(await page.context().cookies()).toEqual([]);

    // The refusal is an HTTP 401, which Chromium logs as a failed load; nothing else may be logged.
    expect(problems.splice(0)).toEqual([`console: Failed to load resource: the server responded with a status of 401 (Unauthorized) (${harness.bot.url}/console/sign-in)`]);

    expect(await typeToken(TOKENS.ops)).toBe(200);
    expect(page.url()).toBe(`${harness.bot.url}/console`);
    expect(await page.locator('h1').textContent()).toBe('Targets');
    expect(await page.locator('.who').textContent()).toContain('Signed in as ops (admin)');
    expect(await page.getByRole('heading', { name: 'kevinstamp → production' }).count()).toBe(1);
    expect(problems).toEqual([]);
  });
});

describe('the console follows releases live in Chromium', { timeout: 60_000 }, () => {
  it('shows a release moving from awaiting approval to succeeded on its open page, without reloading it', async () => {
    h = await startHarness();
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    const page = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    await page.goto(`${h.bot.url}/console/releases/${id}`);
    await expect.poll(() => liveText(page)).toMatch(/^Live/);
    expect(await headingStage(page)).toBe('awaiting approval');
    await page.evaluate(`window.__marker = 'still the same page'`);

    // Driven from elsewhere: bob approves over the API.
    expect((await h.api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob)).status).toBe(200);
    await expect.poll(() => headingStage(page), { timeout: 20_000 }).toBe('succeeded');
    expect((await h.api('GET', `/api/v1/deployments/${id}`)).body.stage).toBe('succeeded');

    // The same document, updated in place.
    expect(await page.evaluate('window.__marker')).toBe('still the same page');
    expect(await page.evaluate(`performance.getEntriesByType('navigation').length`)).toBe(1);
    expect(await liveText(page)).toMatch(/^Live — updated \d\d:\d\d:\d\d UTC$/);
    expect(await page.locator('#main').textContent()).toContain('bob');
    // Approving is over; what is offered now is a rollback.
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Rollback' }).getAttribute('href')).toBe(`/console/releases/${id}/rollback`);
    expect(await page.locator('ol.timeline li[aria-current=step]').textContent()).toMatch(/^succeeded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(now\)$/);
    expect(problems).toEqual([]);
  });

  it('says the connection is lost when the browser goes offline, and catches up on what changed meanwhile when it is back', async () => {
    h = await startHarness();
    const context = await contextOf(h, TOKENS.ops);
    const page = await context.newPage();
    const problems = problemsOf(page);
    await page.goto(`${h.bot.url}/console`);
    await expect.poll(() => liveText(page)).toMatch(/^Live/);
    await page.evaluate(`window.__marker = 'still the same page'`);

    await context.setOffline(true);
    await expect.poll(() => liveText(page), { timeout: 15_000 }).toBe('Connection lost — reconnecting…');
    expect(await page.locator('#live').getAttribute('class')).toBe('live off');

    // A release asked for while the browser is offline.
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    expect(await page.locator('main').textContent()).not.toContain(id);

    await context.setOffline(false);
    await expect.poll(() => liveText(page), { timeout: 15_000 }).toMatch(/^Live( — updated \d\d:\d\d:\d\d UTC)?$/);
    expect(await page.locator('#live').getAttribute('class')).toBe('live on');
    // What changed while the connection was down is shown once it is back, in the same document.
    await expect.poll(() => page.locator('main').textContent(), { timeout: 15_000 }).toContain(id);
    expect(await page.evaluate('window.__marker')).toBe('still the same page');
    expect(await page.evaluate(`performance.getEntriesByType('navigation').length`)).toBe(1);
    // The one kind of error an offline browser reports: the stream's failed reconnections.
    expect(problems.filter((p) => !/\/console\/events|ERR_INTERNET_DISCONNECTED/.test(p))).toEqual([]);
  });
});

describe('deciding releases in the console in Chromium', { timeout: 60_000 }, () => {
  it('four-eyes: ops asks for a release in the form and may not approve it, alice is told who may, bob approves and it succeeds', async () => {
    h = await startHarness();
    h.upload('v2');
    const harness = h;
    const ops = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(ops);
    await ops.goto(`${h.bot.url}/console/releases/new`);
    await ops.getByLabel('Target').selectOption('kevinstamp/production');
    await ops.getByLabel('Version').fill('v2');
    await ops.getByLabel('Note for the approvers (optional)').fill('checkout copy fix');
    const asked = await submitWith(ops, () => ops.getByRole('button', { name: 'Stage and verify' }).click());
    expect(asked.status).toBe(200);
    const id = /\/console\/releases\/([^/?]+)\?done=deploy$/.exec(asked.url)?.[1];
    expect(id, asked.url).toBeTruthy();
    expect(asked.notice).toBe('Release requested: green is being staged.');
    expect(new URL(ops.url()).pathname).toBe(`/console/releases/${id}`);
    const created = (await h.api('GET', `/api/v1/deployments/${id}`)).body;
    expect(created).toMatchObject({ requestedBy: 'ops', versionRef: 'v2', note: 'checkout copy fix' });

    // The page follows it to the approval by itself.
    await expect.poll(() => headingStage(ops), { timeout: 20_000 }).toBe('awaiting approval');
    const own = await submitWith(ops, () => ops.getByRole('button', { name: 'Approve', exact: true }).click());
    expect(own.status).toBe(403);
    expect(own.notice).toBe(`ops requested ${id}; four-eyes is on for kevinstamp/production, so someone else must approve it; allowed: role approver (bob), admins`);
    expect(await ops.getByRole('alert').textContent()).toBe(`ops requested ${id}; four-eyes is on for kevinstamp/production, so someone else must approve it; allowed: role approver (bob), admins`);
    // The refusal is an HTTP 403, which Chromium logs as a failed load; nothing else may be logged.
    expect(problems.splice(0)).toEqual([`console: Failed to load resource: the server responded with a status of 403 (Forbidden) (${harness.bot.url}/console/releases/${id}/approve)`]);
    expect((await harness.api('GET', `/api/v1/deployments/${id}`)).body.stage).toBe('awaiting_approval');

    // A deployer without the approver role is told who may.
    const alice = await (await contextOf(h, TOKENS.alice)).newPage();
    await alice.goto(`${h.bot.url}/console/releases/${id}`);
    expect((await submitWith(alice, () => alice.getByRole('button', { name: 'Approve', exact: true }).click())).status).toBe(403);
    expect(await alice.getByRole('alert').textContent()).toBe('alice may not approve or reject releases of kevinstamp/production; allowed: role approver (bob), admins (ops)');

    // bob, in a browser of his own.
    const bob = await (await contextOf(h, TOKENS.bob)).newPage();
    await bob.goto(`${h.bot.url}/console/releases/${id}`);
    const approved = await submitWith(bob, () => bob.getByRole('button', { name: 'Approve', exact: true }).click());
    expect(approved).toEqual({ status: 200, url: `${h.bot.url}/console/releases/${id}?done=approve`, notice: 'Approved.' });
    await expect.poll(() => headingStage(bob), { timeout: 20_000 }).toBe('succeeded');
    // ops's page, still open on the refusal, follows too: it lives on as the release's page.
    await expect.poll(() => headingStage(ops), { timeout: 20_000 }).toBe('succeeded');
    expect(ops.url()).toBe(`${h.bot.url}/console/releases/${id}`);
    expect(await liveText(ops)).toMatch(/^Live — updated \d\d:\d\d:\d\d UTC$/);
    expect((await bob.locator('dl.facts').textContent()) ?? '').toContain('Approvalsbob');
    expect(await bob.locator('main table').last().textContent()).toMatch(/bob\s*approve/);
    expect(problems).toEqual([]);
  });

  it('rolls a release back from its page after the confirmation page asks', async () => {
    h = await startHarness({ monitorWindow: '60s' });
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    await h.api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob);
    await h.waitForStage(id, 'monitoring');
    const page = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    await page.goto(`${h.bot.url}/console/releases/${id}`);
    await page.getByRole('link', { name: 'Rollback' }).click();
    await page.waitForURL(`${h.bot.url}/console/releases/${id}/rollback`);
    expect(await page.locator('h1').textContent()).toBe('Roll back?');
    expect(await page.locator('main').textContent()).toContain('All traffic goes back to v1');
    await page.getByLabel('Why (optional, goes in the audit trail)').fill('checkout looks wrong');
    expect(await submitWith(page, () => page.getByRole('button', { name: 'Roll back' }).click())).toEqual({
      status: 200,
      url: `${h.bot.url}/console/releases/${id}?done=rollback`,
      notice: 'Rollback started.',
    });
    await expect.poll(() => headingStage(page), { timeout: 20_000 }).toBe('rolled back');
    expect(await page.locator('main table').last().textContent()).toContain('checkout looks wrong');
    expect((await h.api('GET', `/api/v1/deployments/${id}`)).body.stage).toBe('rolled_back');
    expect(problems).toEqual([]);
  });
});

describe('the monitoring chart in Chromium', { timeout: 60_000 }, () => {
  it('draws the window of a release the error-rate trigger rolled back, marks the trigger, and lists the samples', async () => {
    const m = await startMetricHarness({ monitorWindow: '3s', monitorExtraYaml: metricMonitorYaml({ contentTrigger: false }) });
    h = m;
    m.startTraffic(20);
    m.upload('v2', { afterTraffic: { errorPercent: 20 } });
    const id = await m.release('v2');
    const done = await m.waitForStage(id, ['rolled_back', 'succeeded', 'needs_attention', 'failed']);
    expect(done.stage).toBe('rolled_back');

    const page = await (await contextOf(m, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    await page.goto(`${m.bot.url}/console/releases/${id}`);
    const canvas = page.locator('#release-chart canvas');
    await expect.poll(() => canvas.count()).toBeGreaterThan(0);
    const box = await canvas.first().boundingBox();
    expect(box?.width).toBeGreaterThan(0);
    expect(box?.height).toBeGreaterThan(0);
    // Something is drawn on it: lines, not a blank canvas.
    const inked = await page.evaluate<number>(`(() => { const c = document.querySelector('#release-chart canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`);
    expect(inked).toBeGreaterThan(1000);

    const chart = JSON.parse((await page.locator('#release-chart-data').textContent()) ?? '{}') as {
      x: number[];
      errorRate: Array<number | null>;
      markers: Array<{ at: number; kind: string; label: string }>;
      thresholds: { errorRatePercent: number };
    };
    expect(chart.markers).toContainEqual(expect.objectContaining({ kind: 'trigger', label: 'error-rate trigger fired' }));
    expect(chart.x.length).toBeGreaterThan(0);
    expect(chart.thresholds.errorRatePercent).toBe(5);
    expect(chart.errorRate.some((v) => v !== null && v > 5)).toBe(true);
    expect(await page.locator('#release-chart').getAttribute('aria-label')).toMatch(/^\d+ samples? of error rate \(limit 5 %\) and latency \(limit 2000 ms\); error-rate trigger fired at \d\d:\d\d:\d\d UTC\.$/);

    // The samples as a table, for anyone who does not read the chart.
    const samples = page.locator('details', { has: page.locator('summary', { hasText: 'Samples as a table' }) });
    expect(await samples.locator('tbody tr').first().isVisible()).toBe(false);
    await samples.locator('summary').click();
    const rows = samples.locator('tbody tr');
    expect(await rows.count()).toBe(chart.x.length);
    expect(await rows.first().isVisible()).toBe(true);
    const cells = await page.evaluate<string[][]>(`[...document.querySelectorAll('#main details tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))`);
    expect(cells).toHaveLength(chart.x.length);
    for (const [at, errorRate, latency] of cells) {
      expect(at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC$/);
      expect(errorRate).toMatch(/^(\d+(\.\d+)? %|no data)$/);
      expect(latency).toMatch(/^(\d+(\.\d+)? ms|no data)$/);
    }
    expect(cells.some(([, errorRate]) => Number.parseFloat(errorRate ?? '') > 5)).toBe(true);
    expect(await samples.locator('li').allTextContents()).toContainEqual(expect.stringMatching(/: error-rate trigger fired$/));
    await page.screenshot({ path: screenshotPath('console-release-chart-samples-desktop'), fullPage: true });
    await page.setViewportSize(VIEWPORTS.phone);
    // The chart follows the width it is given.
    await expect.poll(async () => (await canvas.first().boundingBox())?.width ?? 0).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    await page.screenshot({ path: screenshotPath('console-release-chart-samples-phone'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();

    // The page with the chart, uPlot and all, meets every page's bar.
    await auditPage(m, 'release-chart', `/console/releases/${id}`, TOKENS.ops);
  });
});

describe('locks and alerts in the console in Chromium', { timeout: 60_000 }, () => {
  it('locks production from the targets page (deploys are then refused) and unlocks it', async () => {
    h = await startHarness();
    h.upload('v2');
    const page = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    await page.goto(`${h.bot.url}/console`);
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'kevinstamp → production' }) });
    await card.locator('summary', { hasText: 'Lock kevinstamp production' }).click();
    await card.getByLabel('Reason (shown to everyone who is refused)').fill('launch freeze');
    expect(await submitWith(page, () => card.getByRole('button', { name: 'Lock', exact: true }).click())).toEqual({ status: 200, url: `${h.bot.url}/console?done=lock`, notice: 'Locked.' });
    expect(await card.textContent()).toMatch(/Locked by ops since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: launch freeze/);
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toMatchObject([{ service: 'kevinstamp', environment: 'production', holder: 'ops', reason: 'launch freeze' }]);
    const refused = await h.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain('launch freeze');

    expect(await submitWith(page, () => card.getByRole('button', { name: 'Unlock kevinstamp production' }).click())).toEqual({ status: 200, url: `${h.bot.url}/console?done=unlock`, notice: 'Unlocked.' });
    expect(await card.textContent()).not.toContain('Locked by');
    expect(await card.locator('summary').textContent()).toBe('Lock kevinstamp production');
    expect((await h.api('GET', '/api/v1/locks')).body.locks).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('acknowledges the open incident of a green that failed verification; the rollback\'s incident had resolved itself', async () => {
    h = await startHarness();
    const harness = h;
    const back = await rolledBack(h);
    const sick = await failedVerification(h);
    const page = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    const acknowledge = page.getByRole('button', { name: 'Acknowledge' });
    await expect
      .poll(async () => {
        await page.goto(`${harness.bot.url}/console/alerts`);
        return acknowledge.count();
      }, { timeout: 15_000 })
      .toBe(1);
    const open = page.locator('li.card', { has: acknowledge });
    expect(await open.locator('a').textContent()).toBe(sick);
    expect(await open.textContent()).toContain('Open: nobody has acknowledged it yet.');
    const title = (await open.locator('h2').textContent()) ?? '';
    expect(await page.locator('li.card', { has: page.getByRole('link', { name: back }) }).filter({ hasText: /Resolved \d{4}-/ }).count()).toBeGreaterThan(0);

    expect(await submitWith(page, () => acknowledge.click())).toEqual({ status: 200, url: `${h.bot.url}/console/alerts?done=acknowledge`, notice: 'Acknowledged.' });
    const acknowledged = page.locator('li.card', { has: page.getByRole('heading', { name: title, exact: true }) });
    expect(await acknowledged.textContent()).toMatch(/Acknowledged by ops \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
    expect(await acknowledge.count()).toBe(0);
    const stored = (await alertsOf(h)).filter((a) => a.facts.deploymentId === sick && a.acknowledgedAt);
    expect(stored.map((a) => a.acknowledgedBy)).toContain('ops');
    expect(problems).toEqual([]);
  });
});

describe('the Outbox in Chromium', { timeout: 60_000 }, () => {
  it('shows each alert of a rolled-back release in every channel\'s panel, delivered to local sinks', async () => {
    h = await startHarness(OUTBOX_OPTIONS);
    const harness = h;
    const id = await rolledBack(h);
    // Every delivery of the release's alerts has landed in its local sink.
    let alerts: StoredAlert[] = [];
    await expect
      .poll(async () => {
        alerts = (await alertsOf(harness)).filter((a) => a.facts.deploymentId === id);
        return alerts.length > 0 && alerts.every((a) => a.deliveries.every((d) => d.status !== 'pending'));
      }, { timeout: 15_000 })
      .toBe(true);
    const local = alerts.flatMap((a) => a.deliveries.filter((d) => d.status === 'delivered' && d.ref?.startsWith('local:')).map((d) => d.channel));
    // No channel has an account here: every one that delivered did so to its local sink.
    expect(new Set(local), JSON.stringify(alerts.map((x) => [x.kind, x.deliveries.map((d) => [d.channel, d.status, d.lastError])]))).toEqual(new Set(['slack', 'pagerduty', 'email', 'discord', 'sms']));
    expect(alerts.flatMap((a) => a.deliveries).filter((d) => d.status === 'delivered' && !d.ref?.startsWith('local:'))).toEqual([]);

    const page = await (await contextOf(h, TOKENS.ops)).newPage();
    const problems = problemsOf(page);
    await page.goto(`${h.bot.url}/console/outbox`);
    expect(await page.locator('h1').textContent()).toBe('Outbox');
    for (const alert of alerts) {
      const article = page.locator(`article[aria-labelledby="ob-alert-${alert.seq}"]`);
      expect(await article.count(), `alert #${alert.seq} ${alert.kind}`).toBe(1);
      expect(await article.locator('.ob-alert-title').textContent()).toContain(alert.title);
      const channels = await article.locator('.ob-delivery .ob-channel').allTextContents();
      const names: Record<string, string> = { slack: 'Slack', pagerduty: 'PagerDuty', email: 'Email', discord: 'Discord', sms: 'SMS' };
      expect(channels.sort()).toEqual(alert.deliveries.map((d) => names[d.channel]).sort());
      for (const d of alert.deliveries) {
        const item = article.locator('.ob-delivery', { has: page.locator('.ob-channel', { hasText: names[d.channel]! }) });
        if (d.status === 'skipped') {
          // A channel that sends nothing says why, on one line.
          expect(await item.locator('.ob-state').textContent()).toBe('skipped');
          expect(await item.textContent()).toContain(d.lastError ?? '');
          continue;
        }
        expect(await item.locator('.ob-state').textContent()).toMatch(/^delivered locally \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(not sent: no account\)$/);
        // Its panel opens on the message as that channel shows it.
        const panel = item.locator('.ob-panel');
        expect(await panel.isVisible()).toBe(false);
        await item.locator('summary').click();
        expect(await panel.isVisible()).toBe(true);
        expect(((await panel.textContent()) ?? '').trim().length).toBeGreaterThan(20);
      }
    }
    // The incident that rolled it back (KEVIN's content went missing): its PagerDuty event and its email, as sent.
    const incident = alerts.find((a) => a.kind === 'content-missing');
    expect(incident, alerts.map((a) => `${a.kind}: ${a.title}`).join('; ')).toBeDefined();
    expect(incident!.deliveries.map((d) => [d.channel, d.status]).sort()).toEqual([['email', 'delivered'], ['pagerduty', 'delivered'], ['slack', 'delivered'], ['sms', 'delivered']]);
    const article = page.locator(`article[aria-labelledby="ob-alert-${incident!.seq}"]`);
    const event = JSON.parse((await article.locator('pre.ob-json').textContent()) ?? '{}') as { routing_key?: string; event_action?: string };
    expect(event).toMatchObject({ routing_key: '«routing key»', event_action: 'trigger' });
    // Its text message, the number it goes to, and its size in one segment.
    expect(await article.locator('pre.ob-sms').textContent()).toMatch(new RegExp(`^EMERGENCY kevinstamp/production: KEVIN content missing .*${id}`));
    expect(await article.locator('.ob-sms-to').allTextContents()).toEqual(['+15555550101']);
    expect(await article.locator('.ob-delivery', { has: page.locator('.ob-channel', { hasText: 'SMS' }) }).textContent()).toMatch(/GSM-7 characters: 1 segment/);
    // The email's HTML part, in its sandboxed frame, names the release.
    const frame = article.locator('iframe.ob-email-frame').contentFrame();
    await expect.poll(() => frame.locator('body').textContent(), { timeout: 10_000 }).toContain(id);
    await page.screenshot({ path: screenshotPath('console-outbox-panels-desktop'), fullPage: true });
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});

describe('every console page in Chromium: axe, a phone, the keyboard, console errors, weight', { timeout: 60_000 }, () => {
  const PAGES: Array<{ name: string; token: string | null; options?: Parameters<typeof startHarness>[0]; setup(harness: Harness): Promise<string> }> = [
    { name: 'sign-in', token: null, setup: async () => '/console/sign-in' },
    {
      name: 'targets',
      token: TOKENS.ops,
      setup: async (harness) => {
        harness.upload('v2');
        await awaitingApproval(harness, 'v2');
        return '/console';
      },
    },
    {
      name: 'new-release',
      token: TOKENS.ops,
      setup: async (harness) => {
        harness.upload('v2');
        harness.upload('v3');
        return '/console/releases/new';
      },
    },
    {
      name: 'release',
      token: TOKENS.ops,
      setup: async (harness) => {
        harness.upload('v2');
        return `/console/releases/${await awaitingApproval(harness, 'v2')}`;
      },
    },
    {
      name: 'confirmation',
      token: TOKENS.ops,
      setup: async (harness) => {
        harness.upload('v2');
        return `/console/releases/${await awaitingApproval(harness, 'v2')}/reject`;
      },
    },
    { name: 'history', token: TOKENS.ops, setup: async (harness) => (await rolledBack(harness), '/console/history') },
    { name: 'metrics-7', token: TOKENS.ops, setup: async (harness) => (await rolledBack(harness), '/console/metrics?days=7') },
    { name: 'metrics-30', token: TOKENS.ops, setup: async (harness) => (await rolledBack(harness), '/console/metrics?days=30') },
    { name: 'metrics-90', token: TOKENS.ops, setup: async (harness) => (await rolledBack(harness), '/console/metrics?days=90') },
    {
      name: 'alerts',
      token: TOKENS.ops,
      setup: async (harness) => {
        await rolledBack(harness);
        const sick = await failedVerification(harness);
        await expect.poll(async () => (await alertsOf(harness)).some((a) => a.facts.deploymentId === sick && a.incidentKey && !a.resolvedAt), { timeout: 15_000 }).toBe(true);
        return '/console/alerts';
      },
    },
    {
      name: 'outbox',
      token: TOKENS.ops,
      options: OUTBOX_OPTIONS,
      setup: async (harness) => {
        const id = await rolledBack(harness);
        await expect.poll(async () => (await alertsOf(harness)).filter((a) => a.facts.deploymentId === id).every((a) => a.deliveries.every((d) => d.status !== 'pending')), { timeout: 15_000 }).toBe(true);
        return '/console/outbox';
      },
    },
  ];

  for (const spec of PAGES) {
    it(`${spec.name}: passes axe, fits 375 px, has no console errors, walks with the keyboard, and weighs under 200 KB`, async () => {
      h = await startHarness(spec.options ?? {});
      const path = await spec.setup(h);
      await auditPage(h, spec.name, path, spec.token);
    });
  }
});
