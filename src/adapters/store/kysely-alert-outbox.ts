import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { Alert, AlertChannelName, AlertFacts, AlertKind, AlertLevel } from '../../domain/alert.ts';
import type { AlertIntent } from '../../domain/alert-rules.ts';
import type {
  AlertFilter,
  AlertOutbox,
  DeliveryCompletion,
  DeliveryJob,
  DeliveryRecord,
  DeliveryStatus,
  StoredAlert,
} from '../../ports/alert-outbox.ts';
import type { Database } from './database-schema.ts';
import { databaseNow } from './database-clock.ts';
import type { SqlDialectName } from './migrations.ts';

type Db = Kysely<Database> | Transaction<Database>;
type AlertRow = Selectable<Database['alerts']>;

/** How many pending deliveries one scan looks at; a backlog larger than this drains over several scans. */
const SCAN_LIMIT = 500;

/**
 * Stores what the router decided, inside the caller's transaction (the status change's own).
 * Alert keys are unique, so a replayed commit inserts nothing twice; a resolution goes to exactly
 * the channels its incident was raised on.
 */
export async function recordAlertIntents(db: Db, intents: readonly AlertIntent[], now: string): Promise<void> {
  for (const intent of intents) {
    if (intent.type === 'raise') {
      await insertAlert(db, intent.alert, intent.channels, now);
      continue;
    }
    const open = await db
      .selectFrom('alerts')
      .select(['incident_key'])
      .where('deployment_id', '=', intent.deploymentId)
      .where('incident_key', 'is not', null)
      .where('resolved_at', 'is', null)
      .orderBy('id', 'asc')
      .execute();
    const incidents = new Set<string>();
    for (const row of open) if (row.incident_key) incidents.add(row.incident_key);
    for (const incidentKey of incidents) {
      const first = await firstOfIncident(db, incidentKey);
      if (!first) continue;
      const firstKind = first.kind;
      const channels = await incidentChannels(db, incidentKey);
      await db.updateTable('alerts').set({ resolved_at: intent.createdAt }).where('incident_key', '=', incidentKey).where('resolved_at', 'is', null).execute();
      if (channels.length === 0) continue;
      const community = firstKind === 'community-incident';
      await insertAlert(
        db,
        {
          id: `${incidentKey}/resolved`,
          kind: community ? 'community-resolved' : 'resolved',
          level: 'info',
          title: community ? `${intent.facts.service}: all good again` : intent.title,
          facts: community ? intent.facts : { ...intent.facts, incident: incidentOf(first) },
          incidentKey,
          createdAt: intent.createdAt,
        },
        channels,
        now,
        { resolvedAt: intent.createdAt },
      );
    }
  }
}

/** A follow-up (acknowledged, resolved) is born in the state it reports, so it can never be acknowledged or escalated itself. */
interface BornState {
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
}

async function insertAlert(db: Db, alert: Alert, channels: readonly AlertChannelName[], now: string, born: BornState = {}): Promise<number | undefined> {
  const inserted = await db
    .insertInto('alerts')
    .values({
      alert_key: alert.id,
      deployment_id: alert.facts.deploymentId,
      service: alert.facts.service,
      environment: alert.facts.environment,
      kind: alert.kind,
      level: alert.level,
      title: alert.title,
      incident_key: alert.incidentKey ?? null,
      facts_json: JSON.stringify(alert.facts),
      created_at: alert.createdAt,
      acknowledged_at: born.acknowledgedAt ?? null,
      acknowledged_by: born.acknowledgedBy ?? null,
      escalated_at: null,
      resolved_at: born.resolvedAt ?? null,
    })
    .onConflict((oc) => oc.column('alert_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return undefined;
  const id = Number(inserted.id);
  if (channels.length > 0) {
    await db
      .insertInto('alert_deliveries')
      .values(
        channels.map((channel) => ({
          alert_id: id,
          channel,
          status: 'pending',
          attempts: 0,
          next_attempt_at: alert.createdAt,
          last_error: null,
          ref: null,
          delivered_at: null,
          lease_owner: null,
          lease_expires_at: null,
          updated_at: now,
        })),
      )
      .execute();
  }
  return id;
}

async function firstOfIncident(db: Db, incidentKey: string): Promise<AlertRow | undefined> {
  return db.selectFrom('alerts').selectAll().where('incident_key', '=', incidentKey).orderBy('id', 'asc').executeTakeFirst();
}

/** The incident as it was raised, carried by its follow-ups (see AlertFacts.incident). */
function incidentOf(first: AlertRow): NonNullable<AlertFacts['incident']> {
  const facts = JSON.parse(first.facts_json) as AlertFacts;
  return { level: first.level as AlertLevel, title: first.title, createdAt: first.created_at, ...(facts.triggerDetails ? { triggerDetails: facts.triggerDetails } : {}) };
}

/** The channels an incident was raised on (anything not given up on), in a stable order. */
async function incidentChannels(db: Db, incidentKey: string): Promise<AlertChannelName[]> {
  const rows = await db
    .selectFrom('alert_deliveries')
    .innerJoin('alerts', 'alerts.id', 'alert_deliveries.alert_id')
    .select('alert_deliveries.channel')
    .where('alerts.incident_key', '=', incidentKey)
    .where('alert_deliveries.status', 'in', ['pending', 'delivered'])
    .execute();
  return [...new Set(rows.map((r) => r.channel as AlertChannelName))].sort();
}

function rowToAlert(row: AlertRow, deliveries: DeliveryRecord[]): StoredAlert {
  return {
    id: row.alert_key,
    seq: Number(row.id),
    kind: row.kind as AlertKind,
    level: row.level as AlertLevel,
    title: row.title,
    facts: JSON.parse(row.facts_json) as AlertFacts,
    ...(row.incident_key ? { incidentKey: row.incident_key } : {}),
    createdAt: row.created_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    escalatedAt: row.escalated_at,
    resolvedAt: row.resolved_at,
    deliveries,
  };
}

function rowToDelivery(row: Database['alert_deliveries']): DeliveryRecord {
  return {
    channel: row.channel as AlertChannelName,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    ref: row.ref,
    deliveredAt: row.delivered_at,
  };
}

export class KyselyAlertOutbox implements AlertOutbox {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName = 'sqlite',
  ) {}

  /**
   * `now` (the dispatcher's clock) says only what is due and stamps `updated_at`; whether another
   * owner's lease is still live, and until when ours runs, are the database's clock's to say (see
   * databaseNow), as for the deployment leases: replicas whose clocks disagree still agree on whose
   * lease is live.
   */
  async leaseDue(owner: string, now: string, leaseMs: number): Promise<DeliveryJob[]> {
    const pending = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .select(databaseNow(this.dialect).as('db_now'))
      .where('status', '=', 'pending')
      .orderBy('alert_id', 'asc')
      .limit(SCAN_LIMIT)
      .execute();
    const heads = new Map<string, (typeof pending)[number]>();
    for (const row of pending) if (!heads.has(row.channel)) heads.set(row.channel, row);
    const jobs: DeliveryJob[] = [];
    for (const head of heads.values()) {
      if (head.next_attempt_at > now) continue;
      // A cheap first look; the update below decides, by the database's clock as it is then.
      if (head.lease_owner !== null && head.lease_owner !== owner && head.lease_expires_at !== null && head.lease_expires_at > head.db_now) continue;
      const leased = await this.db
        .updateTable('alert_deliveries')
        .set({ lease_owner: owner, lease_expires_at: databaseNow(this.dialect, leaseMs), updated_at: now })
        .where('alert_id', '=', head.alert_id)
        .where('channel', '=', head.channel)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_expires_at', '<', databaseNow(this.dialect))]))
        .executeTakeFirst();
      if (Number(leased.numUpdatedRows) !== 1) continue;
      const alert = await this.get(Number(head.alert_id));
      if (!alert) continue;
      jobs.push({
        alert,
        channel: head.channel as AlertChannelName,
        attempts: Number(head.attempts),
        incidentRefs: alert.incidentKey ? await this.incidentRefs(alert.incidentKey, head.channel, alert.seq) : [],
        previousRef: head.ref,
      });
    }
    return jobs;
  }

  private async incidentRefs(incidentKey: string, channel: string, beforeSeq: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .innerJoin('alerts', 'alerts.id', 'alert_deliveries.alert_id')
      .select(['alert_deliveries.ref'])
      .where('alerts.incident_key', '=', incidentKey)
      .where('alert_deliveries.channel', '=', channel)
      .where('alert_deliveries.status', '=', 'delivered')
      .where('alerts.id', '<', beforeSeq)
      .orderBy('alerts.id', 'asc')
      .execute();
    return rows.map((r) => r.ref).filter((ref): ref is string => ref !== null);
  }

  async complete(job: DeliveryJob, owner: string, outcome: DeliveryCompletion, now: string): Promise<boolean> {
    const base = { attempts: job.attempts + 1, lease_owner: null, lease_expires_at: null, updated_at: now };
    const set =
      outcome.status === 'delivered'
        ? { ...base, status: 'delivered', ref: outcome.ref, delivered_at: now, last_error: null }
        : outcome.status === 'retry'
          ? { ...base, status: 'pending', next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error, ...(outcome.ref !== undefined ? { ref: outcome.ref } : {}) }
          : { ...base, status: outcome.status, last_error: outcome.error, ...(outcome.status === 'failed' && outcome.ref !== undefined ? { ref: outcome.ref } : {}) };
    return this.updateLeased(job, owner, set);
  }

  async recordProgress(job: DeliveryJob, owner: string, ref: string, now: string): Promise<boolean> {
    return this.updateLeased(job, owner, { ref, updated_at: now });
  }

  /**
   * Updates a delivery only while `owner` still holds its lease and it is still pending, so a
   * worker whose lease expired (and was taken over) cannot overwrite the new holder's work.
   * True when the row was updated.
   */
  private async updateLeased(job: DeliveryJob, owner: string, set: Updateable<Database['alert_deliveries']>): Promise<boolean> {
    const result = await this.db
      .updateTable('alert_deliveries')
      .set(set)
      .where('alert_id', '=', job.alert.seq)
      .where('channel', '=', job.channel)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async releaseLeases(owner: string): Promise<void> {
    await this.db.updateTable('alert_deliveries').set({ lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).execute();
  }

  async list(filter: AlertFilter): Promise<StoredAlert[]> {
    let query = this.db.selectFrom('alerts').selectAll();
    if (filter.deploymentId) query = query.where('deployment_id', '=', filter.deploymentId);
    if (filter.incidentKey) query = query.where('incident_key', '=', filter.incidentKey);
    if (filter.status) {
      const status = filter.status;
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('alert_deliveries').select('alert_id').whereRef('alert_deliveries.alert_id', '=', 'alerts.id').where('alert_deliveries.status', '=', status)),
      );
    }
    const rows = await query.orderBy('id', 'desc').limit(filter.limit ?? 50).execute();
    return this.withDeliveries(rows);
  }

  async get(seq: number): Promise<StoredAlert | undefined> {
    const row = await this.db.selectFrom('alerts').selectAll().where('id', '=', seq).executeTakeFirst();
    return row ? (await this.withDeliveries([row]))[0] : undefined;
  }

  private async withDeliveries(rows: AlertRow[]): Promise<StoredAlert[]> {
    if (rows.length === 0) return [];
    const deliveries = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where(
        'alert_id',
        'in',
        rows.map((r) => Number(r.id)),
      )
      .orderBy('channel', 'asc')
      .execute();
    return rows.map((row) =>
      rowToAlert(
        row,
        deliveries.filter((d) => Number(d.alert_id) === Number(row.id)).map(rowToDelivery),
      ),
    );
  }

  async countDeliveries(): Promise<Array<{ channel: string; status: string; count: number }>> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .select(['channel', 'status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy(['channel', 'status'])
      .execute();
    return rows.map((r) => ({ channel: r.channel, status: r.status, count: Number(r.count) }));
  }

  async oldestPending(): Promise<Array<{ channel: string; createdAt: string }>> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .innerJoin('alerts', 'alerts.id', 'alert_deliveries.alert_id')
      .select(['alert_deliveries.channel', (eb) => eb.fn.min<string>('alerts.created_at').as('oldest')])
      .where('alert_deliveries.status', '=', 'pending')
      .groupBy('alert_deliveries.channel')
      .execute();
    return rows.map((r) => ({ channel: r.channel, createdAt: String(r.oldest) }));
  }

  async acknowledge(incidentKey: string, by: string, from: AlertChannelName | 'cli', now: string): Promise<StoredAlert | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const changed = await trx
        .updateTable('alerts')
        .set({ acknowledged_at: now, acknowledged_by: by })
        .where('incident_key', '=', incidentKey)
        .where('acknowledged_at', 'is', null)
        .where('resolved_at', 'is', null)
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return undefined;
      return this.raiseFollowUp(trx, incidentKey, 'acknowledged', by, from, now);
    });
  }

  async resolveIncident(incidentKey: string, by: string, from: AlertChannelName, now: string): Promise<StoredAlert | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const changed = await trx.updateTable('alerts').set({ resolved_at: now }).where('incident_key', '=', incidentKey).where('resolved_at', 'is', null).executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) return undefined;
      return this.raiseFollowUp(trx, incidentKey, 'resolved', by, from, now);
    });
  }

  /** An acknowledgement or resolution, told to the incident's Slack messages and to PagerDuty. */
  private async raiseFollowUp(trx: Transaction<Database>, incidentKey: string, kind: 'acknowledged' | 'resolved', by: string, from: string, now: string): Promise<StoredAlert | undefined> {
    const words = `${kind} by ${by}`;
    const first = await firstOfIncident(trx, incidentKey);
    if (!first) return undefined;
    // Slack's messages are edited to show it (also when the click came from Slack); PagerDuty is
    // told unless it is where this came from; mail and the community are not bothered with it.
    const channels = (await incidentChannels(trx, incidentKey)).filter((c) => c === 'slack' || (c === 'pagerduty' && from !== 'pagerduty'));
    const facts: AlertFacts = { ...(JSON.parse(first.facts_json) as AlertFacts), incident: { ...incidentOf(first), by } };
    const id = await insertAlert(
      trx,
      { id: `${incidentKey}/${kind}`, kind, level: 'info', title: `${first.title} — ${words}`, facts, incidentKey, createdAt: now },
      channels,
      now,
      kind === 'resolved' ? { resolvedAt: now } : { acknowledgedAt: now, acknowledgedBy: by },
    );
    if (id === undefined) return undefined;
    const row = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return rowToAlert(row, channels.map((channel) => ({ channel, status: 'pending', attempts: 0, nextAttemptAt: now, lastError: null, ref: null, deliveredAt: null })));
  }

  async escalationCandidates(levels: readonly AlertLevel[]): Promise<StoredAlert[]> {
    if (levels.length === 0) return [];
    const rows = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('level', 'in', [...levels])
      .where('incident_key', 'is not', null)
      .where('kind', '!=', 'community-incident')
      .where('acknowledged_at', 'is', null)
      .where('escalated_at', 'is', null)
      .where('resolved_at', 'is', null)
      .orderBy('id', 'asc')
      .limit(SCAN_LIMIT)
      .execute();
    return this.withDeliveries(rows);
  }

  async escalate(alert: StoredAlert, escalation: Alert, channels: AlertChannelName[], now: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const marked = await trx
        .updateTable('alerts')
        .set({ escalated_at: now })
        .where('id', '=', alert.seq)
        .where('escalated_at', 'is', null)
        .where('acknowledged_at', 'is', null)
        .where('resolved_at', 'is', null)
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== 1) return false;
      await insertAlert(trx, escalation, channels, now);
      return true;
    });
  }
}
