import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { KevinDeployError } from '../../errors.ts';
import type { Database } from './database-schema.ts';
import { KyselyStore } from './kysely-store.ts';
import { migrationProvider } from './migrations.ts';
import { withStatementCache } from './statement-cache.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/kevin-deploy.db';

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** Where it is, with any password removed — safe to log. */
  description: string;
  /** Migrations applied by this open, by name. */
  migrated: string[];
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
export async function openStore(databaseUrl: string = DEFAULT_DATABASE_URL): Promise<OpenedStore> {
  const { db, description, migrated } = await openDatabase(databaseUrl);
  return { store: new KyselyStore(db), description, migrated };
}

/** The migrated database itself, for the few parts that keep their own tables (the sandbox edge). */
export async function openDatabase(databaseUrl: string = DEFAULT_DATABASE_URL): Promise<OpenedDatabase> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path.length === 0) throw new KevinDeployError('USAGE', 'DATABASE_URL "sqlite:" needs a path, e.g. sqlite:./data/kevin-deploy.db');
    const file = path === ':memory:' ? path : resolve(path);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    let sqlite: BetterSqlite3.Database;
    try {
      sqlite = new BetterSqlite3(file);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
      // A second process (the CLI reading state, a second replica) waits for the writer instead of failing.
      sqlite.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new KevinDeployError(
        'USAGE',
        `cannot open the SQLite database at ${file} (${error instanceof Error ? error.message : String(error)}); set DATABASE_URL=sqlite:PATH to a writable file`,
      );
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite as never) }) });
    const migrated = await migrate(db, 'sqlite');
    return { db, description: `sqlite:${file}`, migrated };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new KevinDeployError(
      'USAGE',
      'DATABASE_URL names Postgres, which this version does not support yet; use sqlite:PATH (e.g. sqlite:./data/kevin-deploy.db)',
    );
  }
  throw new KevinDeployError(
    'USAGE',
    `DATABASE_URL must start with "sqlite:" (e.g. sqlite:./data/kevin-deploy.db); got "${databaseUrl.split(':')[0]}:…"`,
  );
}

async function migrate(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new KevinDeployError('INTERNAL', `database migration failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
