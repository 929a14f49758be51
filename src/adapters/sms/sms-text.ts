import type { Alert } from '../../domain/alert.ts';
import { alertOutcome, isTeamAlertKind } from '../../domain/alert-outcome.ts';

/**
 * An alert as one text message: the level, the service and environment, what happened and where
 * to look — nothing else. Pure (no clock, no config read): the console's Outbox renders the stored
 * alert again with it and shows exactly what was texted.
 *
 * It fits one SMS segment where it can: 160 GSM-7 characters (an extension character such as
 * `{` or `€` takes two), or 70 UCS-2 code units once a single character outside GSM-7 appears (a
 * version tag "v2 🚀", a person "Zoë"). The richest wording that fits one segment wins; the
 * optional parts (version, who acknowledged, the release's own page) are dropped in turn until it
 * does, and when nothing fits (a very long console URL) the wording with the fewest segments wins.
 *
 * No secret and nothing internal reaches a phone: not the reason (it may quote errors and values),
 * not the trigger's numbers, not the title (it quotes them too) — only the fixed outcome words
 * (alert-outcome.ts), names from kevin-deploy.yml, a version tag, an actor name and a link.
 */

export interface SmsTextOptions {
  /**
   * The bot's public URL (server.publicUrl), for the release's console page
   * (`{publicUrl}/console/releases/{id}`) or, when that does not fit, the console itself.
   */
  publicUrl?: string | undefined;
}

/** Deploy markers are PagerDuty's; community notices are Discord's. Everything else may be texted. */
export function isSmsAlertKind(kind: Alert['kind']): boolean {
  return isTeamAlertKind(kind);
}

/**
 * Why no text goes out for this alert (undefined: it is sent to `to`). Pure, so the sandbox's local
 * sink skips exactly what Twilio would be spared.
 */
export function smsSkipReason(alert: Alert, to: readonly string[]): string | undefined {
  if (!isSmsAlertKind(alert.kind)) return `${alert.kind} alerts are not sent by SMS`;
  if (to.length === 0) return `no SMS recipients for ${alert.facts.service} ${alert.facts.environment} (alerts.smsTo or alerting.sms.to)`;
  return undefined;
}

const MAX_NAME = 40;

export function smsTextOf(alert: Alert, options: SmsTextOptions = {}): string {
  const candidates = candidatesOf(alert, options);
  let best = candidates[0]!;
  let bestSegments = smsSegmentsOf(best).segments;
  for (const text of candidates) {
    const { segments } = smsSegmentsOf(text);
    if (segments === 1) return text;
    if (segments < bestSegments) [best, bestSegments] = [text, segments];
  }
  return best;
}

/** The wordings from richest to plainest; the first that fits one segment is sent. */
function candidatesOf(alert: Alert, options: SmsTextOptions): string[] {
  const f = alert.facts;
  const where = `${clean(f.service)}/${clean(f.environment)}`;
  const tag = f.version ? clean(f.version.tag ?? f.version.id.slice(0, 8)) : '';
  const by = f.incident?.by ? clean(f.incident.by) : '';
  const head = (withBy: boolean) => headOf(alert, where, withBy ? by : '');
  const looks = lookOptions(alert, options);
  const out: string[] = [];
  // The version goes first, then who acknowledged; the release's own page goes last.
  for (const look of looks) {
    for (const [withVersion, withBy] of [
      [true, true],
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      if ((withVersion && !tag) || (withBy && !by)) continue;
      out.push(`${head(withBy)}${withVersion ? ` (${tag})` : ''}. ${look}`);
    }
  }
  return [...new Set(out)];
}

/** "EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention" and its follow-ups. */
function headOf(alert: Alert, where: string, by: string): string {
  const was = alert.facts.incident?.level.toUpperCase();
  switch (alert.kind) {
    case 'acknowledged':
      return `ACKNOWLEDGED ${where}: the ${was ?? 'incident'} alert${by ? `, by ${by}` : ''}`;
    case 'resolved':
      return `RESOLVED ${where}: the ${was ?? 'incident'} is over${by ? ` (${by})` : ''}`;
    default: {
      const outcome = isTeamAlertKind(alert.kind) ? alertOutcome({ ...alert, kind: alert.kind }) : clean(alert.title);
      return `${alert.level.toUpperCase()} ${where}: ${outcome}`;
    }
  }
}

/** Where to look, best first: the release's console page (from the alert's links, or the public URL), then the console. */
function lookOptions(alert: Alert, options: SmsTextOptions): string[] {
  const id = alert.facts.deploymentId;
  const base = options.publicUrl?.replace(/\/+$/, '');
  const linked = (alert.facts.links ?? []).map((l) => l.href).find((href) => /^https?:\/\/[^\s]+\/console\/releases\/[^\s]+$/.test(href));
  const looks: string[] = [];
  if (linked) looks.push(linked);
  if (base) {
    looks.push(`${base}/console/releases/${encodeURIComponent(id)}`);
    looks.push(`Release ${id}: ${base}/console`);
    looks.push(`${base}/console`);
  } else {
    looks.push(`See release ${id} in the kevin-deploy console.`);
    looks.push(`Release ${id}.`);
  }
  return [...new Set(looks)];
}

/** One line, no control characters, short: names come from config or people, not from this text's budget. */
function clean(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return [...line].length <= MAX_NAME ? line : `${[...line].slice(0, MAX_NAME - 1).join('')}…`;
}

// ---------------------------------------------------------------------------------------------
// Segments: GSM 03.38 (7-bit) when every character is in its basic table or extension table
// (which costs an escape, so two septets); otherwise UCS-2, counted in UTF-16 code units. A single
// message holds 160 septets or 70 units; a concatenated one 153 or 67 per segment (the rest is the
// UDH), and an escape pair or a surrogate pair is never split across two segments.

const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7, an extension character counting two) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
  /** What the last segment still has room for. */
  remaining: number;
}

export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return false;
  return true;
}

export function smsSegmentsOf(text: string): SmsSegments {
  const gsm = isGsm7(text);
  // Each character's cost, in the chosen encoding's units.
  const costs = [...text].map((ch) => (gsm ? (GSM7_EXTENSION.has(ch) ? 2 : 1) : ch.length));
  const units = costs.reduce((sum, c) => sum + c, 0);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  if (units <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments: 1, remaining: single - units };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments, remaining: multi - used };
}
