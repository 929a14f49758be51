import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * better-sqlite3 compiles SQL in `prepare`, and Kysely prepares every query anew; the engine runs
 * the same few dozen statements over and over, so compiled statements are kept and reused.
 * Bounded, so ad-hoc SQL cannot grow it without limit.
 */
export function withStatementCache(database: SqliteDatabase, limit = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      let statement = cache.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
