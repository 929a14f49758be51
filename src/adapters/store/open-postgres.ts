import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KevinDeployError } from '../../errors.ts';
import type { Database } from './database-schema.ts';
import { knownMigrationNames } from './migrations.ts';

/** What openPostgres gives the opener: the database, and what to say about it. */
export interface PostgresDatabase {
  db: Kysely<Database>;
  /** The URL without its password, and the schema: safe to log. */
  description: string;
  /** The pool under `db`, and how to open one more connection of the same kind (to LISTEN). */
  pool: pg.Pool;
  clientConfig: pg.ClientConfig;
  schema: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const RUNBOOK = 'docs/operations.md, "Postgres"';

/**
 * Opens a Postgres store from a `postgres://user:password@host:port/database?schema=name` URL.
 * `schema` is kevin-deploy's own parameter (everything else is pg's): the tables live in that
 * schema, created if missing, so several installations — or test runs — can share one database.
 * Refuses, before anything is written, a server it cannot reach, one that only reads (a hot
 * standby, `default_transaction_read_only`), and a schema migrated by a newer kevin-deploy.
 */
export async function openPostgres(url: string, options: { poolSize?: number | undefined } = {}): Promise<PostgresDatabase> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KevinDeployError('USAGE', 'DATABASE_URL is not a valid postgres:// URL (postgres://user:password@host:5432/database)');
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new KevinDeployError('USAGE', `DATABASE_URL's schema "${schema}" must be a lower-case SQL name (letters, digits, _; not starting with a digit)`);
  }
  const description = `${withoutPassword(parsed)}${schema ? ` (schema ${schema})` : ''}`;
  const clientConfig: pg.ClientConfig = {
    connectionString: parsed.toString(),
    // Every connection works in the schema: the queries name tables, never schemas.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // What pg_stat_activity shows for these connections (unless the URL names its own).
    application_name: parsed.searchParams.get('application_name') ?? `kevin-deploy${schema ? `/${schema}` : ''}`,
    connectionTimeoutMillis: 10_000,
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
  // A connection the server dropped (a restart, a failover) must not crash the bot. Idle, the pool
  // reports it here and discards it; checked out, pg emits the error on the client itself — a
  // listener on every client keeps that from being an uncaught 'error' event, while the query in
  // flight fails (and is retried by whoever made it) and the pool discards the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await checkServer(pool, description, schema);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), description, pool, clientConfig, schema };
}

async function checkServer(pool: pg.Pool, description: string, schema: string | undefined): Promise<void> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new KevinDeployError(
      'STORE_UNREACHABLE',
      `cannot connect to the Postgres store ${description} (${messageOf(error)}); check DATABASE_URL, that the server runs and accepts this user (${RUNBOOK})`,
    );
  }
  try {
    const readOnly = await client.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
    if (readOnly.rows[0]?.transaction_read_only === 'on') {
      throw new KevinDeployError(
        'STORE_READ_ONLY',
        `the Postgres store ${description} only reads (a standby, or default_transaction_read_only is on): kevin-deploy records every step before it acts, so it does not start on a store it cannot write. Point DATABASE_URL at the primary.`,
      );
    }
    if (schema) await createSchema(client, schema);
    await assertSchemaKnown(client, description);
  } catch (error) {
    if (error instanceof KevinDeployError) throw error;
    throw new KevinDeployError('USAGE', `cannot use the Postgres store ${description} (${messageOf(error)})`);
  } finally {
    client.release();
  }
}

/**
 * IF NOT EXISTS is not atomic: two replicas starting together can both find the schema missing,
 * and the second CREATE fails on the catalog's unique index. Either way the schema is there.
 */
async function createSchema(client: pg.PoolClient, schema: string): Promise<void> {
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

/** A schema migrated by a newer version has tables and meanings this version does not know. */
async function assertSchemaKnown(client: pg.PoolClient, description: string): Promise<void> {
  const table = await client.query<{ exists: string | null }>(`SELECT to_regclass('kysely_migration')::text AS exists`);
  if (!table.rows[0]?.exists) return;
  const applied = (await client.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name')).rows.map((r) => r.name);
  const known = new Set(knownMigrationNames());
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  throw new KevinDeployError(
    'STORE_TOO_NEW',
    `the Postgres store ${description} was migrated by a newer kevin-deploy (it has ${unknown.join(', ')}, which this version does not know); ` +
      `run that newer version, or restore the backup taken before the upgrade (${RUNBOOK}). Nothing was changed.`,
    { unknownMigrations: unknown },
  );
}

function withoutPassword(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  return copy.toString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
