import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/adapters/store/open-store.ts';
import type { WakeSignal } from '../../src/ports/wake-signal.ts';
import { newTestSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres-schema.ts';
import { waitFor } from '../support/wait-for.ts';
import pg from 'pg';

/**
 * The wake signal between replicas on a real Postgres (LISTEN/NOTIFY): what one replica announces
 * every replica of the same installation hears, at once; another installation (schema) hears
 * nothing; and a listening connection the server dropped is opened again by itself.
 */

const logger = pino({ level: 'silent' });
const opened: OpenedDatabase[] = [];
const signals: WakeSignal[] = [];
const schemas: TestSchema[] = [];

afterEach(async () => {
  while (signals.length > 0) await signals.pop()!.close();
  while (opened.length > 0) await opened.pop()!.close();
  while (schemas.length > 0) await schemas.pop()!.drop();
});

async function replica(schema: TestSchema): Promise<{ signal: WakeSignal; heard: Array<{ id: string; lagMs: number }> }> {
  const db = await openDatabase(schema.url);
  opened.push(db);
  const signal = await db.startWakeSignal!(logger);
  signals.push(signal);
  const heard: Array<{ id: string; lagMs: number }> = [];
  signal.subscribe((id, lagMs) => heard.push({ id, lagMs }));
  return { signal, heard };
}

function fresh(): TestSchema {
  const schema = newTestSchema('kd_wake');
  schemas.push(schema);
  return schema;
}

describe('the wake signal between replicas (Postgres LISTEN/NOTIFY)', () => {
  it('an announcement reaches every replica of the installation, and no other installation', async () => {
    const shared = fresh();
    const a = await replica(shared);
    const b = await replica(shared);
    const elsewhere = await replica(fresh());

    await a.signal.send('kd-one');
    await b.signal.send('kd-two');
    await waitFor(() => a.heard.length === 2 && b.heard.length === 2, { timeoutMs: 5_000, describe: () => JSON.stringify({ a: a.heard, b: b.heard }) });
    expect(b.heard.map((h) => h.id)).toEqual(['kd-one', 'kd-two']);
    expect(a.heard.map((h) => h.id)).toEqual(['kd-one', 'kd-two']);
    for (const h of [...a.heard, ...b.heard]) expect(h.lagMs).toBeGreaterThanOrEqual(0);
    expect(elsewhere.heard).toEqual([]);
  });

  it('a listening connection the server dropped is opened again, and announcements arrive again', async () => {
    const shared = fresh();
    const a = await replica(shared);
    const b = await replica(shared);
    // What a Postgres restart or failover does to a session: the server ends it.
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const ended = await admin.query<{ n: string }>(
        "SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND query ILIKE $1",
        [`%${shared.name}%`],
      );
      expect(Number(ended.rows[0]!.n)).toBe(2);
    } finally {
      await admin.end();
    }
    // Sent until heard: while B's listener is away, an announcement is lost (the scan covers that).
    await waitFor(
      async () => {
        await a.signal.send('kd-after');
        return b.heard.some((h) => h.id === 'kd-after');
      },
      { timeoutMs: 15_000, intervalMs: 200, describe: () => `B to hear again: ${JSON.stringify(b.heard)}` },
    );
  });
});
