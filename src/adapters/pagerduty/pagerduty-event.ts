import { createHash } from 'node:crypto';
import type { Alert, AlertKind, AlertLevel } from '../../domain/alert.ts';
import { alertOutcome } from '../../domain/alert-outcome.ts';

/**
 * The Events API v2 body PagerDutyChannel sends for an alert, as a pure function: the channel
 * posts it, the sandbox's local sink and the console's Outbox show it — one rendering for all
 * three, and no pdjs to load for the two that never send.
 *
 * - incident kinds `trigger` an alert whose dedup_key is the alert's incidentKey, so every alert
 *   of one incident (and every retry of one alert) lands on the same PagerDuty alert;
 * - `acknowledged` / `resolved` send `acknowledge` / `resolve` with that same dedup_key;
 * - `deploy-marker` is a Change Event (`/v2/change/enqueue`), which never pages;
 * - `community-*` kinds are the public channel's, not PagerDuty's: skipped.
 */

export interface PagerDutyLink {
  href: string;
  text: string;
}

export const DEFAULT_EVENTS_HOST = 'events.pagerduty.com';

/** Events API limits: summary ≤ 1024 characters, dedup_key ≤ 255. */
const MAX_SUMMARY = 1024;
const MAX_DEDUP_KEY = 255;

type Severity = 'critical' | 'error' | 'warning' | 'info';

/**
 * PagerDuty's "severity sets urgency" rule makes `critical` high urgency (it wakes someone) and the
 * rest low, so only our emergency is PagerDuty's critical; our critical (an automatic rollback
 * that is already fixing things) is `error`.
 */
const SEVERITY: Record<AlertLevel, Severity> = {
  info: 'info',
  warning: 'warning',
  critical: 'error',
  emergency: 'critical',
};

type TriggerKind = Exclude<AlertKind, 'deploy-marker' | 'acknowledged' | 'resolved' | `community-${string}`>;

export interface AlertEventBody {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: Severity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: PagerDutyLink[];
}

export interface ChangeEventBody {
  routing_key: string;
  payload: { summary: string; source: string; timestamp: string; custom_details: Record<string, unknown> };
  links: PagerDutyLink[];
}

/** Which endpoint gets which body: `event` is /v2/enqueue, `change` is /v2/change/enqueue. */
export type PagerDutyRequest =
  | { endpoint: 'event'; body: AlertEventBody }
  | { endpoint: 'change'; body: ChangeEventBody };

export interface PagerDutyEventOptions {
  /** The Events API v2 integration key; the console passes a placeholder, never the secret. */
  routingKey: string;
  /** Links attached to every event after the alert's own, e.g. a runbook. */
  links?: readonly PagerDutyLink[] | undefined;
}

/** The request PagerDuty gets for `alert`, or why it gets none. */
export function pagerDutyEventOf(alert: Alert, options: PagerDutyEventOptions): PagerDutyRequest | { status: 'skipped'; reason: string } {
  const routingKey = options.routingKey;
  const links = [...(alert.facts.links ?? []), ...(options.links ?? [])].map(({ href, text }) => ({ href, text }));
  if (isCommunityKind(alert.kind)) {
    return { status: 'skipped', reason: `${alert.kind} is for the community channel, not PagerDuty` };
  }
  if (alert.kind === 'deploy-marker') {
    return {
      endpoint: 'change',
      body: {
        routing_key: routingKey,
        payload: {
          summary: truncate(oneLine(`${alert.facts.service} ${alert.facts.environment}: ${alert.title}`), MAX_SUMMARY),
          source: sourceOf(alert),
          timestamp: alert.createdAt,
          custom_details: detailsOf(alert),
        },
        links,
      },
    };
  }
  if (alert.kind === 'acknowledged' || alert.kind === 'resolved') {
    if (!alert.incidentKey) {
      return { status: 'skipped', reason: `an ${alert.kind} alert without an incidentKey names no PagerDuty incident` };
    }
    const action = alert.kind === 'acknowledged' ? 'acknowledge' : 'resolve';
    return { endpoint: 'event', body: { routing_key: routingKey, event_action: action, dedup_key: dedupKeyOf(alert.incidentKey) } };
  }
  const firstLink = links[0];
  return {
    endpoint: 'event',
    body: {
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: dedupKeyOf(alert.incidentKey ?? alert.id),
      payload: {
        summary: summaryOf(alert, alert.kind),
        source: sourceOf(alert),
        severity: SEVERITY[alert.level],
        // The original time: an event delivered late (after an outage) still says when it happened.
        timestamp: alert.createdAt,
        component: alert.facts.service,
        group: alert.facts.environment,
        class: alert.kind,
        custom_details: detailsOf(alert),
      },
      client: 'kevin-deploy',
      ...(firstLink ? { client_url: firstLink.href } : {}),
      links,
    },
  };
}

function isCommunityKind(kind: AlertKind): kind is Extract<AlertKind, `community-${string}`> {
  return kind.startsWith('community-');
}

function summaryOf(alert: Alert, kind: TriggerKind): string {
  const f = alert.facts;
  const outcome = alertOutcome({ ...alert, kind });
  const reason = f.reason.trim();
  return truncate(oneLine(`[${alert.level.toUpperCase()}] ${f.service} ${f.environment}: ${outcome}${reason ? ` — ${reason}` : ''}`), MAX_SUMMARY);
}

function sourceOf(alert: Alert): string {
  return `kevin-deploy/${alert.facts.service}/${alert.facts.environment}`;
}

/** The facts an engineer needs on the incident page; undefined ones are dropped by JSON. */
function detailsOf(alert: Alert): Record<string, unknown> {
  const f = alert.facts;
  return {
    title: alert.title,
    service: f.service,
    environment: f.environment,
    deployment_id: f.deploymentId,
    version: f.version ? { id: f.version.id, tag: f.version.tag } : undefined,
    previous_version: f.previousVersion ? { id: f.previousVersion.id, tag: f.previousVersion.tag } : undefined,
    stage: f.stage,
    reason: f.reason,
    trigger: f.trigger,
    trigger_details: f.triggerDetails,
    requested_by: f.requestedBy,
    alert_id: alert.id,
    level: alert.level,
  };
}

/**
 * PagerDuty refuses a dedup_key over 255 characters. A longer key is shortened the same way every
 * time (prefix + hash), so the resolve still finds the trigger.
 */
function dedupKeyOf(key: string): string {
  if (key.length <= MAX_DEDUP_KEY) return key;
  const hash = createHash('sha256').update(key).digest('hex');
  return `${key.slice(0, MAX_DEDUP_KEY - hash.length - 1)}~${hash}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts at `max` characters with an ellipsis, never inside a surrogate pair (half an emoji is not valid UTF-8 on the wire). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}
