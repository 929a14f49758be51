import type { AlertIntent } from '../domain/alert-rules.ts';
import type { Deployment, DeploymentEvent, Target } from '../domain/deployment.ts';
import type { FreezeLock } from '../domain/freeze-lock.ts';
import type { MetricSample } from '../domain/metric-triggers.ts';
import type { Stage } from '../domain/stages.ts';


/** The claim that makes a deployment the one active deployment of its target. */
export interface TargetClaim extends Target {
  deploymentId: string;
  since: string;
}

export interface QueueEntry extends Target {
  deploymentId: string;
  enqueuedAt: string;
}

export interface DeploymentFilter {
  service?: string | undefined;
  environment?: string | undefined;
  stages?: readonly Stage[] | undefined;
  kind?: Deployment['kind'] | undefined;
  /** Created at or after this instant (ISO 8601): the console's history and delivery metrics. */
  createdSince?: string | undefined;
  limit?: number | undefined;
}

/**
 * Where a deployment's chat card is and how current it is, so a restarted bot brings it up to
 * date instead of posting it again.
 */
export interface ChatCard {
  deploymentId: string;
  channel: string;
  /** The message's reference in the chat (Slack's ts); null while the first post is in flight (or was lost in a crash). */
  ref: string | null;
  /** The deployment revision the card shows. */
  renderedRevision: number;
  /** How many audit events have been considered for the card's thread. */
  threadCursor: number;
}

/** What the runner needs to schedule work: when to look, and whether someone else holds it. */
export interface WorkItem {
  id: string;
  /** The deployment's revision (a lease taken over at the same revision: its step was never committed). */
  revision: number;
  wakeAt: string | null;
  /** The replica named in its lease row, if any (live or expired). */
  leaseOwner: string | null;
  /** Whether that lease is still live by the database's clock. */
  leaseLive: boolean;
  /** How long a live lease has left, by the database's clock (null when none is live). */
  leaseExpiresInMs: number | null;
}

/**
 * Persistence, behind a port so SQLite (one replica) and Postgres (several) are interchangeable.
 * Every query is portable SQL through Kysely. Writes that must be atomic happen inside
 * `transaction`, whose callback gets the same interface bound to the transaction.
 */
export interface StoreSession {
  getDeployment(id: string): Promise<Deployment | undefined>;
  listDeployments(filter: DeploymentFilter): Promise<Deployment[]>;
  insertDeployment(d: Deployment): Promise<void>;
  /** Compare-and-set on `revision`: returns the stored row (revision + 1) or undefined if someone else wrote first. */
  updateDeployment(d: Deployment, expectedRevision: number): Promise<Deployment | undefined>;
  appendEvents(events: readonly DeploymentEvent[]): Promise<void>;
  /** Appends one monitoring sample's figures to the deployment's metric history (never rewrites earlier ones). */
  appendMetricSample(deploymentId: string, sample: MetricSample): Promise<void>;
  /** The deployment's metric samples at or after `since`, the newest `limit` of them, oldest first. */
  listMetricSamples(deploymentId: string, range?: { since?: string | undefined; limit?: number | undefined }): Promise<MetricSample[]>;
  listEvents(deploymentId: string): Promise<DeploymentEvent[]>;

  getClaim(target: Target): Promise<TargetClaim | undefined>;
  /** Fails (returns false) when another deployment holds the target; portable through a primary key. */
  claimTarget(claim: TargetClaim): Promise<boolean>;
  releaseClaim(target: Target, deploymentId: string): Promise<void>;
  listClaims(): Promise<TargetClaim[]>;

  enqueue(entry: QueueEntry): Promise<void>;
  queueOf(target: Target): Promise<QueueEntry[]>;
  listQueue(): Promise<QueueEntry[]>;
  dequeue(deploymentId: string): Promise<void>;

  getLock(target: Target): Promise<FreezeLock | undefined>;
  putLock(lock: FreezeLock): Promise<void>;
  deleteLock(target: Target): Promise<boolean>;
  listLocks(): Promise<FreezeLock[]>;

  /**
   * Whether `owner` still holds a live lease on the deployment (the database's clock). Inside a
   * transaction this is the fence: a replica whose lease lapsed (it stalled, its network to the
   * database was cut) commits nothing, because another may already have taken the step over.
   */
  holdsLease(id: string, owner: string): Promise<boolean>;

  /** Writes alerts into the outbox — inside the transaction of the status change that caused them. */
  recordAlerts(intents: readonly AlertIntent[], now: string): Promise<void>;
}

export interface Store extends StoreSession {
  transaction<T>(work: (session: StoreSession) => Promise<T>): Promise<T>;
  /** Non-terminal deployments, for the runner's schedule. */
  listWork(): Promise<WorkItem[]>;
  /**
   * Takes or renews the lease on a deployment for `ttlMs`; false when another live owner holds it.
   * Expiry is judged by the database's clock, never a replica's: replicas whose clocks disagree
   * still agree on whose lease is live.
   */
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Extends a lease that is still this owner's and live; false when it is not (it expired, and
   * may be another's by now). Never takes a lease anew: a replica that lost its step while it
   * was stalled must not win it back behind the replica that took it over.
   */
  renewLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(id: string, owner: string): Promise<void>;
  /** Gives back every lease this owner holds (steps and cards): a replica shutting down. */
  releaseAllLeases(owner: string): Promise<void>;
  /** The right to draw a deployment's chat card, for `ttlMs`: replicas take turns, never draw at once. */
  acquireCardLease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseCardLease(id: string, owner: string): Promise<void>;
  /**
   * Records an inbound request by a key that identifies it (a Slack trigger id): true the first
   * time, false for a replay of one already recorded. Keys received before `forgetBefore` are
   * forgotten (the replay window has passed for them).
   */
  recordInboundDelivery(key: string, receivedAt: string, forgetBefore: string): Promise<boolean>;
  getCard(deploymentId: string): Promise<ChatCard | undefined>;
  putCard(card: ChatCard, now: Date): Promise<void>;
  /** Deployments whose card is missing or behind, updated since `since`: the catch-up list after a start. */
  cardsBehind(since: string): Promise<string[]>;
  /**
   * Migrations applied to the store that this version does not know: a newer kevin-deploy has
   * migrated it while this one runs (a rolling upgrade). Empty when the schema is this version's.
   */
  unknownMigrations(): Promise<string[]>;
  /** Deployment counts by stage (for /metrics). */
  countByStage(): Promise<Partial<Record<Stage, number>>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
