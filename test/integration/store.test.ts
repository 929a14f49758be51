import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../src/adapters/store/database-schema.ts';
import { openStore } from '../../src/adapters/store/open-store.ts';
import { KyselyStore } from '../../src/adapters/store/kysely-store.ts';
import type { Deployment, DeploymentEvent } from '../../src/domain/deployment.ts';
import type { Stage } from '../../src/domain/stages.ts';
import { KevinDeployError } from '../../src/errors.ts';
import type { FreezeLock } from '../../src/domain/freeze-lock.ts';
import type { MetricSample } from '../../src/domain/metric-triggers.ts';
import { inSchema, newTestSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres-schema.ts';
import { knownMigrationNames } from '../../src/adapters/store/migrations.ts';

/** The SQLite store through openStore, as the bot opens it, in a temp directory. */

const TARGET = { service: 'kevinstamp', environment: 'production' };
const STAGING = { service: 'kevinstamp', environment: 'staging' };
const GREEN = '6f1c2a9e-5b3d-4c7e-9a21-0d4e8b7f3c10';
const BLUE = '0b0f8a5e-1111-4222-8333-944455556666';

let dir: string;
let file: string;
const opened: KyselyStore[] = [];
const schemas: TestSchema[] = [];

async function open(path = file): Promise<{ store: KyselyStore; migrated: string[]; description: string }> {
  const result = await openStore(`sqlite:${path}`);
  opened.push(result.store);
  return result;
}

async function closeAll(): Promise<void> {
  while (opened.length > 0) await opened.pop()!.close();
}

let counter = 0;
function deployment(overrides: Partial<Deployment> = {}): Deployment {
  counter += 1;
  const at = `2026-11-26T09:${String(counter % 60).padStart(2, '0')}:00.000Z`;
  return {
    id: `dep-${String(counter).padStart(4, '0')}`,
    ...TARGET,
    kind: 'release',
    stage: 'requested',
    versionRef: 'v2.4.0',
    version: null,
    previousVersion: null,
    strategy: 'blue-green',
    split: {},
    requestedBy: 'alice',
    note: null,
    force: false,
    approvals: [],
    reason: 'requested by alice',
    stageTimes: { requested: at },
    progress: { attempt: 0 },
    wakeAt: at,
    revision: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

function event(deploymentId: string, action: string, details: Record<string, unknown> = {}): DeploymentEvent {
  return { deploymentId, at: '2026-11-26T09:00:00.000Z', actor: 'kevin-deploy', action, fromStage: null, toStage: null, details };
}

/** Puts a store back as versions before 0008 left it: samples inside progress_json, leases two columns of the row, no card leases, nor anything later. */
function undoMetricSamplesAndLeases(db: BetterSqlite3.Database): void {
  db.exec('DROP TABLE availability_days; DROP TABLE console_sessions');
  db.prepare("DELETE FROM kysely_migration WHERE name IN ('0010-console-sessions', '0011-availability-days')").run();
  db.exec('DROP TABLE card_leases; DROP TABLE deployment_leases; DROP TABLE metric_samples');
  db.prepare('DELETE FROM kysely_migration WHERE name = ?').run('0009-card-leases');
  db.exec('ALTER TABLE deployments ADD COLUMN lease_owner varchar(128); ALTER TABLE deployments ADD COLUMN lease_expires_at varchar(32)');
  db.prepare('DELETE FROM kysely_migration WHERE name = ?').run('0008-metric-samples-and-leases');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-store-'));
  file = join(dir, 'nested', 'kevin-deploy.db');
});

afterEach(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
  while (schemas.length > 0) await schemas.pop()!.drop();
});

describe('openStore', () => {
  it('runs the migrations once; re-opening migrates nothing', async () => {
    const first = await open();
    expect(first.migrated).toEqual(['0001-initial', '0002-sandbox-state', '0003-slack-cards', '0004-alert-outbox', '0005-store-meta', '0006-inbound-deliveries', '0007-drop-sandbox-state', '0008-metric-samples-and-leases', '0009-card-leases', '0010-console-sessions', '0011-availability-days']);
    expect(first.description).toBe(`sqlite:${file}`);
    await first.store.ping();
    await closeAll();

    const second = await open();
    expect(second.migrated).toEqual([]);
    await second.store.ping();
  });

  it('drops the sandbox table a store migrated by an earlier version still has, and keeps everything else', async () => {
    // As an earlier kevin-deploy left it: 0001 to 0006 recorded, 0002 having created sandbox_state.
    const { store } = await open();
    const d = deployment();
    await store.insertDeployment(d);
    await closeAll();
    const earlier = new BetterSqlite3(file);
    earlier.exec("CREATE TABLE sandbox_state (name varchar(64) PRIMARY KEY, state_json text NOT NULL, updated_at varchar(32) NOT NULL)");
    earlier.prepare('INSERT INTO sandbox_state VALUES (?, ?, ?)').run('edge', '{}', d.createdAt);
    earlier.prepare('DELETE FROM kysely_migration WHERE name = ?').run('0007-drop-sandbox-state');
    undoMetricSamplesAndLeases(earlier);
    earlier.close();

    const again = await open();
    expect(again.migrated).toEqual(['0007-drop-sandbox-state', '0008-metric-samples-and-leases', '0009-card-leases', '0010-console-sessions', '0011-availability-days']);
    expect(await again.store.getDeployment(d.id)).toEqual(d);
    await closeAll();
    const after = new BetterSqlite3(file, { readonly: true });
    try {
      expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sandbox_state'").get()).toBeUndefined();
    } finally {
      after.close();
    }
  });

  it('moves a monitoring window\'s samples out of the status row and the leases into their own table (0008)', async () => {
    // As an earlier kevin-deploy left it: the samples a list in progress_json, leases two columns.
    const { store } = await open();
    const watching = deployment({ stage: 'monitoring', progress: { attempt: 0, samplesTaken: 2 } });
    const done = deployment({ stage: 'succeeded' });
    await store.insertDeployment(watching);
    await store.insertDeployment(done);
    await closeAll();
    const samples = [
      { at: '2026-11-26T09:00:00.000Z', green: { source: 'app-json /metrics', errorRatePercent: 7, avgResponseMs: 80, requests: 50 } },
      { at: '2026-11-26T09:00:30.000Z', green: { source: 'app-json /metrics', errorRatePercent: 9, avgResponseMs: 85, requests: 52 } },
    ];
    const earlier = new BetterSqlite3(file);
    undoMetricSamplesAndLeases(earlier);
    earlier.prepare('UPDATE deployments SET progress_json = ?, lease_owner = ? WHERE id = ?').run(JSON.stringify({ ...watching.progress, metricSamples: samples }), 'old-replica', watching.id);
    earlier.close();

    const again = await open();
    expect(again.migrated).toEqual(['0008-metric-samples-and-leases', '0009-card-leases', '0010-console-sessions', '0011-availability-days']);
    expect(await again.store.getDeployment(watching.id)).toEqual(watching);
    expect(await again.store.getDeployment(done.id)).toEqual(done);
    expect(await again.store.listMetricSamples(watching.id)).toEqual(samples);
    expect((await again.store.listWork()).find((w) => w.id === watching.id)).toMatchObject({ leaseOwner: null });
  });

  it('keeps what was written across close and re-open of the same file', async () => {
    const { store } = await open();
    const d = deployment({ stage: 'monitoring', version: { id: GREEN, tag: 'v2.4.0' } });
    await store.insertDeployment(d);
    await store.appendEvents([event(d.id, 'requested'), event(d.id, 'switched')]);
    await store.claimTarget({ ...TARGET, deploymentId: d.id, since: d.createdAt });
    await store.putLock({ ...STAGING, holder: 'ops', reason: 'freeze', since: d.createdAt, expiresAt: null });
    await closeAll();

    const { store: again } = await open();
    expect(await again.getDeployment(d.id)).toEqual(d);
    expect((await again.listEvents(d.id)).map((e) => e.action)).toEqual(['requested', 'switched']);
    expect(await again.getClaim(TARGET)).toEqual({ ...TARGET, deploymentId: d.id, since: d.createdAt });
    expect(await again.getLock(STAGING)).toMatchObject({ holder: 'ops', reason: 'freeze' });
  });

  it('ping (what /readyz asks) is a committed write: a store that can be read but not written fails it', async () => {
    const { store } = await open();
    await store.ping();
    await closeAll();
    // The same file through a connection that cannot write, as after a read-only remount.
    const readOnly = new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file, { readonly: true }) }) }));
    opened.push(readOnly);
    expect(await readOnly.listDeployments({})).toEqual([]);
    await expect(readOnly.ping()).rejects.toThrow(/readonly/);
  });

  it('remembers an inbound delivery for the replay window: the second time is a replay, and old keys are forgotten', async () => {
    const { store } = await open();
    expect(await store.recordInboundDelivery('slack:123.456.abc', '2026-11-26T09:00:00.000Z', '2026-11-26T08:50:00.000Z')).toBe(true);
    expect(await store.recordInboundDelivery('slack:123.456.abc', '2026-11-26T09:04:00.000Z', '2026-11-26T08:54:00.000Z')).toBe(false);
    expect(await store.recordInboundDelivery('slack:789.000.def', '2026-11-26T09:04:00.000Z', '2026-11-26T08:54:00.000Z')).toBe(true);
    // Ten minutes later the first key has been forgotten with the window.
    expect(await store.recordInboundDelivery('slack:123.456.abc', '2026-11-26T09:11:00.000Z', '2026-11-26T09:01:00.000Z')).toBe(true);
  });

  it('opens an in-memory database with sqlite::memory:', async () => {
    const { store, migrated } = await openStore('sqlite::memory:');
    opened.push(store);
    expect(migrated).toEqual(['0001-initial', '0002-sandbox-state', '0003-slack-cards', '0004-alert-outbox', '0005-store-meta', '0006-inbound-deliveries', '0007-drop-sandbox-state', '0008-metric-samples-and-leases', '0009-card-leases', '0010-console-sessions', '0011-availability-days']);
    const d = deployment();
    await store.insertDeployment(d);
    expect(await store.getDeployment(d.id)).toEqual(d);
  });

  it('keeps claims, revisions and leases exclusive between two stores on the same file (a second replica)', async () => {
    const { store: one } = await open();
    const { store: two } = await open();
    const a = deployment();
    const b = deployment();
    await one.insertDeployment(a);
    await two.insertDeployment(b);

    const claims = await Promise.all([
      one.claimTarget({ ...TARGET, deploymentId: a.id, since: a.createdAt }),
      two.claimTarget({ ...TARGET, deploymentId: b.id, since: b.createdAt }),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);

    const writes = await Promise.all([
      one.updateDeployment({ ...a, stage: 'resolving' }, a.revision),
      two.updateDeployment({ ...a, stage: 'cancelled' }, a.revision),
    ]);
    expect(writes.filter((w) => w !== undefined)).toHaveLength(1);
    expect((await one.getDeployment(a.id))?.revision).toBe(a.revision + 1);

    const leases = await Promise.all([
      one.acquireLease(a.id, 'replica-one', 60_000),
      two.acquireLease(a.id, 'replica-two', 60_000),
    ]);
    expect(leases.filter(Boolean)).toHaveLength(1);
  });

  it('refuses "sqlite:" without a path', async () => {
    const error = await openStore('sqlite:').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KevinDeployError);
    expect((error as KevinDeployError).code).toBe('USAGE');
    expect((error as KevinDeployError).message).toContain('needs a path');
  });

  it('explains a path it cannot open as a database, naming the path', async () => {
    // A directory where the file should be: what a mistyped volume mount looks like.
    const error = await openStore(`sqlite:${dir}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KevinDeployError);
    expect((error as KevinDeployError).code).toBe('USAGE');
    expect((error as KevinDeployError).message).toContain(dir);
  });

  it('refuses a Postgres it cannot reach, naming it without its password', async () => {
    for (const url of ['postgres://kevin:s3cr3t-pw@127.0.0.1:1/kevin', 'postgresql://kevin:s3cr3t-pw@db.invalid/kevin']) {
      const error = await openStore(url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KevinDeployError);
      expect((error as KevinDeployError).code).toBe('STORE_UNREACHABLE');
      expect((error as KevinDeployError).message).toMatch(/cannot connect to the Postgres store postgres(ql)?:\/\/kevin:\*\*\*@/);
      expect((error as KevinDeployError).message).not.toContain('s3cr3t-pw');
    }
  });

  it('refuses a Postgres that only reads (a standby), before writing anything', async () => {
    const error = await openStore(`${TEST_POSTGRES_URL}?options=-c%20default_transaction_read_only%3Don`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KevinDeployError);
    expect((error as KevinDeployError).code).toBe('STORE_READ_ONLY');
    expect((error as KevinDeployError).message).toContain('Point DATABASE_URL at the primary');
  });

  it('refuses a bad schema name in a postgres:// URL', async () => {
    const error = await openStore(`${TEST_POSTGRES_URL}?schema=Robert'); DROP TABLE x;--`).catch((e: unknown) => e);
    expect((error as KevinDeployError).code).toBe('USAGE');
    expect((error as KevinDeployError).message).toContain('must be a lower-case SQL name');
  });

  it('Postgres: replicas starting together run each migration once; a schema migrated by a newer version is refused, unchanged', async () => {
    const schema = newTestSchema();
    schemas.push(schema);
    const [a, b, c] = await Promise.all([openStore(schema.url), openStore(schema.url), openStore(schema.url)]);
    opened.push(a.store, b.store, c.store);
    const runs = [a.migrated, b.migrated, c.migrated].sort((x, y) => y.length - x.length);
    expect(runs[0]).toEqual(knownMigrationNames());
    expect(runs.slice(1)).toEqual([[], []]);

    await inSchema(schema, (client) => client.query("INSERT INTO kysely_migration (name, timestamp) VALUES ('0999-from-the-future', '2027-01-01T00:00:00.000Z')"));
    const error = await openStore(schema.url).catch((e: unknown) => e);
    expect((error as KevinDeployError).code).toBe('STORE_TOO_NEW');
    expect((error as KevinDeployError).message).toContain('0999-from-the-future');
    expect((error as KevinDeployError).message).toContain(`(schema ${schema.name})`);
  });

  it('refuses another scheme such as mysql://, naming it, without quoting its password', async () => {
    const error = await openStore('mysql://root:s3cr3t-pw@localhost/kevin').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KevinDeployError);
    expect((error as KevinDeployError).code).toBe('USAGE');
    expect((error as KevinDeployError).message).toContain('sqlite:');
    expect((error as KevinDeployError).message).toContain('mysql');
    expect((error as KevinDeployError).message).not.toContain('s3cr3t-pw');
  });
});

/** The same store contract on each dialect: a fresh file, or a fresh Postgres schema dropped afterwards. */
interface Backend {
  open(): Promise<KyselyStore>;
  /** The stored length of a deployment's progress_json, read past the store (as an operator would). */
  progressJsonLength(id: string): Promise<number>;
}

const BACKENDS: Record<'sqlite' | 'postgres', () => Backend> = {
  sqlite: () => ({
    open: async () => (await open()).store,
    async progressJsonLength(id) {
      const db = new BetterSqlite3(file, { readonly: true });
      try {
        return (db.prepare('SELECT length(progress_json) AS n FROM deployments WHERE id = ?').get(id) as { n: number }).n;
      } finally {
        db.close();
      }
    },
  }),
  postgres: () => {
    const schema = newTestSchema();
    schemas.push(schema);
    return {
      async open() {
        const { store } = await openStore(schema.url);
        opened.push(store);
        return store;
      },
      progressJsonLength: (id) =>
        inSchema(schema, async (client) => Number((await client.query<{ n: number }>('SELECT length(progress_json) AS n FROM deployments WHERE id = $1', [id])).rows[0]!.n)),
    };
  },
};

describe.each(['sqlite', 'postgres'] as const)('KyselyStore on %s', (dialect) => {
  let store: KyselyStore;
  let backend: Backend;

  beforeEach(async () => {
    backend = BACKENDS[dialect]();
    store = await backend.open();
  });

  describe('deployments', () => {
    it('round-trips every field, JSON fields and null versions included', async () => {
      const bare = deployment();
      await store.insertDeployment(bare);
      expect(await store.getDeployment(bare.id)).toEqual(bare);

      const full = deployment({
        kind: 'rollback',
        stage: 'awaiting_approval',
        versionRef: 'release 2.4.0: "quotes" & ünïcödé',
        version: { id: GREEN, tag: null },
        previousVersion: { id: BLUE, tag: 'v2.3.9' },
        split: { [BLUE]: 100, [GREEN]: 0 },
        requestedBy: 'bob',
        note: 'hotfix for the gallery',
        force: true,
        approvals: [
          { actor: 'bob', at: '2026-11-26T09:05:00.000Z' },
          { actor: 'ops', at: '2026-11-26T09:06:00.000Z' },
        ],
        reason: 'waiting for approval (expires 10:05)',
        stageTimes: { requested: '2026-11-26T09:00:00.000Z', verifying: '2026-11-26T09:02:00.000Z' },
        progress: {
          attempt: 3,
          targetSplit: { [BLUE]: 100, [GREEN]: 0 },
          rollbackPhase: 'verify',
          rollbackCause: 'error rate 7.5 % > 5 % for 2 min',
          lastChecks: [
            { name: 'health', ok: true, detail: '200 healthy' },
            { name: 'content /', ok: false, detail: '"KEVIN" missing on /' },
          ],
          approvalExpiresAt: '2026-11-26T10:05:00.000Z',
          monitorStartedAt: '2026-11-26T09:10:00.000Z',
          monitorEndsAt: '2026-11-26T09:15:00.000Z',
          consecutiveHealthFailures: 2,
          samplesTaken: 9,
          lastError: 'CLOUDFLARE_RATE_LIMITED',
        },
        wakeAt: null,
        revision: 7,
        updatedAt: '2026-11-26T09:06:00.000Z',
      });
      await store.insertDeployment(full);
      expect(await store.getDeployment(full.id)).toEqual(full);
      expect(await store.getDeployment('no-such-id')).toBeUndefined();
    });

    it('updates with compare-and-set on revision', async () => {
      const d = deployment({ revision: 1 });
      await store.insertDeployment(d);

      const moved = { ...d, stage: 'resolving' as Stage, reason: 'resolving v2.4.0', updatedAt: '2026-11-26T10:00:00.000Z' };
      const stored = await store.updateDeployment(moved, 1);
      expect(stored).toEqual({ ...moved, revision: 2 });
      expect(await store.getDeployment(d.id)).toEqual({ ...moved, revision: 2 });

      // A writer that read revision 1 lost the race: nothing changes.
      const stale = await store.updateDeployment({ ...d, stage: 'cancelled', reason: 'cancelled by bob' }, 1);
      expect(stale).toBeUndefined();
      expect(await store.getDeployment(d.id)).toEqual({ ...moved, revision: 2 });

      expect(await store.updateDeployment({ ...moved, stage: 'staging' }, 2)).toMatchObject({ stage: 'staging', revision: 3 });
      expect(await store.updateDeployment(deployment({ id: 'missing' }), 1)).toBeUndefined();
    });

    it('lists newest first, filtered by target, stage and kind, up to the limit', async () => {
      const a = deployment({ createdAt: '2026-11-26T09:00:00.000Z', stage: 'succeeded' });
      const b = deployment({ createdAt: '2026-11-26T09:10:00.000Z', stage: 'monitoring' });
      const c = deployment({ createdAt: '2026-11-26T09:20:00.000Z', stage: 'failed', kind: 'rollback' });
      const other = deployment({ ...STAGING, createdAt: '2026-11-26T09:30:00.000Z' });
      for (const d of [a, b, c, other]) await store.insertDeployment(d);

      expect((await store.listDeployments({})).map((d) => d.id)).toEqual([other.id, c.id, b.id, a.id]);
      expect((await store.listDeployments({ ...TARGET })).map((d) => d.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.listDeployments({ ...TARGET, limit: 2 })).map((d) => d.id)).toEqual([c.id, b.id]);
      expect((await store.listDeployments({ stages: ['succeeded', 'failed'] })).map((d) => d.id)).toEqual([c.id, a.id]);
      expect((await store.listDeployments({ kind: 'rollback' })).map((d) => d.id)).toEqual([c.id]);
    });
  });

  describe('events', () => {
    it('appends and lists in order, per deployment', async () => {
      const d = deployment();
      const e = deployment();
      await store.insertDeployment(d);
      await store.insertDeployment(e);
      const first: DeploymentEvent = { ...event(d.id, 'requested', { version: 'v2.4.0', nested: { n: [1, 2] } }), toStage: 'requested' };
      const second: DeploymentEvent = { ...event(d.id, 'stage'), fromStage: 'requested', toStage: 'resolving' };
      await store.appendEvents([first, second]);
      await store.appendEvents([event(e.id, 'requested')]);
      await store.appendEvents([]);
      await store.appendEvents([{ ...event(d.id, 'approved'), actor: 'bob', fromStage: 'awaiting_approval', toStage: 'switching' }]);

      const listed = await store.listEvents(d.id);
      expect(listed.map((x) => x.action)).toEqual(['requested', 'stage', 'approved']);
      expect(listed[0]).toEqual(first);
      expect(listed[1]).toEqual(second);
      expect(listed[2]).toMatchObject({ actor: 'bob', fromStage: 'awaiting_approval', toStage: 'switching' });
      expect((await store.listEvents(e.id)).map((x) => x.action)).toEqual(['requested']);
      expect(await store.listEvents('nobody')).toEqual([]);
    });
  });

  describe('metric samples', () => {
    const sampleAt = (at: string, errorRatePercent: number): MetricSample => ({
      at,
      green: { source: 'app-json /metrics', errorRatePercent, avgResponseMs: 90, requests: 40 },
    });

    it('are appended per deployment and read back oldest first, from a time on, the newest N of them', async () => {
      const d = deployment();
      const other = deployment();
      await store.insertDeployment(d);
      await store.insertDeployment(other);
      const list = [0, 1, 2, 3, 4].map((i) => sampleAt(`2026-11-26T09:00:${String(i * 10).padStart(2, '0')}.000Z`, i));
      for (const sample of list) await store.appendMetricSample(d.id, sample);
      await store.appendMetricSample(other.id, sampleAt('2026-11-26T09:00:05.000Z', 99));

      expect(await store.listMetricSamples(d.id)).toEqual(list);
      expect(await store.listMetricSamples(d.id, { since: '2026-11-26T09:00:20.000Z' })).toEqual(list.slice(2));
      expect(await store.listMetricSamples(d.id, { limit: 2 })).toEqual(list.slice(3));
      expect(await store.listMetricSamples(d.id, { since: '2026-11-26T09:00:10.000Z', limit: 10 })).toEqual(list.slice(1));
      expect(await store.listMetricSamples(other.id)).toEqual([sampleAt('2026-11-26T09:00:05.000Z', 99)]);
      expect(await store.listMetricSamples('nobody')).toEqual([]);
    });

    it('a sample\'s write does not grow with the history: the status row stays the same size', async () => {
      const d = deployment({ stage: 'monitoring' });
      await store.insertDeployment(d);
      const rowBytes = () => backend.progressJsonLength(d.id);
      const before = await rowBytes();
      for (let i = 0; i < 50; i++) {
        await store.transaction(async (session) => {
          await session.appendMetricSample(d.id, sampleAt(new Date(Date.parse('2026-11-26T09:00:00.000Z') + i * 1000).toISOString(), 1));
        });
      }
      expect(await rowBytes()).toBe(before);
      expect(await store.listMetricSamples(d.id)).toHaveLength(50);
    });
  });

  describe('target claims', () => {
    it('are exclusive per service and environment', async () => {
      const a = deployment();
      const b = deployment();
      const c = deployment({ ...STAGING });
      for (const d of [a, b, c]) await store.insertDeployment(d);

      expect(await store.claimTarget({ ...TARGET, deploymentId: a.id, since: '2026-11-26T09:00:00.000Z' })).toBe(true);
      expect(await store.claimTarget({ ...TARGET, deploymentId: b.id, since: '2026-11-26T09:01:00.000Z' })).toBe(false);
      // The same service in another environment is another target.
      expect(await store.claimTarget({ ...STAGING, deploymentId: c.id, since: '2026-11-26T09:02:00.000Z' })).toBe(true);

      expect(await store.getClaim(TARGET)).toEqual({ ...TARGET, deploymentId: a.id, since: '2026-11-26T09:00:00.000Z' });
      expect((await store.listClaims()).map((x) => x.deploymentId)).toEqual([a.id, c.id]);
    });

    it('are released only by their holder', async () => {
      const a = deployment();
      const b = deployment();
      for (const d of [a, b]) await store.insertDeployment(d);
      await store.claimTarget({ ...TARGET, deploymentId: a.id, since: '2026-11-26T09:00:00.000Z' });

      await store.releaseClaim(TARGET, b.id);
      expect((await store.getClaim(TARGET))?.deploymentId).toBe(a.id);

      await store.releaseClaim(TARGET, a.id);
      expect(await store.getClaim(TARGET)).toBeUndefined();
      expect(await store.claimTarget({ ...TARGET, deploymentId: b.id, since: '2026-11-26T09:05:00.000Z' })).toBe(true);
    });
  });

  describe('queue', () => {
    it('is first in, first out per target, and dequeues by deployment', async () => {
      const ds = [deployment(), deployment({ ...STAGING }), deployment(), deployment()];
      for (const d of ds) await store.insertDeployment(d);
      const [a, s, b, c] = ds as [Deployment, Deployment, Deployment, Deployment];
      // Enqueue times deliberately out of order: the queue is arrival order, not timestamp order.
      await store.enqueue({ ...TARGET, deploymentId: a.id, enqueuedAt: '2026-11-26T09:30:00.000Z' });
      await store.enqueue({ ...STAGING, deploymentId: s.id, enqueuedAt: '2026-11-26T09:31:00.000Z' });
      await store.enqueue({ ...TARGET, deploymentId: b.id, enqueuedAt: '2026-11-26T09:00:00.000Z' });
      await store.enqueue({ ...TARGET, deploymentId: c.id, enqueuedAt: '2026-11-26T09:40:00.000Z' });

      expect((await store.queueOf(TARGET)).map((q) => q.deploymentId)).toEqual([a.id, b.id, c.id]);
      expect((await store.queueOf(STAGING)).map((q) => q.deploymentId)).toEqual([s.id]);
      expect((await store.listQueue()).map((q) => q.deploymentId)).toEqual([a.id, s.id, b.id, c.id]);
      expect((await store.queueOf(TARGET))[0]).toEqual({ ...TARGET, deploymentId: a.id, enqueuedAt: '2026-11-26T09:30:00.000Z' });

      await store.dequeue(a.id);
      expect((await store.queueOf(TARGET)).map((q) => q.deploymentId)).toEqual([b.id, c.id]);
      await store.dequeue('not-queued');
      expect(await store.listQueue()).toHaveLength(3);
    });
  });

  describe('freeze locks', () => {
    it('are put, read, listed and deleted', async () => {
      const prod: FreezeLock = { ...TARGET, holder: 'ops', reason: 'launch week', since: '2026-11-26T09:00:00.000Z', expiresAt: '2026-11-30T00:00:00.000Z' };
      const staging: FreezeLock = { ...STAGING, holder: 'alice', reason: 'demo', since: '2026-11-26T09:05:00.000Z', expiresAt: null };
      expect(await store.getLock(TARGET)).toBeUndefined();
      await store.putLock(prod);
      await store.putLock(staging);

      expect(await store.getLock(TARGET)).toEqual(prod);
      expect(await store.getLock(STAGING)).toEqual(staging);
      expect(await store.listLocks()).toEqual([prod, staging]);

      expect(await store.deleteLock(TARGET)).toBe(true);
      expect(await store.deleteLock(TARGET)).toBe(false);
      expect(await store.getLock(TARGET)).toBeUndefined();
      expect(await store.listLocks()).toEqual([staging]);
    });
  });

  describe('transactions', () => {
    it('commit every write together', async () => {
      const d = deployment();
      const result = await store.transaction(async (tx) => {
        await tx.insertDeployment(d);
        return tx.claimTarget({ ...TARGET, deploymentId: d.id, since: d.createdAt });
      });
      expect(result).toBe(true);
      expect(await store.getDeployment(d.id)).toEqual(d);
      expect((await store.getClaim(TARGET))?.deploymentId).toBe(d.id);
    });

    it('roll every write back when the work throws', async () => {
      const d = deployment();
      const failure = new Error('crashed between the writes');
      await expect(
        store.transaction(async (tx) => {
          await tx.insertDeployment(d);
          expect(await tx.claimTarget({ ...TARGET, deploymentId: d.id, since: d.createdAt })).toBe(true);
          await tx.appendEvents([event(d.id, 'requested')]);
          await tx.enqueue({ ...STAGING, deploymentId: d.id, enqueuedAt: d.createdAt });
          // Inside the transaction the writes are visible…
          expect(await tx.getDeployment(d.id)).toEqual(d);
          throw failure;
        }),
      ).rejects.toBe(failure);

      // …outside, none of them happened.
      expect(await store.getDeployment(d.id)).toBeUndefined();
      expect(await store.getClaim(TARGET)).toBeUndefined();
      expect(await store.listEvents(d.id)).toEqual([]);
      expect(await store.listQueue()).toEqual([]);
      // And the store still works.
      await store.insertDeployment(d);
      expect(await store.getDeployment(d.id)).toEqual(d);
    });
  });

  describe('leases (judged by the database\'s clock)', () => {
    async function leaseOf(id: string): Promise<{ leaseOwner: string | null; leaseLive: boolean } | undefined> {
      const item = (await store.listWork()).find((w) => w.id === id);
      return item ? { leaseOwner: item.leaseOwner, leaseLive: item.leaseLive } : undefined;
    }
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('are granted to one owner until they expire, renewable by the holder, then taken over', async () => {
      const d = deployment();
      await store.insertDeployment(d);

      expect(await store.acquireLease(d.id, 'replica-a', 400)).toBe(true);
      expect(await leaseOf(d.id)).toEqual({ leaseOwner: 'replica-a', leaseLive: true });
      const left = (await store.listWork()).find((w) => w.id === d.id)!.leaseExpiresInMs!;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(400);
      expect(await store.holdsLease(d.id, 'replica-a')).toBe(true);
      expect(await store.holdsLease(d.id, 'replica-b')).toBe(false);

      // B is refused while A's lease is live; A renews it (B cannot renew what is not its).
      expect(await store.acquireLease(d.id, 'replica-b', 60_000)).toBe(false);
      expect(await store.renewLease(d.id, 'replica-b', 60_000)).toBe(false);
      expect(await store.renewLease(d.id, 'replica-a', 400)).toBe(true);
      await pause(200);
      expect(await store.acquireLease(d.id, 'replica-b', 60_000)).toBe(false);

      // Past its expiry by the database's clock, A's lease is dead: A no longer holds it, B takes it.
      await pause(400);
      expect(await leaseOf(d.id)).toEqual({ leaseOwner: 'replica-a', leaseLive: false });
      expect(await store.holdsLease(d.id, 'replica-a')).toBe(false);
      // A lapsed lease is not renewed: its owner must take it anew, like anyone.
      expect(await store.renewLease(d.id, 'replica-a', 60_000)).toBe(false);
      expect(await store.acquireLease(d.id, 'replica-b', 60_000)).toBe(true);
      expect(await leaseOf(d.id)).toEqual({ leaseOwner: 'replica-b', leaseLive: true });
      expect(await store.acquireLease(d.id, 'replica-a', 60_000)).toBe(false);
      // Released, a lease is not renewed either.
      await store.releaseLease(d.id, 'replica-b');
      expect(await store.renewLease(d.id, 'replica-b', 60_000)).toBe(false);
    });

    it('fence a commit: inside a transaction, a lapsed lease is seen as lost', async () => {
      const d = deployment();
      await store.insertDeployment(d);
      await store.acquireLease(d.id, 'replica-a', 300);
      expect(await store.transaction((tx) => tx.holdsLease(d.id, 'replica-a'))).toBe(true);
      await pause(450);
      expect(await store.transaction((tx) => tx.holdsLease(d.id, 'replica-a'))).toBe(false);
    });

    it('are not granted on a deployment that does not exist', async () => {
      expect(await store.acquireLease('missing', 'replica-a', 60_000)).toBe(false);
    });

    it('are released by their owner only, one or all at once', async () => {
      const [d1, d2, d3] = [deployment(), deployment(), deployment()];
      for (const d of [d1!, d2!, d3!]) await store.insertDeployment(d);
      await store.acquireLease(d1!.id, 'replica-a', 60_000);
      await store.acquireLease(d2!.id, 'replica-a', 60_000);
      await store.acquireLease(d3!.id, 'replica-b', 60_000);

      await store.releaseLease(d3!.id, 'replica-a');
      expect((await leaseOf(d3!.id))?.leaseOwner).toBe('replica-b');
      await store.releaseLease(d1!.id, 'replica-a');
      expect(await leaseOf(d1!.id)).toEqual({ leaseOwner: null, leaseLive: false });

      await store.acquireLease(d1!.id, 'replica-a', 60_000);
      await store.releaseAllLeases('replica-a');
      expect(await leaseOf(d1!.id)).toEqual({ leaseOwner: null, leaseLive: false });
      expect(await leaseOf(d2!.id)).toEqual({ leaseOwner: null, leaseLive: false });
      expect(await leaseOf(d3!.id)).toEqual({ leaseOwner: 'replica-b', leaseLive: true });
      // Released: anyone may take it at once.
      expect(await store.acquireLease(d2!.id, 'replica-b', 60_000)).toBe(true);
    });

    it('survive a status write (updateDeployment does not clear them)', async () => {
      const d = deployment();
      await store.insertDeployment(d);
      await store.acquireLease(d.id, 'replica-a', 60_000);
      await store.updateDeployment({ ...d, stage: 'resolving' }, d.revision);
      expect(await leaseOf(d.id)).toEqual({ leaseOwner: 'replica-a', leaseLive: true });
    });
  });

  describe('work and counts', () => {
    it('lists only non-terminal deployments as work, oldest first, with wake times', async () => {
      const stages: Stage[] = [
        'requested',
        'succeeded',
        'monitoring',
        'rolled_back',
        'failed',
        'needs_attention',
        'rejected',
        'expired',
        'cancelled',
        'awaiting_approval',
        'rolling_back',
      ];
      const ds = stages.map((stage, i) =>
        deployment({ stage, createdAt: `2026-11-26T10:${String(i).padStart(2, '0')}:00.000Z`, wakeAt: i % 2 === 0 ? null : `2026-11-26T11:00:0${i % 10}.000Z` }),
      );
      for (const d of ds) await store.insertDeployment(d);

      const work = await store.listWork();
      const live = ds.filter((d) => ['requested', 'monitoring', 'needs_attention', 'awaiting_approval', 'rolling_back'].includes(d.stage));
      expect(work.map((w) => w.id)).toEqual(live.map((d) => d.id));
      expect(work[0]).toEqual({ id: live[0]!.id, revision: live[0]!.revision, wakeAt: live[0]!.wakeAt, leaseOwner: null, leaseLive: false, leaseExpiresInMs: null });
      expect(work.map((w) => w.wakeAt)).toEqual(live.map((d) => d.wakeAt));
    });

    it('drops a deployment from the work list once it reaches a terminal stage', async () => {
      const d = deployment({ stage: 'monitoring' });
      await store.insertDeployment(d);
      expect((await store.listWork()).map((w) => w.id)).toEqual([d.id]);
      await store.updateDeployment({ ...d, stage: 'succeeded' }, d.revision);
      expect(await store.listWork()).toEqual([]);
    });

    it('counts deployments by stage', async () => {
      expect(await store.countByStage()).toEqual({});
      for (const stage of ['succeeded', 'succeeded', 'failed', 'monitoring', 'succeeded'] as Stage[]) {
        await store.insertDeployment(deployment({ stage }));
      }
      expect(await store.countByStage()).toEqual({ succeeded: 3, failed: 1, monitoring: 1 });
    });
  });
});
