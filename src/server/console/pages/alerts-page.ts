import type { StoredAlert } from '../../../ports/alert-outbox.ts';
import { html, timeTag, type SafeHtml } from '../html.ts';

function delivery(d: StoredAlert['deliveries'][number]): SafeHtml {
  const state =
    d.status === 'delivered'
      ? html`<span class="ok">delivered</span> ${timeTag(d.deliveredAt)}${d.ref?.startsWith('local:') ? ' (local sink)' : ''}`
      : d.status === 'pending'
        ? html`pending, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}, next ${timeTag(d.nextAttemptAt)}${d.lastError ? html` — ${d.lastError}` : ''}`
        : d.status === 'failed'
          ? html`<span class="bad">failed</span>: ${d.lastError ?? ''}`
          : html`<span class="muted">skipped</span>: ${d.lastError ?? ''}`;
  return html`<li><strong>${d.channel}</strong>: ${state}</li>`;
}

/** Levels a person is asked to acknowledge; follow-ups and community notices are not incidents of their own. */
const ACKNOWLEDGEABLE = new Set(['critical', 'emergency', 'warning']);
const NOT_INCIDENTS = new Set(['acknowledged', 'resolved', 'escalated', 'deploy-marker']);

function acknowledgeable(a: StoredAlert): boolean {
  return !a.acknowledgedAt && !a.resolvedAt && ACKNOWLEDGEABLE.has(a.level) && !NOT_INCIDENTS.has(a.kind) && !a.kind.startsWith('community-') && Boolean(a.incidentKey);
}

/** Every alert with its delivery state per channel; open incidents can be acknowledged here. */
export function alertsPage(alerts: StoredAlert[], csrf: string): SafeHtml {
  if (alerts.length === 0) return html`<h1>Alerts</h1><p>No alerts yet. A release that fails or is rolled back raises one.</p>`;
  return html`<h1>Alerts</h1>
<p class="hint">The Outbox shows each of these as its channel shows it.</p>
<ol class="alert-list">${alerts.map((a) => {
    const open = acknowledgeable(a);
    return html`<li class="card"><h2>${a.level}: ${a.title}</h2>
<p>${a.facts.service} → ${a.facts.environment}, <a href="/console/releases/${a.facts.deploymentId}">${a.facts.deploymentId}</a>, raised ${timeTag(a.createdAt)}.</p>
<p>${a.acknowledgedAt ? html`Acknowledged by ${a.acknowledgedBy ?? 'someone'} ${timeTag(a.acknowledgedAt)}.` : a.resolvedAt ? html`Resolved ${timeTag(a.resolvedAt)}.` : open ? 'Open: nobody has acknowledged it yet.' : ''}</p>
<ul>${a.deliveries.map(delivery)}</ul>
${open ? html`<form method="post" action="/console/alerts/acknowledge"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="incidentKey" value="${a.incidentKey}"><button type="submit" class="primary">Acknowledge</button></form>` : ''}
</li>`;
  })}</ol>`;
}
