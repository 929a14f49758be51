import type { DeploymentView } from '../../../domain/deployment-view.ts';
import { STAGES } from '../../../domain/stages.ts';
import { stageLabel } from '../../../domain/stage-words.ts';
import { html, timeTag, type SafeHtml } from '../html.ts';
import { stageBadge } from '../stage-badge.ts';

export interface HistoryFilter {
  target: string;
  stage: string;
  kind: string;
}

function select(id: string, label: string, name: string, current: string, options: Array<[string, string]>): SafeHtml {
  return html`<div><label for="${id}">${label}</label><select id="${id}" name="${name}">${options.map(
    ([value, text]) => html`<option value="${value}"${value === current ? ' selected' : ''}>${text}</option>`,
  )}</select></div>`;
}

/** Every release and rollback, newest first, filtered by target, stage and kind (a GET form: links can be shared). */
export function historyPage(deployments: DeploymentView[], filter: HistoryFilter, targets: string[]): SafeHtml {
  return html`<h1>History</h1>
<form class="filters" method="get" action="/console/history">
${select('f-target', 'Target', 'target', filter.target, [['', 'all targets'], ...targets.map((t): [string, string] => [t, t.replace('/', ' → ')])])}
${select('f-stage', 'Stage', 'stage', filter.stage, [['', 'any stage'], ...STAGES.map((s): [string, string] => [s, stageLabel(s)])])}
${select('f-kind', 'Kind', 'kind', filter.kind, [['', 'releases and rollbacks'], ['release', 'releases'], ['rollback', 'rollbacks']])}
<div><button type="submit">Filter</button></div>
</form>
${
  deployments.length === 0
    ? html`<p>No deployments match.</p>`
    : html`<div class="scroll"><table><caption class="visually-hidden">Deployments, newest first</caption><thead><tr><th scope="col">Id</th><th scope="col">Target</th><th scope="col">Version</th><th scope="col">Stage</th><th scope="col">By</th><th scope="col">Started</th></tr></thead><tbody>${deployments.map(
        (d) =>
          html`<tr><td><a href="/console/releases/${d.id}">${d.id}</a></td><td>${d.service} → ${d.environment}</td><td>${d.kind === 'rollback' ? 'rollback to ' : ''}${d.version?.tag ?? d.versionRef}</td><td>${stageBadge(d.stage)}</td><td>${d.requestedBy}</td><td>${timeTag(d.createdAt)}</td></tr>`,
      )}</tbody></table></div>`
}`;
}
