import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses "250ms", "10s", "5m", "1.5h" into milliseconds; returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** Formats milliseconds the way a person would write them in the config file. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * A duration written as a string with a unit. Bare numbers are refused on purpose: "30" is
 * ambiguous (seconds? milliseconds?) and an ambiguous rollback window is worse than an error.
 */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as "250ms", "10s", "5m" or "1h"')
  .transform((text) => parseDuration(text) as number);
