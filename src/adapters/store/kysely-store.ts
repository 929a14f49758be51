import { sql, type Kysely, type Transaction } from 'kysely';
import { KevinDeployError } from '../../errors.ts';
import type { Deployment, DeploymentEvent, Target } from '../../domain/deployment.ts';
import { TERMINAL_STAGES, type Stage } from '../../domain/stages.ts';
import type { FreezeLock } from '../../domain/freeze-lock.ts';
import type {
  ChatCard,
  DeploymentFilter,
  QueueEntry,
  Store,
  StoreSession,
  TargetClaim,
  WorkItem,
} from '../../ports/store.ts';
import type { AlertIntent } from '../../domain/alert-rules.ts';
import type { MetricSample } from '../../domain/metric-triggers.ts';
import type { Database } from './database-schema.ts';
import { databaseNow } from './database-clock.ts';
import { KyselyLeases } from './kysely-leases.ts';
import { knownMigrationNames, type SqlDialectName } from './migrations.ts';
import { recordAlertIntents } from './kysely-alert-outbox.ts';
import { deploymentToRow, rowToDeployment, rowToEvent } from './row-mapping.ts';

const TERMINAL = [...TERMINAL_STAGES];

/**
 * The queries, written once against Kysely so they run unchanged on SQLite and Postgres.
 * A session wraps either the database or an open transaction.
 */
class KyselySession implements StoreSession {
  constructor(
    protected readonly db: Kysely<Database> | Transaction<Database>,
    protected readonly dialect: SqlDialectName,
  ) {}

  async holdsLease(id: string, owner: string): Promise<boolean> {
    let query = this.db
      .selectFrom('deployment_leases')
      .select('owner')
      .where('deployment_id', '=', id)
      .where('owner', '=', owner)
      .where('expires_at', '>', databaseNow(this.dialect));
    // Postgres: hold the lease row until this transaction ends, so nobody takes it over in between.
    if (this.dialect === 'postgres') query = query.forUpdate();
    return (await query.executeTakeFirst()) !== undefined;
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToDeployment(row) : undefined;
  }

  async listDeployments(filter: DeploymentFilter): Promise<Deployment[]> {
    let query = this.db.selectFrom('deployments').selectAll();
    if (filter.service) query = query.where('service', '=', filter.service);
    if (filter.environment) query = query.where('environment', '=', filter.environment);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.stages && filter.stages.length > 0) query = query.where('stage', 'in', [...filter.stages]);
    if (filter.createdSince) query = query.where('created_at', '>=', filter.createdSince);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 50)
      .execute();
    return rows.map(rowToDeployment);
  }

  async insertDeployment(d: Deployment): Promise<void> {
    await this.db
      .insertInto('deployments')
      .values(deploymentToRow(d))
      .execute();
  }

  async updateDeployment(d: Deployment, expectedRevision: number): Promise<Deployment | undefined> {
    const next = { ...d, revision: expectedRevision + 1 };
    const { id, created_at, ...columns } = deploymentToRow(next);
    void created_at;
    const result = await this.db
      .updateTable('deployments')
      .set(columns)
      .where('id', '=', id)
      .where('revision', '=', expectedRevision)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? next : undefined;
  }

  async appendEvents(events: readonly DeploymentEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db
      .insertInto('deployment_events')
      .values(
        events.map((e) => ({
          deployment_id: e.deploymentId,
          at: e.at,
          actor: e.actor,
          action: e.action,
          from_stage: e.fromStage,
          to_stage: e.toStage,
          details_json: JSON.stringify(e.details),
        })),
      )
      .execute();
  }

  async appendMetricSample(deploymentId: string, sample: MetricSample): Promise<void> {
    await this.db.insertInto('metric_samples').values({ deployment_id: deploymentId, at: sample.at, sample_json: JSON.stringify(sample) }).execute();
  }

  async listMetricSamples(deploymentId: string, range: { since?: string | undefined; limit?: number | undefined } = {}): Promise<MetricSample[]> {
    let query = this.db.selectFrom('metric_samples').select('sample_json').where('deployment_id', '=', deploymentId);
    if (range.since !== undefined) query = query.where('at', '>=', range.since);
    // Newest first to take the last `limit`, then back to oldest first.
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(range.limit ?? 10_000).execute();
    return rows.reverse().map((r) => JSON.parse(r.sample_json) as MetricSample);
  }

  async listEvents(deploymentId: string): Promise<DeploymentEvent[]> {
    const rows = await this.db
      .selectFrom('deployment_events')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .orderBy('id', 'asc')
      .execute();
    return rows.map(rowToEvent);
  }

  async getClaim(target: Target): Promise<TargetClaim | undefined> {
    const row = await this.db
      .selectFrom('target_claims')
      .selectAll()
      .where('service', '=', target.service)
      .where('environment', '=', target.environment)
      .executeTakeFirst();
    return row
      ? { service: row.service, environment: row.environment, deploymentId: row.deployment_id, since: row.since }
      : undefined;
  }

  async claimTarget(claim: TargetClaim): Promise<boolean> {
    const result = await this.db
      .insertInto('target_claims')
      .values({
        service: claim.service,
        environment: claim.environment,
        deployment_id: claim.deploymentId,
        since: claim.since,
      })
      .onConflict((oc) => oc.columns(['service', 'environment']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async releaseClaim(target: Target, deploymentId: string): Promise<void> {
    await this.db
      .deleteFrom('target_claims')
      .where('service', '=', target.service)
      .where('environment', '=', target.environment)
      .where('deployment_id', '=', deploymentId)
      .execute();
  }

  async listClaims(): Promise<TargetClaim[]> {
    const rows = await this.db.selectFrom('target_claims').selectAll().orderBy('since').execute();
    return rows.map((r) => ({ service: r.service, environment: r.environment, deploymentId: r.deployment_id, since: r.since }));
  }

  async enqueue(entry: QueueEntry): Promise<void> {
    await this.db
      .insertInto('deployment_queue')
      .values({
        service: entry.service,
        environment: entry.environment,
        deployment_id: entry.deploymentId,
        enqueued_at: entry.enqueuedAt,
      })
      .execute();
  }

  async queueOf(target: Target): Promise<QueueEntry[]> {
    const rows = await this.db
      .selectFrom('deployment_queue')
      .selectAll()
      .where('service', '=', target.service)
      .where('environment', '=', target.environment)
      .orderBy('id', 'asc')
      .execute();
    return rows.map((r) => ({ service: r.service, environment: r.environment, deploymentId: r.deployment_id, enqueuedAt: r.enqueued_at }));
  }

  async listQueue(): Promise<QueueEntry[]> {
    const rows = await this.db.selectFrom('deployment_queue').selectAll().orderBy('id', 'asc').execute();
    return rows.map((r) => ({ service: r.service, environment: r.environment, deploymentId: r.deployment_id, enqueuedAt: r.enqueued_at }));
  }

  async dequeue(deploymentId: string): Promise<void> {
    await this.db.deleteFrom('deployment_queue').where('deployment_id', '=', deploymentId).execute();
  }

  async getLock(target: Target): Promise<FreezeLock | undefined> {
    const row = await this.db
      .selectFrom('locks')
      .selectAll()
      .where('service', '=', target.service)
      .where('environment', '=', target.environment)
      .executeTakeFirst();
    return row ? rowToLock(row) : undefined;
  }

  async putLock(lock: FreezeLock): Promise<void> {
    await this.db
      .insertInto('locks')
      .values({
        service: lock.service,
        environment: lock.environment,
        holder: lock.holder,
        reason: lock.reason,
        since: lock.since,
        expires_at: lock.expiresAt,
      })
      .execute();
  }

  async deleteLock(target: Target): Promise<boolean> {
    const result = await this.db
      .deleteFrom('locks')
      .where('service', '=', target.service)
      .where('environment', '=', target.environment)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listLocks(): Promise<FreezeLock[]> {
    const rows = await this.db.selectFrom('locks').selectAll().orderBy('since').execute();
    return rows.map(rowToLock);
  }

  async recordAlerts(intents: readonly AlertIntent[], now: string): Promise<void> {
    if (intents.length > 0) await recordAlertIntents(this.db, intents, now);
  }
}

/**
 * SQLITE_BUSY after busy_timeout means another process held the write lock for seconds: a
 * temporary condition with a clear answer (503, try again), not an internal error.
 */
function busyAsProblem(error: unknown): unknown {
  if ((error as { code?: string }).code !== 'SQLITE_BUSY') return error;
  return new KevinDeployError('STORE_BUSY', 'the database is busy: another process held its write lock for 5 s; nothing was changed, try again');
}

function rowToLock(row: Database['locks']): FreezeLock {
  return {
    service: row.service,
    environment: row.environment,
    holder: row.holder,
    reason: row.reason,
    since: row.since,
    expiresAt: row.expires_at,
  };
}

export class KyselyStore extends KyselySession implements Store {
  private readonly leases: KyselyLeases;

  constructor(
    private readonly database: Kysely<Database>,
    dialect: SqlDialectName = 'sqlite',
  ) {
    super(database, dialect);
    this.leases = new KyselyLeases(database, dialect);
  }

  transaction<T>(work: (session: StoreSession) => Promise<T>): Promise<T> {
    return this.database
      .transaction()
      .execute((trx) => work(new KyselySession(trx, this.dialect)))
      .catch((error: unknown) => {
        throw busyAsProblem(error);
      });
  }

  async listWork(): Promise<WorkItem[]> {
    const rows = await this.database
      .selectFrom('deployments')
      .leftJoin('deployment_leases', 'deployment_leases.deployment_id', 'deployments.id')
      .select(['deployments.id as id', 'deployments.wake_at as wake_at', 'deployments.revision as revision', 'deployment_leases.owner as owner', 'deployment_leases.expires_at as expires_at'])
      .select(databaseNow(this.dialect).as('now'))
      .where('deployments.stage', 'not in', TERMINAL)
      .orderBy('deployments.created_at', 'asc')
      .execute();
    return rows.map((r) => {
      const live = r.expires_at !== null && r.expires_at > r.now;
      // Both times are the database's, so their difference means the same to every replica.
      return { id: r.id, revision: Number(r.revision), wakeAt: r.wake_at, leaseOwner: r.owner, leaseLive: live, leaseExpiresInMs: live ? Date.parse(r.expires_at!) - Date.parse(r.now) : null };
    });
  }

  // Leases: their own module (kysely-leases.ts), shared by the store's two kinds (steps and cards).
  acquireLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.leases.take('deployment_leases', id, owner, ttlMs);
  }

  renewLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.leases.renew(id, owner, ttlMs);
  }

  releaseLease(id: string, owner: string): Promise<void> {
    return this.leases.release('deployment_leases', id, owner);
  }

  releaseAllLeases(owner: string): Promise<void> {
    return this.leases.releaseAll(owner);
  }

  acquireCardLease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.leases.take('card_leases', id, owner, ttlMs);
  }

  releaseCardLease(id: string, owner: string): Promise<void> {
    return this.leases.release('card_leases', id, owner);
  }

  async recordInboundDelivery(key: string, receivedAt: string, forgetBefore: string): Promise<boolean> {
    await this.database.deleteFrom('inbound_deliveries').where('received_at', '<', forgetBefore).execute();
    const result = await this.database
      .insertInto('inbound_deliveries')
      .values({ key, received_at: receivedAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async getCard(deploymentId: string): Promise<ChatCard | undefined> {
    const row = await this.database.selectFrom('slack_cards').selectAll().where('deployment_id', '=', deploymentId).executeTakeFirst();
    return row
      ? { deploymentId: row.deployment_id, channel: row.channel, ref: row.ts, renderedRevision: Number(row.rendered_revision), threadCursor: Number(row.thread_cursor) }
      : undefined;
  }

  async putCard(card: ChatCard, now: Date): Promise<void> {
    const values = { channel: card.channel, ts: card.ref, rendered_revision: card.renderedRevision, thread_cursor: card.threadCursor, updated_at: now.toISOString() };
    await this.database
      .insertInto('slack_cards')
      .values({ deployment_id: card.deploymentId, ...values })
      .onConflict((oc) => oc.column('deployment_id').doUpdateSet(values))
      .execute();
  }

  async cardsBehind(since: string): Promise<string[]> {
    const rows = await this.database
      .selectFrom('deployments')
      .leftJoin('slack_cards', 'slack_cards.deployment_id', 'deployments.id')
      .select(['deployments.id as id'])
      .where('deployments.updated_at', '>=', since)
      .where((eb) =>
        eb.or([eb('slack_cards.deployment_id', 'is', null), eb('slack_cards.ts', 'is', null), eb('slack_cards.rendered_revision', '<', eb.ref('deployments.revision'))]),
      )
      .orderBy('deployments.updated_at', 'asc')
      .execute();
    return rows.map((r) => r.id);
  }

  async unknownMigrations(): Promise<string[]> {
    const known = new Set(knownMigrationNames());
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(this.database);
    return applied.rows.map((r) => r.name).filter((name) => !known.has(name));
  }

  async countByStage(): Promise<Partial<Record<Stage, number>>> {
    const rows = await this.database
      .selectFrom('deployments')
      .select(['stage', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('stage')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.stage, Number(r.count)]));
  }

  /**
   * A committed write, not a `select 1`: a store that can still be read but no longer written (a
   * disk remounted read-only, a full disk) must make /readyz fail before a command does.
   */
  async ping(): Promise<void> {
    const at = new Date().toISOString();
    const value = JSON.stringify({ at });
    await this.database
      .insertInto('store_meta')
      .values({ key: 'write-check', value_json: value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value_json: value, updated_at: at }))
      .execute();
  }

  async close(): Promise<void> {
    await this.database.destroy();
  }
}
