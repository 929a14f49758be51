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
  /** 429, 5xx, timeouts, connection errors: retry, no sooner than retryAfterMs when the service said so. */
  | { status: 'retry'; error: string; retryAfterMs?: number | undefined }
  /** 400/401/403/404: a configuration error; logged, never retried. */
  | { status: 'failed'; error: string };

export interface AlertChannel {
  readonly name: AlertChannelName;
  deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome>;
}
