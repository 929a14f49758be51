import type { ResultOf } from '../../../../commands/run-command.ts';
import type { statusCommand } from '../../../../commands/status.ts';
import { versionLabel } from '../../../domain/deployment.ts';
import { html, timeTag, type SafeHtml } from '../html.ts';
import { stageBadge } from '../stage-badge.ts';

type TargetRow = ResultOf<typeof statusCommand>['targets'][number];

/** A version as the status command answers it (a live version read off the split alone has no tag). */
function versionText(v: { id: string; tag?: string | null | undefined } | null | undefined): string {
  return v ? versionLabel({ id: v.id, tag: v.tag ?? null }) : 'unknown';
}

function releaseLink(d: { id: string; versionRef: string; stage: Parameters<typeof stageBadge>[0] }): SafeHtml {
  return html`<a href="/console/releases/${d.id}">${d.id}</a> ${d.versionRef} ${stageBadge(d.stage)}`;
}

/** Blue and green as two Workers: which Worker each route and custom domain runs now. */
function routingFacts(t: TargetRow): SafeHtml {
  if (t.routingProblem) return html`<dt>Routes</dt><dd>could not be read: ${t.routingProblem}</dd>`;
  if (!t.routing || t.routing.length === 0) return html``;
  return html`<dt>Routes</dt><dd><ul>${t.routing.map(
    (r) => html`<li>${r.name}${r.kind === 'custom-domain' ? ' (custom domain)' : ''} → ${r.servedBy ?? 'no Worker'}${r.version ? ` (${versionText(r.version)})` : ''}</li>`,
  )}</ul></dd>`;
}

function lockForm(t: TargetRow, csrf: string): SafeHtml {
  const id = `${t.service}-${t.environment}`.replace(/[^a-zA-Z0-9-]/g, '-');
  if (t.lock) {
    return html`<p><strong>Locked</strong> by ${t.lock.holder} since ${timeTag(t.lock.since)}${t.lock.expiresAt ? html`, lifts ${timeTag(t.lock.expiresAt)}` : ''}: ${t.lock.reason}</p>
<form method="post" action="/console/locks/unlock"><input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="service" value="${t.service}"><input type="hidden" name="environment" value="${t.environment}">
<button type="submit">Unlock ${t.service} ${t.environment}</button></form>`;
  }
  return html`<details><summary>Lock ${t.service} ${t.environment}</summary>
<form method="post" action="/console/locks"><input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="service" value="${t.service}"><input type="hidden" name="environment" value="${t.environment}">
<label for="reason-${id}">Reason (shown to everyone who is refused)</label><input type="text" id="reason-${id}" name="reason" required maxlength="500">
<label for="for-${id}">Lifts by itself after (optional, e.g. 2h)</label><input type="text" id="for-${id}" name="expiresAfter" maxlength="20" inputmode="text">
<p class="hint">Deploys are refused while locked; rollbacks never are.</p>
<button type="submit">Lock</button></form></details>`;
}

/** Home: every target — what is live, the active release and its stage, the queue, the lock. */
export function targetsPage(targets: TargetRow[], csrf: string): SafeHtml {
  return html`<h1>Targets</h1>
<p class="actions"><a class="button primary" href="/console/releases/new">New release</a></p>
<div class="cards">${targets.map(
    (t) => html`<section class="card" aria-labelledby="t-${t.service}-${t.environment}">
<h2 id="t-${t.service}-${t.environment}">${t.service} → ${t.environment}${t.protected ? html` <span class="stage">protected</span>` : ''}</h2>
<dl class="facts">
<dt>Live</dt><dd>${versionText(t.live)}</dd>
<dt>Active</dt><dd>${t.active ? releaseLink(t.active) : 'no release in progress'}</dd>
${t.active?.reason ? html`<dt>Why</dt><dd>${t.active.reason}</dd>` : ''}
<dt>Queue</dt><dd>${t.queue.length === 0 ? 'empty' : html`<ol>${t.queue.map((q) => html`<li>${releaseLink(q)}</li>`)}</ol>`}</dd>
<dt>Last</dt><dd>${t.lastFinished ? html`${releaseLink(t.lastFinished)} ${timeTag(t.lastFinished.updatedAt)}` : 'none yet'}</dd>
${routingFacts(t)}
</dl>
${lockForm(t, csrf)}
</section>`,
  )}</div>`;
}
