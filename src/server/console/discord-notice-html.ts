import { KEVIN_COLOURS } from '../../adapters/discord/community-notice.ts';
import { html, raw, timeTag, type SafeHtml } from './html.ts';
import { isoOfSeconds } from './slack-mrkdwn-html.ts';

/**
 * A Discord message (content and embeds) drawn as Discord shows it, for previews: the message
 * body the channel really posts (renderCommunityNotice), read as untrusted data and escaped.
 * The embed's colour bar is one of a few fixed classes (the nearest of KEVIN_COLOURS), never an
 * inline style: the console's CSP allows no inline styles, and these are the only colours we send.
 */

export interface DiscordEmbedPreview {
  title?: string | undefined;
  description?: string | undefined;
  color?: number | undefined;
  fields?: ReadonlyArray<{ name: string; value: string; inline?: boolean | undefined }> | undefined;
  footer?: { text: string } | undefined;
  timestamp?: string | undefined;
}

export interface DiscordNoticePreview {
  content?: string | undefined;
  embeds: readonly DiscordEmbedPreview[];
}

export function renderDiscordNotice(message: DiscordNoticePreview): SafeHtml {
  return html`<div class="ob-discord">
<p class="ob-discord-head"><span class="ob-discord-avatar" aria-hidden="true">K</span> <strong>kevin-deploy</strong> <span class="ob-discord-app">APP</span></p>
${message.content ? html`<div class="ob-dc-content">${discordMarkdown(message.content)}</div>` : ''}
${message.embeds.map((embed) => renderEmbed(embed))}
</div>`;
}

function renderEmbed(embed: DiscordEmbedPreview): SafeHtml {
  const fields = embed.fields ?? [];
  const footer = embed.footer?.text;
  return html`<div class="ob-dc-embed ${barClass(embed.color)}">
${embed.title ? html`<div class="ob-dc-title">${discordMarkdown(embed.title)}</div>` : ''}
${embed.description ? html`<div class="ob-dc-description">${discordMarkdown(embed.description)}</div>` : ''}
${
  fields.length > 0
    ? html`<dl class="ob-dc-fields">${fields.map(
        (f) => html`<div class="ob-dc-field${f.inline ? ' ob-dc-field-inline' : ''}"><dt class="ob-dc-field-name">${discordMarkdown(f.name)}</dt><dd class="ob-dc-field-value">${discordMarkdown(f.value)}</dd></div>`,
      )}</dl>`
    : ''
}
${footer || embed.timestamp ? html`<div class="ob-dc-footer">${footer ?? ''}${footer && embed.timestamp ? ' • ' : ''}${embed.timestamp ? timeTag(embed.timestamp) : ''}</div>` : ''}
</div>`;
}

/** The colour bar's class: the KEVIN colour nearest to the embed's (by RGB distance), or a neutral bar. */
export function barClass(color: number | undefined): string {
  if (color === undefined || !Number.isInteger(color) || color < 0 || color > 0xffffff) return 'ob-dc-bar-none';
  let best: keyof typeof KEVIN_COLOURS = 'upcoming';
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [name, value] of Object.entries(KEVIN_COLOURS) as Array<[keyof typeof KEVIN_COLOURS, number]>) {
    const d = distance(color, value);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return `ob-dc-bar-${best}`;
}

function distance(a: number, b: number): number {
  const channel = (n: number, shift: number) => (n >> shift) & 0xff;
  return [16, 8, 0].reduce((sum, s) => sum + (channel(a, s) - channel(b, s)) ** 2, 0);
}

// ── Discord markdown, the parts notices use ─────────────────────────────────────────────────────

/** Paired markers, longest first so `**` is not read as two `*`. */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['**', 'strong'],
  ['__', 'u'],
  ['~~', 'del'],
  ['||', 'span class="ob-dc-spoiler"'],
  ['*', 'em'],
  ['_', 'em'],
];

/**
 * `**bold**`, `__underline__`, `*italic*`, `_italic_`, `~~strike~~`, `||spoiler||`, `` `code` ``,
 * `[text](https://…)`, `<@id>` / `<#id>` / `<t:seconds>`, and `\`-escapes (escapeDiscordMarkdown's).
 */
export function discordMarkdown(src: string): SafeHtml {
  const out: SafeHtml[] = [];
  let buffer = '';
  const flush = () => {
    if (buffer !== '') out.push(lines(buffer));
    buffer = '';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length && /[^\p{L}\p{N}\s]/u.test(src[i + 1]!)) {
      buffer += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push(html`<code>${src.slice(i + 1, end)}</code>`);
        i = end + 1;
        continue;
      }
    }
    const pair = PAIRS.find(([marker]) => src.startsWith(marker, i));
    // Underscores inside a word (snake_case) are not italics in Discord.
    if (pair && !(pair[0].startsWith('_') && i > 0 && /[\p{L}\p{N}]/u.test(src[i - 1]!))) {
      const [marker, tag] = pair;
      const end = findUnescaped(src, marker, i + marker.length);
      if (end > i + marker.length) {
        flush();
        out.push(html`${raw(`<${tag}>`)}${discordMarkdown(src.slice(i + marker.length, end))}${raw(`</${tag.split(' ')[0]}>`)}`);
        i = end + marker.length;
        continue;
      }
    }
    if (c === '[') {
      const link = /^\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/.exec(src.slice(i));
      if (link) {
        flush();
        out.push(html`<a href="${link[2]!}" rel="noreferrer noopener">${discordMarkdown(link[1]!)}</a>`);
        i += link[0].length;
        continue;
      }
    }
    if (c === '<') {
      const tag = /^<(@[!&]?|#)(\d+)>|^<t:(-?\d+)(?::[tTdDfFR])?>/.exec(src.slice(i));
      if (tag) {
        flush();
        const at = tag[3] !== undefined ? isoOfSeconds(Number(tag[3])) : undefined;
        out.push(at !== undefined ? timeTag(at) : tag[3] !== undefined ? html`${tag[0]}` : html`<span class="ob-dc-mention">${tag[1] === '#' ? '#' : '@'}${tag[2]!}</span>`);
        i += tag[0].length;
        continue;
      }
    }
    buffer += c;
    i += 1;
  }
  flush();
  return html`${out}`;
}

/** The next `marker` at or after `from` that is not escaped with a backslash. */
function findUnescaped(src: string, marker: string, from: number): number {
  for (let j = src.indexOf(marker, from); j >= 0; j = src.indexOf(marker, j + 1)) {
    let slashes = 0;
    for (let k = j - 1; k >= 0 && src[k] === '\\'; k--) slashes++;
    if (slashes % 2 === 0) return j;
  }
  return -1;
}

function lines(text: string): SafeHtml {
  return html`${text.split('\n').map((line, i) => (i === 0 ? html`${line}` : html`<br>${line}`))}`;
}
