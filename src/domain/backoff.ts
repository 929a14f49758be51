/**
 * The one exponential backoff: `first` after the first failure, doubling per failure, never more
 * than `longest`. The exponent is capped so a long outage cannot overflow to Infinity.
 */
export function backoffAfter(failures: number, first: number, longest: number): number {
  const doublings = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(longest, first * 2 ** doublings);
}
