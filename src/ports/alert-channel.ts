import type { Alert, AlertChannelName } from '../domain/alert.ts';

/**
 * What a channel knows about earlier deliveries of the same incident on this channel, so it can
 * edit instead of posting again (Discord, Slack) or reuse a key (PagerDuty's dedup_key).
 */
export interface DeliveryContext {
  /** The idempotency key of this (alert, channel) pair: stable across retries, restarts and replicas. */
  idempotencyKey: string;
  /** This delivery's attempt number, 1-based. */
  attempt: number;
  /** Remote references (message ids, ts, dedup keys) of earlier delivered alerts of the same incident on this channel, oldest first. */
  incidentRefs: string[];
  /** This delivery's own remote reference from an earlier attempt whose outcome was unclear, if any. */
  previousRef?: string | undefined;
  /** Aborted when the dispatcher gives the attempt up (its deadline passed); channels pass it to their requests. */
  signal?: AbortSignal | undefined;
  /**
   * Stores this delivery's ref now, in the middle of the attempt (while its lease is held), so a
   * channel that sends in several steps (SMS: one message per number) can record each step before
   * and after it is taken; the next attempt finds it as `previousRef`. False when the lease is no
   * longer ours: another replica carries on, and the channel must stop sending.
   */
  recordProgress?: ((ref: string) => Promise<boolean>) | undefined;
}

/**
 * The outcome of one delivery attempt. A channel never throws for a remote failure: it says
 * whether to try again (and when the service asked us to), or that trying again cannot help.
 */
export type DeliveryOutcome =
  /** `warning`: delivered, but a follow-up did not work (e.g. Discord could not crosspost it); logged. */
  | { status: 'delivered'; ref?: string | undefined; warning?: string | undefined }
  /** Nothing to send on this channel for this alert (e.g. email for a deploy marker). */
  | { status: 'skipped'; reason: string }
  /** 429, 5xx, timeouts, connection errors: retry, no sooner than retryAfterMs when the service said so. `ref`: progress so far (kept for the next attempt). */
  | { status: 'retry'; error: string; retryAfterMs?: number | undefined; ref?: string | undefined }
  /** 400/401/403/404: a configuration error; logged, never retried. `ref`: what was done before it (kept, shown). */
  | { status: 'failed'; error: string; ref?: string | undefined };

export interface AlertChannel {
  readonly name: AlertChannelName;
  deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome>;
}
