import type { Kysely } from 'kysely';
import type { Database } from '../adapters/store/database-schema.ts';
import { openDatabase } from '../adapters/store/open-store.ts';
import { KevinDeployError } from '../errors.ts';

/**
 * The sandbox edge keeps its Cloudflare-like state (versions, deployments, credentials) in the
 * same store as the bot, so restarting either process never changes where traffic goes.
 */
export class EdgeStateStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Kysely<Database>,
    readonly description: string,
  ) {}

  static async open(databaseUrl: string): Promise<EdgeStateStore> {
    const { db, description } = await openDatabase(databaseUrl);
    return new EdgeStateStore(db, description);
  }

  /** The stored JSON for `name`, parsed; undefined when absent; a clear error when unreadable. */
  async load(name: string): Promise<unknown> {
    const row = await this.db.selectFrom('sandbox_state').select(['state_json']).where('name', '=', name).executeTakeFirst();
    if (!row) return undefined;
    try {
      return JSON.parse(row.state_json);
    } catch {
      throw new KevinDeployError(
        'USAGE',
        `the sandbox state "${name}" in ${this.description} is corrupt (not JSON); start over with \`kevin-deploy sandbox reset\``,
      );
    }
  }

  /** Saves in order: a later save never lands before an earlier one. */
  save(name: string, state: unknown, now: Date): Promise<void> {
    const json = JSON.stringify(state);
    const at = now.toISOString();
    this.writing = this.writing.then(async () => {
      await this.db
        .insertInto('sandbox_state')
        .values({ name, state_json: json, updated_at: at })
        .onConflict((oc) => oc.column('name').doUpdateSet({ state_json: json, updated_at: at }))
        .execute();
    });
    return this.writing;
  }

  async clear(): Promise<number> {
    const result = await this.db.deleteFrom('sandbox_state').executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.db.destroy();
  }
}
