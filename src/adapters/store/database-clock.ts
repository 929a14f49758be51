import { sql } from 'kysely';
import type { SqlDialectName } from './migrations.ts';

/**
 * Now (plus `plusMs`) by the database's clock, as an ISO-8601 UTC string with milliseconds — the
 * form every stored time has, so the two compare as strings.
 *
 * Leases are judged by this clock, never a replica's: replicas whose clocks disagree still
 * agree on whose lease is live.
 */
export function databaseNow(dialect: SqlDialectName, plusMs = 0) {
  if (dialect === 'postgres') {
    return sql<string>`to_char((clock_timestamp() + make_interval(secs => ${plusMs / 1000})) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${plusMs >= 0 ? '+' : ''}${plusMs / 1000} seconds`})`;
}
