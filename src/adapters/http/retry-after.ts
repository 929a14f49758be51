/**
 * Milliseconds to wait, from a `Retry-After` header as delay-seconds or an HTTP date
 * (RFC 9110 §10.2.3); undefined when absent or unreadable, so the caller's own backoff applies.
 * Fractional seconds (Discord's precise value, copied into the header) are kept, rounded up to
 * the millisecond: waiting a little longer is safe, a little shorter earns another 429.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
