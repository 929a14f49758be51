import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchChromium, screenshotPath, VIEWPORTS } from '../support/browser.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';

/**
 * The public status page in a real browser (Debian's Chromium, headless): what a visitor sees on
 * a desktop and on a phone, during normal times and after an incident, with the keyboard alone,
 * through axe-core's accessibility rules, and how much it weighs.
 */

let browser: Browser;
let h: Harness | undefined;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the public status page in Chromium', { timeout: 60_000 }, () => {
  it('reads "KEVIN is up", fits a phone, passes axe, can be walked with the keyboard, and weighs little; after an incident it lists it', async () => {
    h = await startHarness({ monitorWindow: '5s' });
    const harness = h;
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      let bytes = 0;
      page.on('response', async (response) => {
        bytes += (await response.body().catch(() => Buffer.alloc(0))).length;
      });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const response = await page.goto(`${harness.bot.url}/status`);
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.getByRole('status').textContent()).toBe('KEVIN is up');
      expect(await page.title()).toBe('KEVIN is up — KEVINSTAMP status');
      // Nothing sideways on a 375 px phone.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      // The one style applies under the strict CSP (no violation is reported in the console).
      expect(await page.evaluate("getComputedStyle(document.querySelector('[role=status]')).backgroundColor")).toBe('rgb(230, 244, 234)');
      // The 90-day strip: every day a visible bar, even on a phone, and in words for a screen reader.
      const days = page.getByRole('list', { name: 'kevinstamp, day by day, oldest first' }).getByRole('listitem');
      expect(await days.count()).toBe(90);
      expect((await days.last().boundingBox())?.width).toBeGreaterThan(1);
      expect(await days.last().textContent()).toMatch(/^\d{4}-\d\d-\d\d: (100 % \(\d+ checks?\)|not measured)$/);
      expect(errors).toEqual([]);
      await page.screenshot({ path: screenshotPath(`status-up-${name}`), fullPage: true });
      expect(bytes, 'the status page stays under 50 KB').toBeLessThan(50 * 1024);
      await context.close();
    }

    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    await page.goto(`${harness.bot.url}/status`);
    expect(await accessibilityViolations(page)).toEqual([]);
    // Keyboard alone: Tab reaches the one link, Enter follows it.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('JSON');
    await Promise.all([page.waitForURL(/\/status\.json$/), page.keyboard.press('Enter')]);
    expect(JSON.parse((await page.textContent('body')) ?? '{}')).toMatchObject({ state: 'up' });

    // An emergency rollback (KEVIN's content gone under traffic): an incident, then its end.
    harness.upload('v2-no-kevin', { afterTraffic: { kevin: false } });
    const created = await harness.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2-no-kevin' }, TOKENS.alice);
    await harness.waitForStage(created.body.id, 'awaiting_approval');
    await harness.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    await harness.waitForStage(created.body.id, 'rolled_back');
    await expect
      .poll(async () => {
        await page.goto(`${harness.bot.url}/status`);
        return page.getByRole('list', { name: 'Recent incidents' }).getByRole('listitem').count();
      }, { timeout: 15_000 })
      .toBe(1);
    expect(await page.getByRole('list', { name: 'Recent incidents' }).getByRole('listitem').textContent()).toMatch(/^From \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('status-after-incident-desktop'), fullPage: true });
    await page.setViewportSize(VIEWPORTS.phone);
    await page.screenshot({ path: screenshotPath('status-after-incident-phone'), fullPage: true });
    await page.close();
  });
});
