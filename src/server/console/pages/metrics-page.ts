import { formatDuration } from '../../../domain/format-duration.ts';
import type { DeliveryDay, DeliveryMetrics } from '../delivery-metrics.ts';
import { html, type SafeHtml } from '../html.ts';

export const PERIODS = [7, 30, 90] as const;

const duration = (ms: number | null) => (ms === null ? 'no data' : formatDuration(ms));

/**
 * Releases per day as an SVG bar chart, drawn on the server: sizes are attributes, not styles,
 * so the strict CSP holds, and it reads without the script. Failed changes stack in red.
 */
function dailyChart(perDay: DeliveryDay[]): SafeHtml {
  const max = Math.max(1, ...perDay.map((d) => d.releases));
  const width = 600;
  const height = 120;
  const slot = width / perDay.length;
  const bar = Math.max(1, slot * 0.7);
  const y = (n: number) => (n / max) * (height - 16);
  return html`<svg class="daily" viewBox="0 0 ${width} ${height + 14}" width="100%" role="img" aria-labelledby="daily-title">
<title id="daily-title">Releases per day, ${perDay[0]?.day ?? ''} to ${perDay.at(-1)?.day ?? ''}; the busiest day had ${max}.</title>
<line x1="0" y1="${height}" x2="${width}" y2="${height}" stroke="#5f6368"/>
${perDay.map((d, i) => {
  const x = (i * slot + (slot - bar) / 2).toFixed(1);
  const all = y(d.releases);
  const failed = y(d.failedChanges);
  return html`<g><title>${d.day}: ${d.releases} release${d.releases === 1 ? '' : 's'}, ${d.failedChanges} failed</title>
<rect x="${x}" y="${(height - all).toFixed(1)}" width="${bar.toFixed(1)}" height="${all.toFixed(1)}" fill="#0b57d0"/>
${d.failedChanges > 0 ? html`<rect x="${x}" y="${(height - failed).toFixed(1)}" width="${bar.toFixed(1)}" height="${failed.toFixed(1)}" fill="#a40e26"/>` : ''}</g>`;
})}
<text x="0" y="${height + 12}" font-size="11" fill="#4a4a4a">${perDay[0]?.day ?? ''}</text>
<text x="${width}" y="${height + 12}" font-size="11" fill="#4a4a4a" text-anchor="end">${perDay.at(-1)?.day ?? ''}</text>
</svg>`;
}

/** The seed's deployment metrics over 7, 30 or 90 days. */
export function metricsPage(m: DeliveryMetrics): SafeHtml {
  return html`<h1>Deployment metrics</h1>
<nav aria-label="Period"><ul class="actions">${PERIODS.map(
    (days) => html`<li><a class="button${days === m.days ? ' primary' : ''}" href="/console/metrics?days=${days}"${days === m.days ? html` aria-current="page"` : ''}>${days} days</a></li>`,
  )}</ul></nav>
<div class="cards">
<section class="card"><h2>Frequency</h2><p><strong>${m.releases}</strong> release${m.releases === 1 ? '' : 's'} in ${m.days} days — ${m.perWeek} a week.</p></section>
<section class="card"><h2>Duration</h2><p>Request to end of window: median <strong>${duration(m.durationMedianMs)}</strong>, 90th percentile ${duration(m.durationP90Ms)}.</p></section>
<section class="card"><h2>Change failure rate</h2><p><strong>${m.changeFailurePercent === null ? 'no data' : `${m.changeFailurePercent} %`}</strong> of ${m.finished} release${m.finished === 1 ? '' : 's'} that reached traffic were rolled back or failed.</p></section>
<section class="card"><h2>Rollbacks and time to restore</h2><p><strong>${m.rollbacks}</strong> rollback${m.rollbacks === 1 ? '' : 's'}; traffic back on blue and verified in a median <strong>${duration(m.timeToRestoreMedianMs)}</strong>.</p></section>
<section class="card"><h2>Switchover</h2><p>Switching traffic to green took a median <strong>${duration(m.switchMedianMs)}</strong>.</p></section>
</div>
<h2>Releases per day</h2>
${dailyChart(m.perDay)}
<p class="hint">Blue: releases started that day; red: those whose change failed (rolled back or failed after the switch).</p>`;
}
