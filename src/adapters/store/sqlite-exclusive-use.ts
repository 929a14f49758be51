import { hostname } from 'node:os';
import BetterSqlite3 from 'better-sqlite3';
import { KevinDeployError } from '../../errors.ts';

/** Who serves from a SQLite file, as a second process is told when it is refused. */
export interface SqliteHolder {
  pid: number;
  host: string;
  since: string;
  /** Known once the holder listens. */
  url: string | null;
}

export const HOLDER_KEY = 'holder';

/**
 * One kevin-deploy process per SQLite file. Two bots on one file would both run releases and
 * race for SQLite's single write lock; several replicas need a server database. The guard is an
 * exclusive lock on a companion file (`<database>-lock`) held by a SQLite connection in
 * `locking_mode=EXCLUSIVE` for the life of the process: the operating system drops it when the
 * process ends, however it ends (SIGKILL included), so a crashed bot never locks its successor
 * out, and no stale "pid file" has to be guessed about. Who holds it is written in the store's
 * `store_meta` table, so the refusal can name the first process.
 */
export class SqliteExclusiveUse {
  private constructor(private readonly lock: BetterSqlite3.Database) {}

  /**
   * Takes the file for this process, or refuses naming the holder. `readHolder` reads the
   * holder's record from the main database (undefined when there is none yet).
   */
  static acquire(databaseFile: string, readHolder: () => SqliteHolder | undefined): SqliteExclusiveUse {
    const lockFile = `${databaseFile}-lock`;
    let lock: BetterSqlite3.Database;
    try {
      lock = new BetterSqlite3(lockFile);
    } catch (error) {
      throw new KevinDeployError(
        'STORE_READ_ONLY',
        `cannot create ${lockFile}, which guards the database against a second kevin-deploy process (${error instanceof Error ? error.message : String(error)}); the directory must be writable`,
      );
    }
    try {
      lock.pragma('busy_timeout = 0');
      lock.pragma('locking_mode = EXCLUSIVE');
      // The first write in exclusive locking mode takes the exclusive lock and keeps it.
      lock.exec('BEGIN EXCLUSIVE; PRAGMA user_version = 1; COMMIT;');
      return new SqliteExclusiveUse(lock);
    } catch (error) {
      lock.close();
      const code = (error as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_READONLY')) {
        throw new KevinDeployError('STORE_READ_ONLY', `${lockFile}, which guards the database against a second kevin-deploy process, cannot be written; make it writable by this user`);
      }
      if (code !== 'SQLITE_BUSY') throw error;
      throw inUse(databaseFile, readHolder());
    }
  }

  static holderOfThisProcess(now: Date): SqliteHolder {
    return { pid: process.pid, host: hostname(), since: now.toISOString(), url: null };
  }

  release(): void {
    if (this.lock.open) this.lock.close();
  }
}

function inUse(databaseFile: string, holder: SqliteHolder | undefined): KevinDeployError {
  const who = holder
    ? `kevin-deploy process ${holder.pid} on ${holder.host}${holder.url ? `, serving ${holder.url}` : ''}, since ${holder.since}`
    : 'another kevin-deploy process';
  return new KevinDeployError(
    'STORE_IN_USE',
    `the SQLite database ${databaseFile} is in use by ${who}. SQLite is for one process: stop that one first ` +
      '(or give this one its own DATABASE_URL). Several replicas on one store need a server database (Postgres).',
    holder ? { holder } : {},
  );
}
