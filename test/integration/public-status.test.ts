import { afterEach, describe, expect, it } from 'vitest';
import { publicStatusLeaks, publicStatusOf, renderStatusPage, type PublicStatus } from '../../src/server/public-status.ts';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The public status page (/status, /status.json): no sign-in, plain words, nothing internal,
 * cacheable by Cloudflare, no script, a strict Content-Security-Policy — on the real bot, during
 * a release whose KEVIN content disappears (an emergency rollback and a community incident) and
 * after it.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const NOW = new Date('2026-12-02T10:00:00.000Z');

describe('the public status in words', () => {
  it('says KEVIN is up, has a hiccup, or cannot be reached — and a release rolling out', () => {
    expect(publicStatusOf({ up: true }, [], NOW)).toMatchObject({ state: 'up', headline: 'KEVIN is up', details: [] });
    expect(publicStatusOf({ up: true, incident: { since: '2026-12-02T09:58:00.000Z' } }, [], NOW)).toMatchObject({ state: 'hiccup', headline: 'KEVIN is up, with a small hiccup' });
    expect(publicStatusOf({ up: false, releasing: true }, [], NOW)).toMatchObject({
      state: 'down',
      headline: "KEVIN can't be reached right now",
      details: ["KEVIN isn't answering at the moment. We're looking into it.", 'A new version of KEVIN is rolling out right now.'],
    });
  });

  it('refuses anything internal, as the Discord notices do: versions, hosts, errors, stage names', () => {
    const hostile = (headline: string): PublicStatus => ({ ...publicStatusOf({ up: true }, [], NOW), headline });
    for (const leak of [
      'KEVIN is up on 6f1c2a9e-5b3d-4c7e-9a21-0d4e8b7f3c10',
      'KEVIN is up at green.kevinstamp.workers.dev',
      'KEVIN is up (ECONNREFUSED 10.0.0.7:443)',
      'KEVIN is rolling_back',
    ]) {
      expect(publicStatusLeaks(hostile(leak)), leak).not.toEqual([]);
    }
    expect(publicStatusLeaks(publicStatusOf({ up: false, releasing: true, incident: { since: NOW.toISOString() } }, [], NOW))).toEqual([]);
  });

  it('escapes whatever it prints', () => {
    const page = renderStatusPage({ ...publicStatusOf({ up: true }, [], NOW), headline: '<script>alert(1)</script>' });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&#60;script&#62;');
  });
});

describe('/status and /status.json on the running bot', () => {
  it('no sign-in, no internals, cacheable, no script; an emergency rollback shows as an incident that ended', async () => {
    h = await startHarness({ monitorWindow: '5s' });
    const harness = h;
    const json = await fetch(`${harness.bot.url}/status.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=30, stale-while-revalidate=30');
    expect(await json.json()).toMatchObject({ state: 'up', headline: 'KEVIN is up', incidents: [] });

    const page = await fetch(`${harness.bot.url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).not.toMatch(/<script|https?:\/\//i);
    expect(html).toContain('No incidents in the last 90 days.');

    // A release that loses KEVIN under traffic: an emergency, told to the community as an incident.
    const green = harness.upload('v2-no-kevin', { afterTraffic: { kevin: false } });
    const created = await harness.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2-no-kevin' }, TOKENS.alice);
    await harness.waitForStage(created.body.id, 'awaiting_approval');
    await harness.api('POST', `/api/v1/deployments/${created.body.id}/approve`, {}, TOKENS.bob);
    await harness.waitForStage(created.body.id, 'rolled_back');

    // The status is cached for 30 s inside the bot too; the incident list is read fresh.
    let body: { incidents: Array<{ began: string; ended: string | null }> } = { incidents: [] };
    await waitFor(
      async () => {
        body = (await (await fetch(`${harness.bot.url}/status.json`)).json()) as typeof body;
        return body.incidents.length === 1 && body.incidents[0]!.ended !== null;
      },
      { timeoutMs: 15_000, describe: () => JSON.stringify(body) },
    );
    const text = JSON.stringify(body) + (await (await fetch(`${harness.bot.url}/status`)).text());
    for (const internal of [green, green.slice(0, 8), 'v2-no-kevin', 'kevinstamp.workers.dev', '127.0.0.1', 'rolled_back', 'content trigger']) {
      expect(text, internal).not.toContain(internal);
    }
    expect(text).toContain('From <time datetime=');
  });
});
