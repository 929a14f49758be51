import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { VIEWPORTS } from './browser.ts';
import { ConsoleClient } from './console-client.ts';

/**
 * The operator console in Chromium: a signed-in browser context without going through the form
 * (the sign-in form has a test of its own), a page's weight as it loads, what the live indicator
 * says, and the page walked with Tab. The project's types have no DOM, so what runs in the page is
 * written as strings.
 */

/** What one console page load may weigh: the HTML, its stylesheets and scripts (uPlot included). */
export const CONSOLE_PAGE_BUDGET = 200 * 1024;

export type Viewport = (typeof VIEWPORTS)[keyof typeof VIEWPORTS];

/** A fresh context (empty cache) with a console session of `token`'s actor, signed in over HTTP. */
export async function signedInContext(browser: Browser, baseUrl: string, token: string, viewport: Viewport = VIEWPORTS.desktop): Promise<BrowserContext> {
  const client = new ConsoleClient(baseUrl);
  const answer = await client.signIn(token);
  if (answer.status !== 303 || !client.cookie) throw new Error(`signing in to the console answered ${answer.status}`);
  const [name, value] = client.cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name, value, domain: new URL(baseUrl).hostname, path: '/console', httpOnly: true, sameSite: 'Strict', secure: false }]);
  return context;
}

/** Console errors, uncaught exceptions and CSP refusals (Chromium reports those as console errors) of a page. */
export function problemsOf(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' && !/Content Security Policy/i.test(message.text())) return;
    problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return problems;
}

export interface WeighedPage {
  page: Page;
  status: number | undefined;
  /** Bytes of every response body of the load (the document, styles, scripts, frames). */
  bytes: number;
  /** Each response of the load and its body's size, for a reader wondering where the bytes went. */
  parts: Array<{ url: string; bytes: number }>;
  problems: string[];
}

/**
 * Opens `path` in a new page of `context` and weighs the load: every response body except the
 * live-update stream (it never ends, and it is not part of loading the page) and the page's own
 * live refreshes (fetches of itself after a change). Waits until the client script has connected
 * when the page is a live one, so the weight includes everything the page loads by itself.
 */
export async function openWeighed(context: BrowserContext, baseUrl: string, path: string): Promise<WeighedPage> {
  const page = await context.newPage();
  const problems = problemsOf(page);
  const bodies: Array<Promise<{ url: string; bytes: number }>> = [];
  const onResponse = (response: Response) => {
    const type = response.request().resourceType();
    if (type === 'eventsource' || type === 'fetch' || type === 'xhr') return;
    bodies.push(
      response
        .body()
        .then((body) => ({ url: response.url(), bytes: body.length }))
        .catch(() => ({ url: response.url(), bytes: 0 })),
    );
  };
  page.on('response', onResponse);
  const response = await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  if ((await page.locator('#live').count()) > 0) {
    await page.waitForFunction(`document.getElementById('live').textContent.startsWith('Live')`, undefined, { timeout: 10_000 });
  }
  page.off('response', onResponse);
  const parts = await Promise.all(bodies);
  return { page, status: response?.status(), bytes: parts.reduce((sum, p) => sum + p.bytes, 0), parts, problems };
}

/** A weight as people read it: "23.4 KB". */
export function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** What `#live` says now. */
export async function liveText(page: Page): Promise<string> {
  return ((await page.locator('#live').textContent()) ?? '').trim();
}

/** Nothing sideways: the page is no wider than the viewport. */
export async function fitsViewport(page: Page): Promise<{ scrollWidth: number; innerWidth: number; fits: boolean }> {
  return page.evaluate(`({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
    fits: document.documentElement.scrollWidth <= window.innerWidth })`);
}

export interface TabStop {
  tag: string;
  text: string;
  href: string | null;
  id: string;
  outlineStyle: string;
  outlineWidth: string;
}

/** The element that has the focus, as a tab stop; null when it is the body (nothing focused). */
export async function focused(page: Page): Promise<TabStop | null> {
  return page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return null;
    const style = getComputedStyle(e);
    return { tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 80),
      href: e.getAttribute('href'), id: e.id, outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth };
  })()`);
}

/**
 * Presses Tab (from the top of a page just loaded) until the focus leaves the page or comes back
 * round, and returns every stop in order with the outline it showed while focused.
 */
export async function tabThrough(page: Page, max = 300): Promise<TabStop[]> {
  await page.evaluate(`window.__tabSeen = new WeakSet()`);
  const stops: TabStop[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const again = await page.evaluate(`(() => { const e = document.activeElement; if (!e || e === document.body) return true;
      if (window.__tabSeen.has(e)) return true; window.__tabSeen.add(e); return false; })()`);
    if (again) break;
    const stop = await focused(page);
    if (!stop) break;
    stops.push(stop);
  }
  return stops;
}
