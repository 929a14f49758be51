/**
 * A loopback stand-in for the MailChannels Email API's send endpoint, good enough for the email
 * alert channel (or any plain fetch client) to run against unchanged:
 *
 *   const fake = await startFakeMailChannels({ apiKey: 'mc-test-key' });
 *   const channel = new MailChannelsChannel({ apiKey: 'mc-test-key', apiUrl: fake.apiUrl, … });
 *
 * How it answers, as MailChannels does (OpenAPI spec of the Email API, docs.mailchannels.com, and
 * MailChannels' own simulator in mailchannels-email-api-sdk-js):
 * - `POST /tx/v1/send` with the key in `X-Api-Key` and a JSON `MailSendBody`: `personalizations`
 *   (1–1000, each with 1–1000 `to`, optional `cc`/`bcc`/`subject`/`headers`), `from`, `subject`,
 *   `content` (`{type, value}`; text/plain first by convention), optional `reply_to` and `headers`.
 * - 202 Accepted with `{request_id, results: [{index, message_id, status: 'sent'}]}` (one result per
 *   personalization; `message_id` is what becomes the `Message-Id` header). With
 *   `acceptedBody: 'empty'` it answers 202 with no body and no content-type, as the API used to.
 * - `?dry-run=true` → 200 `{data: [<rendered message per personalization>], request_id}`, nothing sent.
 * - no `X-Api-Key`, or not the configured one → 401 `{error}` (the shape of MailChannels' simulator;
 *   the official SDK maps 401 to `authentication_error` "Authorization required."). Note the docs'
 *   error table lists a missing/invalid key under 403 — use failNext(403, …) for that answer.
 * - a body it cannot use → 400 `{errors: [...]}`, one string per problem: not JSON, no
 *   personalizations, a personalization without `to`, a bad address (to, cc, bcc, from, reply_to),
 *   no `from`, no subject, no content or an empty content value, a non-string header value. The
 *   wording is this fake's own. It is stricter than documented in one place: a reserved header
 *   (Message-ID, From, To, Subject, …, which the API says "cannot be modified") is a 400 here, so a
 *   client that tries to set one finds out in tests.
 * - a body over 30 MB → 413 `{errors}`; other paths → 404 `{error: 'Not Found'}`; other methods on /send → 405.
 *
 * Faults (see FakeMailChannels): rateLimit → 429 `{errors: ['Too many requests']}` with `Retry-After`
 * when given; setDown → 503 HTML page (or any status) or a reset connection for every request;
 * failNext → one answer with the status, body and headers given; stallNext → the request is read
 * and never answered (for client timeouts). Order: down, path, auth, size, the queued faults in the
 * order they were added, then JSON parsing and validation, then dry-run or accept.
 *
 * Every request is recorded as a call (also refused and faulted ones); accepted messages are also
 * recorded as messages, one per personalization, with the headers merged as the API merges them
 * (a personalization's header wins over the root's).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerWhileDown, sendAnswer as send, serveOnLoopback, takeFault as takeQueuedFault, type DownMode, type QueuedFault } from './fake-http-server.ts';

export interface FakeMailChannelsOptions {
  /** The key `X-Api-Key` must carry. Default 'mc-test-api-key'. */
  apiKey?: string;
  /** Stamps calls and messages. Default: the real clock. */
  clock?: () => Date;
  /** What a 202 carries: the current `SendResults` JSON (default) or nothing, as the API used to. */
  acceptedBody?: 'results' | 'empty';
}

export interface FakeMailAddress {
  email: string;
  name?: string;
}

export interface FakeMailChannelsMessage {
  requestId: string;
  /** The Message-ID MailChannels would give it (`<uuid@mailchannels.net>`). */
  messageId: string;
  to: FakeMailAddress[];
  cc: FakeMailAddress[];
  bcc: FakeMailAddress[];
  from: FakeMailAddress;
  replyTo?: FakeMailAddress;
  subject: string;
  /** The text/plain content, '' when absent. */
  text: string;
  /** The text/html content, '' when absent. */
  html: string;
  /** Root headers merged with the personalization's, names as sent. */
  headers: Record<string, string>;
  at: Date;
}

export interface FakeMailChannelsCall {
  method: string;
  path: string;
  dryRun: boolean;
  /** Whether X-Api-Key was the configured key; the key itself is never recorded. */
  auth: 'ok' | 'missing' | 'invalid';
  contentType: string;
  /** The parsed JSON body; undefined when it was not JSON. */
  body: unknown;
  at: Date;
  /** What the fake answered; 0 = connection reset, -1 = stalled (never answered). */
  status: number;
}

export interface FakeMailChannels {
  /** `http://127.0.0.1:P/tx/v1` — the channel's apiUrl. */
  readonly apiUrl: string;
  readonly apiKey: string;
  /** Accepted (not dry-run) messages, oldest first. */
  messages(): FakeMailChannelsMessage[];
  /** Every request, oldest first. */
  calls(): FakeMailChannelsCall[];
  /** The next `times` sends answer 429, with `Retry-After: retryAfterSeconds` when given. */
  rateLimit(times?: number, retryAfterSeconds?: number): void;
  /** While down, every request answers `status` (503 by default) or has its connection reset; `false` = up again. */
  setDown(mode?: number | 'reset' | false): void;
  /** The next send answers `status` with `body` (an object is sent as JSON, a string as text/plain) and `headers`. */
  failNext(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** The next `times` sends are read and never answered. */
  stallNext(times?: number): void;
  /** Drops queued faults and the down state. */
  clearFaults(): void;
  /** Forgets calls and messages. */
  reset(): void;
  close(): Promise<void>;
}

type Fault = QueuedFault;

const HOST = '127.0.0.1';
const BASE_PATH = '/tx/v1';
const MAX_BODY_BYTES = 30 * 1024 * 1024;
const RESERVED_HEADERS = new Set(
  ['Authentication-Results', 'BCC', 'CC', 'Content-Transfer-Encoding', 'Content-Type', 'DKIM-Signature', 'From', 'Message-ID', 'Received', 'Reply-To', 'Subject', 'To'].map(
    (h) => h.toLowerCase(),
  ),
);
/** Good enough to catch the mistakes that matter (no @, spaces, angle brackets, no domain dot). */
const EMAIL_PATTERN = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export async function startFakeMailChannels(options: FakeMailChannelsOptions = {}): Promise<FakeMailChannels> {
  const apiKey = options.apiKey ?? 'mc-test-api-key';
  const clock = options.clock ?? (() => new Date());
  const acceptedBody = options.acceptedBody ?? 'results';
  const callLog: FakeMailChannelsCall[] = [];
  const messageLog: FakeMailChannelsMessage[] = [];
  const faults: Fault[] = [];
  let down: DownMode = false;

  const takeFault = (): Fault | undefined => takeQueuedFault(faults);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const { text: raw, tooLarge } = await readBody(req);
    const at = clock();
    const header = req.headers['x-api-key'];
    const given = Array.isArray(header) ? header[0] : header;
    const auth: FakeMailChannelsCall['auth'] = given === undefined || given === '' ? 'missing' : given === apiKey ? 'ok' : 'invalid';
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const call: FakeMailChannelsCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      dryRun: url.searchParams.get('dry-run') === 'true',
      auth,
      contentType: req.headers['content-type'] ?? '',
      body,
      at,
      status: 0,
    };
    callLog.push(call);
    const answer = (status: number, payload?: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      send(res, status, payload, headers);
    };

    if (down !== false) {
      call.status = answerWhileDown(down, req, res);
      return;
    }
    if (url.pathname !== `${BASE_PATH}/send`) return answer(404, { error: 'Not Found' });
    if (req.method !== 'POST') return answer(405, { error: 'Method Not Allowed' }, { allow: 'POST' });
    if (auth === 'missing') return answer(401, { error: 'Missing X-API-Key header.' });
    if (auth === 'invalid') return answer(401, { error: 'Invalid API key.' });

    if (tooLarge) {
      return answer(413, { errors: ['Payload too large - the total message size should not exceed 30MB'] });
    }

    const fault = takeFault();
    if (fault?.kind === 'stall') {
      call.status = -1;
      return; // read, never answered; close() ends the connection
    }
    if (fault?.kind === 'ratelimit') {
      const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return answer(429, { errors: ['Too many requests'] }, headers);
    }
    if (fault?.kind === 'answer') return answer(fault.status, fault.body, fault.headers);

    if (body === undefined) return answer(400, { errors: [raw === '' ? 'request body is required' : 'request body is not valid JSON'] });
    const problems = validate(body);
    if (problems.length > 0) return answer(400, { errors: problems });

    const mail = body as MailSendBody;
    const requestId = `req_${randomUUID().replaceAll('-', '')}`;
    if (call.dryRun) {
      return answer(200, { data: mail.personalizations.map((p) => render(mail, p)), request_id: requestId });
    }
    const results = mail.personalizations.map((p, index) => {
      const messageId = `<${randomUUID()}@mailchannels.net>`;
      messageLog.push(messageOf(mail, p, requestId, messageId, at));
      return { index, message_id: messageId, status: 'sent' };
    });
    if (acceptedBody === 'empty') return answer(202);
    answer(202, { request_id: requestId, results });
  }

  const server = await serveOnLoopback(handle, (message) => ({ errors: [message] }), HOST);

  return {
    apiUrl: `http://${HOST}:${server.port}${BASE_PATH}`,
    apiKey,
    messages: () => messageLog.map((m) => structuredClone(m)),
    calls: () => callLog.map((c) => structuredClone(c)),
    rateLimit(times = 1, retryAfterSeconds) {
      faults.push({ kind: 'ratelimit', remaining: times, retryAfterSeconds });
    },
    setDown(mode = 503) {
      down = mode;
    },
    failNext(status, body, headers = {}) {
      faults.push({ kind: 'answer', status, body, headers });
    },
    stallNext(times = 1) {
      faults.push({ kind: 'stall', remaining: times });
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

interface MailSendBody {
  personalizations: Personalization[];
  from: FakeMailAddress;
  reply_to?: FakeMailAddress;
  subject: string;
  content: Array<{ type: string; value: string }>;
  headers?: Record<string, string>;
}

interface Personalization {
  to: FakeMailAddress[];
  cc?: FakeMailAddress[];
  bcc?: FakeMailAddress[];
  from?: FakeMailAddress;
  reply_to?: FakeMailAddress;
  subject?: string;
  headers?: Record<string, string>;
}

/** Every problem with the body, as the `errors` of a 400; [] when it can be sent. */
function validate(body: unknown): string[] {
  if (!isObject(body)) return ['request body must be a JSON object'];
  const problems: string[] = [];
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problems.push('personalizations: at least one personalization is required');
  } else if (personalizations.length > 1000) {
    problems.push('personalizations: at most 1000 personalizations are allowed');
  } else {
    personalizations.forEach((p, i) => {
      const at = `personalizations[${i}]`;
      if (!isObject(p)) {
        problems.push(`${at}: must be an object`);
        return;
      }
      if (!Array.isArray(p.to) || p.to.length === 0) problems.push(`${at}.to: at least one recipient is required`);
      for (const field of ['to', 'cc', 'bcc'] as const) {
        const list = p[field];
        if (list === undefined && field !== 'to') continue;
        if (!Array.isArray(list)) {
          if (field !== 'to') problems.push(`${at}.${field}: must be a list of addresses`);
          continue;
        }
        if (list.length > 1000) problems.push(`${at}.${field}: at most 1000 recipients are allowed`);
        list.forEach((address, j) => problems.push(...addressProblems(address, `${at}.${field}[${j}]`)));
      }
      if (p.from !== undefined) problems.push(...addressProblems(p.from, `${at}.from`));
      if (p.reply_to !== undefined) problems.push(...addressProblems(p.reply_to, `${at}.reply_to`));
      if (p.headers !== undefined) problems.push(...headerProblems(p.headers, `${at}.headers`));
    });
  }
  if (body.from === undefined) problems.push('from: a sender address is required');
  else problems.push(...addressProblems(body.from, 'from'));
  if (body.reply_to !== undefined) problems.push(...addressProblems(body.reply_to, 'reply_to'));
  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) && personalizations.length > 0 && personalizations.every((p) => isObject(p) && nonEmptyString(p.subject));
  if (!nonEmptyString(body.subject) && !everyPersonalizationHasSubject) problems.push('subject: a subject is required');
  const content = body.content;
  if (!Array.isArray(content) || content.length === 0) {
    problems.push('content: at least one content item is required');
  } else {
    content.forEach((item, i) => {
      if (!isObject(item) || !nonEmptyString(item.type)) problems.push(`content[${i}].type: a MIME type is required`);
      if (!isObject(item) || typeof item.value !== 'string') problems.push(`content[${i}].value: required`);
      else if (item.value === '') problems.push(`content[${i}].value: must not be empty`);
    });
  }
  if (body.headers !== undefined) problems.push(...headerProblems(body.headers, 'headers'));
  return problems;
}

function addressProblems(value: unknown, at: string): string[] {
  if (!isObject(value)) return [`${at}: must be an object with an email`];
  if (typeof value.email !== 'string' || value.email === '') return [`${at}.email: required`];
  if (!EMAIL_PATTERN.test(value.email)) return [`${at}.email: "${value.email}" is not a valid email address`];
  if (value.name !== undefined && typeof value.name !== 'string') return [`${at}.name: must be a string`];
  return [];
}

function headerProblems(value: unknown, at: string): string[] {
  if (!isObject(value)) return [`${at}: must be an object of string values`];
  const problems: string[] = [];
  for (const [name, v] of Object.entries(value)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push(`${at}: the header "${name}" is reserved and cannot be set`);
    if (typeof v !== 'string') problems.push(`${at}.${name}: header values must be strings`);
    else if (/[\r\n]/.test(v)) problems.push(`${at}.${name}: header values must be one line`);
  }
  return problems;
}

function messageOf(mail: MailSendBody, p: Personalization, requestId: string, messageId: string, at: Date): FakeMailChannelsMessage {
  const replyTo = p.reply_to ?? mail.reply_to;
  return {
    requestId,
    messageId,
    to: p.to,
    cc: p.cc ?? [],
    bcc: p.bcc ?? [],
    from: p.from ?? mail.from,
    ...(replyTo ? { replyTo } : {}),
    subject: p.subject ?? mail.subject,
    text: mail.content.find((c) => c.type === 'text/plain')?.value ?? '',
    html: mail.content.find((c) => c.type === 'text/html')?.value ?? '',
    headers: mergedHeaders(mail, p),
    at,
  };
}

/** The personalization's header wins over the root's of the same name (case-insensitively). */
function mergedHeaders(mail: MailSendBody, p: Personalization): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const [name, value] of Object.entries(mail.headers ?? {})) merged.set(name.toLowerCase(), [name, value]);
  for (const [name, value] of Object.entries(p.headers ?? {})) merged.set(name.toLowerCase(), [name, value]);
  return Object.fromEntries(merged.values());
}

/** A dry-run rendering: the message as MIME text, headers and every content part. */
function render(mail: MailSendBody, p: Personalization): string {
  const m = messageOf(mail, p, 'dry-run', '<dry-run@mailchannels.net>', new Date(0));
  const boundary = 'mc-dry-run-boundary';
  const lines = [
    `From: ${addressText(m.from)}`,
    `To: ${m.to.map(addressText).join(', ')}`,
    ...(m.cc.length > 0 ? [`Cc: ${m.cc.map(addressText).join(', ')}`] : []),
    ...(m.replyTo ? [`Reply-To: ${addressText(m.replyTo)}`] : []),
    `Subject: ${m.subject}`,
    `Message-Id: ${m.messageId}`,
    ...Object.entries(m.headers).map(([name, value]) => `${name}: ${value}`),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
  ];
  for (const part of mail.content) {
    lines.push(`--${boundary}`, `Content-Type: ${part.type}; charset=utf-8`, '', part.value);
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

function addressText(a: FakeMailAddress): string {
  return a.name ? `"${a.name}" <${a.email}>` : a.email;
}

/** The whole body, read to the end even when too large (so the answer reaches the client). */
async function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  return { text: size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : '', tooLarge: size > MAX_BODY_BYTES };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}
