import { z } from 'zod';
import { formatDuration } from '../domain/format-duration.ts';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const HOUR_MS = UNIT_MS.h;
const DAY_MS = 24 * HOUR_MS;

/**
 * Parses "250ms", "10s", "5m", "1.5h" into milliseconds; returns undefined when malformed. Digits
 * too many for a number give Number.MAX_VALUE rather than Infinity, so they fail a bound like any
 * other value that is too long (zod refuses Infinity as "not a number", which would mislead).
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] as keyof typeof UNIT_MS;
  const ms = Math.round(Number(match[1]) * UNIT_MS[unit]);
  return Number.isFinite(ms) ? ms : Number.MAX_VALUE;
}


/**
 * The longest duration of each kind. Every duration has one: a value nobody means ("99999999999h")
 * would otherwise pass `config check` and then break date arithmetic at run time (an approval
 * deadline past the year 275760 is an invalid Date). docs/configuration.md explains each bound.
 */
export const DURATION_BOUNDS = {
  /** One HTTP request (health.timeout): a check slower than this has failed anyway. */
  request: 5 * 60_000,
  /** A pause between attempts, samples, retries or Slack updates: longer is no longer retrying. */
  pause: HOUR_MS,
  /** How long a release is watched (window, bake time, sustained triggers): it holds the target meanwhile. */
  watch: 7 * DAY_MS,
  /** How long a person is waited for (approval, acknowledgement) before giving up or escalating. */
  person: 7 * DAY_MS,
  /** A freeze lock that lifts by itself; the longest of all, and the ceiling for every duration. */
  lock: 365 * DAY_MS,
} as const;

export type DurationKind = keyof typeof DURATION_BOUNDS;

/** "5m", "1h", "168h (7 days)": the bound as it is written, with days when that reads better. */
export function formatBound(ms: number): string {
  const written = formatDuration(ms);
  return ms >= 2 * DAY_MS && ms % DAY_MS === 0 ? `${written} (${ms / DAY_MS} days)` : written;
}

/** What a too-long duration is told, without the value (callers add it where they know how it was written). */
export function tooLongMessage(kind: DurationKind): string {
  return `must be at most ${formatBound(DURATION_BOUNDS[kind])}`;
}

/**
 * A duration written as a string with a unit. Bare numbers are refused on purpose: "30" is
 * ambiguous (seconds? milliseconds?) and an ambiguous rollback window is worse than an error.
 * Not bounded by itself: read durations with `durationOf(kind)`, which wraps this schema (the
 * config loader recognises a duration by it, to explain a missing unit).
 */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as "250ms", "10s", "5m" or "1h"')
  .transform((text) => parseDuration(text) as number);

const bounded = new Map<DurationKind, z.ZodPipe<typeof duration, z.ZodNumber>>();

/**
 * Kinds that may not be zero: a zero timeout fails every check at once, and a zero pause turns a
 * wait into a busy loop (a zero window or sustainedFor is meaningful: "decide on the first sample").
 */
const NOT_ZERO: ReadonlySet<DurationKind> = new Set(['request', 'pause']);

/** A duration no longer than its kind allows; too long is a `too_big` issue whose message names the maximum. */
export function durationOf(kind: DurationKind): z.ZodPipe<typeof duration, z.ZodNumber> {
  let schema = bounded.get(kind);
  if (!schema) {
    const ms = z.number().max(DURATION_BOUNDS[kind], { error: tooLongMessage(kind) });
    schema = duration.pipe(NOT_ZERO.has(kind) ? ms.min(1, { error: 'must be longer than 0' }) : ms);
    bounded.set(kind, schema);
  }
  return schema;
}

/** The kind of a schema made by `durationOf`, for the JSON Schema's descriptions. */
export function durationKindOf(schema: unknown): DurationKind | undefined {
  for (const [kind, candidate] of bounded) if (candidate === schema) return kind;
  return undefined;
}

/**
 * Checks a duration typed by a person outside the config file (chat's `--for`): the parsed
 * milliseconds, or a message naming what is wrong and the maximum.
 */
export function checkDuration(text: string, kind: DurationKind): { ms: number } | { problem: string } {
  const ms = parseDuration(text);
  if (ms === undefined) return { problem: `expects a duration such as "30m", "2h" or "48h", got ${JSON.stringify(text)}` };
  if (ms > DURATION_BOUNDS[kind]) return { problem: `${tooLongMessage(kind)}, got ${JSON.stringify(text)}` };
  if (ms === 0) return { problem: `must be longer than 0, got ${JSON.stringify(text)}` };
  return { ms };
}
