/**
 * The one way the CLI prints a time: "2026-05-01 12:00:00Z" (UTC, to the second). Every screen —
 * status, history, alerts, the live view of --follow and the sandbox — uses it, so two times on
 * one screen always compare at a glance.
 */
export function formatTime(at: string | Date | null | undefined): string {
  if (!at) return '—';
  const iso = typeof at === 'string' ? at : at.toISOString();
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const ISO_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;

/** Reasons written by the bot carry ISO times ("window ends 2026-05-01T12:00:30.000Z"): the same form, in text. */
export function formatTimesIn(text: string): string {
  return text.replace(ISO_IN_TEXT, (iso) => formatTime(iso));
}
