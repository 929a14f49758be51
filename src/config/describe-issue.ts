import type { z } from 'zod';
import { closestMatch } from './suggest.ts';

/** What the loader knows about the place an issue is about, beyond the zod issue itself. */
export interface IssueFacts {
  /** The value written there (undefined when absent). */
  value: unknown;
  /** The key is absent although its parent mapping exists. */
  missing: boolean;
  /** The schema there is a duration, so "10" deserves a hint about units. */
  isDuration: boolean;
  /** The schema there is an integer; zod reports a string given for it as "expected number". */
  isInteger?: boolean;
}

/** The fields of zod 4 issues we read; the union type makes each one awkward to reach. */
interface LooseIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  expected?: string;
  values?: readonly unknown[];
  options?: readonly unknown[];
  discriminator?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  prefix?: string;
  suffix?: string;
  includes?: string;
  issues?: readonly { message: string }[];
}

const DURATION_EXAMPLES = 'a duration such as "250ms", "10s", "5m" or "1h"';

/**
 * A message that says what is wrong and what to write instead. zod's defaults ("Invalid input:
 * expected string, received number") name types, not the fix, and never show the value.
 * Unknown keys are handled by the loader (they need the key's own location).
 */
export function describeIssue(zodIssue: z.core.$ZodIssue, facts: IssueFacts): string {
  const issue = zodIssue as unknown as LooseIssue;
  const key = String(issue.path.at(-1) ?? '');
  const custom = isCustomMessage(issue.message) ? issue.message : undefined;

  if (facts.missing && (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value')) {
    const allowed = writable(issue.options ?? issue.values);
    const hint = allowed
      ? `one of ${listValues(allowed)}`
      : facts.isDuration
        ? DURATION_EXAMPLES
        : (custom ?? expectedPhrase(issue.expected));
    return `missing required key "${key}"${hint ? `: ${hint}` : ''}`;
  }
  if (facts.isDuration && (issue.code === 'invalid_type' || issue.code === 'invalid_format')) {
    return durationMessage(facts.value);
  }
  // The bound's message names the limit; the value is shown as written ("99999999999h"), not in ms.
  if (facts.isDuration && (issue.code === 'too_big' || issue.code === 'too_small')) return `${issue.message}, got ${describeValue(facts.value)}`;

  const got = `got ${describeValue(facts.value)}`;
  switch (issue.code) {
    case 'invalid_type':
      return custom
        ? withValue(custom, facts.value)
        : `expected ${expectedPhrase(facts.isInteger && issue.expected === 'number' ? 'int' : issue.expected)}, ${got}`;
    case 'invalid_value':
    case 'invalid_union': {
      const allowed = writable(issue.values ?? issue.options);
      if (!allowed) return custom ?? `${issue.message}, ${got}`;
      const expected = allowed.length === 1 ? `expected ${formatValue(allowed[0])}` : `expected one of ${listValues(allowed)}`;
      const suggestion =
        typeof facts.value === 'string' ? closestMatch(facts.value, allowed.filter((v) => typeof v === 'string')) : undefined;
      return `${expected}, ${got}${suggestion ? `; did you mean "${suggestion}"?` : ''}`;
    }
    case 'invalid_format':
      return custom ? withValue(custom, facts.value) : `${formatExpectation(issue)}, ${got}`;
    case 'too_small':
      return sizeMessage(issue, 'small', facts.value);
    case 'too_big':
      return sizeMessage(issue, 'big', facts.value);
    case 'invalid_key': {
      const reason = issue.issues?.map((inner) => inner.message).join('; ');
      return `invalid name "${key}"${reason ? `: ${reason}` : ''}`;
    }
    case 'custom':
      return isScalar(facts.value) ? `${issue.message}, ${got}` : issue.message;
    default:
      return issue.message;
  }
}

/**
 * The values one may write. A discriminator with a default (platform.type) lists `undefined`
 * among a union's options: leaving the key out is allowed, but it is not a value to suggest.
 */
function writable(values: readonly unknown[] | undefined): readonly unknown[] | undefined {
  return values?.filter((v) => v !== undefined);
}

/** Joins a message written in schema.ts with the value found, whichever way the message is phrased. */
function withValue(message: string, value: unknown): string {
  if (message.startsWith('expected ')) return `${message}, got ${describeValue(value)}`;
  if (/^an? /.test(message)) return `expected ${message}, got ${describeValue(value)}`;
  return `invalid value ${describeValue(value)}: ${message}`;
}

/** zod's own messages start with "Invalid" or "Too"; anything else was written in schema.ts for people. */
function isCustomMessage(message: string): boolean {
  return !/^(Invalid|Too (small|big)|Unrecognized)/.test(message);
}

function expectedPhrase(expected: string | undefined): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping (indented "key: value" lines)';
    case 'array':
      return 'a list ("- item" lines or [a, b])';
    case undefined:
      return 'a value';
    default:
      return expected;
  }
}

function formatExpectation(issue: LooseIssue): string {
  switch (issue.format) {
    case 'starts_with':
      return `expected a path starting with "${issue.prefix}"`;
    case 'ends_with':
      return `expected text ending with "${issue.suffix}"`;
    case 'includes':
      return `expected text containing "${issue.includes}"`;
    case 'url':
      return 'expected a URL such as https://example.com';
    default:
      return `expected ${issue.format ?? 'another'} format`;
  }
}

function sizeMessage(issue: LooseIssue, which: 'small' | 'big', value: unknown): string {
  const bound = which === 'small' ? issue.minimum : issue.maximum;
  const n = Number(bound);
  switch (issue.origin) {
    case 'array':
    case 'set':
      return which === 'small'
        ? `needs at least ${n} ${n === 1 ? 'entry' : 'entries'}, got ${Array.isArray(value) ? value.length : 0}`
        : `allows at most ${n} ${n === 1 ? 'entry' : 'entries'}, got ${Array.isArray(value) ? value.length : '?'}`;
    case 'string':
      if (which === 'small' && n === 1) return 'must not be empty';
      return `must be ${which === 'small' ? 'at least' : 'at most'} ${n} characters long, got ${String(value).length}`;
    default: {
      const relation =
        which === 'small' ? (issue.inclusive === false ? 'greater than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
      return `must be ${relation} ${n}, got ${describeValue(value)}`;
    }
  }
}

function durationMessage(value: unknown): string {
  if (typeof value === 'number') {
    // A bare number is the usual mistake; the schema refuses it because the unit is ambiguous.
    return `expected ${DURATION_EXAMPLES}, got the bare number ${value}; durations need a unit: write "${value}s" for seconds or "${value}ms" for milliseconds`;
  }
  return `expected ${DURATION_EXAMPLES}, got ${describeValue(value)}`;
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** How a value reads in a message: strings quoted, structures named rather than dumped. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

function listValues(values: readonly unknown[]): string {
  return values.map(formatValue).join(', ');
}
