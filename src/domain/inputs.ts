import type { MetricReading } from '../ports/metrics-source.ts';
import type { CheckResult, Split, VersionInfo } from './deployment.ts';

/** A platform call that did not succeed, as the domain sees it: a code, words, and whether to try again. */
export interface PlatformFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/** The live deployment on the platform: its split and what is known about each version in it. */
export interface LiveTraffic {
  split: Split;
  versions: VersionInfo[];
}

/**
 * Everything that can happen to a deployment: the outcome of a step the runner executed, the
 * passage of time, or a person's command. `decide()` is a function of (status, input, now).
 */
export type Input =
  | { type: 'claimed' }
  | { type: 'tick' }
  | { type: 'resolved'; version: VersionInfo; live: LiveTraffic }
  | { type: 'platform-error'; error: PlatformFailure }
  | { type: 'split-verified'; split: Split }
  | { type: 'checks'; results: CheckResult[]; metrics?: { green: MetricReading; blue?: MetricReading | undefined } | undefined }
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
