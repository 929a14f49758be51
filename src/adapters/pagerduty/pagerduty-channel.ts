import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import { change, event } from '@pagerduty/pdjs';
import type { Alert } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { parseRetryAfter } from '../http/retry-after.ts';
import { DEFAULT_EVENTS_HOST, pagerDutyEventOf, truncate, type PagerDutyLink, type PagerDutyRequest } from './pagerduty-event.ts';

export { DEFAULT_EVENTS_HOST, type PagerDutyLink } from './pagerduty-event.ts';

/**
 * PagerDuty as an alert channel, through the Events API v2 (pdjs `event()` / `change()`), sending
 * what pagerDutyEventOf (pagerduty-event.ts) builds:
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

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_ERROR = 500;

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
    const request = pagerDutyEventOf(alert, { routingKey: this.options.routingKey, links: this.options.links });
    if ('status' in request) return request;
    const outcome = await this.send(request);
    if (outcome.status !== 'delivered') return outcome;
    // Change events have no dedup_key: nothing later refers to a deploy marker.
    return request.endpoint === 'event' ? { status: 'delivered', ref: request.body.dedup_key } : { status: 'delivered' };
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

function describeBody(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { status, message, errors } = body as { status?: unknown; message?: unknown; errors?: unknown };
  const parts = [status, message].filter((p): p is string => typeof p === 'string' && p !== '');
  const list = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  return [parts.join(': '), list.join('; ')].filter((p) => p !== '').join(' — ');
}
