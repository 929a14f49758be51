import type { Logger } from 'pino';
import type { Target } from '../domain/deployment.ts';
import type { AvailabilityLog, LatestSiteChecks, SiteCheck } from '../ports/availability.ts';
import type { Clock } from '../ports/clock.ts';
import type { TargetCatalog } from '../ports/target-catalog.ts';

export interface AvailabilityProberOptions {
  /** The configured targets; the protected ones (what the public uses) are checked. */
  targets: TargetCatalog;
  check: SiteCheck;
  log: AvailabilityLog;
  clock: Clock;
  logger: Logger;
  /** How often each production site is checked; default one minute. */
  intervalMs?: number | undefined;
}

const DEFAULT_INTERVAL_MS = 60_000;

/**
 * Samples every protected target's production site once an interval and counts each answer in
 * the availability log, so the public status page can show 90 days of the bot's own checks; the
 * latest answers also stand in for a fresh check when someone asks whether KEVIN is up.
 *
 * With several replicas on one Postgres, each replica checks and counts on its own: a day then
 * holds (replicas × 1440) checks. That is deliberate. The table has no room for a per-slot guard,
 * the percentage is a ratio that extra samples do not bias, and each replica is a vantage point
 * of its own — a site that one replica cannot reach is a failure worth counting. A replica that
 * is down simply contributes no samples, and never counts a failure for the site.
 */
export class AvailabilityProber implements LatestSiteChecks {
  private readonly intervalMs: number;
  private readonly latestByTarget = new Map<string, { up: boolean; atMs: number }>();
  /** Aborts the checks in flight when the bot stops: their answer would say nothing about the site. */
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly o: AvailabilityProberOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_INTERVAL_MS;
  }

  /** Checks at once, then once an interval; the timer never keeps the process alive. */
  start(): void {
    this.next();
  }

  /** Stops checking and waits for the round in flight (its checks are aborted, not counted). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.round;
  }

  /** Recent enough means within two intervals: one slow or skipped round does not fall back to a fetch of its own. */
  latest(target: Target): boolean | undefined {
    const seen = this.latestByTarget.get(keyOf(target));
    if (!seen || this.o.clock.now().getTime() - seen.atMs > 2 * this.intervalMs) return undefined;
    return seen.up;
  }

  private next(): void {
    if (this.stopping.signal.aborted) return;
    // A fixed rate, not a fixed pause: a round that took 3 s does not push every later one back.
    const startedAt = performance.now();
    this.round = this.checkAll().finally(() => {
      this.round = undefined;
      if (this.stopping.signal.aborted) return;
      this.timer = setTimeout(() => this.next(), Math.max(0, this.intervalMs - (performance.now() - startedAt)));
      this.timer.unref();
    });
  }

  private async checkAll(): Promise<void> {
    const targets = this.o.targets.all().filter((t) => t.protected);
    const at = this.o.clock.now();
    const signal = this.stopping.signal;
    const answers = await Promise.all(
      // A check that throws broke its contract; for the site it is a failed answer, not the loop's end.
      targets.map(async (t) => ({ target: { service: t.service, environment: t.environment }, up: await this.o.check(t.productionUrl, signal).catch(() => false) })),
    );
    if (signal.aborted) return;
    const answeredAt = this.o.clock.now().getTime();
    let unrecorded = 0;
    let firstError: unknown;
    for (const { target, up } of answers) {
      this.latestByTarget.set(keyOf(target), { up, atMs: answeredAt });
      try {
        await this.o.log.record(target, at, up);
      } catch (error) {
        unrecorded++;
        firstError ??= error;
      }
    }
    // The store being away loses these samples, no more: the next round counts again.
    if (unrecorded > 0) this.o.logger.warn({ err: firstError, unrecorded }, 'could not record the availability checks; the next round tries again');
  }
}

function keyOf(target: Target): string {
  return `${target.service}\u0000${target.environment}`;
}
