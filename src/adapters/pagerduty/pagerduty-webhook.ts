import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * PagerDuty's V3 webhooks, as the bot's webhook endpoint receives them: verify the signature, then
 * read the incident event (someone acknowledged or resolved what we paged).
 *
 * Signature (developer docs, "Verifying Signatures"): `X-PagerDuty-Signature` holds one or more
 * comma-separated `v1=<hex HMAC-SHA256 of the raw body>`, one per signing secret, so a secret can
 * be rotated without downtime. Only `v1` is defined; other versions are ignored. The HMAC is over
 * the unaltered raw bytes — verify before parsing, never over re-serialised JSON.
 */

const SIGNATURE_VERSION = 'v1=';
/** SHA-256: 32 bytes, 64 hex digits. */
const SIGNATURE_BYTES = 32;

/**
 * True when one of the header's v1 signatures is the HMAC of `rawBody` under one of `secrets`
 * (pass both the new and the old secret while rotating). Constant-time comparisons only.
 */
export function verifyPagerDutySignature(rawBody: Buffer | string, header: string | undefined, secrets: readonly string[]): boolean {
  if (header === undefined) return false;
  const provided = signaturesIn(header);
  const keys = secrets.filter((secret) => secret !== '');
  if (provided.length === 0 || keys.length === 0) return false;
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  let matched = false;
  // Every pair is compared (no early exit), so the time taken says nothing about which one matched.
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(body).digest();
    for (const signature of provided) {
      if (timingSafeEqual(expected, signature)) matched = true;
    }
  }
  return matched;
}

function signaturesIn(header: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const item = part.trim();
    if (!item.startsWith(SIGNATURE_VERSION)) continue;
    const hex = item.slice(SIGNATURE_VERSION.length);
    // Buffer.from(hex) silently stops at the first bad digit: check the shape first.
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== SIGNATURE_BYTES * 2) continue;
    signatures.push(Buffer.from(hex, 'hex'));
  }
  return signatures;
}

export type PagerDutyIncidentEventType = 'incident.acknowledged' | 'incident.resolved' | 'incident.triggered';

export interface PagerDutyWebhookEvent {
  /** `incident.acknowledged`, `incident.resolved`, `incident.triggered`, or any other incident event type. */
  eventType: PagerDutyIncidentEventType | (string & {});
  /** The incident's de-duplication key: for an incident our trigger opened, our dedup_key (= the alert's incidentKey). */
  incidentKey?: string | undefined;
  /** PagerDuty's incident id (`P…`). */
  incidentId: string;
  /** Who did it, as PagerDuty names them (the agent's summary); absent when PagerDuty itself acted. */
  agent?: string | undefined;
  occurredAt: string;
  htmlUrl?: string | undefined;
}

const nonEmpty = z.string().min(1);

/** The V3 envelope, as far as it is read: `{event:{id, event_type, resource_type, occurred_at, agent, data}}`. */
const webhookSchema = z.object({
  event: z.object({
    id: nonEmpty,
    event_type: nonEmpty,
    resource_type: nonEmpty,
    occurred_at: nonEmpty.refine((value) => !Number.isNaN(Date.parse(value)), 'not a date-time'),
    agent: z.object({ summary: z.string().optional() }).nullish(),
    data: z.object({
      id: nonEmpty,
      type: nonEmpty,
      incident_key: z.string().nullish(),
      html_url: z.string().nullish(),
      status: z.string().nullish(),
    }),
  }),
});

/**
 * The incident event in a V3 webhook body (already JSON-parsed, or the raw text/bytes), or
 * undefined when it is not one: malformed, or about something else (a service, a note, a
 * responder request — their `data` is not an incident).
 */
export function parsePagerDutyWebhook(body: unknown): PagerDutyWebhookEvent | undefined {
  const parsed = webhookSchema.safeParse(typeof body === 'string' || Buffer.isBuffer(body) ? parseJson(body) : body);
  if (!parsed.success) return undefined;
  const { event } = parsed.data;
  if (event.resource_type !== 'incident' || event.data.type !== 'incident') return undefined;
  return {
    eventType: event.event_type,
    incidentId: event.data.id,
    occurredAt: event.occurred_at,
    ...(event.data.incident_key ? { incidentKey: event.data.incident_key } : {}),
    ...(event.agent?.summary ? { agent: event.agent.summary } : {}),
    ...(event.data.html_url ? { htmlUrl: event.data.html_url } : {}),
  };
}

function parseJson(raw: string | Buffer): unknown {
  try {
    return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
