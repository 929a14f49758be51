import { afterEach, describe, expect, it } from 'vitest';
import type { Target } from '../../src/domain/deployment.ts';
import type { AvailabilityDay, AvailabilityLog } from '../../src/ports/availability.ts';
import { communityAvailabilitySince } from '../../src/server/community-status.ts';
import { publicStatusLeaks, publicStatusOf, renderStatusPage, type PublicStatus } from '../../src/server/public-status.ts';
import { startHarness, testConfig, TOKENS, type Harness } from '../support/bot-harness.ts';
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

/** The `n` UTC days ending NOW's, oldest first. */
function lastDays(n: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(NOW.getTime() - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/** The strip's cells as rendered: each day's class and its words. */
function cellsOf(page: string): Array<{ look: string; words: string }> {
  return [...page.matchAll(/<li class="(av-[a-z]+)"><span>([^<]*)<\/span><\/li>/g)].map((m) => ({ look: m[1]!, words: m[2]! }));
}

describe('90 days of availability', () => {
  const days = lastDays(90);

  it('fills the 90 UTC days ending today, oldest first, and floors the share so one failure never reads 100 %', () => {
    const status = publicStatusOf({ up: true }, [], NOW, [
      { service: 'kevinstamp', days: [{ day: days[0]!, checks: 1440, failures: 0 }, { day: days[89]!, checks: 600, failures: 0 }, { day: days[50]!, checks: 1440, failures: 1 }] },
      { service: 'kevinmail', days: [] },
    ]);
    const [stamp, mail] = status.availability;
    expect(stamp!.days).toHaveLength(90);
    expect(stamp!.days[0]).toEqual({ day: '2026-09-04', checks: 1440, failures: 0 });
    expect(stamp!.days[89]).toEqual({ day: '2026-12-02', checks: 600, failures: 0 });
    expect(stamp!.days[1]).toEqual({ day: '2026-09-05', checks: 0, failures: 0 });
    // 3479 good of 3480: 99.971… %, shown as 99.97, not rounded up.
    expect(stamp!.percent90d).toBe(99.97);
    expect(mail).toEqual({ service: 'kevinmail', percent90d: null, days: days.map((day) => ({ day, checks: 0, failures: 0 })) });
    // Only the 90 days count: a row older than the span (a slow clean-up) changes nothing.
    expect(publicStatusOf({ up: true }, [], NOW, [{ service: 'kevinstamp', days: [{ day: '2026-09-03', checks: 10, failures: 10 }] }]).availability[0]!.percent90d).toBeNull();
  });

  it('draws one cell a day, classed by its share (≥ 99.9 %, ≥ 99 %, less, none), each with words for screen readers', () => {
    const counted = [
      { day: days[85]!, checks: 1000, failures: 1 },
      { day: days[86]!, checks: 1000, failures: 2 },
      { day: days[87]!, checks: 100, failures: 1 },
      { day: days[88]!, checks: 100, failures: 2 },
      { day: days[89]!, checks: 1, failures: 0 },
    ];
    const page = renderStatusPage(publicStatusOf({ up: true }, [], NOW, [{ service: 'kevinstamp', days: counted }]));
    const cells = cellsOf(page);
    expect(cells).toHaveLength(90);
    expect(cells[0]).toEqual({ look: 'av-none', words: '2026-09-04: not measured' });
    expect(cells.slice(85)).toEqual([
      { look: 'av-good', words: '2026-11-28: 99.9 % (1000 checks)' },
      { look: 'av-fair', words: '2026-11-29: 99.8 % (1000 checks)' },
      { look: 'av-fair', words: '2026-11-30: 99 % (100 checks)' },
      { look: 'av-poor', words: '2026-12-01: 98 % (100 checks)' },
      { look: 'av-good', words: '2026-12-02: 100 % (1 check)' },
    ]);
    // 2195 good of 2201.
    expect(page).toContain('<h2>Availability</h2>\n<h3>kevinstamp</h3>\n<p>99.72 % over the last 90 days</p>');
    expect(page).toContain('<ol class="strip" aria-label="kevinstamp, day by day, oldest first">');
    expect(page).toContain('green, 99.9 % or more');
    // No inline style attribute (the CSP allows the one <style> block by its hash, nothing else).
    expect(page).not.toMatch(/\sstyle=/);
  });

  it('says "Not measured yet" before the first check, and shows no section without a public service', () => {
    const page = renderStatusPage(publicStatusOf({ up: true }, [], NOW, [{ service: 'kevinstamp', days: [] }]));
    expect(page).toContain('<p>Not measured yet</p>');
    expect(cellsOf(page).every((c) => c.look === 'av-none')).toBe(true);
    expect(renderStatusPage(publicStatusOf({ up: true }, [], NOW))).not.toContain('Availability');
  });

  it('escapes hostile service names everywhere they are printed; the guard passes the figures and still refuses a leak', () => {
    const hostile = ['<img src=x onerror=alert(1)>', '" onmouseover="alert(1)', "kevin'stamp&co", '</ol><script>alert(1)</script>'];
    const status = publicStatusOf({ up: true }, [], NOW, hostile.map((service) => ({ service, days: [{ day: days[89]!, checks: 1440, failures: 1 }] })));
    const page = renderStatusPage(status);
    expect(page).not.toMatch(/<img|<script|onmouseover="|<\/ol><script/);
    expect(page).toContain('<h3>&#60;img src=x onerror=alert(1)&#62;</h3>');
    expect(page).toContain('aria-label="&#34; onmouseover=&#34;alert(1), day by day, oldest first"');
    expect(page).toContain('<h3>kevin&#39;stamp&#38;co</h3>');
    // In JSON the name is data, as given.
    expect(JSON.parse(JSON.stringify(status)).availability.map((a: { service: string }) => a.service)).toEqual(hostile);
    // Percentages and counts are not versions, addresses or ids.
    expect(publicStatusLeaks(status)).toEqual([]);
    expect(publicStatusLeaks({ ...status, headline: 'KEVIN is up at green.kevinstamp.workers.dev' })).not.toEqual([]);
  });

  it('stays well under 50 KB with three services measured every day', () => {
    const full = days.map((day) => ({ day, checks: 1440, failures: 3 }));
    const page = renderStatusPage(publicStatusOf({ up: true }, [], NOW, ['kevinstamp', 'kevinmail', 'kevinpay'].map((service) => ({ service, days: full }))));
    expect(Buffer.byteLength(page)).toBeLessThan(30 * 1024);
  });

  it("adds up a service's protected environments day by day, and never asks about staging", async () => {
    const config = testConfig({ productionUrl: 'https://kevinstamp.example', extraServiceYaml: '      production-eu: { protected: true }\n      staging: {}\n' });
    let asked: Target[] = [];
    const rows: AvailabilityDay[] = [
      { service: 'kevinstamp', environment: 'production', day: '2026-12-01', checks: 1440, failures: 2 },
      { service: 'kevinstamp', environment: 'production-eu', day: '2026-12-01', checks: 1440, failures: 0 },
      { service: 'kevinstamp', environment: 'production-eu', day: '2026-12-02', checks: 600, failures: 1 },
    ];
    const log: AvailabilityLog = {
      record: async () => undefined,
      daysSince: async (targets, sinceDay) => {
        asked = [...targets];
        expect(sinceDay).toBe('2026-09-04');
        return rows;
      },
    };
    expect(await communityAvailabilitySince(log, config, '2026-09-04')).toEqual([
      { service: 'kevinstamp', days: [{ day: '2026-12-01', checks: 2880, failures: 2 }, { day: '2026-12-02', checks: 600, failures: 1 }] },
    ]);
    expect(asked.map((t) => t.environment)).toEqual(['production', 'production-eu']);
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

    // The bot checked the production site as it started: today's cell counts it.
    const today = new Date().toISOString().slice(0, 10);
    type Availability = Array<{ service: string; percent90d: number | null; days: Array<{ day: string; checks: number; failures: number }> }>;
    let availability: Availability = [];
    await waitFor(
      async () => {
        availability = ((await (await fetch(`${harness.bot.url}/status.json`)).json()) as { availability: Availability }).availability;
        return (availability[0]?.days.at(-1)?.checks ?? 0) > 0;
      },
      { describe: () => JSON.stringify(availability) },
    );
    expect(availability).toHaveLength(1);
    expect(availability[0]).toMatchObject({ service: 'kevinstamp', percent90d: 100 });
    expect(availability[0]!.days).toHaveLength(90);
    expect(availability[0]!.days.at(-1)).toMatchObject({ day: today, failures: 0 });
    const measured = await (await fetch(`${harness.bot.url}/status`)).text();
    expect(measured).toContain('<p>100 % over the last 90 days</p>');
    expect(measured).toMatch(new RegExp(`<li class="av-good"><span>${today}: 100 % \\(\\d+ checks?\\)</span></li></ol>`));

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
