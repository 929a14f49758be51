import { describe, expect, it } from 'vitest';
import { renderCommunityNotice } from '../../src/adapters/discord/community-notice.ts';
import { renderAlertEmail } from '../../src/adapters/email/alert-email.ts';
import { pagerDutyEventOf } from '../../src/adapters/pagerduty/pagerduty-event.ts';
import { alertMessage } from '../../src/adapters/slack/alert-message.ts';
import type { AlertChannelName, AlertKind } from '../../src/domain/alert.ts';
import type { DeliveryRecord, StoredAlert } from '../../src/ports/alert-outbox.ts';
import { renderBlocks } from '../../src/server/console/block-kit-html.ts';
import { barClass, discordMarkdown, renderDiscordNotice } from '../../src/server/console/discord-notice-html.ts';
import { emailPreviewDocument, renderOutbox, type OutboxViewOptions } from '../../src/server/console/outbox-view.ts';

/**
 * The Outbox: each alert, newest first, with each channel's delivery state and — folded — the
 * message as that channel shows it, rendered by the adapter's own function. Alert text is
 * hostile on purpose: whatever a reason or an error quotes must come out as text.
 */

const HOSTILE = `<script>alert("x")</script> "quoted" & <https://evil.example|click here> <!channel> *bold?*`;
const OPTIONS: OutboxViewOptions = { emailHref: (seq) => `/console/outbox/${seq}/email` };

function delivery(channel: AlertChannelName, over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    channel,
    status: 'delivered',
    attempts: 1,
    nextAttemptAt: '2026-11-26T09:00:00.000Z',
    lastError: null,
    ref: `local:alert#${channel}`,
    deliveredAt: '2026-11-26T09:00:01.000Z',
    ...over,
  };
}

function stored(seq: number, kind: AlertKind, deliveries: DeliveryRecord[], over: Partial<StoredAlert> = {}): StoredAlert {
  return {
    seq,
    id: `dep_7/2026-11-26T09:00:00.000Z/${kind}`,
    kind,
    level: 'critical',
    title: `kevinstamp v2 is being rolled back automatically ${HOSTILE}`,
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'dep_7',
      version: { id: '0123abcd4567ef89', tag: 'v2' },
      previousVersion: { id: '89abcdef01234567', tag: 'v1' },
      stage: 'rolling_back',
      reason: `error rate 20.1 % > 5 %: the app answered ${HOSTILE}`,
      requestedBy: 'alice',
      trigger: 'error-rate',
      triggerDetails: { summary: 'error rate 20.1 % > 5 %', threshold: 5, unit: '%' },
      links: [{ href: 'https://deploy.kevinstamp.com/api/v1/deployments/dep_7', text: 'Deployment' }],
    },
    incidentKey: 'dep_7/error-rate',
    createdAt: '2026-11-26T09:00:00.000Z',
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalatedAt: null,
    resolvedAt: null,
    deliveries,
    ...over,
  };
}

const ROLLBACK = stored(7, 'rolled-back', [delivery('slack'), delivery('email'), delivery('pagerduty'), delivery('discord', { status: 'skipped', ref: null, deliveredAt: null, lastError: 'Discord only carries community notices; rolled-back is for the team' })]);

/** The HTML inside the first `<tag …>` at or after `marker` (which may sit in that tag), entities decoded: what the browser shows there. */
function textAfter(markup: string, marker: string, tag: string): string {
  const at = markup.indexOf(marker);
  expect(at, `"${marker}" in the output`).toBeGreaterThanOrEqual(0);
  const open = markup.indexOf(`<${tag}`, markup.lastIndexOf('<', at));
  expect(open, `<${tag}> after "${marker}"`).toBeGreaterThanOrEqual(0);
  const start = markup.indexOf('>', open) + 1;
  return decode(markup.slice(start, markup.indexOf(`</${tag}>`, start)));
}

function decode(markup: string): string {
  return markup.replace(/&#(\d+);/g, (_x, n: string) => String.fromCharCode(Number(n)));
}

/** One channel's <li> of one alert. */
function panel(markup: string, seq: number, channel: string): string {
  const article = markup.slice(markup.indexOf(`id="ob-alert-${seq}"`));
  const start = article.indexOf(`<span class="ob-channel">${channel}</span>`);
  expect(start, `${channel} panel of #${seq}`).toBeGreaterThanOrEqual(0);
  return article.slice(article.lastIndexOf('<li', start), article.indexOf('</li>', start) + 5);
}

describe('renderOutbox', () => {
  it('lists alerts newest first, each with its level, kind, title, time, target and deliveries', () => {
    const older = stored(3, 'release-started', [delivery('slack', { status: 'skipped', ref: null, deliveredAt: null, lastError: 'shown on the deployment card' })], { level: 'info', title: 'release of kevinstamp v2 started' });
    const out = renderOutbox([older, ROLLBACK], OPTIONS).text;
    expect(out.indexOf('id="ob-alert-7"')).toBeLessThan(out.indexOf('id="ob-alert-3"'));
    expect(out).toContain('<h3 class="ob-alert-title" id="ob-alert-7"><span class="ob-level ob-level-critical">CRITICAL</span> kevinstamp v2 is being rolled back automatically &#60;script&#62;');
    expect(out).toContain('<span class="ob-kind">rolled-back</span> · <span>kevinstamp / production</span> · raised <time datetime="2026-11-26T09:00:00.000Z">2026-11-26 09:00:00 UTC</time>');
    expect(out).toContain('<article class="ob-alert" aria-labelledby="ob-alert-7">');
    // Channels in one order, whatever order the outbox listed them in.
    const order = ['Slack', 'Email', 'PagerDuty', 'Discord'].map((c) => panel(out, 7, c)).map((p) => out.indexOf(p));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('says what happened to each delivery: locally, really, pending with attempts, failed with the error, skipped with the reason', () => {
    const alert = stored(9, 'rolled-back', [
      delivery('slack', { ref: 'C0ALERTS|1700000000.0001' }),
      delivery('email', { status: 'pending', attempts: 2, ref: null, deliveredAt: null, nextAttemptAt: '2026-11-26T09:05:00.000Z', lastError: `MailChannels answered 503 ${HOSTILE}` }),
      delivery('pagerduty', { status: 'failed', attempts: 1, ref: null, deliveredAt: null, lastError: 'PagerDuty refused the event (400): <b>bad</b>' }),
      delivery('discord', { status: 'skipped', ref: null, deliveredAt: null, lastError: 'Discord only carries community notices; rolled-back is for the team' }),
    ]);
    const out = renderOutbox([alert, ROLLBACK], OPTIONS).text;
    expect(panel(out, 7, 'Slack')).toContain('delivered locally <time datetime="2026-11-26T09:00:01.000Z">2026-11-26 09:00:01 UTC</time> (not sent: no account)');
    expect(panel(out, 9, 'Slack')).toContain('<span class="ob-state ob-tone-ok">delivered <time datetime="2026-11-26T09:00:01.000Z">');
    expect(panel(out, 9, 'Slack')).not.toContain('locally');
    const email = panel(out, 9, 'Email');
    expect(email).toContain('pending after 2 attempts, next attempt <time datetime="2026-11-26T09:05:00.000Z">');
    expect(email).toContain('<span class="ob-label">Last error:</span> MailChannels answered 503 &#60;script&#62;');
    const pagerDuty = panel(out, 9, 'PagerDuty');
    expect(pagerDuty).toContain('<span class="ob-state ob-tone-bad">failed after 1 attempt</span>');
    expect(pagerDuty).toContain('<span class="ob-label">Error:</span> PagerDuty refused the event (400): &#60;b&#62;bad&#60;/b&#62;');
    const discord = panel(out, 9, 'Discord');
    expect(discord).toBe(
      '<li class="ob-delivery ob-delivery-skipped"><span class="ob-channel">Discord</span> <span class="ob-state ob-tone-off">skipped</span><span class="ob-reason">: Discord only carries community notices; rolled-back is for the team</span></li>',
    );
    // Everything with something to show folds it, so the page stays short and works from the keyboard.
    expect(panel(out, 9, 'Email')).toContain('<details class="ob-details">\n<summary>');
  });

  it('shows the Slack alert from the Block Kit alertMessage() builds, as of its delivery', () => {
    const out = panel(renderOutbox([ROLLBACK], OPTIONS).text, 7, 'Slack');
    const message = alertMessage(ROLLBACK, { mentions: [], now: new Date('2026-11-26T09:00:01.000Z') });
    expect(out).toContain(renderBlocks(message.blocks).text);
    expect(out).toContain('<button type="button" class="ob-bk-button ob-bk-button-primary" disabled>Acknowledge</button>');
    // The reason is neutralized by alertMessage and stays text here: no link, no mention, no bold.
    expect(out).not.toContain('href="https://evil.example');
    expect(out).not.toContain('<span class="ob-bk-mention">@channel</span>');
    expect(out).not.toContain('<strong>bold?</strong>');
  });

  it('shows an acknowledgement as the edit Slack makes to the incident message', () => {
    const ack = stored(8, 'acknowledged', [delivery('slack')], {
      level: 'info',
      title: 'acknowledged',
      facts: { ...ROLLBACK.facts, incident: { level: 'critical', title: 'kevinstamp v2 is being rolled back', createdAt: '2026-11-26T09:00:00.000Z', by: 'bob' } },
    });
    const out = panel(renderOutbox([ack], OPTIONS).text, 8, 'Slack');
    expect(out).toContain("Slack edits the incident's earlier messages to read:");
    expect(out).toContain('<strong>ACKNOWLEDGED</strong> kevinstamp v2 is being rolled back');
    expect(out).toContain('Acknowledged by bob at 2026-11-26T09:00:00.000Z');
    expect(out).not.toContain('<button');
  });

  it('shows the exact PagerDuty event, routing key replaced', () => {
    const out = panel(renderOutbox([ROLLBACK], OPTIONS).text, 7, 'PagerDuty');
    const request = pagerDutyEventOf(ROLLBACK, { routingKey: '«routing key»' });
    if ('status' in request) throw new Error('a rollback is a PagerDuty event');
    expect(textAfter(out, 'ob-json', 'pre')).toBe(JSON.stringify(request.body, null, 2));
    expect(JSON.parse(textAfter(out, 'ob-json', 'pre'))).toMatchObject({ routing_key: '«routing key»', event_action: 'trigger', dedup_key: 'dep_7/error-rate' });
    expect(out).toContain('<code>https://events.pagerduty.com/v2/enqueue</code>');
    expect(out).not.toContain('<script>');
  });

  it('shows a deploy marker as a change event', () => {
    const marker = stored(5, 'deploy-marker', [delivery('pagerduty', { ref: null })], { level: 'info', incidentKey: undefined });
    const out = panel(renderOutbox([marker], OPTIONS).text, 5, 'PagerDuty');
    expect(out).toContain('<code>https://events.pagerduty.com/v2/change/enqueue</code> <span class="ob-muted">(a change event: it never pages)</span>');
    expect(JSON.parse(textAfter(out, 'ob-json', 'pre'))).not.toHaveProperty('event_action');
  });

  it('shows the email: subject, from and to, the text part as sent, and the HTML part in a sandboxed frame', () => {
    const email = renderAlertEmail(ROLLBACK);
    const withAddresses: OutboxViewOptions = {
      ...OPTIONS,
      emailAddressesOf: () => ({ from: { email: 'kevin-deploy@kevinstamp.example', name: 'kevin "deploy"' }, to: [{ email: 'ops@kevinstamp.example' }, { email: 'oncall@kevinstamp.example' }] }),
    };
    const out = panel(renderOutbox([ROLLBACK], withAddresses).text, 7, 'Email');
    expect(textAfter(out, '<dt>Subject</dt>', 'dd')).toBe(email.subject);
    expect(textAfter(out, '<dt>From</dt>', 'dd')).toBe('kevin "deploy" <kevin-deploy@kevinstamp.example>');
    expect(textAfter(out, '<dt>To</dt>', 'dd')).toBe('ops@kevinstamp.example, oncall@kevinstamp.example');
    expect(textAfter(out, 'Text part', 'pre')).toBe(email.text);
    expect(out).toContain('<h4 class="ob-part-title">Text part</h4>');
    expect(out).toMatch(/<iframe class="ob-email-frame" sandbox title="HTML part of the email: [^"]*" src="\/console\/outbox\/7\/email" loading="lazy"><\/iframe>/);
    // Without the addresses, the panel says where they come from.
    const plain = panel(renderOutbox([ROLLBACK], OPTIONS).text, 7, 'Email');
    expect(textAfter(plain, '<dt>To</dt>', 'dd')).toBe("the target's alerts.emailTo");
  });

  it('shows the SMS: the text as sent, its length and segments, and each number with what happened to its message', () => {
    const progress = { sent: { '+15551230001': 'SM0123456789abcdef0123456789abcdef' }, pending: { '+15551230002': '2026-11-26T09:00:02.000Z' }, refused: { '+15550000000': 'not a valid phone number (21211)' } };
    const emergency = stored(9, 'rollback-failed', [delivery('sms', { status: 'pending', attempts: 2, ref: JSON.stringify(progress), deliveredAt: null, lastError: 'Twilio answered 503' })], { level: 'emergency' });
    const withNumbers: OutboxViewOptions = { ...OPTIONS, publicUrl: 'https://deploy.kevinstamp.com', smsRecipientsOf: () => ['+15551230001', '+15551230002', '+15550000000', '+15551230003'] };
    const out = panel(renderOutbox([emergency], withNumbers).text, 9, 'SMS');
    const text = 'EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). https://deploy.kevinstamp.com/console/releases/dep_7';
    expect(textAfter(out, 'ob-sms', 'pre')).toBe(text);
    expect(textAfter(out, '<dt>Length</dt>', 'dd')).toBe(`${text.length} GSM-7 characters: 1 segment`);
    const to = textAfter(out, '<dt>To</dt>', 'dd');
    expect(to).toContain('<code>+15551230001</code> — texted (<code>SM0123456789abcdef0123456789abcdef</code>)');
    expect(to).toContain('<code>+15551230002</code> — sent 2026-11-26T09:00:02.000Z, not confirmed yet');
    expect(to).toContain('<code>+15550000000</code> — refused: not a valid phone number (21211)');
    expect(to).toContain('<code>+15551230003</code></div>');
    expect(out).toContain('Last error:</span> Twilio answered 503');
    // A text outside GSM-7 says so; without the settings the panel names them; nothing is texted for a deploy marker.
    const unicode = stored(10, 'release-started', [delivery('sms')], { level: 'info', facts: { ...emergency.facts, service: 'k', environment: 'p', version: { id: 'b', tag: 'v2 🚀' } } });
    const short = panel(renderOutbox([unicode], { ...OPTIONS, publicUrl: 'https://k.co' }).text, 10, 'SMS');
    expect(textAfter(short, 'ob-sms', 'pre')).toBe('INFO k/p: release started (v2 🚀). https://k.co/console/releases/dep_7');
    expect(textAfter(short, '<dt>Length</dt>', 'dd')).toMatch(/UCS-2 code units \(a character outside GSM-7 makes the whole text UCS-2\): 1 segment/);
    expect(textAfter(short, '<dt>To</dt>', 'dd')).toBe("the target's alerts.smsTo, else alerting.sms.to");
    const marker = panel(renderOutbox([stored(11, 'deploy-marker', [delivery('sms')])], OPTIONS).text, 11, 'SMS');
    expect(marker).toContain('Nothing is texted: deploy-marker alerts are not sent by SMS.');
  });

  it('serves the email HTML part as the complete document, and nothing for alerts without an email', () => {
    expect(emailPreviewDocument(ROLLBACK)).toBe(renderAlertEmail(ROLLBACK).html);
    expect(emailPreviewDocument(ROLLBACK)).toMatch(/^<!DOCTYPE html>/);
    expect(emailPreviewDocument(ROLLBACK)).not.toContain('<script>');
    expect(emailPreviewDocument(stored(5, 'deploy-marker', [delivery('pagerduty')]))).toBeUndefined();
    expect(emailPreviewDocument(stored(6, 'rolled-back', [delivery('email', { status: 'skipped', lastError: 'no email recipients' })]))).toBeUndefined();
    expect(emailPreviewDocument(stored(6, 'rolled-back', [delivery('slack')]))).toBeUndefined();
  });

  it('shows the Discord notice as Discord does: content, the embed with its colour bar, title, description and footer', () => {
    const released = stored(11, 'community-released', [delivery('discord', { ref: '1234567890' })], { level: 'info', incidentKey: undefined, title: 'kevinstamp just got better' });
    const out = panel(renderOutbox([released], OPTIONS).text, 11, 'Discord');
    const notice = renderCommunityNotice(released)!;
    expect(out).toContain(renderDiscordNotice(notice).text);
    expect(out).toContain('<div class="ob-dc-embed ob-dc-bar-released">');
    expect(out).toContain(`<div class="ob-dc-title">${notice.embeds[0]!.title}</div>`);
    expect(out).toContain('A fresh update to <strong>kevinstamp</strong> is out');
    expect(out).toContain('<div class="ob-dc-footer">KEVINSTAMP status • <time datetime="2026-11-26T09:00:00.000Z">');
    expect(out).toContain('<div class="ob-dc-content">✨ KEVIN just got better!</div>');
  });

  it('says when Discord edits the incident notice instead of posting', () => {
    const resolved = stored(12, 'community-resolved', [delivery('discord')], { level: 'info', title: 'kevinstamp: all good again' });
    const out = panel(renderOutbox([resolved], OPTIONS).text, 12, 'Discord');
    expect(out).toContain("Discord edits the incident's notice to read this");
    expect(out).toContain('ob-dc-bar-resolved');
  });

  it('shows the leak guard refusing a notice, as Discord would refuse to post it', () => {
    // The title is internal; the notice may not contain it (here it does: "KEVIN just got better").
    const leaky = stored(13, 'community-released', [delivery('discord', { status: 'failed', ref: null, deliveredAt: null, lastError: 'refused' })], { level: 'info', title: 'KEVIN just got better' });
    const out = panel(renderOutbox([leaky], OPTIONS).text, 13, 'Discord');
    expect(out).toContain('<p class="ob-error">refused to post to the community: the message would contain the internal alert title</p>');
    expect(out).not.toContain('ob-dc-embed');
  });

  it('keeps hostile text as text everywhere, and uses no inline style at all', () => {
    const everything = [
      ROLLBACK,
      stored(2, 'community-incident', [delivery('discord')], { level: 'emergency' }),
      stored(1, 'deploy-marker', [delivery('pagerduty', { status: 'failed', lastError: HOSTILE })], { level: 'info' }),
    ];
    const out = renderOutbox(everything, OPTIONS).text;
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/\bstyle=/i);
    expect(out).not.toContain('href="https://evil.example');
    expect(out).not.toMatch(/<(?!\/?(?:div|span|p|h[1-6]|article|ul|ol|li|details|summary|dl|dt|dd|pre|code|strong|em|del|u|blockquote|br|hr|a|time|button|iframe)\b)[a-z]/i);
    // Links the renderer makes never pass the referrer on.
    for (const anchor of out.match(/<a [^>]*>/g) ?? []) expect(anchor).toContain('rel="noreferrer noopener"');
  });

  it('puts headings in order under the page: alerts at the level asked for, the email parts one below', () => {
    const out = renderOutbox([ROLLBACK], { ...OPTIONS, headingLevel: 2 }).text;
    expect(out).toContain('<h2 class="ob-alert-title"');
    expect(out).toContain('<h3 class="ob-part-title">Text part</h3>');
    expect(out).not.toMatch(/<h[4-6]/);
  });

  it('says so when there is nothing yet', () => {
    expect(renderOutbox([], OPTIONS).text).toContain('No alerts yet');
  });
});

describe('Discord rendering helpers', () => {
  it('picks the bar class of the nearest KEVIN colour', () => {
    expect(barClass(0xf7931a)).toBe('ob-dc-bar-released');
    expect(barClass(0x22c55e)).toBe('ob-dc-bar-resolved');
    expect(barClass(0x3b82f6)).toBe('ob-dc-bar-upcoming');
    expect(barClass(0xf59e0b)).toBe('ob-dc-bar-incident');
    expect(barClass(0x00ff00)).toBe('ob-dc-bar-resolved');
    expect(barClass(0x0000ff)).toBe('ob-dc-bar-upcoming');
    expect(barClass(undefined)).toBe('ob-dc-bar-none');
    expect(barClass(-1)).toBe('ob-dc-bar-none');
  });

  it('reads Discord markdown: escapes, bold, italics, code, masked links (web only), mentions', () => {
    expect(discordMarkdown('**bold** *it* __under__ ~~gone~~ `x<y`').text).toBe('<strong>bold</strong> <em>it</em> <u>under</u> <del>gone</del> <code>x&#60;y</code>');
    expect(discordMarkdown('\\*\\*not bold\\*\\* snake_case_name').text).toBe('**not bold** snake_case_name');
    expect(discordMarkdown('[site](https://kevinstamp.com) [bad](javascript:alert(1))').text).toBe('<a href="https://kevinstamp.com" rel="noreferrer noopener">site</a> [bad](javascript:alert(1))');
    expect(discordMarkdown('<@123> <#456> <t:1795683600:R>').text).toBe('<span class="ob-dc-mention">@123</span> <span class="ob-dc-mention">#456</span> <time datetime="2026-11-26T09:00:00.000Z">2026-11-26 09:00:00 UTC</time>');
    expect(discordMarkdown('<script>alert(1)</script>\nline two').text).toBe('&#60;script&#62;alert(1)&#60;/script&#62;<br>line two');
  });

  it('draws fields, inline or not', () => {
    const out = renderDiscordNotice({ embeds: [{ title: 'T', color: 0x123456, fields: [{ name: 'Service', value: 'kevinstamp', inline: true }, { name: 'When', value: 'now' }] }] }).text;
    expect(out).toContain('<dl class="ob-dc-fields"><div class="ob-dc-field ob-dc-field-inline"><dt class="ob-dc-field-name">Service</dt><dd class="ob-dc-field-value">kevinstamp</dd></div><div class="ob-dc-field"><dt class="ob-dc-field-name">When</dt>');
  });
});
