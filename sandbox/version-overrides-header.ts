import { parseDictionary, type Dictionary } from 'structured-headers';

/**
 * Parses `Cloudflare-Workers-Version-Overrides`, an RFC 8941 Dictionary such as
 * `kevinstamp="0b0f8a5e-…"` (parsed by the structured-headers package). Returns script → version
 * id for members whose value is a string; a later member with the same key replaces an earlier one
 * (RFC 8941 §4.2.2), so a later non-string member removes it. Like Cloudflare, anything
 * unparseable is ignored silently: the header is a hint, never an error.
 *
 * Deliberate leniencies, tried only when the strict parse fails: blanks around "=" and upper-case
 * letters in keys (outside quoted strings) are accepted.
 */
export function parseVersionOverrides(value: string | undefined): Map<string, string> {
  const overrides = new Map<string, string>();
  if (value === undefined) return overrides;
  const dictionary = parse(value) ?? parse(relaxed(value));
  for (const [key, [item]] of dictionary ?? []) {
    if (typeof item === 'string') overrides.set(key, item);
  }
  return overrides;
}

function parse(value: string): Dictionary | undefined {
  try {
    return parseDictionary(value);
  } catch {
    return undefined;
  }
}

/** Outside quoted strings: no blanks around "=", and lower case (keys must be; other items are ignored anyway). */
function relaxed(value: string): string {
  return value
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[ \t]*=[ \t]*/g, '=').toLowerCase()))
    .join('');
}
