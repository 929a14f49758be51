/**
 * A loopback stand-in for Twilio's Programmable Messaging REST API (2010-04-01), good enough for
 * the official `twilio` library — and so the SMS alert channel — to run against unchanged, with
 * TWILIO_API_URL pointing at it:
 *
 *   const fake = await startFakeTwilio();
 *   env: TWILIO_ACCOUNT_SID=fake.accountSid, TWILIO_AUTH_TOKEN=fake.authToken, TWILIO_FROM=fake.from, TWILIO_API_URL=fake.apiUrl
 *
 * How it answers, as Twilio documents its API (Message resource, "Twilio API responses", the
 * error dictionary):
 * - `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic with the account SID and
 *   auth token, `application/x-www-form-urlencoded` with `To`, `Body` and `From` or
 *   `MessagingServiceSid` → 201 with the Message resource in JSON (`sid` SM + 32 hex digits,
 *   `status` queued — accepted with a messaging service —, RFC 2822 dates, `num_segments`, …).
 * - `GET` on the same path → 200, one page of the account's messages, newest first, filtered by
 *   `To` and `From`, `PageSize` long (default 50), in Twilio's list envelope (`messages`, `page`,
 *   `page_size`, `uri`, `first_page_uri`, `next_page_uri`, …).
 * - Errors carry Twilio's JSON envelope `{code, message, more_info, status}`:
 *   401 20003 (no or wrong credentials, or the path's account is not the one authenticated);
 *   400 21604 (no To), 21602 (no Body), 21603 (no From nor MessagingServiceSid), 21617 (Body over
 *   1600 characters), 21211 (To not a valid phone number: not E.164, or listed in `invalidNumbers`),
 *   21610 (To unsubscribed: `unsubscribed`), 21606 (From is not one of this account's numbers);
 *   404 20404 (an unknown messaging service or path); 405 for other methods.
 *   It is stricter than Twilio in one place: a body that is not form-encoded is a 400 here.
 *
 * Faults (see FakeTwilio): rateLimit → 429 20429 ("Too Many Requests"), with `Retry-After` when
 * given; setDown → every request answers 503 (an HTML page, as a load balancer would) or has its
 * connection reset; failNext → one answer as given; stallNext → read, never answered;
 * acceptThenDrop → the message IS created (Twilio took it) and then the connection is reset, as
 * when an answer is lost. Faults apply to POSTs (sends) only; `setDown` applies to everything.
 *
 * Every request is recorded as a call; every accepted message as a message.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerWhileDown, sendAnswer as send, serveOnLoopback, takeFault as takeQueuedFault, type DownMode, type QueuedFault } from './fake-http-server.ts';

export interface FakeTwilioOptions {
  accountSid?: string;
  authToken?: string;
  /** The account's phone numbers (From). Default ['+15005550006']. */
  numbers?: string[];
  /** Messaging services of the account (MG…). Default none. */
  messagingServiceSids?: string[];
  /** Recipients Twilio refuses with 21211 even though they look like E.164. */
  invalidNumbers?: string[];
  /** Recipients that replied STOP: refused with 21610. */
  unsubscribed?: string[];
  clock?: () => Date;
}

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  numSegments: number;
  at: Date;
}

export interface FakeTwilioCall {
  method: string;
  path: string;
  /** Whether Basic auth carried the configured SID and token; the token itself is never recorded. */
  auth: 'ok' | 'missing' | 'invalid';
  contentType: string;
  /** The form fields of a POST, the query of a GET. */
  params: Record<string, string>;
  at: Date;
  /** What the fake answered; 0 = connection reset, -1 = stalled. */
  status: number;
  /** The Twilio error code answered, if any. */
  code?: number;
}

export interface FakeTwilio {
  /** `http://127.0.0.1:P` — TWILIO_API_URL. */
  readonly apiUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** The account's first number: TWILIO_FROM. */
  readonly from: string;
  messages(): FakeTwilioMessage[];
  calls(): FakeTwilioCall[];
  /** The next `times` sends answer 429 (code 20429), with `Retry-After: retryAfterSeconds` when given. */
  rateLimit(times?: number, retryAfterSeconds?: number): void;
  /** While down, every request answers `status` (503 default) or has its connection reset; false = up again. */
  setDown(mode?: number | 'reset' | false): void;
  /** The next send (to `only.to`, when given) answers `status` with `body` (an object is JSON) and `headers`. */
  failNext(status: number, body?: unknown, headers?: Record<string, string>, only?: { to?: string }): void;
  /** The next `times` sends are read and never answered. */
  stallNext(times?: number): void;
  /** The next `times` sends (to `only.to`, when given) are accepted (the message exists) and their answer is lost (connection reset). */
  acceptThenDrop(times?: number, only?: { to?: string }): void;
  /** Adds recipients that replied STOP. */
  unsubscribe(...numbers: string[]): void;
  clearFaults(): void;
  reset(): void;
  close(): Promise<void>;
}

type Fault = { to?: string | undefined } & (QueuedFault | { kind: 'drop'; remaining: number });

const HOST = '127.0.0.1';
const E164 = /^\+[1-9]\d{1,14}$/;
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

export function twilioError(status: number, code: number, message: string): { code: number; message: string; more_info: string; status: number } {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

export async function startFakeTwilio(options: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${'0123456789abcdef'.repeat(2)}`;
  const authToken = options.authToken ?? 'twilio-fake-auth-token-5f2c';
  const numbers = options.numbers ?? ['+15005550006'];
  const services = new Set(options.messagingServiceSids ?? []);
  const invalid = new Set(options.invalidNumbers ?? []);
  const unsubscribed = new Set(options.unsubscribed ?? []);
  const clock = options.clock ?? (() => new Date());
  const callLog: FakeTwilioCall[] = [];
  const messageLog: FakeTwilioMessage[] = [];
  const faults: Fault[] = [];
  let down: DownMode = false;

  /** The first queued fault for a send to `to` (faults for other numbers wait their turn). */
  function takeFault(to: string | undefined): Fault | undefined {
    return takeQueuedFault(faults, (f) => f.to === undefined || f.to === to);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const raw = await readBody(req);
    const at = clock();
    const contentType = req.headers['content-type'] ?? '';
    const method = req.method ?? 'GET';
    const params = method === 'POST' ? Object.fromEntries(new URLSearchParams(raw)) : Object.fromEntries(url.searchParams);
    const call: FakeTwilioCall = { method, path: url.pathname, auth: authOf(req.headers.authorization, accountSid, authToken), contentType, params, at, status: 0 };
    callLog.push(call);
    const answer = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      if (payload && typeof payload === 'object' && 'code' in payload && typeof payload.code === 'number') call.code = payload.code;
      send(res, status, payload, headers);
    };
    const error = (status: number, code: number, message: string, headers?: Record<string, string>) => answer(status, twilioError(status, code, message), headers);

    if (down !== false) {
      call.status = answerWhileDown(down, req, res);
      return;
    }
    const match = MESSAGES_PATH.exec(url.pathname);
    if (!match) return error(404, 20404, `The requested resource ${url.pathname} was not found`);
    if (call.auth !== 'ok' || decodeURIComponent(match[1]!) !== accountSid) return error(401, 20003, 'Authenticate');
    if (method === 'GET') return answer(200, listPage(url));
    if (method !== 'POST') return error(405, 20004, 'Method not allowed');

    const fault = takeFault(params.To);
    if (fault?.kind === 'stall') {
      call.status = -1;
      return;
    }
    if (fault?.kind === 'ratelimit') {
      return error(429, 20429, 'Too Many Requests', fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) });
    }
    if (fault?.kind === 'answer') return answer(fault.status, fault.body, fault.headers);

    if (!contentType.startsWith('application/x-www-form-urlencoded')) return error(400, 21602, 'Message body is required (the request must be application/x-www-form-urlencoded).');
    const to = params.To;
    const body = params.Body;
    const from = params.From;
    const service = params.MessagingServiceSid;
    if (!to) return error(400, 21604, "A 'To' phone number is required.");
    if (!body) return error(400, 21602, 'Message body is required.');
    if (!from && !service) return error(400, 21603, "A 'From' phone number is required.");
    if (body.length > 1600) return error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (service && !services.has(service)) return error(404, 20404, `The requested resource /Services/${service} was not found`);
    if (from && !numbers.includes(from)) return error(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`);
    if (!E164.test(to) || invalid.has(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (unsubscribed.has(to)) return error(400, 21610, 'Attempt to send to unsubscribed recipient');

    const message: FakeTwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from: from ?? null,
      messagingServiceSid: service ?? null,
      body,
      numSegments: segmentsOf(body),
      at,
    };
    messageLog.push(message);
    if (fault?.kind === 'drop') {
      call.status = 0;
      req.socket.destroy();
      return;
    }
    answer(201, resourceOf(message));
  }

  function resourceOf(m: FakeTwilioMessage): Record<string, unknown> {
    const date = m.at.toUTCString().replace('GMT', '+0000');
    return {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: date,
      date_sent: null,
      date_updated: date,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: '0',
      num_segments: String(m.numSegments),
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.messagingServiceSid ? 'accepted' : 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}/Media.json` },
      to: m.to,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${m.sid}.json`,
    };
  }

  function listPage(url: URL): Record<string, unknown> {
    const to = url.searchParams.get('To');
    const from = url.searchParams.get('From');
    const pageSize = Math.min(1000, Math.max(1, Number(url.searchParams.get('PageSize') ?? 50) || 50));
    const found = [...messageLog].reverse().filter((m) => (!to || m.to === to) && (!from || m.from === from));
    const page = found.slice(0, pageSize).map(resourceOf);
    const uri = `${url.pathname}?${url.searchParams.toString()}`;
    return {
      messages: page,
      end: Math.max(0, page.length - 1),
      first_page_uri: uri,
      next_page_uri: null,
      page: 0,
      page_size: pageSize,
      previous_page_uri: null,
      start: 0,
      uri,
    };
  }

  const server = await serveOnLoopback(handle, (message) => twilioError(500, 20500, message), HOST);

  return {
    apiUrl: `http://${HOST}:${server.port}`,
    accountSid,
    authToken,
    from: numbers[0]!,
    messages: () => messageLog.map((m) => structuredClone(m)),
    calls: () => callLog.map((c) => structuredClone(c)),
    rateLimit(times = 1, retryAfterSeconds) {
      faults.push({ kind: 'ratelimit', remaining: times, retryAfterSeconds });
    },
    setDown(mode = 503) {
      down = mode;
    },
    failNext(status, body, headers = {}, only = {}) {
      faults.push({ kind: 'answer', status, body, headers, to: only.to });
    },
    stallNext(times = 1) {
      faults.push({ kind: 'stall', remaining: times });
    },
    acceptThenDrop(times = 1, only = {}) {
      faults.push({ kind: 'drop', remaining: times, to: only.to });
    },
    unsubscribe(...list) {
      for (const n of list) unsubscribed.add(n);
    },
    clearFaults() {
      faults.length = 0;
      down = false;
    },
    reset() {
      callLog.length = 0;
      messageLog.length = 0;
    },
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------

function authOf(header: string | undefined, sid: string, token: string): FakeTwilioCall['auth'] {
  if (!header) return 'missing';
  const match = /^Basic\s+(.+)$/i.exec(header);
  if (!match) return 'invalid';
  return Buffer.from(match[1]!, 'base64').toString('utf8') === `${sid}:${token}` ? 'ok' : 'invalid';
}

/** The fake's own count, independent of the bot's: GSM-7 (basic + extension table) or UCS-2. */
const GSM = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXT = '\f^{}\\[~]|€';
function segmentsOf(body: string): number {
  const chars = [...body];
  if (chars.every((c) => GSM.includes(c) || GSM_EXT.includes(c))) {
    const septets = chars.reduce((n, c) => n + (GSM_EXT.includes(c) ? 2 : 1), 0);
    return septets <= 160 ? 1 : Math.ceil(septets / 153);
  }
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
