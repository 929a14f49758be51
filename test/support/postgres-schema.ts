import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Postgres for tests: the server CI starts on 127.0.0.1:5432 (trust auth, database `test`), or
 * KEVIN_DEPLOY_TEST_POSTGRES_URL. Each test gets a schema of its own, named uniquely, created by
 * the store when it opens and dropped afterwards — so runs never see each other's rows and
 * leave nothing behind.
 */
export const TEST_POSTGRES_URL = process.env.KEVIN_DEPLOY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  name: string;
  /** DATABASE_URL for the store, in this schema. */
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

export function newTestSchema(prefix = 'kd_test'): TestSchema {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    name,
    url: `${TEST_POSTGRES_URL}${TEST_POSTGRES_URL.includes('?') ? '&' : '?'}schema=${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Runs SQL in a test schema directly (what an operator's psql would do), bypassing the store. */
export async function inSchema<T>(schema: TestSchema, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema.name}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
