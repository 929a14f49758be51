import type { ActionPrompt } from '../../../domain/action-prompts.ts';
import type { DeploymentView } from '../../../domain/deployment-view.ts';
import { versionLabel } from '../../../domain/deployment.ts';
import type { Stage } from '../../../domain/stages.ts';
import { stageLabel } from '../../../domain/stage-words.ts';
import { html, raw, timeTag, type SafeHtml } from '../html.ts';
import { jsonForScriptElement, type ReleaseChart } from '../release-chart.ts';
import { stageBadge } from '../stage-badge.ts';

const RELEASE_PATH: Stage[] = ['requested', 'resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded'];
const ROLLBACK_PATH: Stage[] = ['rolling_back', 'rolled_back'];

function versionText(v: DeploymentView['version']): string {
  return v ? versionLabel(v) : 'not resolved yet';
}

/** The stages this release went through (with their times), where it is, and how it ended. */
function timeline(d: DeploymentView): SafeHtml {
  const rolledBack = d.stageTimes.rolling_back !== undefined || ROLLBACK_PATH.includes(d.stage);
  const path = d.kind === 'rollback' ? ['requested' as Stage, ...ROLLBACK_PATH] : rolledBack ? [...RELEASE_PATH.slice(0, -1), ...ROLLBACK_PATH] : [...RELEASE_PATH];
  if (!path.includes(d.stage)) path.push(d.stage);
  const bad: readonly Stage[] = ['failed', 'needs_attention', 'rejected', 'expired', 'cancelled', 'rolled_back'];
  return html`<ol class="timeline" aria-label="Stages">${path.map((stage) => {
    const at = d.stageTimes[stage];
    const now = stage === d.stage;
    const cls = now ? (bad.includes(stage) ? 'bad' : 'now') : at ? 'done' : '';
    return html`<li class="${cls}"${now ? html` aria-current="step"` : ''}>${stageLabel(stage)}${at ? html` ${timeTag(at)}` : ''}${now ? html`<span class="visually-hidden"> (now)</span>` : ''}</li>`;
  })}</ol>`;
}

function actionButtons(d: DeploymentView, prompts: ActionPrompt[], csrf: string): SafeHtml {
  if (prompts.length === 0) return html`<p class="muted">Nothing to decide now.</p>`;
  return html`<div class="actions">${prompts.map((p) => {
    const cls = p.style ?? '';
    // A question first where Slack asks one: its own page, so it works with any browser and the keyboard.
    if (p.confirm) return html`<a class="button ${cls}" href="/console/releases/${d.id}/${p.action}${p.override ? '?override=1' : ''}">${p.label}</a>`;
    return html`<form class="inline" method="post" action="/console/releases/${d.id}/${p.action}"><input type="hidden" name="_csrf" value="${csrf}">${p.override ? html`<input type="hidden" name="override" value="1">` : ''}<button type="submit" class="${cls}">${p.label}</button></form>`;
  })}</div>`;
}

function checksTable(d: DeploymentView): SafeHtml {
  if (d.checks.length === 0) return html`<p class="muted">No checks run yet.</p>`;
  return html`<div class="scroll"><table><thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Seen</th></tr></thead><tbody>${d.checks.map(
    (c) => html`<tr><td>${c.name}</td><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'passed' : 'failed'}</td><td>${c.detail}</td></tr>`,
  )}</tbody></table></div>`;
}

function chartSection(chart: ReleaseChart | undefined): SafeHtml {
  if (!chart || chart.x.length === 0) return html`<p class="muted">No monitoring samples yet: the window starts when traffic switches to green.</p>`;
  const cell = (v: number | null, unit: string) => (v === null ? 'no data' : `${v} ${unit}`);
  return html`<figure>
<div class="chart" id="release-chart" role="img" aria-label="${chart.summary}"></div>
<figcaption class="chart-legend">${chart.summary} Dashed lines are the limits; a breach must last ${Math.round(chart.thresholds.errorSustainedForMs / 1000)} s (error rate) or ${Math.round(chart.thresholds.latencySustainedForMs / 1000)} s (latency) to fire.</figcaption>
</figure>
<script type="application/json" id="release-chart-data">${raw(jsonForScriptElement(chart))}</script>
<details><summary>Samples as a table</summary><div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Error rate</th><th scope="col">Latency</th>${chart.blueErrorRate ? html`<th scope="col">Blue's error rate</th>` : ''}</tr></thead><tbody>${chart.x.map(
    (x, i) => html`<tr><td>${timeTag(new Date(x * 1000).toISOString())}</td><td>${cell(chart.errorRate[i] ?? null, '%')}</td><td>${cell(chart.latency[i] ?? null, 'ms')}</td>${chart.blueErrorRate ? html`<td>${cell(chart.blueErrorRate[i] ?? null, '%')}</td>` : ''}</tr>`,
  )}</tbody></table></div>
${chart.markers.length > 0 ? html`<h3>Moments</h3><ul>${chart.markers.map((m) => html`<li>${timeTag(new Date(m.at * 1000).toISOString())}: ${m.label}</li>`)}</ul>` : ''}</details>`;
}

function auditTrail(d: DeploymentView): SafeHtml {
  const events = d.events ?? [];
  return html`<div class="scroll"><table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Stage</th></tr></thead><tbody>${[...events]
    .reverse()
    .map(
      (e) =>
        html`<tr><td>${timeTag(e.at)}</td><td>${e.actor}</td><td>${e.action}${typeof e.details.comment === 'string' ? html`: ${e.details.comment}` : ''}${typeof e.details.cause === 'string' ? html` — ${e.details.cause}` : ''}</td><td>${e.from && e.to && e.from !== e.to ? `${stageLabel(e.from as Stage)} → ${stageLabel(e.to as Stage)}` : e.to ? stageLabel(e.to as Stage) : ''}</td></tr>`,
    )}</tbody></table></div>`;
}

/** One release: what and where, why it is where it is, what may be done, the window's chart, the audit trail. */
export function releasePage(d: DeploymentView, prompts: ActionPrompt[], chart: ReleaseChart | undefined, csrf: string): SafeHtml {
  return html`<h1>${d.kind === 'rollback' ? 'Rollback' : 'Release'} ${d.id} ${stageBadge(d.stage)}</h1>
<dl class="facts">
<dt>Target</dt><dd>${d.service} → ${d.environment}</dd>
<dt>Version</dt><dd>${versionText(d.version)}${d.version ? '' : html` (asked for ${d.versionRef})`}</dd>
<dt>Replaces</dt><dd>${d.previousVersion ? versionText(d.previousVersion) : 'nothing recorded'}</dd>
<dt>Requested by</dt><dd>${d.requestedBy} ${timeTag(d.createdAt)}</dd>
${d.note ? html`<dt>Note</dt><dd>${d.note}</dd>` : ''}
<dt>Approvals</dt><dd>${d.approvals.length === 0 ? 'none yet' : d.approvals.map((a) => a.actor).join(', ')}</dd>
${d.canary ? html`<dt>Canary</dt><dd>step ${d.canary.step} of ${d.canary.steps} (${d.canary.percent} %)${d.canary.awaitingPromotion ? ', waiting for Promote' : ''}</dd>` : ''}
<dt>Why here</dt><dd id="reason">${d.reason}</dd>
${d.pausedBecause ? html`<dt>Paused</dt><dd>${d.pausedBecause}</dd>` : ''}
${d.rollbackReady ? html`<dt>Rollback</dt><dd>${d.rollbackReady.ready ? 'ready' : 'not possible'}: ${d.rollbackReady.detail}</dd>` : ''}
</dl>
<h2>Decide</h2>
${actionButtons(d, prompts, csrf)}
<h2>Stages</h2>
${timeline(d)}
<h2>Checks</h2>
${checksTable(d)}
<h2>Monitoring window</h2>
${chartSection(chart)}
${d.evaluations.length > 0 ? html`<ul>${d.evaluations.map((e) => html`<li>${e.summary}</li>`)}</ul>` : ''}
<h2>Audit trail</h2>
${auditTrail(d)}`;
}

/** The question Slack asks before the same click, as a page: the answer is a form, "Keep it" goes back. */
export function confirmPage(d: DeploymentView, prompt: ActionPrompt, csrf: string): SafeHtml {
  const confirm = prompt.confirm!;
  const withComment = prompt.action === 'reject' || prompt.action === 'rollback';
  return html`<h1>${confirm.title}</h1>
<p>${d.service} → ${d.environment}, ${d.id} (${versionText(d.version)}).</p>
<p>${confirm.text}</p>
<form method="post" action="/console/releases/${d.id}/${prompt.action}"><input type="hidden" name="_csrf" value="${csrf}">
${prompt.override ? html`<input type="hidden" name="override" value="1">` : ''}
${withComment ? html`<label for="comment">Why (optional, goes in the audit trail)</label><textarea id="comment" name="comment" rows="2" maxlength="500"></textarea>` : ''}
<div class="actions"><button type="submit" class="${prompt.style ?? ''}">${confirm.go}</button><a class="button" href="/console/releases/${d.id}">${confirm.deny}</a></div>
</form>`;
}
