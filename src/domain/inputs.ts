import type { MetricReading } from './metric-reading.ts';
import type { MetricSample } from './metric-triggers.ts';
import type { CheckResult, Split, VersionInfo } from './deployment.ts';

/** A platform call that did not succeed, as the domain sees it: a code, words, and whether to try again. */
export interface PlatformFailure {
  code: string;
  message: string;
  retryable: boolean;
  /**
   * The platform refused the change outright and says nothing moved (e.g. it will not serve an
   * old version with new secrets): a switch refused this way ends the release with traffic
   * untouched instead of rolling back.
   */
  nothingChanged?: boolean | undefined;
}

/** The live deployment on the platform: its split and what is known about each version in it. */
export interface LiveTraffic {
  split: Split;
  versions: VersionInfo[];
  /** What to do when nothing is live yet, in the platform's terms ("deploy a first version with `wrangler deploy`"). */
  emptyAdvice?: string | undefined;
}

/**
 * How green is reached before it has traffic, as the platform does it: as part of the live
 * split at 0 % (staging changes the split), or on its own (staging changes nothing).
 */
export type GreenReach = 'in-split' | 'on-its-own';

/**
 * Everything that can happen to a deployment: the outcome of a step the runner executed, the
 * passage of time, or a person's command. `decide()` is a function of (status, input, now).
 */
export type Input =
  | { type: 'claimed' }
  | { type: 'tick' }
  | { type: 'resolved'; version: VersionInfo; live: LiveTraffic; greenReach: GreenReach }
  | { type: 'platform-error'; error: PlatformFailure }
  | { type: 'split-verified'; split: Split }
  | {
      type: 'checks';
      results: CheckResult[];
      metrics?: { green: MetricReading; blue?: MetricReading | undefined } | undefined;
      /**
       * While monitoring: the metric samples already recorded in this window, oldest first, as
       * `metricHistoryWanted` asks for them. They live in their own append-only record, not in the
       * status, so a sample's write never grows with the window's history.
       */
      history?: readonly MetricSample[] | undefined;
    }
  /** Can traffic still go back to blue (deployable, no secrets change pending)? Checked before each switch. */
  | { type: 'readiness'; ready: boolean; detail: string }
  /** `override`: switch although a rollback to blue would not be possible. */
  | { type: 'approve'; actor: string; override?: boolean | undefined }
  /** Canary gate or a paused window: go on (next step, or accept the release). */
  | { type: 'promote'; actor: string; override?: boolean | undefined }
  | { type: 'reject'; actor: string; comment?: string | undefined }
  | { type: 'cancel'; actor: string }
  | { type: 'rollback'; actor: string; comment?: string | undefined };

export type CommandInput = Extract<Input, { type: 'approve' | 'reject' | 'cancel' | 'rollback' | 'promote' }>;
