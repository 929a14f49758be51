import type { Kysely } from 'kysely';
import type { Target } from '../../domain/deployment.ts';
import type { AvailabilityDay, AvailabilityLog } from '../../ports/availability.ts';
import type { Database } from './database-schema.ts';

/**
 * The availability counters in `availability_days`: one row per target and UTC day, whatever the
 * check rate. Written by one statement per check, so replicas (Postgres) counting at once never
 * lose an increment, and nothing is read first.
 */
export class KyselyAvailability implements AvailabilityLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(target: Target, at: Date, up: boolean): Promise<void> {
    const failures = up ? 0 : 1;
    await this.db
      .insertInto('availability_days')
      .values({ service: target.service, environment: target.environment, day: at.toISOString().slice(0, 10), checks: 1, failures })
      // The same statement on SQLite and Postgres: the row's own counters plus this check's, in the database.
      .onConflict((conflict) =>
        conflict.columns(['service', 'environment', 'day']).doUpdateSet((eb) => ({
          checks: eb('availability_days.checks', '+', 1),
          failures: eb('availability_days.failures', '+', eb.ref('excluded.failures')),
        })),
      )
      .execute();
  }

  async daysSince(targets: readonly Target[], sinceDay: string): Promise<AvailabilityDay[]> {
    if (targets.length === 0) return [];
    return this.db
      .selectFrom('availability_days')
      .select(['service', 'environment', 'day', 'checks', 'failures'])
      .where('day', '>=', sinceDay)
      .where((eb) => eb.or(targets.map((t) => eb.and([eb('service', '=', t.service), eb('environment', '=', t.environment)]))))
      .orderBy('day', 'asc')
      .orderBy('service', 'asc')
      .orderBy('environment', 'asc')
      .execute();
  }
}
