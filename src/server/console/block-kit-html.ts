import { html, timeTag, type SafeHtml } from './html.ts';
import { isoOfSeconds, mrkdwnToHtml, plainTextToHtml } from './slack-mrkdwn-html.ts';

/**
 * Slack Block Kit JSON drawn as Slack draws it, for previews: the blocks a message really carries
 * (alertMessage, renderDeploymentCard), not a second rendering of the same facts. Input is read as
 * untrusted JSON — any block, any shape — and every string goes through `html`'s escaping; nothing
 * is fetched (images show as their alt text) and buttons are disabled, since nothing here acts.
 *
 * Covered: header, section (text, fields, accessory), context (text and images), actions
 * (buttons primary/danger; other elements by their placeholder), divider, image, and rich_text as
 * far as its common elements go. Anything else shows as "[type]" rather than disappearing.
 */

type Json = Record<string, unknown>;

/** A Slack message as it sits in a channel: the app's name, then its blocks. */
export function renderSlackCard(blocks: readonly unknown[], options: { fallbackText?: string | undefined } = {}): SafeHtml {
  return html`<div class="ob-slack">
<p class="ob-slack-head"><span class="ob-slack-avatar" aria-hidden="true">kd</span> <strong>kevin-deploy</strong> <span class="ob-slack-app">APP</span></p>
<div class="ob-slack-blocks">${renderBlocks(blocks)}</div>
${options.fallbackText ? html`<p class="ob-slack-fallback"><span class="ob-label">Notification text:</span> ${options.fallbackText}</p>` : ''}
</div>`;
}

export function renderBlocks(blocks: readonly unknown[]): SafeHtml {
  return html`${blocks.map((block) => renderBlock(block))}`;
}

function renderBlock(value: unknown): SafeHtml {
  const block = asObject(value);
  if (!block) return html``;
  switch (block.type) {
    case 'header':
      return html`<div class="ob-bk-header">${text(block.text)}</div>`;
    case 'section':
      return section(block);
    case 'context':
      return html`<div class="ob-bk-context">${list(block.elements).map((e) => contextElement(e))}</div>`;
    case 'actions':
      return html`<div class="ob-bk-actions">${list(block.elements).map((e) => element(e))}</div>`;
    case 'divider':
      return html`<hr class="ob-bk-divider">`;
    case 'image':
      return html`<div class="ob-bk-image-block">${imageAlt(block)}${asObject(block.title) ? html`<div class="ob-bk-caption">${text(block.title)}</div>` : ''}</div>`;
    case 'rich_text':
      return html`<div class="ob-bk-rich">${list(block.elements).map((e) => richBlock(e))}</div>`;
    default:
      return html`<p class="ob-bk-unsupported">[${typeName(block.type)} block]</p>`;
  }
}

function section(block: Json): SafeHtml {
  const fields = list(block.fields);
  const accessory = asObject(block.accessory);
  return html`<div class="ob-bk-section">
<div class="ob-bk-section-main">${asObject(block.text) ? html`<div class="ob-bk-text">${text(block.text)}</div>` : ''}${
    fields.length > 0 ? html`<div class="ob-bk-fields">${fields.map((f) => html`<div class="ob-bk-field">${text(f)}</div>`)}</div>` : ''
  }</div>${accessory ? html`<div class="ob-bk-accessory">${element(accessory)}</div>` : ''}
</div>`;
}

function contextElement(value: unknown): SafeHtml {
  const e = asObject(value);
  if (!e) return html``;
  if (e.type === 'image') return html`<span class="ob-bk-context-item">${imageAlt(e)}</span>`;
  return html`<span class="ob-bk-context-item">${text(e)}</span>`;
}

/** Interactive elements, as previews: a button that does nothing, a select that shows its placeholder. */
function element(value: unknown): SafeHtml {
  const e = asObject(value);
  if (!e) return html``;
  if (e.type === 'button') {
    const style = e.style === 'primary' || e.style === 'danger' ? ` ob-bk-button-${e.style}` : '';
    return html`<button type="button" class="ob-bk-button${style}" disabled>${text(e.text)}</button>`;
  }
  if (e.type === 'image') return imageAlt(e);
  const placeholder = asObject(e.placeholder) ? html`: ${text(e.placeholder)}` : '';
  return html`<span class="ob-bk-unsupported">[${typeName(e.type)}${placeholder}]</span>`;
}

/** Nothing is loaded from elsewhere: an image is its alt text. */
function imageAlt(e: Json): SafeHtml {
  const alt = typeof e.alt_text === 'string' && e.alt_text !== '' ? e.alt_text : 'no description';
  return html`<span class="ob-bk-image">[image: ${alt}]</span>`;
}

/** A text object: mrkdwn, or plain_text (emoji unless it says not to); a bare string is plain. */
function text(value: unknown): SafeHtml {
  if (typeof value === 'string') return plainTextToHtml(value, true);
  const t = asObject(value);
  if (!t || typeof t.text !== 'string') return html``;
  if (t.type === 'mrkdwn') return mrkdwnToHtml(t.text);
  return plainTextToHtml(t.text, t.emoji !== false);
}

// ── rich_text ────────────────────────────────────────────────────────────────────────────────────

function richBlock(value: unknown): SafeHtml {
  const e = asObject(value);
  if (!e) return html``;
  const inner = () => html`${list(e.elements).map((i) => richInline(i))}`;
  switch (e.type) {
    case 'rich_text_section':
      return html`<p class="ob-bk-rich-section">${inner()}</p>`;
    case 'rich_text_preformatted':
      return html`<pre class="ob-bk-pre">${inner()}</pre>`;
    case 'rich_text_quote':
      return html`<blockquote class="ob-bk-quote">${inner()}</blockquote>`;
    case 'rich_text_list': {
      const items = list(e.elements).map((item) => html`<li>${list(asObject(item)?.elements).map((i) => richInline(i))}</li>`);
      return e.style === 'ordered' ? html`<ol class="ob-bk-list">${items}</ol>` : html`<ul class="ob-bk-list">${items}</ul>`;
    }
    default:
      return html`<p class="ob-bk-unsupported">[${typeName(e.type)}]</p>`;
  }
}

function richInline(value: unknown): SafeHtml {
  const e = asObject(value);
  if (!e) return html``;
  const style = asObject(e.style) ?? {};
  let out: SafeHtml;
  switch (e.type) {
    case 'text':
      out = plainTextToHtml(typeof e.text === 'string' ? e.text : '', false);
      break;
    case 'link': {
      const url = typeof e.url === 'string' ? e.url : '';
      const label = typeof e.text === 'string' && e.text !== '' ? e.text : url;
      out = /^(https?:\/\/|mailto:)/i.test(url) ? html`<a href="${url}" rel="noreferrer noopener">${label}</a>` : html`${label}`;
      break;
    }
    case 'user':
      out = html`<span class="ob-bk-mention">@${stringOf(e.user_id)}</span>`;
      break;
    case 'usergroup':
      out = html`<span class="ob-bk-mention">@${stringOf(e.usergroup_id)}</span>`;
      break;
    case 'channel':
      out = html`<span class="ob-bk-mention">#${stringOf(e.channel_id)}</span>`;
      break;
    case 'broadcast':
      out = html`<span class="ob-bk-mention">@${stringOf(e.range)}</span>`;
      break;
    case 'emoji': {
      const glyph = emojiOf(e.unicode);
      out = glyph ? html`<span class="ob-emoji" role="img" aria-label="${stringOf(e.name)}">${glyph}</span>` : plainTextToHtml(`:${stringOf(e.name)}:`, true);
      break;
    }
    case 'date':
      {
        const at = typeof e.timestamp === 'number' ? isoOfSeconds(e.timestamp) : undefined;
        out = at !== undefined ? timeTag(at) : html`${stringOf(e.fallback)}`;
      }
      break;
    default:
      out = html`[${typeName(e.type)}]`;
  }
  if (style.code === true) out = html`<code>${out}</code>`;
  if (style.bold === true) out = html`<strong>${out}</strong>`;
  if (style.italic === true) out = html`<em>${out}</em>`;
  if (style.strike === true) out = html`<del>${out}</del>`;
  return out;
}

/** Slack's `unicode` ("1f680", "1f468-200d-1f4bb") as characters; undefined when it is not code points. */
function emojiOf(unicode: unknown): string | undefined {
  if (typeof unicode !== 'string' || !/^[0-9a-f]{2,6}(-[0-9a-f]{2,6})*$/i.test(unicode)) return undefined;
  const points = unicode.split('-').map((h) => Number.parseInt(h, 16));
  return points.every((p) => p <= 0x10ffff) ? String.fromCodePoint(...points) : undefined;
}

// ── reading untrusted JSON ───────────────────────────────────────────────────────────────────────

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function typeName(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value.replaceAll('_', ' ') : 'unknown';
}
