import type { VersionSummary } from '../../../ports/traffic-platform.ts';
import { html, type SafeHtml } from '../html.ts';

export interface NewReleaseForm {
  targets: Array<{ service: string; environment: string }>;
  /** Recent versions per target ("service/environment"), newest first, for the chooser. */
  versions: Map<string, VersionSummary[]>;
  /** The sandbox can upload sample versions, as CI would: its presets. */
  sandbox?: { behaviors: readonly string[] } | undefined;
  csrf: string;
}

/** Ask for a release: target, version (from the platform's recent versions, or typed), a note. */
export function newReleasePage(form: NewReleaseForm): SafeHtml {
  const all = [...form.versions.values()].flat();
  const tags = [...new Set(all.map((v) => v.tag ?? v.id))];
  return html`<h1>New release</h1>
<form method="post" action="/console/releases"><input type="hidden" name="_csrf" value="${form.csrf}">
<label for="target">Target</label>
<select id="target" name="target" required>${form.targets.map((t) => html`<option value="${t.service}/${t.environment}">${t.service} → ${t.environment}</option>`)}</select>
<label for="version">Version</label>
<input type="text" id="version" name="version" required list="versions" maxlength="128" autocomplete="off" aria-describedby="version-hint">
<datalist id="versions">${tags.map((t) => html`<option value="${t}"></option>`)}</datalist>
<p class="hint" id="version-hint">A tag (workers/tag), a version id or its first 8 characters.${tags.length > 0 ? html` Recent: ${tags.slice(0, 8).join(', ')}.` : ''}</p>
<label for="note">Note for the approvers (optional)</label>
<input type="text" id="note" name="note" maxlength="500">
<div class="actions"><button type="submit" class="primary">Stage and verify</button></div>
<p class="hint">Green is staged beside the live version with no traffic and checked; then it waits for approval.</p>
</form>
${
  form.sandbox
    ? html`<h2>Sandbox: upload a version</h2>
<p>As CI would (<code>wrangler versions upload --tag</code>): a version of the sample KEVINSTAMP site that behaves as you choose.</p>
<form method="post" action="/console/sandbox/upload"><input type="hidden" name="_csrf" value="${form.csrf}">
<label for="tag">Tag</label><input type="text" id="tag" name="tag" required maxlength="64" pattern="[^\\s]{1,64}">
<label for="behavior">Behaviour</label>
<select id="behavior" name="behavior">${form.sandbox.behaviors.map((b) => html`<option value="${b}">${b}</option>`)}</select>
<div class="actions"><button type="submit">Upload</button></div>
</form>`
    : ''
}`;
}
