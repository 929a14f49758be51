/**
 * What every bench shares, so none can rot on its own (issue 11): the common flags, a watchdog
 * that turns a hang into a loud failure, and the percentile the figures are printed with.
 *
 *   --smoke                 a tiny size that finishes in seconds; only the sizes change, never
 *                           what is printed. `npm test` runs every bench:* script so
 *                           (test/bench/benchmarks-smoke.test.ts). A size option given
 *                           explicitly still wins.
 *   --time-limit SECONDS    how long the bench may run before the watchdog fails it
 *                           (default 900 s, 60 s with --smoke).
 *
 * When the limit passes, the watchdog prints `bench <name>: exceeded its time limit of N s while
 * <phase>` on stderr and exits 1. A bench names its phase as it goes (`bench.phase(...)`), so the
 * message says what it was waiting for.
 *
 * Usage: parseArgs({ options: { ...BENCH_OPTIONS, ...own } }), then startBench(name, values).
 */
import type { ParseArgsConfig } from 'node:util';

export const BENCH_OPTIONS = {
  smoke: { type: 'boolean', default: false },
  'time-limit': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

const FULL_LIMIT_S = 900;
const SMOKE_LIMIT_S = 60;
/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_LIMIT_S = Math.floor(2_147_483_647 / 1000);

export interface Bench {
  readonly smoke: boolean;
  /** Names what the bench does now, for the watchdog's message: "waiting for kd-1 to reach monitoring". */
  phase(label: string): void;
  /** Stops something the bench started (a child process, a temp dir) if it fails or runs out of time. Synchronous. */
  onAbort(cleanup: () => void): void;
  /** Runs the bench: a throw is reported on stderr with the phase it happened in, and exits 1. */
  run(main: () => Promise<void>): Promise<void>;
}

/** Starts the watchdog at once; `name` is the script's, without "bench:" (engine, slack, …). */
export function startBench(name: string, flags: { smoke?: boolean | undefined; 'time-limit'?: string | undefined }): Bench {
  const smoke = flags.smoke ?? false;
  const limitS = flags['time-limit'] === undefined ? (smoke ? SMOKE_LIMIT_S : FULL_LIMIT_S) : Number(flags['time-limit']);
  if (!Number.isFinite(limitS) || limitS <= 0 || limitS > MAX_LIMIT_S) {
    throw new Error(`--time-limit must be a number of seconds between 0 and ${MAX_LIMIT_S}, got ${flags['time-limit']}`);
  }
  let current = 'starting';
  const cleanups: (() => void)[] = [];
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n`);
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch (error) {
        process.stderr.write(`bench ${name}: cleanup failed: ${String(error)}\n`);
      }
    }
    process.exit(1);
  };
  // Unref'd: a bench that is done exits without waiting for it, and one that hangs is stopped by it.
  setTimeout(() => {
    fail(
      `bench ${name}: exceeded its time limit of ${limitS} s while ${current}\n` +
        `(a slower machine may need more: --time-limit <seconds>)`,
    );
  }, limitS * 1000).unref();

  return {
    smoke,
    phase(label) {
      current = label;
    },
    onAbort(cleanup) {
      cleanups.push(cleanup);
    },
    async run(main) {
      try {
        await main();
        current = 'exiting (something still holds the event loop open after the figures were printed)';
      } catch (error) {
        fail(`bench ${name}: failed while ${current}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    },
  };
}

/** The nearest-rank percentile (p in 0–100) of a list; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
