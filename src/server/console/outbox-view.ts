import { isEmailAlertKind, renderAlertEmail } from '../../adapters/email/alert-email.ts';
import { isLocalRef } from '../../adapters/local-sink/local-sink-channel.ts';
import { ALERT_CHANNELS, type Alert, type AlertChannelName } from '../../domain/alert.ts';
import type { DeliveryRecord, StoredAlert } from '../../ports/alert-outbox.ts';
import { discordPreview, emailPreview, pagerDutyPreview, slackPreview, smsPreview, type EmailAddresses, type PreviewOptions } from './delivery-previews.ts';
import { html, raw, timeTag, type SafeHtml } from './html.ts';

/** The console draws releases' Slack cards beside the alerts with the same Block Kit renderer. */
export { renderSlackCard } from './block-kit-html.ts';

/**
 * The Outbox: every alert, newest first, and each channel's delivery of it — its state (delivered
 * locally, delivered, pending, failed, skipped and why) and, folded in a <details>, the message as
 * that channel shows it. A fragment for the console's page (which brings the layout and links
 * outbox.css); its classes are all `ob-`, and it has no inline style, so it runs under a CSP
 * without 'unsafe-inline'.
 */

export interface OutboxViewOptions {
  /** Where the email's HTML part is served (emailPreviewDocument), for a sandboxed frame. */
  emailHref(seq: number): string;
  /** Who an email is from and to (Alerting.emailAddressesOf); without it the panel names the settings. */
  emailAddressesOf?: ((alert: Alert) => EmailAddresses) | undefined;
  /** Who an alert's text goes to (Alerting.smsRecipientsOf); without it the panel names the settings. */
  smsRecipientsOf?: ((alert: Alert) => string[]) | undefined;
  /** server.publicUrl, which the SMS text links to. */
  publicUrl?: string | undefined;
  /** The level of each alert's heading: 3 (default) fits a page with an h1 and an h2 above the list. */
  headingLevel?: 2 | 3 | 4 | undefined;
}

const CHANNEL_NAMES: Record<AlertChannelName, string> = { slack: 'Slack', pagerduty: 'PagerDuty', email: 'Email', discord: 'Discord', sms: 'SMS' };

export function renderOutbox(alerts: readonly StoredAlert[], options: OutboxViewOptions): SafeHtml {
  if (alerts.length === 0) {
    return html`<p class="ob-empty">No alerts yet. A release raises them as it goes (started, rolled back, succeeded…); they appear here as each channel shows them.</p>`;
  }
  const level = options.headingLevel ?? 3;
  const previews: PreviewOptions = {
    emailHref: options.emailHref,
    emailAddressesOf: options.emailAddressesOf,
    smsRecipientsOf: options.smsRecipientsOf,
    publicUrl: options.publicUrl,
    headingLevel: level + 1,
  };
  const newestFirst = [...alerts].sort((a, b) => b.seq - a.seq);
  return html`<div class="ob-outbox">${newestFirst.map((alert) => renderAlert(alert, level, previews))}</div>`;
}

/**
 * The email's HTML part as the complete document it is sent as, for the console to serve into a
 * sandboxed frame under its own CSP (the email's inline styles are the email's). Undefined when
 * the alert has no email to show: not an email kind, or skipped for email (or never routed there).
 */
export function emailPreviewDocument(alert: StoredAlert): string | undefined {
  const delivery = alert.deliveries.find((d) => d.channel === 'email');
  if (!delivery || delivery.status === 'skipped' || !isEmailAlertKind(alert.kind)) return undefined;
  return renderAlertEmail(alert).html;
}

function renderAlert(alert: StoredAlert, level: number, previews: PreviewOptions): SafeHtml {
  const id = `ob-alert-${alert.seq}`;
  const f = alert.facts;
  const deliveries = [...alert.deliveries].sort((a, b) => ALERT_CHANNELS.indexOf(a.channel) - ALERT_CHANNELS.indexOf(b.channel));
  return html`<article class="ob-alert" aria-labelledby="${id}">
${raw(`<h${level} class="ob-alert-title" id="${id}">`)}<span class="ob-level ob-level-${alert.level}">${alert.level.toUpperCase()}</span> ${alert.title}${raw(`</h${level}>`)}
<p class="ob-alert-meta"><span class="ob-kind">${alert.kind}</span> · <span>${f.service} / ${f.environment}</span> · raised ${timeTag(alert.createdAt)} · <span class="ob-muted">#${alert.seq}, release <code>${f.deploymentId}</code></span>${incidentState(alert)}</p>
${
  deliveries.length === 0
    ? html`<p class="ob-note">Routed to no channel.</p>`
    : html`<ul class="ob-deliveries" aria-label="Deliveries">${deliveries.map((d) => renderDelivery(alert, d, previews))}</ul>`
}
</article>`;
}

function incidentState(alert: StoredAlert): SafeHtml {
  const parts: SafeHtml[] = [];
  if (alert.acknowledgedAt) parts.push(html` · acknowledged${alert.acknowledgedBy ? ` by ${alert.acknowledgedBy}` : ''} ${timeTag(alert.acknowledgedAt)}`);
  if (alert.escalatedAt) parts.push(html` · escalated ${timeTag(alert.escalatedAt)}`);
  if (alert.resolvedAt) parts.push(html` · resolved ${timeTag(alert.resolvedAt)}`);
  return html`${parts}`;
}

/** A skipped delivery is one line (the channel sends nothing); every other one folds its preview. */
function renderDelivery(alert: StoredAlert, d: DeliveryRecord, previews: PreviewOptions): SafeHtml {
  const state = stateOf(d);
  const head = html`<span class="ob-channel">${CHANNEL_NAMES[d.channel]}</span> <span class="ob-state ob-tone-${state.tone}">${state.words}</span>`;
  if (d.status === 'skipped') {
    return html`<li class="ob-delivery ob-delivery-skipped">${head}${d.lastError ? html`<span class="ob-reason">: ${d.lastError}</span>` : ''}</li>`;
  }
  return html`<li class="ob-delivery"><details class="ob-details">
<summary>${head}</summary>
<div class="ob-panel">
${d.status !== 'delivered' && d.lastError ? html`<p class="ob-error"><span class="ob-label">${d.status === 'failed' ? 'Error' : 'Last error'}:</span> ${d.lastError}</p>` : ''}
${preview(alert, d, previews)}
</div>
</details></li>`;
}

function preview(alert: StoredAlert, d: DeliveryRecord, previews: PreviewOptions): SafeHtml {
  switch (d.channel) {
    case 'slack':
      return slackPreview(alert, d);
    case 'pagerduty':
      return pagerDutyPreview(alert);
    case 'email':
      return emailPreview(alert, previews);
    case 'discord':
      return discordPreview(alert);
    case 'sms':
      return smsPreview(alert, d, previews);
  }
}

/** The delivery's state in words (and a tone for its colour, which never carries it alone). */
function stateOf(d: DeliveryRecord): { tone: 'ok' | 'wait' | 'bad' | 'off'; words: SafeHtml } {
  switch (d.status) {
    case 'delivered':
      return isLocalRef(d.ref)
        ? { tone: 'ok', words: html`delivered locally${d.deliveredAt ? html` ${timeTag(d.deliveredAt)}` : ''} (not sent: no account)` }
        : { tone: 'ok', words: html`delivered${d.deliveredAt ? html` ${timeTag(d.deliveredAt)}` : ''}` };
    case 'pending':
      return {
        tone: 'wait',
        words:
          d.attempts === 0
            ? html`pending, due ${timeTag(d.nextAttemptAt)}`
            : html`pending after ${attempts(d.attempts)}, next attempt ${timeTag(d.nextAttemptAt)}`,
      };
    case 'failed':
      return { tone: 'bad', words: html`failed after ${attempts(d.attempts)}` };
    case 'skipped':
      return { tone: 'off', words: html`skipped` };
  }
}

function attempts(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}
