import type { Kysely } from 'kysely';
import type { ConsoleSession, ConsoleSessionStore } from '../../ports/console-sessions.ts';
import type { Database } from './database-schema.ts';

/** Console sessions in the `console_sessions` table (migration 0010), on SQLite or Postgres alike. */
export class KyselyConsoleSessions implements ConsoleSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: ConsoleSession): Promise<void> {
    await this.db
      .insertInto('console_sessions')
      .values({
        id_digest: session.idDigest,
        token_digest: session.tokenDigest,
        actor: session.actor,
        csrf_token: session.csrfToken,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async find(idDigest: string, now: string): Promise<ConsoleSession | undefined> {
    const row = await this.db.selectFrom('console_sessions').selectAll().where('id_digest', '=', idDigest).where('expires_at', '>', now).executeTakeFirst();
    return row
      ? { idDigest: row.id_digest, tokenDigest: row.token_digest, actor: row.actor, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at }
      : undefined;
  }

  async delete(idDigest: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('id_digest', '=', idDigest).execute();
  }

  async deleteExpired(now: string): Promise<number> {
    const result = await this.db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
