import { createHash } from 'node:crypto';
import type { Alert } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { isEmailAlertKind, renderAlertEmail } from './alert-email.ts';
import { parseRetryAfter } from '../http/retry-after.ts';

/**
 * Alert emails through the MailChannels Email API: one `POST {apiUrl}/send` per alert, one
 * personalization carrying every recipient, a text/plain part first and a text/html part.
 *
 * What the API does, as its OpenAPI spec and docs say (and how that maps to an outcome):
 * - 202 Accepted → delivered. The body is `{request_id, results: [{index, message_id, status:
 *   'sent'|'failed', reason?}]}` (older deployments answered 202 with no body; both are fine).
 *   A 2xx whose every result is `failed` sent nothing, so trying again cannot double it → retry.
 * - 400 `{errors: [...]}` (malformed body, bad address, …) → failed: the same request fails again.
 * - 401 (no or unknown key; the official SDK calls it `authentication_error`) and 403 (key without
 *   the Sending Email scope, or the sender's domain lacks its Domain Lockdown record) → failed.
 * - 413 (message over the size limit) → failed. 404 / 3xx can only mean a wrong MAILCHANNELS_API_URL.
 * - 429 → retry, no sooner than `Retry-After` (seconds or an HTTP date) when the API sends one.
 * - 5xx (500, 502 are documented), timeouts and connection errors → retry.
 *
 * Idempotency: the API has no idempotency key and `Message-ID` is a reserved header (MailChannels
 * sets it), so a crash between the API's 202 and the outbox recording it can send an alert twice.
 * The stable `X-Kevin-Deploy-Alert: <idempotency key>` header lets people and mail filters spot
 * such a twin; `References` groups one incident's emails into one thread in mail clients.
 *
 * The API key goes in the `X-Api-Key` header and nowhere else: outcomes never carry it, and text
 * quoted from MailChannels' answers is scrubbed of it in case an error echoes it back.
 */

export const MAILCHANNELS_API_URL = 'https://api.mailchannels.net/tx/v1';
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_DETAIL_CHARS = 300;
const MAX_HEADER_CHARS = 900;

export interface EmailAddress {
  email: string;
  name?: string | undefined;
}

export interface MailChannelsChannelOptions {
  /** MAILCHANNELS_API_KEY. */
  apiKey: string;
  /** MAILCHANNELS_API_URL; default https://api.mailchannels.net/tx/v1. */
  apiUrl?: string | undefined;
  from: EmailAddress;
  /** Everyone, or per alert (e.g. the target's `alerts.emailTo`); an empty list skips the alert. */
  to: EmailAddress[] | ((alert: Alert) => EmailAddress[]);
  fetch?: typeof fetch;
  /** Per request, answer included. Default 10 s. */
  timeoutMs?: number;
  /** For Retry-After given as an HTTP date. Default: the real clock. */
  clock?: () => Date;
}

/** The JSON body of POST /send, as much of it as alerts use. */
interface SendBody {
  personalizations: Array<{ to: EmailAddress[] }>;
  from: EmailAddress;
  subject: string;
  content: Array<{ type: 'text/plain' | 'text/html'; value: string }>;
  headers: Record<string, string>;
}

export class MailChannelsChannel implements AlertChannel {
  readonly name = 'email' as const;
  private readonly sendUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly clock: () => Date;

  constructor(private readonly options: MailChannelsChannelOptions) {
    // Configuration mistakes are reported once, at startup, rather than as a failure per alert.
    if (options.apiKey.trim() === '') throw new Error('the email channel needs MAILCHANNELS_API_KEY');
    if (options.from.email.trim() === '') throw new Error('the email channel needs a sender address (alerting.email.from)');
    const base = (options.apiUrl ?? MAILCHANNELS_API_URL).replace(/\/+$/, '');
    if (!URL.canParse(`${base}/send`)) throw new Error(`MAILCHANNELS_API_URL is not a URL: ${base}`);
    this.sendUrl = `${base}/send`;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = options.clock ?? (() => new Date());
  }

  async deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    const to = uniqueRecipients(typeof this.options.to === 'function' ? this.options.to(alert) : this.options.to);
    const skip = emailSkipReason(alert, to);
    if (skip !== undefined) return { status: 'skipped', reason: skip };

    let response: Response;
    try {
      response = await this.fetchImpl(this.sendUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': this.options.apiKey },
        body: JSON.stringify(this.bodyFor(alert, context, to)),
        // A redirected POST would be replayed as a GET by fetch; a redirect here is a wrong URL.
        redirect: 'manual',
        signal: context.signal ? AbortSignal.any([context.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return { status: 'retry', error: this.redact(this.unreachable(error)) };
    }
    const text = await response.text().catch(() => '');
    return this.outcomeOf(response, text, context);
  }

  private bodyFor(alert: Alert, context: DeliveryContext, to: EmailAddress[]): SendBody {
    const email = renderAlertEmail(alert);
    const from = this.options.from.name ? { email: this.options.from.email, name: this.options.from.name } : { email: this.options.from.email };
    return {
      personalizations: [{ to }],
      from,
      subject: email.subject,
      // Plain text first: MailChannels builds multipart/alternative in this order, and clients
      // show the last part they can render.
      content: [
        { type: 'text/plain', value: email.text },
        { type: 'text/html', value: email.html },
      ],
      headers: this.headersFor(alert, context),
    };
  }

  private headersFor(alert: Alert, context: DeliveryContext): Record<string, string> {
    const headers: Record<string, string> = {
      'X-Kevin-Deploy-Alert': headerValue(context.idempotencyKey),
      // RFC 3834: vacation auto-replies must not answer an alert.
      'Auto-Submitted': 'auto-generated',
    };
    if (alert.incidentKey) {
      headers['X-Kevin-Deploy-Incident'] = headerValue(alert.incidentKey);
      const digest = createHash('sha256').update(alert.incidentKey).digest('hex').slice(0, 32);
      headers.References = `<kd-incident.${digest}@${domainOf(this.options.from.email)}>`;
    }
    return headers;
  }

  private outcomeOf(response: Response, text: string, context: DeliveryContext): DeliveryOutcome {
    const status = response.status;
    if (status >= 200 && status < 300) {
      const notSent = unsentReason(text);
      if (notSent !== undefined) {
        return { status: 'retry', error: this.redact(`MailChannels took the request but sent nothing (${status}): ${notSent}`) };
      }
      return { status: 'delivered', ref: context.idempotencyKey };
    }
    const said = this.detailOf(text);
    const quote = said ? `; MailChannels said: ${said}` : '';
    switch (status) {
      case 400:
        return failed(`MailChannels refused the message (400)${quote}; check the sender (alerting.email.from) and the recipients (alerts.emailTo)`);
      case 401:
        return failed(`MailChannels rejected the API key (401): check MAILCHANNELS_API_KEY${quote}`);
      case 403: {
        const domain = domainOf(this.options.from.email);
        return failed(
          `MailChannels refused to send (403): check that MAILCHANNELS_API_KEY has the Sending Email scope and that ${domain} has a Domain Lockdown record (TXT _mailchannels.${domain})${quote}`,
        );
      }
      case 404:
        return failed(`MailChannels has no send endpoint at ${this.sendUrl} (404): check MAILCHANNELS_API_URL`);
      case 413:
        return failed(`MailChannels refused the message as too large (413)${quote}`);
      case 429:
        return {
          status: 'retry',
          error: `MailChannels is rate-limiting sends (429)${quote}`,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.clock()),
        };
      default:
        break;
    }
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      return failed(`MailChannels redirected the send${location ? ` to ${this.redact(location)}` : ''} (${status}): check MAILCHANNELS_API_URL`);
    }
    // 408 is the server giving up on a slow request: as transient as a 5xx.
    if (status >= 400 && status < 500 && status !== 408) return failed(`MailChannels answered ${status}${quote}`);
    return { status: 'retry', error: `MailChannels answered ${status}${quote}` };
  }

  /** What MailChannels said, in one short line: its `errors`, `error` or `message`, or the text of an HTML/plain page. */
  private detailOf(text: string): string {
    let detail: string;
    try {
      const json: unknown = JSON.parse(text);
      detail = messageOf(json);
    } catch {
      // An error page from a proxy in front of the API: its title says it all ("502 Bad Gateway").
      const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
      detail = (title ?? text).replace(/<[^>]*>/g, ' ');
    }
    return this.redact(truncate(detail.replace(/\s+/g, ' ').trim(), MAX_DETAIL_CHARS));
  }

  private unreachable(error: unknown): string {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return `MailChannels did not answer within ${this.timeoutMs} ms`;
    }
    return `could not reach MailChannels at ${new URL(this.sendUrl).host}: ${describeFetchError(error)}`;
  }

  private redact(text: string): string {
    const key = this.options.apiKey;
    return key.length >= 4 ? text.replaceAll(key, '[redacted]') : text;
  }
}

/**
 * Why no email goes out for this alert (undefined: it is sent to `to`). Pure, so the sandbox's
 * local sink skips exactly what MailChannels would be spared.
 */
export function emailSkipReason(alert: Alert, to: readonly EmailAddress[]): string | undefined {
  if (!isEmailAlertKind(alert.kind)) return `${alert.kind} alerts are not sent by email`;
  if (to.length === 0) return `no email recipients for ${alert.facts.service} ${alert.facts.environment} (alerts.emailTo)`;
  return undefined;
}

/** The recipients as sent: trimmed, without blanks, each address once (case-insensitively). */
export function uniqueRecipients(listed: readonly EmailAddress[]): EmailAddress[] {
  const seen = new Set<string>();
  const unique: EmailAddress[] = [];
  for (const r of listed) {
    const key = r.email.trim().toLowerCase();
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    unique.push(r.name ? { email: r.email.trim(), name: r.name } : { email: r.email.trim() });
  }
  return unique;
}

function failed(error: string): DeliveryOutcome {
  return { status: 'failed', error };
}

/** A 2xx whose per-personalization results are all `failed` delivered nothing; their reasons, if so. */
function unsentReason(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // an empty 202 (older API) or an unreadable body: the status is the answer
  }
  const results = typeof json === 'object' && json !== null ? (json as { results?: unknown }).results : undefined;
  if (!Array.isArray(results) || results.length === 0) return undefined;
  const statuses = results.map((r) => (typeof r === 'object' && r !== null ? (r as { status?: unknown }).status : undefined));
  if (!statuses.every((s) => s === 'failed')) return undefined;
  const reasons = results
    .map((r) => (r as { reason?: unknown }).reason)
    .filter((reason): reason is string => typeof reason === 'string' && reason !== '');
  return truncate(reasons.join('; ') || 'no reason given', MAX_DETAIL_CHARS);
}

function messageOf(json: unknown): string {
  if (typeof json === 'string') return json;
  if (typeof json !== 'object' || json === null) return '';
  const body = json as { errors?: unknown; error?: unknown; message?: unknown };
  if (Array.isArray(body.errors)) {
    return body.errors.map((e) => (typeof e === 'string' ? e : messageOf(e))).filter(Boolean).join('; ');
  }
  if (typeof body.error === 'string') return body.error;
  if (typeof body.message === 'string') return body.message;
  return '';
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at >= 0 ? email.slice(at + 1) : email;
}

/** Header values stay on one line: no CR/LF can reach the message's header block. */
function headerValue(text: string): string {
  return truncate(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), MAX_HEADER_CHARS);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
