import { html, raw, timeTag, type SafeHtml } from './html.ts';

/**
 * Slack mrkdwn as HTML, the way Slack shows it: `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
 * ```` ```pre``` ````, `>` quotes, `<url|text>` links, `<@U…>` / `<#C…>` / `<!here>` /
 * `<!subteam^S…>` mentions, `<!date^…>` times, `:emoji:` — and the `&lt;` `&gt;` `&amp;` entities
 * Slack text carries for literal `<`, `>` and `&`. Everything else is text, escaped by `html`.
 *
 * Formatting markers follow Slack's rule that they only open after a space or punctuation and
 * close before one, and never next to a zero-width space: that is how neutralizeMrkdwn keeps
 * a user's `*text*` literal, and the preview must keep it literal too.
 */

/** The shortcodes kevin-deploy's messages use (mrkdwn.ts, alert-message.ts, deployment-card.ts, …); others stay `:name:`. */
const EMOJI: Record<string, string> = {
  '+1': '👍',
  alarm_clock: '⏰',
  arrow_forward: '▶️',
  arrow_up: '⬆️',
  double_vertical_bar: '⏸️',
  eyes: '👀',
  ghost: '👻',
  grey_question: '❔',
  heavy_multiplication_x: '✖️',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  leftwards_arrow_with_hook: '↩️',
  lock: '🔒',
  mag: '🔍',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  ok_hand: '👌',
  package: '📦',
  raised_hand: '✋',
  rewind: '⏪',
  rocket: '🚀',
  rotating_light: '🚨',
  sos: '🆘',
  stairs: '🪜',
  stethoscope: '🩺',
  tada: '🎉',
  twisted_rightwards_arrows: '🔀',
  unlock: '🔓',
  warning: '⚠️',
  white_check_mark: '✅',
  white_small_square: '▫️',
  x: '❌',
};

const MARKERS: Record<string, { tag: 'strong' | 'em' | 'del' | 'code' }> = {
  '*': { tag: 'strong' },
  _: { tag: 'em' },
  '~': { tag: 'del' },
  '`': { tag: 'code' },
};

const ZWSP = '\u200b';

/** A whole mrkdwn text: ``` blocks, then lines (a leading `>` quotes its line), then inline formatting. */
export function mrkdwnToHtml(text: string): SafeHtml {
  const parts: SafeHtml[] = [];
  const fence = /```([\s\S]*?)```/g;
  let from = 0;
  for (const m of text.matchAll(fence)) {
    if (m.index > from) parts.push(lines(text.slice(from, m.index)));
    parts.push(html`<pre class="ob-bk-pre">${decodeEntities(plainLabels(m[1] ?? ''))}</pre>`);
    from = m.index + m[0].length;
  }
  if (from < text.length) parts.push(lines(text.slice(from)));
  return html`${parts}`;
}

/** Plain text as Slack shows a `plain_text` object: no markup, `:emoji:` only when it asks for it. */
export function plainTextToHtml(text: string, emoji: boolean): SafeHtml {
  const segments = text.split('\n').map((line) => (emoji ? withEmoji(line) : html`${line}`));
  return joinLines(segments);
}

function lines(text: string): SafeHtml {
  const out: SafeHtml[] = [];
  let quoted: SafeHtml[] = [];
  const flushQuote = () => {
    if (quoted.length > 0) out.push(html`<blockquote class="ob-bk-quote">${joinLines(quoted)}</blockquote>`);
    quoted = [];
  };
  let plain: SafeHtml[] = [];
  const flushPlain = () => {
    if (plain.length > 0) out.push(html`<span class="ob-bk-lines">${joinLines(plain)}</span>`);
    plain = [];
  };
  for (const line of text.split('\n')) {
    // A literal `>` is `&gt;` in Slack text: only a raw one at the start of a line is a quote.
    if (line.startsWith('>')) {
      flushPlain();
      quoted.push(inline(line.slice(1)));
    } else {
      flushQuote();
      plain.push(inline(line));
    }
  }
  flushPlain();
  flushQuote();
  return html`${out}`;
}

function joinLines(lines: SafeHtml[]): SafeHtml {
  return html`${lines.map((line, i) => (i === 0 ? line : html`<br>${line}`))}`;
}

/** One line: control sequences and formatting, found left to right; text between them escaped. */
function inline(src: string): SafeHtml {
  const out: SafeHtml[] = [];
  let text = 0;
  const flush = (until: number) => {
    if (until > text) out.push(withEmoji(decodeEntities(src.slice(text, until))));
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '<') {
      const end = src.indexOf('>', i + 1);
      const inner = end > i ? src.slice(i + 1, end) : '';
      if (end > i && inner !== '' && !inner.includes('<')) {
        flush(i);
        out.push(controlSequence(inner));
        i = end + 1;
        text = i;
        continue;
      }
    }
    const marker = MARKERS[c];
    if (marker && opens(src, i)) {
      const close = closing(src, i, c);
      if (close > 0) {
        flush(i);
        const inner = src.slice(i + 1, close);
        out.push(marker.tag === 'code' ? html`<code>${decodeEntities(plainLabels(inner))}</code>` : html`${raw(`<${marker.tag}>`)}${inline(inner)}${raw(`</${marker.tag}>`)}`);
        i = close + 1;
        text = i;
        continue;
      }
    }
    i += 1;
  }
  flush(src.length);
  return html`${out}`;
}

/** A marker opens at the start or after a space/punctuation, with a visible character after it. */
function opens(src: string, i: number): boolean {
  const before = src[i - 1];
  const after = src[i + 1];
  if (after === undefined || /\s/.test(after) || after === ZWSP || after === src[i]) return false;
  return before === undefined || !isWordish(before);
}

/** The matching marker on the same line: a visible character before it, a space/punctuation (or the end) after it. */
function closing(src: string, open: number, marker: string): number {
  for (let j = src.indexOf(marker, open + 2); j > 0; j = src.indexOf(marker, j + 1)) {
    const before = src[j - 1]!;
    const after = src[j + 1];
    if (/\s/.test(before) || before === ZWSP) continue;
    if (after !== undefined && (isWordish(after) || after === ZWSP)) continue;
    return j;
  }
  return -1;
}

function isWordish(c: string): boolean {
  return /[\p{L}\p{N}]/u.test(c) || c === ZWSP;
}

/** `<…>`: a link, a mention, a date, or (anything else) its label as text. */
function controlSequence(inner: string): SafeHtml {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? decodeEntities(inner.slice(bar + 1)) : undefined;
  if (target.startsWith('@')) return html`<span class="ob-bk-mention">@${label ?? target.slice(1)}</span>`;
  if (target.startsWith('#')) return html`<span class="ob-bk-mention">#${label ?? target.slice(1)}</span>`;
  if (target.startsWith('!')) return special(target.slice(1), label);
  const href = decodeEntities(target);
  // Only web and mail links become anchors: `javascript:` and friends are shown as their label.
  if (/^(https?:\/\/|mailto:)/i.test(href)) return html`<a href="${href}" rel="noreferrer noopener">${label ?? href}</a>`;
  return html`${label ?? href}`;
}

/** `<!here>`, `<!channel>`, `<!subteam^S…|@team>`, `<!date^1700000000^{…}|fallback>`. */
function special(command: string, label: string | undefined): SafeHtml {
  const [name = '', ...args] = command.split('^');
  if (name === 'here' || name === 'channel' || name === 'everyone') return html`<span class="ob-bk-mention">@${name}</span>`;
  if (name === 'subteam') return html`<span class="ob-bk-mention">${label ?? `@${args[0] ?? 'group'}`}</span>`;
  if (name === 'date') {
    const at = isoOfSeconds(Number(args[0]));
    if (at !== undefined) return timeTag(at);
  }
  return html`${label ?? `<!${command}>`}`;
}

/** Unix seconds (Slack's and Discord's timestamps) as ISO text; undefined when not a time. */
export function isoOfSeconds(seconds: number): string | undefined {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Inside code, control sequences read as their labels (Slack still resolves them there). */
function plainLabels(text: string): string {
  return text.replace(/<([^<>]+)>/g, (_m, inner: string) => {
    const bar = inner.indexOf('|');
    return bar >= 0 ? inner.slice(bar + 1) : inner.replace(/^[@#!]/, '');
  });
}

/** Slack's three entities, in one pass: `&amp;lt;` is the text `&lt;`, not `<`. */
function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_m, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

/** Known `:shortcodes:` as the emoji Slack draws (with their name for screen readers). */
function withEmoji(text: string): SafeHtml {
  const parts: SafeHtml[] = [];
  let from = 0;
  const shortcode = /:([a-z0-9_+-]+):/g;
  for (let m = shortcode.exec(text); m; m = shortcode.exec(text)) {
    const emoji = EMOJI[m[1]!];
    if (!emoji) {
      // "09:00:warning:" — the closing colon of a non-emoji may open the next one.
      shortcode.lastIndex = m.index + m[0].length - 1;
      continue;
    }
    parts.push(html`${text.slice(from, m.index)}`, html`<span class="ob-emoji" role="img" aria-label="${m[1]!.replaceAll('_', ' ')}">${emoji}</span>`);
    from = m.index + m[0].length;
  }
  parts.push(html`${text.slice(from)}`);
  return html`${parts}`;
}
