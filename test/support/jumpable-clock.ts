import type { Clock } from '../../src/ports/clock.ts';

/**
 * The bot's injected clock for tests about time: it runs at real speed (probes, retries and
 * leases keep working as they do in production) and `jump` moves it forward at once, so an
 * approval that expires after two hours, or a freeze lifted after thirty minutes, is tested with
 * its real duration instead of a shortened one slept through.
 */
export function jumpableClock(): { clock: Clock; jump(ms: number): void } {
  let offsetMs = 0;
  return {
    clock: { now: () => new Date(Date.now() + offsetMs) },
    jump(ms) {
      offsetMs += ms;
    },
  };
}
