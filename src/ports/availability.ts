import type { Target } from '../domain/deployment.ts';

/** One target's checks on one UTC day, as counted: the public status page's 90-day strip is made of these. */
export interface AvailabilityDay {
  service: string;
  environment: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  checks: number;
  failures: number;
}

/** The bot's own checks of each production site, counted per target and UTC day. */
export interface AvailabilityLog {
  /** Counts one check of `target` made at `at` (its UTC day), a failure unless `up`. */
  record(target: Target, at: Date, up: boolean): Promise<void>;
  /** The counted days of these targets from `sinceDay` (YYYY-MM-DD, inclusive) on, oldest first; days without a check are absent. */
  daysSince(targets: readonly Target[], sinceDay: string): Promise<AvailabilityDay[]>;
}

/**
 * Does the site at `url` answer (a 2xx, body read, within its own timeout)? Never throws: a site
 * that is down is an answer, not an error. `signal` aborts it (the bot is stopping).
 */
export type SiteCheck = (url: string, signal?: AbortSignal) => Promise<boolean>;

/** The latest check of a target's production site, while it is recent enough to stand for "now". */
export interface LatestSiteChecks {
  /** Whether the site answered at its latest check; undefined when there is none recent enough. */
  latest(target: Target): boolean | undefined;
}
