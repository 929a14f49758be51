import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyAvailability } from '../../src/adapters/store/kysely-availability.ts';
import { tempDatabase, type TempDatabase } from '../support/alert-fixtures.ts';

/**
 * The availability counters on a real database, as the bot opens it — every test runs on a SQLite
 * file and on Postgres (a schema of its own, dropped afterwards): counts per target and UTC day,
 * increments that are never lost when checks land at once (replicas), and reads by target and day.
 */

const PROD = { service: 'kevinstamp', environment: 'production' };
const EU = { service: 'kevinstamp', environment: 'production-eu' };
const OTHER = { service: 'kevinmail', environment: 'production' };

describe.each(['sqlite', 'postgres'] as const)('the availability log on %s', (dialect) => {
  let tmp: TempDatabase;
  let log: KyselyAvailability;

  beforeEach(async () => {
    tmp = tempDatabase(dialect);
    log = new KyselyAvailability((await tmp.open()).db);
  });

  afterEach(async () => {
    await tmp.cleanup();
  });

  it('counts checks and failures per target and UTC day; midnight UTC starts a new day', async () => {
    await log.record(PROD, new Date('2026-11-30T00:00:00.000Z'), true);
    await log.record(PROD, new Date('2026-11-30T12:00:00.000Z'), false);
    await log.record(PROD, new Date('2026-11-30T23:59:59.999Z'), true);
    await log.record(PROD, new Date('2026-12-01T00:00:00.000Z'), false);
    await log.record(EU, new Date('2026-11-30T08:00:00.000Z'), true);

    expect(await log.daysSince([PROD, EU], '2026-11-01')).toEqual([
      { ...PROD, day: '2026-11-30', checks: 3, failures: 1 },
      { ...EU, day: '2026-11-30', checks: 1, failures: 0 },
      { ...PROD, day: '2026-12-01', checks: 1, failures: 1 },
    ]);
  });

  it('loses no increment when many checks land at once, from two connections (two replicas)', async () => {
    const other = new KyselyAvailability((await tmp.open()).db);
    const at = new Date('2026-12-02T10:00:00.000Z');
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? log : other).record(PROD, at, i % 4 !== 0)));

    expect(await log.daysSince([PROD], '2026-12-02')).toEqual([{ ...PROD, day: '2026-12-02', checks: 40, failures: 10 }]);
  });

  it('reads only the targets asked for, from the day asked for on', async () => {
    await log.record(PROD, new Date('2026-09-03T10:00:00.000Z'), true);
    await log.record(PROD, new Date('2026-09-04T10:00:00.000Z'), true);
    await log.record(OTHER, new Date('2026-09-04T10:00:00.000Z'), false);
    // Same service, another environment: not asked for, not read.
    await log.record({ service: 'kevinstamp', environment: 'staging' }, new Date('2026-09-04T10:00:00.000Z'), false);

    expect(await log.daysSince([PROD], '2026-09-04')).toEqual([{ ...PROD, day: '2026-09-04', checks: 1, failures: 0 }]);
    expect(await log.daysSince([PROD, OTHER], '2026-09-01')).toEqual([
      { ...PROD, day: '2026-09-03', checks: 1, failures: 0 },
      { ...OTHER, day: '2026-09-04', checks: 1, failures: 1 },
      { ...PROD, day: '2026-09-04', checks: 1, failures: 0 },
    ]);
    expect(await log.daysSince([], '2026-09-01')).toEqual([]);
  });
});
