import { createHash } from 'node:crypto';
import { escapeHtml, timeTag } from './console/html.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { communityLeaks, type CommunityMessage } from '../adapters/discord/community-notice.ts';
import { COMMUNITY_WORDS, communityConditionOf, type CommunityCondition, type CommunityStatus } from '../adapters/discord/discord-interactions.ts';
import { AVAILABILITY_STYLE, availabilityOf, availabilitySummary, renderAvailability, type DayCount, type ServiceAvailability } from './availability-strip.ts';

/** Where the public status comes from: the same facts `/kevin status` tells the Discord community. */
export interface PublicStatusDeps {
  current(): Promise<CommunityStatus>;
  /** Community incidents opened since `since` (ISO 8601), newest first: when each began and ended. */
  incidents(since: string): Promise<Array<{ since: string; resolvedAt: string | null }>>;
  /** Each public service's counted days since `sinceDay` (YYYY-MM-DD, UTC); days without a check may be absent. */
  availability(sinceDay: string): Promise<Array<{ service: string; days: DayCount[] }>>;
  now(): Date;
}

/** What `/status.json` answers: plain words and times, nothing internal. */
export interface PublicStatus {
  state: CommunityCondition;
  headline: string;
  details: string[];
  liveSince: string | null;
  incidents: Array<{ began: string; ended: string | null }>;
  /** Per public service, the last 90 UTC days of the bot's own checks of its site (today last, still counting). */
  availability: ServiceAvailability[];
  updatedAt: string;
}

const HISTORY_DAYS = 90;
/**
 * Shared caches (Cloudflare) keep it 30 s and take the load; a visitor's browser asks again on
 * every visit, so a reload during an incident shows the news, not what it cached before.
 */
const CACHE_CONTROL = 'public, max-age=0, s-maxage=30, stale-while-revalidate=30';

/** Builds the public status from the community's facts; every sentence is one of a few fixed ones. */
export function publicStatusOf(
  status: CommunityStatus,
  incidents: Array<{ since: string; resolvedAt: string | null }>,
  now: Date,
  availability: ReadonlyArray<{ service: string; days: readonly DayCount[] }> = [],
): PublicStatus {
  const details: string[] = [];
  const state = communityConditionOf(status);
  let headline = 'KEVIN is up';
  if (state === 'down') {
    headline = COMMUNITY_WORDS.downTitle;
    details.push(COMMUNITY_WORDS.downDetail);
  } else if (state === 'hiccup') {
    headline = COMMUNITY_WORDS.hiccupTitle;
    details.push('Some visitors may have noticed a problem a moment ago. We have put things back as they were.');
  }
  if (status.releasing) details.push('A new version of KEVIN is rolling out right now.');
  return {
    state,
    headline,
    details,
    liveSince: status.liveSince ?? null,
    incidents: incidents.map((i) => ({ began: i.since, ended: i.resolvedAt })),
    availability: availability.map((a) => availabilityOf(a.service, a.days, now, HISTORY_DAYS)),
    updatedAt: now.toISOString(),
  };
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.5rem;margin:.5rem 0}.state{padding:.75rem 1rem;border-radius:.5rem;font-weight:600}
.up{background:#e6f4ea;color:#0b3d1a}.hiccup{background:#fff4ce;color:#4a3800}.down{background:#fde7e9;color:#5c0011}
ul{padding-left:1.25rem}time{font-variant-numeric:tabular-nums}footer{margin-top:2rem;color:#4a4a4a;font-size:.875rem}
${AVAILABILITY_STYLE}`;
/** The one inline style, allowed by its hash: the page runs no script and loads nothing else. */
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** A `<time>` with the instant and its short UTC reading (the console's own helper). */
function time(iso: string): string {
  return timeTag(iso).text;
}

/** Server-rendered, no script: readable without JavaScript, on a phone, and behind any cache. */
export function renderStatusPage(status: PublicStatus): string {
  const incidents =
    status.incidents.length === 0
      ? `<p>No incidents in the last ${HISTORY_DAYS} days.</p>`
      : `<ul aria-labelledby="incidents">${status.incidents.map((i) => `<li>From ${time(i.began)} ${i.ended ? `to ${time(i.ended)}` : '— ongoing'}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(status.headline)} — KEVINSTAMP status</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>KEVINSTAMP status</h1>
<p class="state ${status.state}" role="status">${escapeHtml(status.headline)}</p>
${status.details.map((d) => `<p>${escapeHtml(d)}</p>`).join('\n')}
${status.liveSince ? `<p>The current version has been live since ${time(status.liveSince)}.</p>` : ''}
${renderAvailability(status.availability)}
<h2 id="incidents">Recent incidents</h2>
${incidents}
</main>
<footer>Updated ${time(status.updatedAt)}. Also as <a href="/status.json">JSON</a>.</footer>
</body>
</html>
`;
}

/**
 * The same guard as the Discord notices: no versions, hosts, errors, stage names or anything else
 * internal may reach the public. A status that would carry one is not shown at all.
 */
export function publicStatusLeaks(status: PublicStatus): string[] {
  // A service's own name is public (the Discord notices name it too) and config keeps it to
  // [a-z0-9-]; its sentence is checked without it. Each day's words are a date and two counts.
  const words = [status.headline, ...status.details, ...status.availability.map(availabilitySummary)];
  const message: CommunityMessage = { content: words.join('\n'), embeds: [] };
  return communityLeaks(message);
}

/** `GET /status` (HTML) and `GET /status.json`, without sign-in, cacheable by Cloudflare. */
export function registerPublicStatusRoutes(app: FastifyInstance, deps: PublicStatusDeps): void {
  const load = async (): Promise<PublicStatus | undefined> => {
    const now = deps.now();
    const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000).toISOString();
    // The strip's first day: today is its last, so 89 days back.
    const sinceDay = new Date(now.getTime() - (HISTORY_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    const status = publicStatusOf(await deps.current(), await deps.incidents(since), now, await deps.availability(sinceDay));
    return publicStatusLeaks(status).length === 0 ? status : undefined;
  };
  const unavailable = (reply: FastifyReply) =>
    reply.code(503).header('cache-control', 'no-store').header('retry-after', '30').type('text/plain; charset=utf-8').send('The status is not available right now. Please try again in a minute.\n');
  app.get('/status.json', async (_request, reply) => {
    const status = await load().catch(() => undefined);
    if (!status) return unavailable(reply);
    return reply.header('cache-control', CACHE_CONTROL).header('access-control-allow-origin', '*').send(status);
  });
  app.get('/status', async (_request, reply) => {
    const status = await load().catch(() => undefined);
    if (!status) return unavailable(reply);
    return reply
      .header('cache-control', CACHE_CONTROL)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(renderStatusPage(status));
  });
}
