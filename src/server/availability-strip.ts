import { escapeHtml } from './console/html.ts';

/** One UTC day of the bot's checks of a service's production site(s). */
export interface DayCount {
  /** YYYY-MM-DD, UTC. */
  day: string;
  checks: number;
  failures: number;
}

/** What `/status.json` says of one public service: every day of the span, oldest first, and the span's share of good checks. */
export interface ServiceAvailability {
  service: string;
  /** Floored to two decimals, so a span with one failure never reads 100; null before the first check. */
  percent90d: number | null;
  days: DayCount[];
}

const DAY_MS = 86_400_000;

/** The `spanDays` UTC days ending today, oldest first, each with its counts (zero when nothing was checked). */
export function availabilityOf(service: string, counted: readonly DayCount[], today: Date, spanDays: number): ServiceAvailability {
  const byDay = new Map(counted.map((d) => [d.day, d]));
  const days: DayCount[] = [];
  for (let back = spanDays - 1; back >= 0; back--) {
    const day = new Date(today.getTime() - back * DAY_MS).toISOString().slice(0, 10);
    const found = byDay.get(day);
    days.push({ day, checks: found?.checks ?? 0, failures: found?.failures ?? 0 });
  }
  const checks = days.reduce((n, d) => n + d.checks, 0);
  const failures = days.reduce((n, d) => n + d.failures, 0);
  return { service, percent90d: percentOf(checks, failures), days };
}

function percentOf(checks: number, failures: number): number | null {
  if (checks === 0) return null;
  // Integers until the last step: exact, so 1439 good checks of 1440 is 99.93, never 99.94.
  return Math.floor(((checks - failures) * 10_000) / checks) / 100;
}

/** The four looks of a day; compared on whole counts, so a boundary (exactly 99.9 %) is not lost to rounding. */
function dayClass(d: DayCount): string {
  if (d.checks === 0) return 'av-none';
  if (d.failures * 1000 <= d.checks) return 'av-good';
  if (d.failures * 100 <= d.checks) return 'av-fair';
  return 'av-poor';
}

function dayText(d: DayCount): string {
  if (d.checks === 0) return `${d.day}: not measured`;
  return `${d.day}: ${percentOf(d.checks, d.failures)} % (${d.checks} ${d.checks === 1 ? 'check' : 'checks'})`;
}

/** The one sentence about a service's span, shown and checked by the leak guard (the service's name is not part of it). */
export function availabilitySummary(a: ServiceAvailability): string {
  return a.percent90d === null ? 'Not measured yet' : `${a.percent90d} % over the last ${a.days.length} days`;
}

/**
 * Cells in a flex row that shrink to fit a phone; each day's words are in the list for screen
 * readers and hidden from view (a 3 px bar has no room for them). No script: nothing to hover.
 */
export const AVAILABILITY_STYLE = `h3{font-size:1.125rem;margin:1.25rem 0 0}h3+p{margin:0}
.strip{display:flex;gap:1px;list-style:none;margin:.5rem 0;padding:0}.strip li{flex:1 1 0;min-width:0;height:2rem;border-radius:1px}
.strip span{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.av-good{background:#1e8e3e}.av-fair{background:#e8a200}.av-poor{background:#c5221f}.av-none{background:#d4d4d4}
.legend{font-size:.875rem;color:#4a4a4a}.legend span{display:inline-block;width:.75rem;height:.75rem;margin-right:.25rem;vertical-align:-.1rem}`;

/** The availability section: per service a heading, its summary and its strip of days, then what the colours mean. */
export function renderAvailability(services: readonly ServiceAvailability[]): string {
  if (services.length === 0) return '';
  const strips = services.map((a) => {
    const name = escapeHtml(a.service);
    const cells = a.days.map((d) => `<li class="${dayClass(d)}"><span>${escapeHtml(dayText(d))}</span></li>`).join('');
    return `<h3>${name}</h3>\n<p>${escapeHtml(availabilitySummary(a))}</p>\n<ol class="strip" aria-label="${name}, day by day, oldest first">${cells}</ol>`;
  });
  // The colours are named too: the legend reads the same to someone who does not tell them apart.
  const key = (c: string, words: string) => `<span class="${c}" aria-hidden="true"></span>${words}`;
  return `<h2>Availability</h2>
${strips.join('\n')}
<p class="legend">One bar a day (UTC), oldest first: ${[
    key('av-good', 'green, 99.9 % or more'),
    key('av-fair', 'amber, 99 % or more'),
    key('av-poor', 'red, less'),
    key('av-none', 'grey, not measured'),
  ].join('; ')}.</p>`;
}
