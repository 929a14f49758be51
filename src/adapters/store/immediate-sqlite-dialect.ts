import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

/**
 * Kysely's SQLite dialect, except that every transaction starts with `BEGIN IMMEDIATE`.
 *
 * Kysely begins transactions with a plain (deferred) `BEGIN`, which takes the write lock only at
 * the first write. In WAL mode a deferred transaction that read first and then needs to write,
 * while another connection wrote meanwhile, gets SQLITE_BUSY at once — `busy_timeout` cannot help,
 * because waiting could deadlock — and a user would see "database is locked". Taking the write
 * lock up front makes a second writer wait its turn (up to `busy_timeout`) instead. Every
 * transaction of the store writes, so nothing is lost by taking the lock first.
 */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
