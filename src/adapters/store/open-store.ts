import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { KevinDeployError } from '../../errors.ts';
import type { Database } from './database-schema.ts';
import { ImmediateSqliteDialect } from './immediate-sqlite-dialect.ts';
import { KyselyStore } from './kysely-store.ts';
import { knownMigrationNames, migrationProvider, type SqlDialectName } from './migrations.ts';
import { openPostgres } from './open-postgres.ts';
import { PostgresWakeSignal } from './postgres-wake-signal.ts';
import type { Logger } from 'pino';
import type { WakeSignal } from '../../ports/wake-signal.ts';
import { HOLDER_KEY, SqliteExclusiveUse, type SqliteHolder } from './sqlite-exclusive-use.ts';
import { quickCheck, type QuickCheckResult } from './sqlite-quick-check.ts';
import { withStatementCache } from './statement-cache.ts';
import { DEFAULT_DATABASE_URL } from './default-database-url.ts';

export { DEFAULT_DATABASE_URL };

/** Where docs/runbook.md says what to do about a damaged or too-new store. */
const RUNBOOK = 'docs/runbook.md, "The store refuses to start"';

export interface OpenOptions {
  /**
   * The bot itself opens the store this way: it must be the only process serving from a SQLite
   * file, its store is checked for damage first, and it records itself as the holder.
   */
  serving?: boolean | undefined;
  /** How long the start-up integrity check may take before the start goes on without it. */
  integrityCheckTimeoutMs?: number | undefined;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  /** Where it is, with any password removed — safe to log. */
  description: string;
  /** Migrations applied by this open, by name. */
  migrated: string[];
  /** The start-up integrity check, when one ran (serving SQLite stores). */
  integrity?: QuickCheckResult | undefined;
  /** Records where the serving process listens, so a refused second process can name it. */
  announce(url: string): Promise<void>;
  /** Closes the database and lets another process serve from it. */
  close(): Promise<void>;
  /** Postgres: a wake signal between the replicas sharing it (LISTEN/NOTIFY), started. SQLite has one process: none. */
  startWakeSignal?: ((logger: Logger) => Promise<WakeSignal>) | undefined;
}

export interface OpenedStore {
  store: KyselyStore;
  /** Where it is, with any password removed — safe to log. */
  description: string;
  /** Migrations applied by this open, by name. */
  migrated: string[];
}

/**
 * Opens the store named by DATABASE_URL and brings its schema up to date.
 * SQLite runs in WAL mode with synchronous=FULL: a commit reported done survives SIGKILL and
 * power loss, which is the point of a persisted release status.
 */
export async function openStore(databaseUrl: string = DEFAULT_DATABASE_URL, options: OpenOptions = {}): Promise<OpenedStore> {
  const { db, dialect, description, migrated } = await openDatabase(databaseUrl, options);
  return { store: new KyselyStore(db, dialect), description, migrated };
}

/**
 * The migrated database itself, for the parts that keep their own tables (Slack cards, the alert outbox).
 * Refuses — before anything is written — a store that cannot be written, one migrated by a newer
 * version, a damaged one, and (when serving) a SQLite file another process serves from.
 */
export async function openDatabase(databaseUrl: string = DEFAULT_DATABASE_URL, options: OpenOptions = {}): Promise<OpenedDatabase> {
  if (databaseUrl.startsWith('sqlite:')) return openSqlite(databaseUrl.slice('sqlite:'.length), options);
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresDatabase(databaseUrl);
  throw new KevinDeployError(
    'USAGE',
    `DATABASE_URL must start with "sqlite:" (e.g. sqlite:./data/kevin-deploy.db) or "postgres://" (postgres://user:password@host:5432/database); got "${databaseUrl.split(':')[0]}:…"`,
  );
}

/**
 * Postgres is for several replicas: no process holds it alone, and the migrations take Kysely's
 * migration lock, so replicas starting together never run one twice.
 */
async function openPostgresDatabase(databaseUrl: string): Promise<OpenedDatabase> {
  const { db, description, pool, clientConfig, schema } = await openPostgres(databaseUrl);
  const migrated = await migrate(db, 'postgres', schema);
  return {
    db,
    dialect: 'postgres',
    description,
    migrated,
    async startWakeSignal(logger) {
      const signal = new PostgresWakeSignal(pool, clientConfig, schema, logger);
      await signal.start();
      return signal;
    },
    async announce() {
      // Nothing to announce: replicas share the store by design.
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openSqlite(path: string, options: OpenOptions): Promise<OpenedDatabase> {
  if (path.length === 0) throw new KevinDeployError('USAGE', 'DATABASE_URL "sqlite:" needs a path, e.g. sqlite:./data/kevin-deploy.db');
  const file = path === ':memory:' ? path : resolve(path);
  const onDisk = file !== ':memory:';
  if (onDisk) mkdirSync(dirname(file), { recursive: true });
  const existed = onDisk && existsSync(file) && statSync(file).size > 0;
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(file);
  } catch (error) {
    throw new KevinDeployError(
      'USAGE',
      `cannot open the SQLite database at ${file} (${messageOf(error)}); set DATABASE_URL=sqlite:PATH to a writable file`,
    );
  }
  let exclusive: SqliteExclusiveUse | undefined;
  try {
    configure(sqlite, file);
    assertWritable(sqlite, file);
    // Before anything is written: is another process serving from this file?
    if (options.serving && onDisk) exclusive = SqliteExclusiveUse.acquire(file, () => readHolder(sqlite));
    assertSchemaKnown(sqlite, file);
  } catch (error) {
    sqlite.close();
    exclusive?.release();
    throw error;
  }
  let integrity: QuickCheckResult | undefined;
  if (options.serving && existed) {
    integrity = await quickCheck(file, options.integrityCheckTimeoutMs ?? 10_000);
    if (integrity.status === 'corrupt') {
      sqlite.close();
      exclusive?.release();
      throw corrupt(file, integrity.problems);
    }
  }

  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  let migrated: string[];
  try {
    migrated = await migrate(db, 'sqlite');
  } catch (error) {
    exclusive?.release();
    throw error;
  }
  const holder = SqliteExclusiveUse.holderOfThisProcess(new Date());
  if (exclusive) await writeHolder(db, holder);
  return {
    db,
    dialect: 'sqlite',
    description: `sqlite:${file}`,
    migrated,
    integrity,
    async announce(url: string) {
      if (exclusive) await writeHolder(db, { ...holder, url });
    },
    async close() {
      await db.destroy();
      exclusive?.release();
    },
  };
}

function configure(sqlite: BetterSqlite3.Database, file: string): void {
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    // A write waits this long for another connection's write lock (transactions take it up front:
    // see ImmediateSqliteDialect) instead of failing at once.
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    throw classify(error, file);
  }
}

/**
 * A store that can be read but not written (a read-only file, directory or mount) would start,
 * report ready, and answer 500 to every command. A write attempted and rolled back tells first.
 */
function assertWritable(sqlite: BetterSqlite3.Database, file: string): void {
  try {
    sqlite.exec('BEGIN IMMEDIATE; CREATE TABLE kevin_deploy_write_check (x INTEGER); ROLLBACK;');
  } catch (error) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw classify(error, file);
  }
}

/** A store migrated by a newer version has tables and meanings this version does not know. */
function assertSchemaKnown(sqlite: BetterSqlite3.Database, file: string): void {
  const hasTable = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'").get();
  if (!hasTable) return;
  const applied = (sqlite.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name);
  const known = new Set(knownMigrationNames());
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  throw new KevinDeployError(
    'STORE_TOO_NEW',
    `the database ${file} was migrated by a newer kevin-deploy (it has ${unknown.join(', ')}, which this version does not know); ` +
      `run that newer version, or restore the backup taken before the upgrade (${RUNBOOK}). Nothing was changed.`,
    { unknownMigrations: unknown },
  );
}

function classify(error: unknown, file: string): KevinDeployError {
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
    return new KevinDeployError(
      'STORE_READ_ONLY',
      `the SQLite database ${file} cannot be written (${messageOf(error)}): kevin-deploy records every step before it acts, so it does not start on a store it cannot write. ` +
        'Make the file and its directory writable by this user (the -wal and -shm files beside it too), or point DATABASE_URL at a writable path.',
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return corrupt(file, [messageOf(error)]);
  if (code === 'SQLITE_BUSY') {
    return new KevinDeployError('STORE_BUSY', `the SQLite database ${file} stayed locked by another process for 5 s (${messageOf(error)}); try again`);
  }
  return new KevinDeployError('USAGE', `cannot use the SQLite database at ${file} (${messageOf(error)})`);
}

function corrupt(file: string, problems: string[]): KevinDeployError {
  return new KevinDeployError(
    'STORE_CORRUPT',
    `the SQLite database ${file} is damaged (quick_check: ${problems.join('; ')}). kevin-deploy does not start on it: ` +
      `stop every process using it, keep a copy, then restore the latest backup or recover what is readable with \`sqlite3 ${file} ".recover" | sqlite3 recovered.db\` (${RUNBOOK}).`,
    { problems },
  );
}

function readHolder(sqlite: BetterSqlite3.Database): SqliteHolder | undefined {
  try {
    const row = sqlite.prepare('SELECT value_json FROM store_meta WHERE key = ?').get(HOLDER_KEY) as { value_json: string } | undefined;
    return row ? (JSON.parse(row.value_json) as SqliteHolder) : undefined;
  } catch {
    return undefined; // an older store without the table, or one still being created
  }
}

async function writeHolder(db: Kysely<Database>, holder: SqliteHolder): Promise<void> {
  const value = JSON.stringify(holder);
  const at = new Date().toISOString();
  await db
    .insertInto('store_meta')
    .values({ key: HOLDER_KEY, value_json: value, updated_at: at })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value_json: value, updated_at: at }))
    .execute();
}

/**
 * `schema`: Kysely finds its migration tables by looking through every schema it can see, so with
 * several installations (or test runs) in one database it must be told which one is this one's.
 */
async function migrate(db: Kysely<Database>, dialect: SqlDialectName, schema?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // Kysely looks for its tables by reading the catalog of every schema; another installation
    // dropping its schema (or a table) at that moment makes the read fail — "schema … does not
    // exist", "relation … does not exist", "cache lookup failed for relation …". Nothing was
    // migrated then: look again.
    if (dialect === 'postgres' && catalogRace(error) && attempt < 5) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    await db.destroy();
    throw new KevinDeployError('INTERNAL', `database migration failed: ${messageOf(error)}`);
  }
}

function catalogRace(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === '3F000' || code === '42P01' || (code === 'XX000' && /cache lookup failed/.test(message ?? ''));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
