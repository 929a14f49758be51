import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Timestamps are ISO-8601 UTC strings (they sort as text the
 * same way on SQLite and Postgres); structured fields are JSON text, so no dialect-specific types
 * leak into the engine.
 */
export interface DeploymentsTable {
  id: string;
  service: string;
  environment: string;
  kind: string;
  stage: string;
  version_ref: string;
  version_id: string | null;
  version_tag: string | null;
  previous_version_id: string | null;
  previous_version_tag: string | null;
  strategy: string;
  split_json: string;
  requested_by: string;
  note: string | null;
  force: number;
  approvals_json: string;
  reason: string;
  outcome: string | null;
  stage_times_json: string;
  progress_json: string;
  wake_at: string | null;
  revision: number;
  created_at: string;
  updated_at: string;
}

export interface DeploymentEventsTable {
  id: Generated<number>;
  deployment_id: string;
  at: string;
  actor: string;
  action: string;
  from_stage: string | null;
  to_stage: string | null;
  details_json: string;
}

export interface LocksTable {
  service: string;
  environment: string;
  holder: string;
  reason: string;
  since: string;
  expires_at: string | null;
}

export interface TargetClaimsTable {
  service: string;
  environment: string;
  deployment_id: string;
  since: string;
}

export interface QueueTable {
  id: Generated<number>;
  service: string;
  environment: string;
  deployment_id: string;
  enqueued_at: string;
}

/** The Slack message that shows a deployment, and how far it has been brought up to date. */
export interface SlackCardsTable {
  deployment_id: string;
  channel: string;
  ts: string | null;
  /** The deployment revision the message shows. */
  rendered_revision: number;
  /** How many audit events have been considered for the thread. */
  thread_cursor: number;
  updated_at: string;
}

/** One alert, as the router raised it (see src/domain/alert.ts); `id` orders deliveries per channel. */
export interface AlertsTable {
  id: Generated<number>;
  alert_key: string;
  deployment_id: string;
  service: string;
  environment: string;
  kind: string;
  level: string;
  title: string;
  incident_key: string | null;
  facts_json: string;
  created_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  escalated_at: string | null;
  resolved_at: string | null;
}

/** One alert on one channel: the idempotency unit (alert, channel). */
export interface AlertDeliveriesTable {
  alert_id: number;
  channel: string;
  /** pending → delivered | failed | skipped */
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  /** The channel's reference to what it sent (Slack channel:ts, Discord message id, PagerDuty dedup key). */
  ref: string | null;
  delivered_at: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  updated_at: string;
}

/** Small facts about the store itself: who holds a SQLite file, the last write check. */
export interface StoreMetaTable {
  key: string;
  value_json: string;
  updated_at: string;
}

/**
 * Signed inbound requests already acted on (Slack trigger ids), kept for the replay window: a
 * verbatim replay of a signed request is valid for minutes and must not act twice.
 */
export interface InboundDeliveriesTable {
  key: string;
  received_at: string;
}

/** One monitoring sample's figures (a MetricSample as JSON), appended as the sample is committed. */
export interface MetricSamplesTable {
  id: Generated<number>;
  deployment_id: string;
  at: string;
  sample_json: string;
}

/** Who is working on a deployment's step right now, until when. */
export interface DeploymentLeasesTable {
  deployment_id: string;
  owner: string;
  expires_at: string;
}

/** An operator console sign-in: the digests of its cookie's id and of the API token it was made from. */
export interface ConsoleSessionsTable {
  id_digest: string;
  token_digest: string;
  actor: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

/** How many of the bot's checks of a production site one UTC day saw, and how many failed. */
export interface AvailabilityDaysTable {
  service: string;
  environment: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  checks: number;
  failures: number;
}

export interface Database {
  console_sessions: ConsoleSessionsTable;
  availability_days: AvailabilityDaysTable;
  deployments: DeploymentsTable;
  /** Who draws a deployment's chat card right now (same shape as a step's lease). */
  card_leases: DeploymentLeasesTable;
  metric_samples: MetricSamplesTable;
  deployment_leases: DeploymentLeasesTable;
  deployment_events: DeploymentEventsTable;
  locks: LocksTable;
  target_claims: TargetClaimsTable;
  deployment_queue: QueueTable;
  slack_cards: SlackCardsTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  store_meta: StoreMetaTable;
  inbound_deliveries: InboundDeliveriesTable;
}
