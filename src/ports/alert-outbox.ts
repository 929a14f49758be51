import type { Alert, AlertChannelName, AlertLevel } from '../domain/alert.ts';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export function isDeliveryStatus(text: string): text is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(text);
}

export interface DeliveryRecord {
  channel: AlertChannelName;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  ref: string | null;
  deliveredAt: string | null;
}

/** An alert as stored, with its per-channel delivery state. */
export interface StoredAlert extends Alert {
  /** Order of raising; deliveries on one channel happen in this order. */
  seq: number;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  escalatedAt: string | null;
  resolvedAt: string | null;
  deliveries: DeliveryRecord[];
}

/** The head of one channel's queue, leased to this dispatcher. */
export interface DeliveryJob {
  alert: StoredAlert;
  channel: AlertChannelName;
  attempts: number;
  /** Refs of earlier delivered alerts of the same incident on this channel, oldest first. */
  incidentRefs: string[];
  /** This delivery's ref from an earlier attempt, if one was recorded. */
  previousRef: string | null;
}

/** `ref` on a retry or a failure: the channel's progress so far, stored when given (left as it was otherwise). */
export type DeliveryCompletion =
  | { status: 'delivered'; ref: string | null }
  | { status: 'skipped'; error: string }
  | { status: 'failed'; error: string; ref?: string | undefined }
  | { status: 'retry'; error: string; nextAttemptAt: string; ref?: string | undefined };

export interface AlertFilter {
  deploymentId?: string | undefined;
  incidentKey?: string | undefined;
  /** Only alerts with a delivery in this state. */
  status?: DeliveryStatus | undefined;
  limit?: number | undefined;
}

/** Where alerts wait to be delivered: written with status changes, drained by the dispatcher. */
export interface AlertOutbox {
  /**
   * The head of each channel's queue (the oldest undelivered alert on it) when it is due at `now`
   * and not leased by someone else, leased to `owner` for `leaseMs`. A channel whose head is backing
   * off yields nothing: later alerts wait, so every channel gets its alerts in order.
   *
   * `now` (the caller's clock) decides only what is due (and is recorded as the update time). Lease
   * expiry is judged by the database's clock, never a replica's: whether another owner's lease is
   * still live, and when the new lease ends (the database's now + `leaseMs`). A renewal by the
   * holder extends its lease the same way.
   */
  leaseDue(owner: string, now: string, leaseMs: number): Promise<DeliveryJob[]>;
  /** Records an attempt's outcome; false when the lease was lost meanwhile (another replica took over). */
  complete(job: DeliveryJob, owner: string, outcome: DeliveryCompletion, now: string): Promise<boolean>;
  /**
   * Stores a leased delivery's ref in the middle of an attempt (DeliveryContext.recordProgress);
   * false when the lease is no longer `owner`'s (expired and taken, or released).
   */
  recordProgress(job: DeliveryJob, owner: string, ref: string, now: string): Promise<boolean>;
  /** Releases every lease of `owner` (shutdown), so another replica can go on at once. */
  releaseLeases(owner: string): Promise<void>;
  list(filter: AlertFilter): Promise<StoredAlert[]>;
  get(seq: number): Promise<StoredAlert | undefined>;
  /** Delivery counts by channel and status, for /metrics. */
  countDeliveries(): Promise<Array<{ channel: string; status: string; count: number }>>;
  /** The oldest pending delivery per channel: how far behind each channel is. */
  oldestPending(): Promise<Array<{ channel: string; createdAt: string }>>;

  /**
   * Marks an incident acknowledged (first acknowledgement wins) and raises an `acknowledged`
   * alert to the channels that carried it, except the one it came from. Undefined when unknown
   * or already acknowledged / resolved.
   */
  acknowledge(incidentKey: string, by: string, from: AlertChannelName | 'cli', now: string): Promise<StoredAlert | undefined>;
  /** PagerDuty resolved it: mark the incident resolved and tell the channels other than `from`. */
  resolveIncident(incidentKey: string, by: string, from: AlertChannelName, now: string): Promise<StoredAlert | undefined>;
  /** Unacknowledged, unresolved, not yet escalated incident alerts of these levels. */
  escalationCandidates(levels: readonly AlertLevel[]): Promise<StoredAlert[]>;
  /** Marks `alert` escalated and raises `escalation` in one transaction; false when someone else escalated it first. */
  escalate(alert: StoredAlert, escalation: Alert, channels: AlertChannelName[], now: string): Promise<boolean>;
}
