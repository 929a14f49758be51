/**
 * What an SMS delivery has done so far, per number, kept as the delivery's ref in the outbox
 * (JSON). One delivery texts every number of the alert, one message each, in order; this record
 * is what makes a retry — after a partial send, an outage, a crash or a takeover by another
 * replica — text each number at most once:
 * - `sent`: the number's message was accepted by Twilio (its Message SID): never texted again;
 * - `pending`: a send to the number was started at this time and its outcome is not known (the
 *   process died, the answer timed out, Twilio answered 5xx). Before texting it again the channel
 *   looks in Twilio's message log for that text to that number since then;
 * - `refused`: Twilio refused the number (invalid, unsubscribed, …): not retried.
 * Pure, so the console and the CLI can read it too.
 */
export interface SmsProgress {
  sent: Record<string, string>;
  pending: Record<string, string>;
  refused: Record<string, string>;
}

export function emptySmsProgress(): SmsProgress {
  return { sent: {}, pending: {}, refused: {} };
}

/** A ref as written by smsProgressRef; anything else (none, a local sink's ref) reads as no progress. */
export function parseSmsProgress(ref: string | null | undefined): SmsProgress {
  const progress = emptySmsProgress();
  if (!ref || !ref.startsWith('{')) return progress;
  try {
    const json = JSON.parse(ref) as Partial<Record<keyof SmsProgress, unknown>>;
    for (const key of ['sent', 'pending', 'refused'] as const) {
      const value = json[key];
      if (typeof value !== 'object' || value === null) continue;
      for (const [number, text] of Object.entries(value)) if (typeof text === 'string') progress[key][number] = text;
    }
  } catch {
    // not ours: no progress
  }
  return progress;
}

export function smsProgressRef(progress: SmsProgress): string {
  return JSON.stringify(progress);
}

/** "2 of 3 numbers texted, 1 refused" — for the CLI and the console. */
export function smsProgressSummary(progress: SmsProgress, total?: number): string {
  const sent = Object.keys(progress.sent).length;
  const refused = Object.keys(progress.refused).length;
  const pending = Object.keys(progress.pending).length;
  const parts = [`${sent}${total !== undefined ? ` of ${total}` : ''} number${(total ?? sent) === 1 ? '' : 's'} texted`];
  if (refused > 0) parts.push(`${refused} refused`);
  if (pending > 0) parts.push(`${pending} unconfirmed`);
  return parts.join(', ');
}
