import twilio from 'twilio';
import type { Alert } from '../../domain/alert.ts';
import { isE164, uniqueNumbers } from '../../domain/phone-number.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { parseRetryAfter } from '../http/retry-after.ts';
import { parseSmsProgress, smsProgressRef, type SmsProgress } from './sms-progress.ts';
import { smsSkipReason, smsTextOf } from './sms-text.ts';
import { TwilioRequestClient } from './twilio-request-client.ts';

/**
 * Text messages through Twilio's Messages API, with the official `twilio` library
 * (`client.messages.create`: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded
 * To / From or MessagingServiceSid / Body, HTTP Basic with the account SID and auth token).
 *
 * One delivery per alert on the `sms` channel sends one message to each number (the target's
 * `alerts.smsTo`, else `alerting.sms.to`), one after the other, in the order listed.
 *
 * Exactly once per number. Twilio's Messages API takes no idempotency key, so the channel keeps
 * its own record (sms-progress.ts) in the delivery's ref, written to the outbox during the attempt
 * (DeliveryContext.recordProgress, under the delivery's lease):
 * 1. before sending to a number it records the number as `pending` (with the time);
 * 2. after Twilio's 201 it records the Message SID under `sent`, and never texts that number again;
 * 3. a number found `pending` on a later attempt (the process died, or the send timed out or
 *    answered 5xx: Twilio may or may not have taken it) is first looked up in Twilio's message log
 *    (GET Messages.json?To=…): a message with this alert's text to that number since then counts as
 *    sent. Only when there is none is it texted.
 * So a retry after a partial send texts only the numbers not yet texted, and a crash between
 * Twilio's answer and the outbox's record is caught by the look-up — what is left is a message
 * Twilio took but does not list yet when the retry looks (seconds later, after the backoff).
 *
 * Outcomes, as Twilio documents its answers (the error body is `{code, message, more_info, status}`):
 * - 201 → that number is done; all done → delivered (ref: the record, with every Message SID).
 * - 429 / 20429 (too many concurrent requests: "never processed and always safe to retry") →
 *   retry, no sooner than Retry-After when sent; the number is not pending.
 * - 5xx, 408, timeouts, connection errors → retry; the number stays pending (looked up first).
 * - a refusal of one number (21211 invalid, 21610 unsubscribed, 21612 unroutable, 21614 not a
 *   mobile, 21408 region not enabled, 21608 unverified on a trial account, …) → that number is
 *   `refused`, never retried, and the others are still texted: delivered with a warning when
 *   someone was texted, failed when nobody could be.
 * - any other 4xx (20003 bad credentials, 20404 wrong account or URL, 21606/21212/21659 a From that
 *   cannot send, …) → failed: a configuration error, the same for every number.
 *
 * The auth token is a secret: it goes in the Authorization header only, and text quoted from
 * Twilio is scrubbed of it (and of the account SID) in case an answer echoes them.
 */

export const TWILIO_API_URL = 'https://api.twilio.com';
const DEFAULT_TIMEOUT_MS = 10_000;
/** How far back a pending number's message is looked for, before its recorded time (clocks differ). */
const LOOKUP_SLACK_MS = 5 * 60_000;
const MAX_DETAIL_CHARS = 300;

/** Twilio error codes that refuse one recipient, not the account or the sender. */
const RECIPIENT_CODES = new Map<number, string>([
  [21211, 'not a valid phone number'],
  [21214, 'cannot be reached'],
  [21217, 'does not appear to be valid'],
  [21265, 'is a short code'],
  [21408, 'is in a region this account may not text'],
  [21608, 'is not verified (a trial account texts verified numbers only)'],
  [21610, 'has unsubscribed from this sender (replied STOP)'],
  [21612, 'cannot be reached from this sender'],
  [21614, 'is not a mobile number'],
]);

export interface TwilioSmsChannelOptions {
  /** TWILIO_ACCOUNT_SID (AC…). */
  accountSid: string;
  /** TWILIO_AUTH_TOKEN. */
  authToken: string;
  /** TWILIO_FROM (E.164) or TWILIO_MESSAGING_SERVICE_SID (MG…): one of them. */
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
  /** TWILIO_API_URL; default https://api.twilio.com. */
  apiUrl?: string | undefined;
  /** The numbers an alert is texted to (the target's alerts.smsTo, else alerting.sms.to). */
  to: (alert: Alert) => readonly string[];
  /** server.publicUrl, for the link in the text. */
  publicUrl?: string | undefined;
  /** Per request, answer included. Default 10 s. */
  timeoutMs?: number;
  clock?: () => Date;
  fetch?: typeof fetch;
}

type Step =
  | { kind: 'sent'; sid: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'retry'; error: string; retryAfterMs?: number | undefined; stillPending: boolean }
  | { kind: 'failed'; error: string };

export class TwilioSmsChannel implements AlertChannel {
  readonly name = 'sms' as const;
  private readonly timeoutMs: number;
  private readonly clock: () => Date;

  constructor(private readonly options: TwilioSmsChannelOptions) {
    // Configuration mistakes are reported once, at startup, rather than as a failure per alert.
    if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new Error('TWILIO_ACCOUNT_SID must be an account SID (AC followed by 32 hex digits)');
    if (options.authToken.trim() === '') throw new Error('the SMS channel needs TWILIO_AUTH_TOKEN');
    if (!options.from && !options.messagingServiceSid) throw new Error('the SMS channel needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID');
    if (options.from && !isE164(options.from)) throw new Error('TWILIO_FROM must be an E.164 number such as +15551234567');
    if (options.apiUrl && !URL.canParse(options.apiUrl)) throw new Error(`TWILIO_API_URL is not a URL: ${options.apiUrl}`);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clock = options.clock ?? (() => new Date());
  }

  async deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    const numbers = uniqueNumbers(this.options.to(alert));
    const skip = smsSkipReason(alert, numbers);
    if (skip !== undefined) return { status: 'skipped', reason: skip };
    const text = smsTextOf(alert, { publicUrl: this.options.publicUrl });
    const progress = parseSmsProgress(context.previousRef);
    const http = new TwilioRequestClient({ apiUrl: this.options.apiUrl, timeoutMs: this.timeoutMs, signal: context.signal, fetch: this.options.fetch });
    const client = twilio(this.options.accountSid, this.options.authToken, { httpClient: http, accountSid: this.options.accountSid });

    const save = async (): Promise<boolean> => (context.recordProgress ? context.recordProgress(smsProgressRef(progress)) : true);
    const lostLease: DeliveryOutcome = { status: 'retry', error: 'the SMS delivery was taken over (its lease ended); not texting further from here' };

    for (const number of numbers) {
      if (progress.sent[number] !== undefined || progress.refused[number] !== undefined) continue;
      const pendingSince = progress.pending[number];
      if (pendingSince !== undefined) {
        const found = await this.lookUp(client, http, number, text, pendingSince);
        if (found.kind === 'sent') {
          progress.sent[number] = found.sid;
          delete progress.pending[number];
          if (!(await save())) return lostLease;
          continue;
        }
        if (found.kind !== 'none') return this.stop(found, progress);
      }
      progress.pending[number] = this.clock().toISOString();
      if (!(await save())) return lostLease;
      const step = await this.send(client, http, number, text);
      if (step.kind === 'sent') progress.sent[number] = step.sid;
      if (step.kind === 'refused') progress.refused[number] = step.reason;
      if (step.kind !== 'retry' || !step.stillPending) delete progress.pending[number];
      if (step.kind === 'retry' || step.kind === 'failed') {
        await save();
        return this.stop(step, progress);
      }
      if (!(await save())) return lostLease;
    }

    const ref = smsProgressRef(progress);
    const sent = Object.keys(progress.sent).length;
    const refused = Object.entries(progress.refused).map(([n, reason]) => `${n}: ${reason}`);
    if (sent === 0) return { status: 'failed', error: `Twilio refused every number: ${refused.join('; ')}`, ref };
    if (refused.length > 0) return { status: 'delivered', ref, warning: `texted ${sent} of ${sent + refused.length} numbers; Twilio refused ${refused.join('; ')}` };
    return { status: 'delivered', ref };
  }

  private stop(step: Extract<Step, { kind: 'retry' | 'failed' }>, progress: SmsProgress): DeliveryOutcome {
    const ref = smsProgressRef(progress);
    return step.kind === 'retry' ? { status: 'retry', error: step.error, retryAfterMs: step.retryAfterMs, ref } : { status: 'failed', error: step.error, ref };
  }

  private async send(client: twilio.Twilio, http: TwilioRequestClient, to: string, body: string): Promise<Step> {
    try {
      const message = await client.messages.create({
        to,
        body,
        ...(this.options.messagingServiceSid ? { messagingServiceSid: this.options.messagingServiceSid } : { from: this.options.from! }),
      });
      return { kind: 'sent', sid: message.sid };
    } catch (error) {
      return this.stepOfError(error, http, to, 'texting');
    }
  }

  /** Whether Twilio's message log has this text to `to` since `since` (minus some slack). */
  private async lookUp(client: twilio.Twilio, http: TwilioRequestClient, to: string, body: string, since: string): Promise<{ kind: 'sent'; sid: string } | { kind: 'none' } | Extract<Step, { kind: 'retry' | 'failed' }>> {
    try {
      const page = await client.messages.page({ to, pageSize: 20 });
      const from = Date.parse(since) - LOOKUP_SLACK_MS;
      const match = page.instances.find((m) => m.to === to && m.body === body && (!m.dateCreated || m.dateCreated.getTime() >= from));
      return match ? { kind: 'sent', sid: match.sid } : { kind: 'none' };
    } catch (error) {
      const step = this.stepOfError(error, http, to, 'looking up the message to');
      // A lookup cannot refuse a number: whatever it answered, the send is what decides.
      if (step.kind === 'refused') return { kind: 'failed', error: `Twilio refused the message log look-up for ${to}: ${step.reason}` };
      if (step.kind === 'retry') return { ...step, stillPending: true };
      return step as Extract<Step, { kind: 'failed' }>;
    }
  }

  private stepOfError(error: unknown, http: TwilioRequestClient, to: string, doing: string): Step {
    if (!(error instanceof twilio.RestException)) {
      return { kind: 'retry', stillPending: true, error: this.redact(`${doing} ${to}: ${this.unreachable(error)}`) };
    }
    const status = error.status;
    const code = typeof error.code === 'number' ? error.code : undefined;
    // Without a JSON body (a proxy's HTML page) the library's message only repeats the status.
    const message = /^\[HTTP \d+\] Failed to execute request$/.test(error.message ?? '') ? '' : (error.message ?? '');
    const said = this.redact(truncate(message.replace(/\s+/g, ' ').trim(), MAX_DETAIL_CHARS));
    const quote = `${code !== undefined ? ` ${code}` : ''}${said ? `: ${said}` : ''}`;
    if (status === 429 || code === 20429) {
      return { kind: 'retry', stillPending: false, error: `Twilio is rate-limiting requests (429${quote})`, retryAfterMs: parseRetryAfter(http.lastHeaders['retry-after'], this.clock()) };
    }
    if (status >= 500 || status === 408) return { kind: 'retry', stillPending: true, error: `Twilio answered ${status}${quote} while ${doing} ${to}` };
    if (code !== undefined && RECIPIENT_CODES.has(code)) return { kind: 'refused', reason: `${RECIPIENT_CODES.get(code)} (${code}${said ? `: ${said}` : ''})` };
    if (status === 401 || code === 20003) return { kind: 'failed', error: `Twilio rejected the credentials (401${quote}): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN` };
    if (status === 404) return { kind: 'failed', error: `Twilio has no such account or endpoint (404${quote}): check TWILIO_ACCOUNT_SID and TWILIO_API_URL` };
    if (status >= 300 && status < 400) return { kind: 'failed', error: `Twilio redirected the request (${status}): check TWILIO_API_URL` };
    return { kind: 'failed', error: `Twilio refused the message (${status}${quote}); check TWILIO_FROM / TWILIO_MESSAGING_SERVICE_SID and the account` };
  }

  private unreachable(error: unknown): string {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `Twilio did not answer within ${this.timeoutMs} ms`;
    const host = new URL(this.options.apiUrl ?? TWILIO_API_URL).host;
    if (!(error instanceof Error)) return `could not reach Twilio at ${host}: ${String(error)}`;
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return `could not reach Twilio at ${host}: ${cause?.code ?? cause?.message ?? error.message}`;
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of [this.options.authToken, this.options.accountSid]) if (secret.length >= 4) out = out.replaceAll(secret, '[redacted]');
    return out;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
