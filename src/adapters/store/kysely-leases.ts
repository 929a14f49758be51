import { sql, type Kysely } from 'kysely';
import { databaseNow } from './database-clock.ts';
import type { Database } from './database-schema.ts';
import type { SqlDialectName } from './migrations.ts';

/** The two kinds of lease: on a deployment's step, and on drawing its chat card. */
export type LeaseTable = 'deployment_leases' | 'card_leases';

/**
 * Leases as small rows, judged by the database's clock (database-clock.ts) and written without
 * waiting for the disk. Which replica works on what rests on these few statements.
 */
export class KyselyLeases {
  constructor(
    private readonly database: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async renew(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const result = await this.unsynced((db) =>
      db
        .updateTable('deployment_leases')
        .set({ expires_at: databaseNow(this.dialect, ttlMs) })
        .where('deployment_id', '=', id)
        .where('owner', '=', owner)
        .where('expires_at', '>', databaseNow(this.dialect))
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async release(table: LeaseTable, id: string, owner: string): Promise<void> {
    await this.unsynced((db) => db.deleteFrom(table).where('deployment_id', '=', id).where('owner', '=', owner).execute());
  }

  async releaseAll(owner: string): Promise<void> {
    await this.unsynced(async (db) => {
      await db.deleteFrom('deployment_leases').where('owner', '=', owner).execute();
      await db.deleteFrom('card_leases').where('owner', '=', owner).execute();
    });
  }

  /**
   * One small row per lease, written by one statement: inserted when free, taken over when the
   * holder's lease has expired (by the database's clock), renewed when it is ours — and left alone
   * otherwise. A deployment that does not exist gets none.
   */
  async take(table: LeaseTable, id: string, owner: string, ttlMs: number): Promise<boolean> {
    const until = databaseNow(this.dialect, ttlMs);
    const now = databaseNow(this.dialect);
    const result = await this.unsynced((db) =>
      db
        .insertInto(table)
        .columns(['deployment_id', 'owner', 'expires_at'])
        .expression((eb) =>
          eb
            .selectFrom('deployments')
            .select((s) => ['deployments.id', s.val(owner).as('owner'), until.as('expires_at')])
            .where('deployments.id', '=', id),
        )
        .onConflict((oc) =>
          oc
            .column('deployment_id')
            .doUpdateSet({ owner, expires_at: until })
            .where((eb) => eb.or([eb(`${table}.owner`, '=', owner), eb(`${table}.expires_at`, '<', now)])),
        )
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Runs a write that need not survive a power loss without waiting for the disk. Leases are
   * such writes: a lease only means something while its holder lives, and a power loss ends the
   * holder too. On SQLite (WAL) the statement runs with synchronous=NORMAL: it is appended to the
   * log like any other and made durable by the next synced commit, but does not wait for an
   * fsync of its own — two of the three fsyncs a monitoring sample used to cost.
   */
  private unsynced<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') {
      // The same on Postgres: the commit does not wait for its WAL record to reach the disk.
      return this.database.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        return work(trx);
      });
    }
    return this.database.connection().execute(async (connection) => {
      await sql`pragma synchronous = NORMAL`.execute(connection);
      try {
        return await work(connection);
      } finally {
        await sql`pragma synchronous = FULL`.execute(connection);
      }
    });
  }
}
