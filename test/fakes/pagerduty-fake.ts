/**
 * A loopback stand-in for PagerDuty — the Events API v2 and the part of the REST API the bot reads —
 * good enough for the real `@pagerduty/pdjs` to run against unchanged:
 *
 *   const fake = await startFakePagerDuty({ apiToken: 'pd-rest-token', onCalls: [...] });
 *   const agent = fake.agent();                       // trusts the fake's certificate
 *   await event({ server: fake.host, agent, data });  // pdjs always builds https://<server>/v2/enqueue
 *   await api({ url: `${fake.apiUrl}/oncalls`, token: 'pd-rest-token', agent });
 *
 * ONE HTTPS server on 127.0.0.1 with a certificate generated at start (selfsigned, for 127.0.0.1 and
 * localhost): pdjs's event() hard-codes `https://`, so a plain-HTTP fake cannot be reached. Trust it
 * through `agent()` (or `ca`), not NODE_EXTRA_CA_CERTS, which is read once per process.
 *
 * How it answers, as PagerDuty documents it (developer docs "Send an Alert Event", "Send a Change
 * Event", the Events v2 OpenAPI, REST "Errors"):
 * - `POST /v2/enqueue` — `routing_key` (32 characters; with `routingKeys` given, one of them),
 *   `event_action` trigger|acknowledge|resolve; a trigger needs `payload.summary`, `payload.source`
 *   and `payload.severity` (critical|error|warning|info); acknowledge/resolve need `dedup_key`.
 *   Refused: 400 `{status:'invalid event', message:'Event object is invalid', errors:[…]}`; a body
 *   that is not a JSON object: 400 `{status:'Unrecognized object', message:'Event object format is
 *   unrecognized', errors:['JSON parse error']}`. Accepted: 202 `{status:'success', message:'Event
 *   processed', dedup_key}` — a trigger without a dedup_key gets a generated one.
 *   Stricter than the docs promise (so our own bugs show): a summary over 1024 characters, a
 *   dedup_key over 255, an unparsable `payload.timestamp` and a link without `href` are refused too.
 * - `POST /v2/change/enqueue` — `routing_key` and `payload.summary` required; 202
 *   `{status:'success', message:'Change event processed'}`. Change events never touch incidents.
 * - `GET /oncalls` — needs `Authorization: Token token=<apiToken>`, else 401
 *   `{error:{message:'Authentication failed', code:2006}}`. Filters `escalation_policy_ids[]`;
 *   `earliest=true` keeps one entry per (policy, level, user); `include[]=users` turns each `user`
 *   reference (`{id, type:'user_reference', summary, …}`, no email) into the full user (name, email).
 *   Answers `{oncalls:[{escalation_policy, escalation_level, schedule, user, start, end}], limit,
 *   offset, more, total:null}`. Any other REST path: 404 `{error:{message:'Not Found', code:2100}}`.
 *
 * The incident model (per routing key + dedup key), as the Events API behaves: a trigger opens an
 * alert or adds to the open one with that key (counted in `triggers`); acknowledge/resolve apply to
 * the open one, and are accepted (202) but dropped when there is none; a trigger after a resolve
 * opens a new incident. Events sent through another routing key do not touch it.
 *
 * Faults (see FakePagerDuty): rateLimit → 429 (+ `Retry-After` when given) with
 * `{status:'throttle event', message:'Requests for this service are arriving too quickly. Please
 * retry later.'}` on the Events API and `{error:{message:'Rate Limit Exceeded', code:2020}}` on REST;
 * setDown → every request answers 503 (or the given status) with an HTML page, has its connection
 * reset ('reset'), or is never answered ('hang'); failNext → one answer of your choosing.
 * Order: down, then the queued faults in the order they were added, then validation/auth.
 *
 * How pdjs 2.2.4 takes them: non-2xx answers resolve (they do not reject) with `status` and `data`;
 * a body that is not JSON rejects (FetchError invalid-json); a reset rejects (FetchError system);
 * a 429 is retried by pdjs itself, 3 times, `retryTimeout` ms apart (20 s by default).
 *
 * Every request is recorded (method, path, query, headers, parsed body, time, the status answered).
 * `signedWebhook()` sends a V3 webhook signed the way PagerDuty signs it, for the bot's endpoint.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { generate } from 'selfsigned';
import { listenOnLoopback } from './listen-on-loopback.ts';

export type FakeApi = 'events' | 'rest';
export type EventAction = 'trigger' | 'acknowledge' | 'resolve';
export type IncidentStatus = 'triggered' | 'acknowledged' | 'resolved';

export interface FakeOnCall {
  escalationPolicyId: string;
  /** 1 = first. */
  level: number;
  user: { id?: string; name: string; email?: string };
  schedule?: { id: string; name?: string } | null;
  start?: string | null;
  end?: string | null;
}

export interface FakePagerDutyOptions {
  /** REST API token accepted by `GET /oncalls`. Default 'pd-rest-token'. */
  apiToken?: string;
  /** When given, only these routing keys are accepted (others: 400 'Invalid routing key'). Default: any 32-character key. */
  routingKeys?: string[];
  onCalls?: FakeOnCall[];
  /** Drives record times and incident history. Default: the real clock. */
  clock?: () => Date;
}

export interface FakePagerDutyRequest {
  api: FakeApi;
  method: string;
  /** Without the query string. */
  path: string;
  query: Record<string, string[]>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON; the raw text when it was not JSON; undefined when empty. */
  body: unknown;
  at: Date;
  /** What the fake answered. 0 = connection reset, -1 = never answered (setDown 'hang'). */
  status: number;
}

export interface FakeAlertEvent {
  routingKey: string;
  action: EventAction;
  dedupKey: string;
  body: Record<string, unknown>;
  at: Date;
  /** An acknowledge/resolve with no open incident of that key: accepted, but PagerDuty drops it. */
  dropped: boolean;
}

export interface FakeChangeEvent {
  routingKey: string;
  body: Record<string, unknown>;
  at: Date;
}

export interface FakeIncident {
  routingKey: string;
  dedupKey: string;
  status: IncidentStatus;
  triggers: number;
  acknowledges: number;
  resolves: number;
  /** The latest trigger's payload and links. */
  payload: Record<string, unknown>;
  links: unknown[];
  history: Array<{ action: EventAction; at: Date }>;
}

export interface FakePagerDuty {
  /** `127.0.0.1:P` — pdjs's `server` for event()/change(). */
  readonly host: string;
  /** `https://127.0.0.1:P` — the REST base URL. */
  readonly apiUrl: string;
  /** The certificate (PEM) to trust. */
  readonly ca: string;
  readonly apiToken: string;

  /** A new HTTPS agent trusting the fake (closed with the fake). */
  agent(): https.Agent;
  /** Every request (also refused and faulted ones), oldest first; only those of `path` when given. */
  requests(path?: string): FakePagerDutyRequest[];
  /** Accepted alert events (trigger/acknowledge/resolve), oldest first. */
  events(): FakeAlertEvent[];
  changeEvents(): FakeChangeEvent[];
  /** Every incident, oldest first (a re-trigger after a resolve is a new one). */
  incidents(): FakeIncident[];
  /** The latest incident with this dedup key (and routing key, when given). */
  incident(dedupKey: string, routingKey?: string): FakeIncident | undefined;

  /** The next `times` requests (of `api` when given) answer 429, with `Retry-After: retryAfterSeconds` when given. */
  rateLimit(times: number, retryAfterSeconds?: number, options?: { api?: FakeApi }): void;
  /** Until setUp(): every request answers `status` (default 503, an HTML page), is reset, or hangs. */
  setDown(mode?: number | 'reset' | 'hang'): void;
  setUp(): void;
  /** The next request (of `api` when given) answers `status` with `body` (JSON unless a string). */
  failNext(status: number, body?: unknown, options?: { api?: FakeApi; headers?: Record<string, string> }): void;
  clearFaults(): void;
  setOnCalls(onCalls: FakeOnCall[]): void;
  /** Forgets requests, events and incidents (keeps on-calls, faults cleared). */
  reset(): void;
  close(): Promise<void>;
}

type Fault =
  | { kind: 'ratelimit'; remaining: number; retryAfterSeconds: number | undefined; api: FakeApi | undefined }
  | { kind: 'fail'; status: number; body: unknown; headers: Record<string, string>; api: FakeApi | undefined };

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const HOST = '127.0.0.1';
const ACTIONS: readonly string[] = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES: readonly string[] = ['critical', 'error', 'warning', 'info'];
const INVALID = { status: 'invalid event', message: 'Event object is invalid' } as const;
const UNRECOGNIZED = {
  status: 'Unrecognized object',
  message: 'Event object format is unrecognized',
  errors: ['JSON parse error'],
} as const;
const THROTTLED = {
  status: 'throttle event',
  message: 'Requests for this service are arriving too quickly. Please retry later.',
} as const;

function invalid(...errors: string[]): Answer {
  return { status: 400, body: { ...INVALID, errors } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function blank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  const clock = options.clock ?? (() => new Date());
  const apiToken = options.apiToken ?? 'pd-rest-token';
  const allowedKeys = options.routingKeys ? new Set(options.routingKeys) : undefined;
  let onCalls = [...(options.onCalls ?? [])];

  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: HOST }, { type: 2, value: 'localhost' }] },
    ],
  });

  const requestLog: FakePagerDutyRequest[] = [];
  const eventLog: FakeAlertEvent[] = [];
  const changeLog: FakeChangeEvent[] = [];
  const incidentList: FakeIncident[] = [];
  const faults: Fault[] = [];
  const agents: https.Agent[] = [];
  const sockets = new Set<Socket>();
  let down: false | number | 'reset' | 'hang' = false;

  function openIncident(routingKey: string, dedupKey: string): FakeIncident | undefined {
    for (let i = incidentList.length - 1; i >= 0; i--) {
      const incident = incidentList[i];
      if (incident && incident.routingKey === routingKey && incident.dedupKey === dedupKey) {
        return incident.status === 'resolved' ? undefined : incident;
      }
    }
    return undefined;
  }

  function takeFault(api: FakeApi): Fault | undefined {
    const index = faults.findIndex((f) => f.api === undefined || f.api === api);
    if (index < 0) return undefined;
    const fault = faults[index];
    if (!fault) return undefined;
    if (fault.kind === 'ratelimit' && fault.remaining > 1) fault.remaining -= 1;
    else faults.splice(index, 1);
    return fault;
  }

  function checkRoutingKey(value: unknown): string[] {
    if (blank(value)) return ["'routing_key' is missing or blank"];
    const key = value as string;
    if (key.length !== 32) return ['Routing key is the wrong length (should be 32 characters)'];
    if (allowedKeys && !allowedKeys.has(key)) return ['Invalid routing key'];
    return [];
  }

  function checkLinks(value: unknown): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return ["'links' must be an array"];
    return value.some((link) => !isRecord(link) || blank(link.href)) ? ["'links' entries need an 'href'"] : [];
  }

  function enqueue(body: unknown, at: Date): Answer {
    if (!isRecord(body)) return { status: 400, body: UNRECOGNIZED };
    const errors = [...checkRoutingKey(body.routing_key)];
    const action = body.event_action;
    if (typeof action !== 'string' || !ACTIONS.includes(action)) {
      errors.push("'event_action' is missing or invalid (must be one of: trigger, acknowledge, resolve)");
    }
    const dedupKey = body.dedup_key;
    if (dedupKey !== undefined && typeof dedupKey !== 'string') errors.push("'dedup_key' must be a string");
    if (typeof dedupKey === 'string' && dedupKey.length > 255) errors.push("'dedup_key' is longer than 255 characters");
    if (action === 'trigger') {
      const payload = body.payload;
      if (!isRecord(payload)) {
        errors.push("'payload' is missing or blank");
      } else {
        if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
        else if ((payload.summary as string).length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
        if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
        if (blank(payload.severity)) errors.push("'payload.severity' is missing or blank");
        else if (!SEVERITIES.includes(payload.severity as string)) {
          errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
        }
        if (payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) {
          errors.push("'payload.timestamp' is not a valid timestamp");
        }
      }
    } else if (action === 'acknowledge' || action === 'resolve') {
      if (blank(dedupKey)) errors.push("'dedup_key' is missing or blank");
    }
    errors.push(...checkLinks(body.links));
    if (errors.length > 0) return invalid(...errors);

    const routingKey = body.routing_key as string;
    const eventAction = action as EventAction;
    const key = typeof dedupKey === 'string' && dedupKey !== '' ? dedupKey : randomUUID().replace(/-/g, '');
    let incident = openIncident(routingKey, key);
    let dropped = false;
    if (eventAction === 'trigger') {
      if (!incident) {
        incident = { routingKey, dedupKey: key, status: 'triggered', triggers: 0, acknowledges: 0, resolves: 0, payload: {}, links: [], history: [] };
        incidentList.push(incident);
      }
      incident.triggers += 1;
      incident.payload = clone(body.payload as Record<string, unknown>);
      incident.links = Array.isArray(body.links) ? clone(body.links) : [];
    } else if (!incident) {
      dropped = true;
    } else if (eventAction === 'acknowledge') {
      incident.acknowledges += 1;
      incident.status = 'acknowledged';
    } else {
      incident.resolves += 1;
      incident.status = 'resolved';
    }
    incident?.history.push({ action: eventAction, at });
    eventLog.push({ routingKey, action: eventAction, dedupKey: key, body: clone(body), at, dropped });
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
  }

  function changeEnqueue(body: unknown, at: Date): Answer {
    if (!isRecord(body)) return { status: 400, body: UNRECOGNIZED };
    const errors = [...checkRoutingKey(body.routing_key)];
    const payload = body.payload;
    if (!isRecord(payload)) errors.push("'payload' is missing or blank");
    else if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
    else if ((payload.summary as string).length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
    if (isRecord(payload) && payload.timestamp !== undefined && (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))) {
      errors.push("'payload.timestamp' is not a valid timestamp");
    }
    errors.push(...checkLinks(body.links));
    if (errors.length > 0) return invalid(...errors);
    changeLog.push({ routingKey: body.routing_key as string, body: clone(body), at });
    return { status: 202, body: { status: 'success', message: 'Change event processed' } };
  }

  function userOf(user: FakeOnCall['user'], full: boolean): Record<string, unknown> {
    const id = user.id ?? `PU${user.name.replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 5).padEnd(5, 'X')}`;
    const reference = {
      id,
      summary: user.name,
      self: `https://api.pagerduty.com/users/${id}`,
      html_url: `https://kevin.pagerduty.com/users/${id}`,
    };
    if (!full) return { ...reference, type: 'user_reference' };
    return { ...reference, type: 'user', name: user.name, ...(user.email ? { email: user.email } : {}), time_zone: 'Etc/UTC' };
  }

  function listOnCalls(query: Record<string, string[]>): Answer {
    const policies = query['escalation_policy_ids[]'] ?? [];
    const includeUsers = (query['include[]'] ?? []).includes('users');
    const earliest = query.earliest?.[0] === 'true';
    const limit = Math.min(Number(query.limit?.[0] ?? 25) || 25, 100);
    const offset = Number(query.offset?.[0] ?? 0) || 0;
    let matching = onCalls.filter((o) => policies.length === 0 || policies.includes(o.escalationPolicyId));
    if (earliest) {
      const seen = new Set<string>();
      matching = matching.filter((o) => {
        const key = `${o.escalationPolicyId}/${o.level}/${o.user.id ?? o.user.name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    const page = matching.slice(offset, offset + limit).map((o) => ({
      escalation_policy: {
        id: o.escalationPolicyId,
        type: 'escalation_policy_reference',
        summary: `Policy ${o.escalationPolicyId}`,
        self: `https://api.pagerduty.com/escalation_policies/${o.escalationPolicyId}`,
        html_url: `https://kevin.pagerduty.com/escalation_policies/${o.escalationPolicyId}`,
      },
      escalation_level: o.level,
      schedule: o.schedule
        ? { id: o.schedule.id, type: 'schedule_reference', summary: o.schedule.name ?? o.schedule.id }
        : null,
      user: userOf(o.user, includeUsers),
      start: o.start ?? null,
      end: o.end ?? null,
    }));
    return { status: 200, body: { oncalls: page, limit, offset, more: offset + limit < matching.length, total: null } };
  }

  function rest(method: string, path: string, query: Record<string, string[]>, headers: IncomingHttpHeaders): Answer {
    if (headers.authorization !== `Token token=${apiToken}`) {
      return { status: 401, body: { error: { message: 'Authentication failed', code: 2006 } } };
    }
    if (method === 'GET' && path === '/oncalls') return listOnCalls(query);
    return { status: 404, body: { error: { message: 'Not Found', code: 2100 } } };
  }

  function send(res: ServerResponse, answer: Answer): void {
    const text = typeof answer.body === 'string' ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
    const contentType = typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8';
    res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', `https://${HOST}`);
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
    const api: FakeApi = url.pathname.startsWith('/v2/') ? 'events' : 'rest';
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
      }
    }
    const at = clock();
    const record: FakePagerDutyRequest = { api, method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers, body, at, status: -1 };
    requestLog.push(record);

    const answer = (a: Answer): void => {
      record.status = a.status;
      send(res, a);
    };

    if (down === 'reset') {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    if (down === 'hang') return;
    if (down !== false) return answer({ status: down, body: `<html><body><h1>${down} Service Unavailable</h1></body></html>` });

    const fault = takeFault(api);
    if (fault?.kind === 'ratelimit') {
      return answer({
        status: 429,
        body: api === 'events' ? THROTTLED : { error: { message: 'Rate Limit Exceeded', code: 2020 } },
        headers: fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      });
    }
    if (fault?.kind === 'fail') return answer({ status: fault.status, body: fault.body, headers: fault.headers });

    if (api === 'rest') return answer(rest(record.method, url.pathname, query, req.headers));
    if (record.method !== 'POST') return answer({ status: 404, body: { status: 'not found', message: 'Not Found' } });
    if (url.pathname === '/v2/enqueue') return answer(enqueue(body, at));
    if (url.pathname === '/v2/change/enqueue') return answer(changeEnqueue(body, at));
    return answer({ status: 404, body: { status: 'not found', message: 'Not Found' } });
  }

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      }
    });
  });
  // Remembered so close() can end hanging and kept-alive connections (closeAllConnections does not see raw TLS sockets in every Node version).
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listenOnLoopback(server, HOST);
  const host = `${HOST}:${port}`;

  return {
    host,
    apiUrl: `https://${host}`,
    ca: pems.cert,
    apiToken,
    agent() {
      const agent = new https.Agent({ ca: pems.cert, keepAlive: false });
      agents.push(agent);
      return agent;
    },
    requests: (path) => requestLog.filter((r) => path === undefined || r.path === path),
    events: () => [...eventLog],
    changeEvents: () => [...changeLog],
    incidents: () => [...incidentList],
    incident(dedupKey, routingKey) {
      for (let i = incidentList.length - 1; i >= 0; i--) {
        const incident = incidentList[i];
        if (incident && incident.dedupKey === dedupKey && (routingKey === undefined || incident.routingKey === routingKey)) return incident;
      }
      return undefined;
    },
    rateLimit(times, retryAfterSeconds, faultOptions = {}) {
      if (times > 0) faults.push({ kind: 'ratelimit', remaining: times, retryAfterSeconds, api: faultOptions.api });
    },
    setDown(mode = 503) {
      down = mode;
    },
    setUp() {
      down = false;
    },
    failNext(status, body, faultOptions = {}) {
      faults.push({ kind: 'fail', status, body, headers: faultOptions.headers ?? {}, api: faultOptions.api });
    },
    clearFaults() {
      faults.length = 0;
      down = false;
    },
    setOnCalls(list) {
      onCalls = [...list];
    },
    reset() {
      requestLog.length = 0;
      eventLog.length = 0;
      changeLog.length = 0;
      incidentList.length = 0;
      faults.length = 0;
      down = false;
    },
    async close() {
      for (const agent of agents) agent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// V3 webhooks, as PagerDuty sends them to the bot

export interface WebhookInput {
  eventType: string;
  incidentKey?: string;
  /** The agent's summary (a person's name); null = PagerDuty itself acted (agent: null). */
  agent?: string | null;
  incidentId?: string;
  occurredAt?: string;
  eventId?: string;
  status?: string;
  title?: string;
  htmlUrl?: string;
}

/** A V3 webhook body (`{event:{…, data: incident}}`) as the developer docs show it. */
export function pagerDutyWebhookBody(input: WebhookInput): string {
  const incidentId = input.incidentId ?? 'PGR0VU2';
  const status =
    input.status ?? (input.eventType === 'incident.acknowledged' ? 'acknowledged' : input.eventType === 'incident.resolved' ? 'resolved' : 'triggered');
  const agent =
    input.agent === null
      ? null
      : {
          html_url: 'https://kevin.pagerduty.com/users/PLH1HKV',
          id: 'PLH1HKV',
          self: 'https://api.pagerduty.com/users/PLH1HKV',
          summary: input.agent ?? 'Tenex Engineer',
          type: 'user_reference',
        };
  return JSON.stringify({
    event: {
      id: input.eventId ?? randomUUID(),
      event_type: input.eventType,
      resource_type: 'incident',
      occurred_at: input.occurredAt ?? '2026-11-26T09:00:00.000Z',
      agent,
      client: { name: 'PagerDuty' },
      data: {
        id: incidentId,
        type: 'incident',
        self: `https://api.pagerduty.com/incidents/${incidentId}`,
        html_url: input.htmlUrl ?? `https://kevin.pagerduty.com/incidents/${incidentId}`,
        number: 2,
        status,
        ...(input.incidentKey !== undefined ? { incident_key: input.incidentKey } : {}),
        created_at: '2026-11-26T08:59:00Z',
        title: input.title ?? 'A little bump in the road',
        service: { id: 'PF9KMXH', type: 'service_reference', summary: 'kevinstamp' },
        urgency: 'high',
        resolve_reason: null,
      },
    },
  });
}

/** `X-PagerDuty-Signature`: `v1=<hex HMAC-SHA256 of the raw body>` per secret, comma-separated. */
export function pagerDutySignature(rawBody: string | Buffer, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`).join(',');
}

/**
 * POSTs a signed V3 webhook to `url` (the bot's endpoint) the way PagerDuty delivers it, and says
 * what the endpoint answered. `secret` may be several (PagerDuty signs with each while rotating).
 */
export async function signedWebhook(
  url: string,
  secret: string | readonly string[],
  input: WebhookInput,
): Promise<{ status: number; text: string; sentBody: string }> {
  const body = pagerDutyWebhookBody(input);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'PagerDuty-Webhook/V3.0',
      'x-webhook-id': randomBytes(8).toString('hex'),
      'x-webhook-subscription': 'PSUBSCR',
      'x-pagerduty-signature': pagerDutySignature(body, secrets),
    },
    body,
  });
  return { status: response.status, text: await response.text(), sentBody: body };
}
