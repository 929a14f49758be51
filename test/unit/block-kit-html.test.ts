import { describe, expect, it } from 'vitest';
import { alertMessage } from '../../src/adapters/slack/alert-message.ts';
import { renderDeploymentCard } from '../../src/adapters/slack/deployment-card.ts';
import { escapeMrkdwn, neutralizeMrkdwn } from '../../src/adapters/slack/mrkdwn.ts';
import type { Alert } from '../../src/domain/alert.ts';
import { renderBlocks, renderSlackCard } from '../../src/server/console/block-kit-html.ts';
import { mrkdwnToHtml } from '../../src/server/console/slack-mrkdwn-html.ts';
import { inStage, settings } from '../support/domain-fixtures.ts';

/**
 * Block Kit and Slack mrkdwn as HTML: what Slack would show, from the blocks the bot really sends.
 * Every string is untrusted (a reason may quote anything an app answered): it must come out as
 * text, never as markup, and only web links may become anchors.
 */

const m = (text: string) => mrkdwnToHtml(text).text;

/** What a reader sees: tags dropped, entities decoded, zero-width spaces (neutralizeMrkdwn's) gone. */
function visible(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n)))
    .replaceAll('\u200b', '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The renderer's own tags and attributes; anything else in the output would be injected markup. */
const TAGS = new Set(['span', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'br', 'a', 'time']);
const ATTRIBUTES = new Set(['class', 'href', 'rel', 'role', 'aria-label', 'datetime']);

function unexpectedMarkup(markup: string): string[] {
  const found: string[] = [];
  for (const [, name, attributes] of markup.matchAll(/<\/?([a-zA-Z][\w-]*)([^>]*)>/g)) {
    if (!TAGS.has(name!.toLowerCase())) found.push(`<${name}>`);
    for (const [, attribute] of attributes!.matchAll(/\s([^\s=]+)(?:="[^"]*")?/g)) if (!ATTRIBUTES.has(attribute!)) found.push(`${name} ${attribute}`);
  }
  return found;
}

describe('Slack mrkdwn as HTML', () => {
  it('formats bold, italic, strike, code and pre as Slack does', () => {
    expect(m('*bold* and _italic_ and ~gone~ and `code`')).toBe('<span class="ob-bk-lines"><strong>bold</strong> and <em>italic</em> and <del>gone</del> and <code>code</code></span>');
    expect(m('before ```line 1\nline *2*``` after')).toBe(
      '<span class="ob-bk-lines">before </span><pre class="ob-bk-pre">line 1\nline *2*</pre><span class="ob-bk-lines"> after</span>',
    );
    expect(m('*bold with _italic_ inside*')).toBe('<span class="ob-bk-lines"><strong>bold with <em>italic</em> inside</strong></span>');
  });

  it('leaves markers alone inside words and around spaces, like Slack', () => {
    expect(m('snake_case_name')).not.toContain('<em>');
    expect(m('2 * 3 * 4')).not.toContain('<strong>');
    expect(m('a*b*c')).not.toContain('<strong>');
  });

  it('keeps text neutralized by neutralizeMrkdwn literal: a user cannot make it bold, struck or code', () => {
    const out = m(neutralizeMrkdwn('*not bold* _not italic_ ~not struck~ `not code`'));
    expect(out).not.toMatch(/<(strong|em|del|code)>/);
    expect(visible(out)).toBe('*not bold* _not italic_ ~not struck~ `not code`');
  });

  it('turns links, mentions, dates and quotes into what Slack shows', () => {
    expect(m('see <https://deploy.kevinstamp.com/d/1|the release>')).toContain('<a href="https://deploy.kevinstamp.com/d/1" rel="noreferrer noopener">the release</a>');
    expect(m('<https://example.com/a?b=1&amp;c=2>')).toContain('<a href="https://example.com/a?b=1&#38;c=2" rel="noreferrer noopener">https://example.com/a?b=1&#38;c=2</a>');
    expect(m('<mailto:ops@kevinstamp.com|mail ops>')).toContain('<a href="mailto:ops@kevinstamp.com" rel="noreferrer noopener">mail ops</a>');
    expect(m('On call: <@U0ALICE> <!subteam^S0ONCALL|@oncall> <!here> <#C0DEPLOYS|deploys>')).toBe(
      '<span class="ob-bk-lines">On call: <span class="ob-bk-mention">@U0ALICE</span> <span class="ob-bk-mention">@oncall</span> <span class="ob-bk-mention">@here</span> <span class="ob-bk-mention">#deploys</span></span>',
    );
    expect(m('raised <!date^1795683600^{date_short_pretty} {time_secs}|2026-11-26T09:00:00.000Z>')).toContain('<time datetime="2026-11-26T09:00:00.000Z">2026-11-26 09:00:00 UTC</time>');
    expect(m('>quoted\nnot quoted')).toBe('<blockquote class="ob-bk-quote">quoted</blockquote><span class="ob-bk-lines">not quoted</span>');
  });

  it('shows the entities Slack sends as the characters they stand for, escaped once', () => {
    expect(m('a &lt;b&gt; &amp; c')).toBe('<span class="ob-bk-lines">a &#60;b&#62; &#38; c</span>');
    // `&amp;lt;` is the text "&lt;", not "<".
    expect(visible(m('&amp;lt;'))).toBe('&lt;');
    // A `>` that is text (escaped) does not quote its line.
    expect(m(escapeMrkdwn('> not a quote'))).not.toContain('blockquote');
  });

  it('draws known emoji and leaves times and unknown codes as they are', () => {
    expect(m(':warning: *WARNING*')).toContain('<span class="ob-emoji" role="img" aria-label="warning">⚠️</span>');
    expect(m('at 09:00:00')).toBe('<span class="ob-bk-lines">at 09:00:00</span>');
    expect(m('at 09:00:warning:')).toContain('aria-label="warning"');
    expect(m(':not_an_emoji_we_use:')).toContain(':not_an_emoji_we_use:');
  });

  it('never lets hostile text become markup', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '<javascript:alert(1)|click me>',
      '<https://evil.example" onmouseover="alert(1)|hover>',
      '<data:text/html,<script>alert(1)</script>|x>',
      '*<script>*',
      '```<script>alert(1)</script>```',
      '`<b>`',
      '"quoted" \'single\' & <&>',
    ];
    for (const text of hostile) {
      const out = m(text);
      expect(unexpectedMarkup(out), text).toEqual([]);
      expect(out, text).not.toMatch(/href="(?!https?:|mailto:)/);
    }
    expect(m('<javascript:alert(1)|click me>')).toBe('<span class="ob-bk-lines">click me</span>');
    // The attribute stays one attribute: the quote is escaped inside it.
    expect(m('<https://evil.example" onmouseover="alert(1)|hover>')).toContain('href="https://evil.example&#34; onmouseover=&#34;alert(1)"');
  });
});

const ROLLBACK: Alert = {
  id: 'dep_7/2026-11-26T09:00:00.000Z/rolled-back',
  kind: 'rolled-back',
  level: 'critical',
  title: 'kevinstamp v2 in production is being rolled back automatically (error-rate)',
  facts: {
    service: 'kevinstamp',
    environment: 'production',
    deploymentId: 'dep_7',
    version: { id: '0123abcd4567ef89', tag: 'v2' },
    stage: 'rolling_back',
    reason: 'error rate 20.1 % > 5 % — the app said "<script>alert(1)</script>" & *more*',
    links: [{ href: 'https://deploy.kevinstamp.com/api/v1/deployments/dep_7', text: 'Deployment' }],
  },
  incidentKey: 'dep_7/error-rate',
  createdAt: '2026-11-26T09:00:00.000Z',
};

describe('Block Kit as HTML', () => {
  it('draws the real alert message: headline, context, the reason as a quote, disabled buttons', () => {
    const message = alertMessage(ROLLBACK, { mentions: ['<@U0ONCALL>'], now: new Date('2026-11-26T09:00:05.000Z') });
    const out = renderSlackCard(message.blocks, { fallbackText: message.text }).text;
    const seen = visible(out);
    expect(seen).toContain(`CRITICAL ${ROLLBACK.title}`);
    expect(seen).toContain('kevinstamp / production · dep_7 · version v2 (0123abcd)');
    expect(seen).toContain(ROLLBACK.facts.reason);
    expect(seen).toContain('On call: @U0ONCALL');
    expect(out).toContain('<blockquote class="ob-bk-quote">');
    expect(out).toContain('<span class="ob-emoji" role="img" aria-label="rotating light">🚨</span>');
    expect(out).toContain('<button type="button" class="ob-bk-button ob-bk-button-primary" disabled>Acknowledge</button>');
    expect(out).toContain('<button type="button" class="ob-bk-button" disabled>Deployment</button>');
    expect(out).toContain(`<span class="ob-label">Notification text:</span> ${'CRITICAL: kevinstamp v2 in production is being rolled back automatically (error-rate) &#60;@U0ONCALL&#62;'}`);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/\bstyle=/);
  });

  it('draws the real deployment card: header, fields, context, checklist and the buttons of the stage', () => {
    const d = inStage('awaiting_approval', { note: 'ship it <!channel> *now*' });
    const card = renderDeploymentCard(d, settings());
    const out = renderSlackCard(card.blocks).text;
    const seen = visible(out);
    expect(out).toContain(`<div class="ob-bk-header">Release ${d.service} → ${d.environment}</div>`);
    expect(out).toContain('<div class="ob-bk-fields">');
    expect(seen).toContain('Requested by');
    // The note is plain_text on the card: no mention, no bold, exactly as typed.
    expect(seen).toContain('ship it <!channel> *now*');
    expect(out).not.toContain('<span class="ob-bk-mention">@channel</span>');
    expect(out).toMatch(/<button type="button" class="ob-bk-button[^"]*" disabled>Approve<\/button>/);
    expect(out).not.toMatch(/\bstyle=/);
  });

  it('draws dividers, images as alt text, accessories, rich text, and names what it cannot draw', () => {
    const out = renderBlocks([
      { type: 'divider' },
      { type: 'image', image_url: 'https://tracker.example/pixel.png', alt_text: 'a chart "of errors"' },
      { type: 'section', text: { type: 'plain_text', text: 'pick one :tada:', emoji: true }, accessory: { type: 'button', style: 'danger', text: { type: 'plain_text', text: 'Roll back' } } },
      { type: 'context', elements: [{ type: 'image', image_url: 'https://x.example/a.png', alt_text: 'avatar' }, { type: 'plain_text', text: 'no :tada: here', emoji: false }] },
      { type: 'actions', elements: [{ type: 'static_select', placeholder: { type: 'plain_text', text: 'Choose' } }] },
      {
        type: 'rich_text',
        elements: [
          { type: 'rich_text_section', elements: [{ type: 'text', text: 'bold <b>', style: { bold: true } }, { type: 'link', url: 'javascript:alert(1)', text: 'bad link' }, { type: 'emoji', name: 'rocket', unicode: '1f680' }] },
          { type: 'rich_text_list', style: 'ordered', elements: [{ type: 'rich_text_section', elements: [{ type: 'user', user_id: 'U0BOB' }] }] },
          { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'x < y' }] },
        ],
      },
      { type: 'input', label: { type: 'plain_text', text: 'Reason' } },
      'not a block',
      null,
    ]).text;
    expect(out).toContain('<hr class="ob-bk-divider">');
    expect(out).toContain('[image: a chart &#34;of errors&#34;]');
    expect(out).not.toContain('tracker.example');
    expect(out).toContain('pick one <span class="ob-emoji" role="img" aria-label="tada">🎉</span>');
    expect(out).toContain('no :tada: here');
    expect(out).toContain('<button type="button" class="ob-bk-button ob-bk-button-danger" disabled>Roll back</button>');
    expect(out).toContain('[static select: Choose]');
    expect(out).toContain('<strong>bold &#60;b&#62;</strong>');
    expect(out).toContain('bad link');
    expect(out).not.toContain('javascript:');
    expect(out).toContain('<span class="ob-emoji" role="img" aria-label="rocket">🚀</span>');
    expect(out).toContain('<ol class="ob-bk-list"><li><span class="ob-bk-mention">@U0BOB</span></li></ol>');
    expect(out).toContain('<pre class="ob-bk-pre">x &#60; y</pre>');
    expect(out).toContain('[input block]');
  });
});
