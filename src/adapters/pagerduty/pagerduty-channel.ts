import { createHash } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { change, event } from '@pagerduty/pdjs';
import type { Alert, AlertKind, AlertLevel } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { parseRetryAfter } from '../http/retry-after.ts';
import { alertOutcome } from '../../domain/alert-outcome.ts';

/**
 * PagerDuty as an alert channel, through the Events API v2 (pdjs `event()` / `change()`):
 * - incident kinds `trigger` an alert whose dedup_key is the alert's incidentKey, so every alert
 *   of one incident (and every retry of one alert) lands on the same PagerDuty alert;
 * - `acknowledged` / `resolved` send `acknowledge` / `resolve` with that same dedup_key;
 * - `deploy-marker` is a Change Event (`/v2/change/enqueue`), which never pages;
 * - `community-*` kinds are the public channel's, not PagerDuty's: skipped.
 *
 * Outcomes, as the Events API documents its answers: 2xx → delivered (ref = the dedup_key);
 * 429 → retry no sooner than its Retry-After; 408, 5xx, timeouts and connection errors → retry;
 * any other 4xx → failed (the event or the routing key is wrong: sending it again cannot help).
 * The routing key is a secret: it is scrubbed from every error this channel returns.
 */

export interface PagerDutyLink {
  href: string;
  text: string;
}

export interface PagerDutyChannelOptions {
  /** The Events API v2 integration key (PAGERDUTY_ROUTING_KEY). */
  routingKey: string;
  /** `host[:port]` of the Events API — pdjs always speaks https. Default events.pagerduty.com (PAGERDUTY_EVENTS_HOST). */
  eventsHost?: string | undefined;
  /** The HTTPS agent to connect through (tests: one trusting the fake's CA). Default: Node's global agent. */
  agent?: https.Agent | undefined;
  /** How long one attempt may take before it counts as a timeout (and is retried). Default 10 s. */
  timeoutMs?: number | undefined;
  /** Links attached to every event after the alert's own, e.g. a runbook. */
  links?: readonly PagerDutyLink[] | undefined;
}

export const DEFAULT_EVENTS_HOST = 'events.pagerduty.com';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Events API limits: summary ≤ 1024 characters, dedup_key ≤ 255. */
const MAX_SUMMARY = 1024;
const MAX_DEDUP_KEY = 255;
const MAX_ERROR = 500;

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

interface AlertEventBody {
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

interface ChangeEventBody {
  routing_key: string;
  payload: { summary: string; source: string; timestamp: string; custom_details: Record<string, unknown> };
  links: PagerDutyLink[];
}

type PagerDutyRequest =
  | { endpoint: 'event'; body: AlertEventBody }
  | { endpoint: 'change'; body: ChangeEventBody };

export class PagerDutyChannel implements AlertChannel {
  readonly name = 'pagerduty' as const;
  private readonly host: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: PagerDutyChannelOptions) {
    this.host = options.eventsHost ?? DEFAULT_EVENTS_HOST;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async deliver(alert: Alert, _context: DeliveryContext): Promise<DeliveryOutcome> {
    if (this.options.routingKey.trim() === '') return { status: 'failed', error: 'no PagerDuty routing key configured' };
    const request = this.requestFor(alert);
    if ('status' in request) return request;
    const outcome = await this.send(request);
    if (outcome.status !== 'delivered') return outcome;
    // Change events have no dedup_key: nothing later refers to a deploy marker.
    return request.endpoint === 'event' ? { status: 'delivered', ref: request.body.dedup_key } : { status: 'delivered' };
  }

  private requestFor(alert: Alert): PagerDutyRequest | Extract<DeliveryOutcome, { status: 'skipped' }> {
    const routingKey = this.options.routingKey;
    const links = [...(alert.facts.links ?? []), ...(this.options.links ?? [])].map(({ href, text }) => ({ href, text }));
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

  private async send(request: PagerDutyRequest): Promise<DeliveryOutcome> {
    const attempt = singleRequestAgent(this.options.agent ?? https.globalAgent);
    const parameters = {
      server: this.host,
      // pdjs's EventPayloadV2 type wants a payload on every event (and change() is typed with it
      // too), though acknowledge/resolve carry none and change events have no event_action.
      data: request.body as unknown as Parameters<typeof event>[0]['data'],
      agent: attempt.agent,
      // pdjs's own `requestTimeout` only starts a no-op timer; node-fetch 2 honours the signal.
      signal: AbortSignal.timeout(this.timeoutMs),
      requestTimeout: 0,
      retryTimeout: 0,
    };
    try {
      const response = await (request.endpoint === 'change' ? change(parameters) : event(parameters));
      return this.outcomeOf(response.status, response.data, response.headers.get('retry-after'));
    } catch (err) {
      // pdjs rejects when a body is not JSON (a proxy's 502 page) and when its own 429 retry is
      // stopped: the status seen on the wire still decides.
      const seen = attempt.firstResponse();
      if (seen) return this.outcomeOf(seen.status, undefined, seen.retryAfter);
      return { status: 'retry', error: this.scrub(this.describeFailure(err)) };
    }
  }

  private outcomeOf(status: number, body: unknown, retryAfter: string | null | undefined): DeliveryOutcome {
    if (status >= 200 && status < 300) return { status: 'delivered' };
    const what = describeBody(body);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(retryAfter);
      return {
        status: 'retry',
        error: this.scrub(`PagerDuty is throttling events (429)${what ? `: ${what}` : ''}`),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    if (status === 408 || status >= 500 || status < 400) {
      return { status: 'retry', error: this.scrub(`PagerDuty answered ${status}${what ? `: ${what}` : ''}`) };
    }
    return { status: 'failed', error: this.scrub(`PagerDuty refused the event (${status})${what ? `: ${what}` : ''}`) };
  }

  private describeFailure(err: unknown): string {
    if (err instanceof Error && err.name === 'AbortError') return `PagerDuty did not answer within ${this.timeoutMs} ms`;
    const message = err instanceof Error ? err.message : String(err);
    return `could not reach PagerDuty at ${this.host}: ${message}`;
  }

  /** Whatever an error says (PagerDuty may echo what it was sent), the routing key never leaves this object. */
  private scrub(text: string): string {
    const key = this.options.routingKey;
    const clean = key.length > 0 ? text.split(key).join('[routing key]') : text;
    return truncate(clean, MAX_ERROR);
  }
}

// ---------------------------------------------------------------------------------------------
// One request per attempt

interface ObservedResponse {
  status: number;
  retryAfter: string | undefined;
}

/** Node's Agent has addRequest at run time; @types/node does not declare it. */
interface RequestQueue {
  addRequest(request: ClientRequest, options: unknown): void;
}

/**
 * pdjs 2.2.4 (build/src/common.js) retries a 429 by itself — three more times, `retryTimeout`
 * apart (20 s by default) — and has no switch to turn that off. The outbox already retries with
 * backoff and honours Retry-After; a second loop underneath would hammer a throttled service and
 * hold the dispatcher's lease. So each attempt gets an agent that lets exactly one request out:
 * node-fetch asks a function-valued `agent` for an agent once per request, and a second ask means
 * pdjs is retrying — throwing there rejects pdjs's promise before anything is sent.
 *
 * It also remembers the first response's status and Retry-After, which pdjs drops when it retries
 * (and when a body is not JSON, which makes pdjs reject instead of resolving).
 */
export function singleRequestAgent(base: https.Agent): {
  agent: () => https.Agent;
  firstResponse: () => ObservedResponse | undefined;
} {
  let requests = 0;
  let observed: ObservedResponse | undefined;
  // A view of `base` (same sockets, same TLS options) whose only difference is that it watches the response.
  const observing = Object.create(base) as https.Agent & RequestQueue;
  observing.addRequest = (request: ClientRequest, options: unknown) => {
    request.once('response', (response: IncomingMessage) => {
      const retryAfter = response.headers['retry-after'];
      observed ??= { status: response.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
    });
    (base as unknown as RequestQueue).addRequest(request, options);
  };
  return {
    agent: () => {
      requests += 1;
      if (requests > 1) throw new Error('pdjs retried a request by itself; the outbox retries instead');
      return observing;
    },
    firstResponse: () => observed,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

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

function describeBody(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { status, message, errors } = body as { status?: unknown; message?: unknown; errors?: unknown };
  const parts = [status, message].filter((p): p is string => typeof p === 'string' && p !== '');
  const list = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  return [parts.join(': '), list.join('; ')].filter((p) => p !== '').join(' — ');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  // Never split a surrogate pair: half an emoji is not valid UTF-8 on the wire.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…`;
}
