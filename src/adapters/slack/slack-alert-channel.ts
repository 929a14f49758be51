import type { webApi } from '@slack/bolt';
import type { Alert, AlertKind } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import type { Clock } from '../../ports/clock.ts';
import { ALERT_METADATA_TYPE, alertMessage } from './alert-message.ts';
import { classify } from './card-publisher.ts';

type AlertMessage = ReturnType<typeof alertMessage>;

/** Kinds the deployment card already shows in full: the alerts channel stays for what needs a person. */
const SHOWN_ON_THE_CARD: ReadonlySet<AlertKind> = new Set(['release-started', 'release-succeeded', 'deploy-marker']);

export interface SlackAlertChannelOptions {
  client: webApi.WebClient;
  /** The alerts channel for a target (alerting.slack.channel, else the target's card channel). */
  channelFor(service: string, environment: string): string | undefined;
  /** Who to mention on critical and emergency alerts (the on-call person, else configured people). */
  mentions(): Promise<string[]>;
  clock: Clock;
}

/**
 * Slack as an alert channel: warning and above are posted to the alerts channel with the numbers,
 * the on-call mention (critical and emergency) and an Acknowledge button; an acknowledgement or
 * resolution edits those messages in place (`ref` is `channel|ts`). Info alerts are the
 * deployment card's job, so they are not repeated here.
 */
export class SlackAlertChannel implements AlertChannel {
  readonly name = 'slack' as const;

  constructor(private readonly o: SlackAlertChannelOptions) {}

  async deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    const skip = slackAlertSkipReason(alert, context.incidentRefs);
    if (skip !== undefined) return { status: 'skipped', reason: skip };
    try {
      if (alert.kind === 'acknowledged' || alert.kind === 'resolved') return await this.markIncident(alert, context);
      return await this.post(alert, context);
    } catch (error) {
      const verdict = classify(error);
      if (verdict.kind === 'permanent') return { status: 'failed', error: `Slack refused the alert: ${verdict.error}` };
      return { status: 'retry', error: `Slack: ${verdict.error}`, ...(verdict.kind === 'rate-limited' ? { retryAfterMs: verdict.retryAfterMs } : {}) };
    }
  }

  private async post(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    const channel = this.o.channelFor(alert.facts.service, alert.facts.environment);
    if (!channel) return { status: 'failed', error: 'no Slack channel for alerts: set alerting.slack.channel or slack.channel' };
    // A retry after an attempt whose answer was lost: find the message it may have posted first.
    if (context.attempt > 1) {
      const posted = await this.findPosted(channel, context.idempotencyKey, alert.createdAt);
      if (posted) return { status: 'delivered', ref: `${channel}|${posted}` };
    }
    const mentions = alert.level === 'critical' || alert.level === 'emergency' ? await this.o.mentions() : [];
    const message = alertMessage(alert, { mentions, now: this.o.clock.now() });
    const result = await this.o.client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      metadata: { event_type: ALERT_METADATA_TYPE, event_payload: { key: context.idempotencyKey } },
    });
    return { status: 'delivered', ref: `${result.channel ?? channel}|${result.ts}` };
  }

  private async findPosted(channel: string, key: string, since: string): Promise<string | undefined> {
    const history = await this.o.client.conversations
      .history({ channel, oldest: String(Math.floor(Date.parse(since) / 1000) - 1), include_all_metadata: true, limit: 200 })
      .catch(() => undefined);
    const found = history?.messages?.find((m) => {
      const metadata = (m as { metadata?: { event_type?: string; event_payload?: { key?: string } } }).metadata;
      return metadata?.event_type === ALERT_METADATA_TYPE && metadata.event_payload?.key === key;
    });
    return found?.ts;
  }

  /** Acknowledged or resolved: every message of the incident loses its button and says so. */
  private async markIncident(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    for (const ref of context.incidentRefs) {
      const [channel, ts] = ref.split('|');
      if (!channel || !ts) continue;
      const message = incidentUpdateMessage(alert, this.o.clock.now());
      await this.o.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
    }
    return { status: 'delivered', ref: context.incidentRefs.at(-1) };
  }
}

/**
 * Why the alerts channel carries nothing for this alert; undefined when it posts (or, for an
 * acknowledgement or resolution, edits the incident's messages). Pure, so the sandbox's local
 * sink skips exactly what Slack would.
 */
export function slackAlertSkipReason(alert: Alert, incidentRefs: readonly string[]): string | undefined {
  if (alert.kind.startsWith('community-')) return 'community notices go to Discord only';
  if (SHOWN_ON_THE_CARD.has(alert.kind) || (alert.level === 'info' && !alert.incidentKey)) return 'shown on the deployment card';
  if ((alert.kind === 'acknowledged' || alert.kind === 'resolved') && incidentRefs.length === 0) return 'the incident has no Slack message to update';
  return undefined;
}

/**
 * An acknowledgement or resolution as the incident's messages read once edited: the incident as
 * it was raised (level, title, time, trigger values), without its button, saying what happened since.
 */
export function incidentUpdateMessage(alert: Alert, now: Date): AlertMessage {
  const incident = alert.facts.incident;
  const original: Alert = incident
    ? { ...alert, level: incident.level, title: incident.title, createdAt: incident.createdAt, facts: { ...alert.facts, triggerDetails: incident.triggerDetails } }
    : alert;
  // "acknowledged by bob" (a person or PagerDuty), or the resolution's own title (blue verified healthy).
  const words = incident?.by ? `${alert.kind} by ${incident.by}` : alert.kind === 'resolved' ? `resolved: ${alert.title}` : alert.kind;
  const state = { kind: alert.kind as 'acknowledged' | 'resolved', words: `${words.charAt(0).toUpperCase()}${words.slice(1)} at ${alert.createdAt}` };
  return alertMessage(original, { mentions: [], now, state });
}
