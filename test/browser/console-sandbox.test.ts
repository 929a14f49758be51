import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshotPath, VIEWPORTS } from '../support/browser.ts';
import { createSandbox, type SandboxRun } from '../support/sandbox-process.ts';

/**
 * What a new user does, end to end, without the CLI: `npm start` (here `kevin-deploy serve` from
 * the compiled dist/, in a directory with no configuration: the sandbox), open the console URL
 * the banner prints, sign in with the token it points to, upload versions from the New release
 * page, release one, see a broken one rolled back by itself with its chart, and see the alerts it
 * raised as each channel would have shown them.
 */

let browser: Browser;
let s: SandboxRun | undefined;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function stageOf(page: Page): Promise<string> {
  return ((await page.locator('h1 .stage').textContent()) ?? '').trim();
}

async function uploadAndRelease(page: Page, tag: string, behavior: string): Promise<string> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Targets' }).click();
  await page.getByRole('link', { name: 'New release' }).click();
  await page.getByLabel('Tag').fill(tag);
  await page.getByLabel('Behaviour').selectOption(behavior);
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect.poll(() => page.getByRole('status').filter({ hasText: 'Uploaded' }).count()).toBe(1);
  await page.getByLabel('Version').fill(tag);
  await page.getByRole('button', { name: 'Stage and verify' }).click();
  // The page drops its ?done=deploy from the address as it loads.
  await page.waitForURL(/\/console\/releases\/(?!new\b)[^/?]+(\?.*)?$/);
  return new URL(page.url()).pathname.split('/').at(-1)!;
}

describe('a new user in the sandbox, in the browser only', { timeout: 180_000 }, () => {
  it('signs in with the printed token, releases a version, and sees a broken one rolled back by itself with its chart and the alerts it would have sent', async () => {
    s = await createSandbox();
    await s.start();
    const banner = s.stdout.join('\n');
    const consoleLine = /^\s+console\s+(\S+\/console)\s+\(sign in with the API token in (\S+)\)$/m.exec(banner);
    expect(consoleLine, banner).not.toBeNull();
    const [, consoleUrl, tokenFile] = consoleLine!;
    expect(consoleUrl).toBe(`${s.url}/console`);
    const token = readFileSync(resolve(s.cwd, tokenFile!), 'utf8').trim();

    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(consoleUrl!);
    await expect.poll(() => page.url()).toContain('/console/sign-in');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${consoleUrl}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Targets');

    // A good release, watched live: the page is never reloaded by hand.
    const good = await uploadAndRelease(page, 'v2', 'healthy');
    await expect.poll(() => stageOf(page), { timeout: 60_000 }).toBe('awaiting approval');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => stageOf(page), { timeout: 60_000 }).toBe('succeeded');
    expect(await page.locator('#release-chart canvas').count()).toBeGreaterThan(0);

    // A broken one: healthy until it gets traffic, then failing — rolled back by itself.
    const broken = await uploadAndRelease(page, 'v3', 'fails-after-traffic');
    expect(broken).not.toBe(good);
    await expect.poll(() => stageOf(page), { timeout: 60_000 }).toBe('awaiting approval');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => stageOf(page), { timeout: 90_000 }).toBe('rolled back');
    await page.reload();
    const chart = JSON.parse((await page.locator('#release-chart-data').textContent()) ?? '{}') as { markers: Array<{ kind: string; label: string }> };
    expect(chart.markers.map((m) => m.kind)).toContain('switch');
    expect(chart.markers.some((m) => m.kind === 'trigger' || m.kind === 'health')).toBe(true);
    const canvas = await page.locator('#release-chart canvas').first().boundingBox();
    expect(canvas?.width).toBeGreaterThan(200);
    await page.screenshot({ path: screenshotPath('sandbox-rolled-back-release-desktop'), fullPage: true });

    // The alerts it raised, and each as its channel would have shown it.
    await page.getByRole('link', { name: 'Alerts' }).click();
    await expect.poll(async () => (await page.locator('main').textContent()) ?? '', { timeout: 20_000 }).toMatch(/delivered[\s\S]*\(local sink\)/);
    await page.getByRole('link', { name: 'Outbox' }).click();
    const outbox = (await page.locator('main').textContent()) ?? '';
    expect(outbox).toContain('"routing_key"');
    expect(outbox).toMatch(/Discord/);
    expect(await page.locator('iframe[sandbox]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('sandbox-outbox-desktop'), fullPage: true });

    // The public page told the community, in plain words.
    await page.goto(`${s.url}/status`);
    expect(await page.locator('main').textContent()).toMatch(/Recent incidents[\s\S]*From \d{4}-/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
