import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely, Migration, MigrationProvider } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

/** Auto-increment ids are the one thing the dialects spell differently. */
function withSerialId<T extends string>(table: CreateTableBuilder<T, never>, dialect: SqlDialectName) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'serial', (c: ColumnDefinitionBuilder) => c.primaryKey())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}

/**
 * Versioned migrations, run at start. Append new ones; never edit a released one. Only portable
 * Kysely schema-builder calls, so the same list runs on SQLite and Postgres.
 */
function migrationsFor(dialect: SqlDialectName): Record<string, Migration> {
  return {
  '0001-initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('stage', 'varchar(32)', (c) => c.notNull())
        .addColumn('version_ref', 'text', (c) => c.notNull())
        .addColumn('version_id', 'varchar(64)')
        .addColumn('version_tag', 'text')
        .addColumn('previous_version_id', 'varchar(64)')
        .addColumn('previous_version_tag', 'text')
        .addColumn('strategy', 'varchar(32)', (c) => c.notNull())
        .addColumn('split_json', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('force', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('approvals_json', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('outcome', 'varchar(32)')
        .addColumn('stage_times_json', 'text', (c) => c.notNull())
        .addColumn('progress_json', 'text', (c) => c.notNull())
        .addColumn('wake_at', 'varchar(32)')
        .addColumn('lease_owner', 'varchar(128)')
        .addColumn('lease_expires_at', 'varchar(32)')
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('deployments_target_created')
        .on('deployments')
        .columns(['service', 'environment', 'created_at'])
        .execute();
      await db.schema.createIndex('deployments_stage').on('deployments').column('stage').execute();

      await withSerialId(db.schema.createTable('deployment_events'), dialect)
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id'))
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('from_stage', 'varchar(32)')
        .addColumn('to_stage', 'varchar(32)')
        .addColumn('details_json', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployment_events_deployment').on('deployment_events').column('deployment_id').execute();

      await db.schema
        .createTable('locks')
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('since', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)')
        .addPrimaryKeyConstraint('locks_pk', ['service', 'environment'])
        .execute();

      await db.schema
        .createTable('target_claims')
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id'))
        .addColumn('since', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('target_claims_pk', ['service', 'environment'])
        .execute();

      await withSerialId(db.schema.createTable('deployment_queue'), dialect)
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().unique().references('deployments.id'))
        .addColumn('enqueued_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
  // History: this created the sandbox edge's table (sandbox_state) in every store. The sandbox now
  // keeps its state in its own file and the product has no sandbox table, but stores migrated by an
  // earlier version have this name recorded — and a store with a migration this version does not
  // know is refused (STORE_TOO_NEW) — so the name stays, doing nothing; 0007 drops the table.
  '0002-sandbox-state': {
    async up() {},
  },
  '0003-slack-cards': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('slack_cards')
        .addColumn('deployment_id', 'varchar(64)', (c) => c.primaryKey().references('deployments.id'))
        .addColumn('channel', 'varchar(32)', (c) => c.notNull())
        .addColumn('ts', 'varchar(32)')
        .addColumn('rendered_revision', 'integer', (c) => c.notNull())
        .addColumn('thread_cursor', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
  '0004-alert-outbox': {
    async up(db: Kysely<any>) {
      // The outbox: alerts are written in the same transaction as the status change that caused
      // them; one delivery row per channel carries that channel's state, lease and remote ref.
      await withSerialId(db.schema.createTable('alerts'), dialect)
        .addColumn('alert_key', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('level', 'varchar(16)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('incident_key', 'varchar(255)')
        .addColumn('facts_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('acknowledged_at', 'varchar(32)')
        .addColumn('acknowledged_by', 'text')
        .addColumn('escalated_at', 'varchar(32)')
        .addColumn('resolved_at', 'varchar(32)')
        .execute();
      await db.schema.createIndex('alerts_incident').on('alerts').column('incident_key').execute();
      await db.schema.createIndex('alerts_deployment').on('alerts').column('deployment_id').execute();
      await db.schema
        .createTable('alert_deliveries')
        .addColumn('alert_id', 'integer', (c) => c.notNull().references('alerts.id'))
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('ref', 'text')
        .addColumn('delivered_at', 'varchar(32)')
        .addColumn('lease_owner', 'varchar(128)')
        .addColumn('lease_expires_at', 'varchar(32)')
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_deliveries_pk', ['alert_id', 'channel'])
        .execute();
      await db.schema.createIndex('alert_deliveries_status').on('alert_deliveries').columns(['status', 'channel']).execute();
    },
  },
  '0005-store-meta': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('store_meta')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value_json', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
  '0006-inbound-deliveries': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('inbound_deliveries')
        .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('inbound_deliveries_received').on('inbound_deliveries').column('received_at').execute();
    },
  },
  '0007-drop-sandbox-state': {
    async up(db: Kysely<any>) {
      // The table 0002 created before it became a no-op. A sandbox edge that still had its state
      // there has already moved it to data/sandbox-edge-state.json: it starts before its bot.
      await db.schema.dropTable('sandbox_state').ifExists().execute();
    },
  },
  '0008-metric-samples-and-leases': {
    async up(db: Kysely<any>) {
      // A monitoring window's metric history was a list inside progress_json, so every sample
      // rewrote every earlier one. Now each sample is one appended row.
      await withSerialId(db.schema.createTable('metric_samples'), dialect)
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id'))
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('sample_json', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('metric_samples_deployment_at').on('metric_samples').columns(['deployment_id', 'at']).execute();
      const monitoring = (await db.selectFrom('deployments').select(['id', 'progress_json']).where('stage', '=', 'monitoring').execute()) as Array<{
        id: string;
        progress_json: string;
      }>;
      for (const row of monitoring) {
        const { metricSamples, ...progress } = JSON.parse(row.progress_json) as { metricSamples?: Array<{ at: string }> };
        if (metricSamples && metricSamples.length > 0) {
          await db
            .insertInto('metric_samples')
            .values(metricSamples.map((sample) => ({ deployment_id: row.id, at: sample.at, sample_json: JSON.stringify(sample) })))
            .execute();
        }
        await db.updateTable('deployments').set({ progress_json: JSON.stringify(progress) }).where('id', '=', row.id).execute();
      }
      // Leases were two columns of the deployment row: taking and giving one back rewrote the whole
      // row twice per step. They are their own small rows now. A lease is only held while a step
      // runs, so none needs carrying over: a stopped bot holds none, a killed one's expire.
      await db.schema
        .createTable('deployment_leases')
        .addColumn('deployment_id', 'varchar(64)', (c) => c.primaryKey().references('deployments.id'))
        .addColumn('owner', 'varchar(128)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('deployments').dropColumn('lease_owner').execute();
      await db.schema.alterTable('deployments').dropColumn('lease_expires_at').execute();
    },
  },
  '0009-card-leases': {
    async up(db: Kysely<any>) {
      // Replicas share the store, but a release's Slack card is drawn by one of them at a time.
      await db.schema
        .createTable('card_leases')
        .addColumn('deployment_id', 'varchar(64)', (c) => c.primaryKey().references('deployments.id'))
        .addColumn('owner', 'varchar(128)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
  '0010-console-sessions': {
    async up(db: Kysely<any>) {
      // Operator console sign-ins. Kept in the store, not in a replica's memory, so a session
      // survives a restart and works on every replica behind the proxy. Only digests are kept:
      // a copy of the table signs no one in.
      await db.schema
        .createTable('console_sessions')
        .addColumn('id_digest', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('token_digest', 'varchar(64)', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expires').on('console_sessions').column('expires_at').execute();
    },
  },
  '0011-availability-days': {
    async up(db: Kysely<any>) {
      // The public status page's 90 days of availability: the bot's own checks of each production
      // site, counted per target and UTC day (90 small rows per target, whatever the check rate).
      await db.schema
        .createTable('availability_days')
        .addColumn('service', 'varchar(128)', (c) => c.notNull())
        .addColumn('environment', 'varchar(128)', (c) => c.notNull())
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('checks', 'integer', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('availability_days_pk', ['service', 'environment', 'day'])
        .execute();
    },
  },
  };
}

/** The migrations this version knows, by name: a store with others was migrated by a newer version. */
export function knownMigrationNames(): string[] {
  return Object.keys(migrationsFor('sqlite'));
}

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return {
    async getMigrations() {
      return migrationsFor(dialect);
    },
  };
}
