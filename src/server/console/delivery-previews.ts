import { discordMessageOf } from '../../adapters/discord/discord-message.ts';
import { isEmailAlertKind, renderAlertEmail } from '../../adapters/email/alert-email.ts';
import type { EmailAddress } from '../../adapters/email/mailchannels-channel.ts';
import { isLocalRef } from '../../adapters/local-sink/local-sink-channel.ts';
import { DEFAULT_EVENTS_HOST, pagerDutyEventOf } from '../../adapters/pagerduty/pagerduty-event.ts';
import { alertMessage } from '../../adapters/slack/alert-message.ts';
import { incidentUpdateMessage } from '../../adapters/slack/slack-alert-channel.ts';
import { parseSmsProgress } from '../../adapters/sms/sms-progress.ts';
import { isSmsAlertKind, smsSegmentsOf, smsTextOf } from '../../adapters/sms/sms-text.ts';
import type { Alert } from '../../domain/alert.ts';
import type { DeliveryRecord, StoredAlert } from '../../ports/alert-outbox.ts';
import { renderSlackCard } from './block-kit-html.ts';
import { renderDiscordNotice } from './discord-notice-html.ts';
import { html, raw, type SafeHtml } from './html.ts';

/**
 * One channel's delivery of an alert, as that channel shows it. Each preview renders the stored
 * alert again with the adapter's own pure function (the one its channel sends, and the sandbox's
 * local sink renders): the outbox keeps alerts and outcomes, not what was sent, and these
 * functions are deterministic given the alert — with the delivery time where the text depends on it.
 */

export interface EmailAddresses {
  from: EmailAddress | undefined;
  to: EmailAddress[];
}

export interface PreviewOptions {
  emailHref(seq: number): string;
  emailAddressesOf?: ((alert: Alert) => EmailAddresses) | undefined;
  /** Who an alert's text goes to (Alerting.smsRecipientsOf); without it the panel names the settings. */
  smsRecipientsOf?: ((alert: Alert) => string[]) | undefined;
  /** server.publicUrl, which the text links to. */
  publicUrl?: string | undefined;
  /** The level of the headings inside a preview (the email's two parts). */
  headingLevel: number;
}

/** What the routing key is shown as: the event is the real one, the secret is not. */
export const ROUTING_KEY_PLACEHOLDER = '«routing key»';

export function slackPreview(alert: StoredAlert, delivery: DeliveryRecord): SafeHtml {
  // Slack's text says when a message went out late; the time it went out decides, as it did then.
  const now = new Date(delivery.deliveredAt ?? alert.createdAt);
  const update = alert.kind === 'acknowledged' || alert.kind === 'resolved';
  const message = update ? incidentUpdateMessage(alert, now) : alertMessage(alert, { mentions: [], now });
  const mentionsNote =
    !update && !isLocalRef(delivery.ref) && (alert.level === 'critical' || alert.level === 'emergency')
      ? html`<p class="ob-note">Slack also mentioned who was on call then; mentions are not stored, so they are not shown here.</p>`
      : '';
  return html`${update ? html`<p class="ob-note">Slack edits the incident's earlier messages to read:</p>` : ''}${renderSlackCard(message.blocks, { fallbackText: message.text })}${mentionsNote}`;
}

export function pagerDutyPreview(alert: Alert): SafeHtml {
  const request = pagerDutyEventOf(alert, { routingKey: ROUTING_KEY_PLACEHOLDER });
  if ('status' in request) return html`<p class="ob-note">Nothing is sent to PagerDuty: ${request.reason}.</p>`;
  const path = request.endpoint === 'change' ? '/v2/change/enqueue' : '/v2/enqueue';
  const what = request.endpoint === 'change' ? 'a change event: it never pages' : `Events API v2, ${request.body.event_action}`;
  return html`<p class="ob-endpoint"><span class="ob-label">POST</span> <code>https://${DEFAULT_EVENTS_HOST}${path}</code> <span class="ob-muted">(${what})</span></p>
<pre class="ob-pre ob-json">${JSON.stringify(request.body, null, 2)}</pre>`;
}

export function emailPreview(alert: StoredAlert, options: PreviewOptions): SafeHtml {
  if (!isEmailAlertKind(alert.kind)) return html`<p class="ob-note">Nothing is mailed: ${alert.kind} alerts are not sent by email.</p>`;
  const email = renderAlertEmail(alert);
  const addresses = options.emailAddressesOf?.(alert);
  const h = heading(options.headingLevel);
  return html`<dl class="ob-facts">
<dt>Subject</dt><dd>${email.subject}</dd>
<dt>From</dt><dd>${addresses ? (addresses.from ? addressText(addresses.from) : 'not set (alerting.email.from)') : 'alerting.email.from'}</dd>
<dt>To</dt><dd>${addresses ? addresses.to.map(addressText).join(', ') || 'nobody (alerts.emailTo is empty)' : "the target's alerts.emailTo"}</dd>
</dl>
${h.open}Text part${h.close}
<pre class="ob-pre">${email.text}</pre>
${h.open}HTML part${h.close}
<iframe class="ob-email-frame" sandbox title="HTML part of the email: ${email.subject}" src="${options.emailHref(alert.seq)}" loading="lazy"></iframe>`;
}

export function discordPreview(alert: Alert): SafeHtml {
  const plan = discordMessageOf(alert);
  if (plan.status === 'skipped') return html`<p class="ob-note">Nothing is posted to Discord: ${plan.reason}.</p>`;
  if (plan.status === 'failed') return html`<p class="ob-error">${plan.error}</p>`;
  const edits = alert.kind === 'community-resolved'
    ? html`<p class="ob-note">Discord edits the incident's notice to read this (and posts it anew only if that notice was deleted).</p>`
    : '';
  return html`${edits}${renderDiscordNotice(plan.body)}`;
}

/**
 * The text as sent, its size in the encoding it goes out in (GSM-7 septets or UCS-2 code units)
 * and segments, and each recipient with what happened to its message (from the delivery's ref).
 */
export function smsPreview(alert: StoredAlert, delivery: DeliveryRecord, options: Pick<PreviewOptions, 'smsRecipientsOf' | 'publicUrl'>): SafeHtml {
  if (!isSmsAlertKind(alert.kind)) return html`<p class="ob-note">Nothing is texted: ${alert.kind} alerts are not sent by SMS.</p>`;
  const text = smsTextOf(alert, { publicUrl: options.publicUrl });
  const size = smsSegmentsOf(text);
  const unit = size.encoding === 'GSM-7' ? 'GSM-7 characters' : 'UCS-2 code units (a character outside GSM-7 makes the whole text UCS-2)';
  const progress = parseSmsProgress(isLocalRef(delivery.ref) ? null : delivery.ref);
  const listed = options.smsRecipientsOf?.(alert);
  const numbers = [...new Set([...(listed ?? []), ...Object.keys(progress.sent), ...Object.keys(progress.refused), ...Object.keys(progress.pending)])];
  const stateOf = (n: string): SafeHtml => {
    if (progress.sent[n]) return html` — texted (<code>${progress.sent[n]}</code>)`;
    if (progress.refused[n]) return html` — refused: ${progress.refused[n]}`;
    if (progress.pending[n]) return html` — sent ${progress.pending[n]}, not confirmed yet (looked up in Twilio's log before any new try)`;
    return html``;
  };
  return html`<dl class="ob-facts">
<dt>To</dt><dd>${
    numbers.length > 0
      ? numbers.map((n) => html`<div class="ob-sms-to"><code>${n}</code>${stateOf(n)}</div>`)
      : listed
        ? 'nobody (alerts.smsTo and alerting.sms.to are empty)'
        : "the target's alerts.smsTo, else alerting.sms.to"
  }</dd>
<dt>Length</dt><dd>${size.units} ${unit}: ${size.segments} segment${size.segments === 1 ? '' : 's'}${size.segments === 1 ? '' : ' per number'}</dd>
</dl>
<pre class="ob-pre ob-sms">${text}</pre>`;
}

function addressText(address: EmailAddress): string {
  return address.name ? `${address.name} <${address.email}>` : address.email;
}

function heading(level: number): { open: SafeHtml; close: SafeHtml } {
  const n = Math.min(6, Math.max(2, Math.trunc(level)));
  return { open: raw(`<h${n} class="ob-part-title">`), close: raw(`</h${n}>`) };
}
