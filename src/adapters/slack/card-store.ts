import type { Kysely } from 'kysely';
import type { Database } from '../store/database-schema.ts';

export interface CardRecord {
  deploymentId: string;
  channel: string;
  /** null while the first post is in flight (or if it was lost in a crash). */
  ts: string | null;
  renderedRevision: number;
  threadCursor: number;
}

/** Where each deployment's Slack card is and how current it is; in the bot's store so restarts catch up. */
export class CardStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(deploymentId: string): Promise<CardRecord | undefined> {
    const row = await this.db.selectFrom('slack_cards').selectAll().where('deployment_id', '=', deploymentId).executeTakeFirst();
    return row
      ? {
          deploymentId: row.deployment_id,
          channel: row.channel,
          ts: row.ts,
          renderedRevision: Number(row.rendered_revision),
          threadCursor: Number(row.thread_cursor),
        }
      : undefined;
  }

  async put(card: CardRecord, now: Date): Promise<void> {
    const values = {
      channel: card.channel,
      ts: card.ts,
      rendered_revision: card.renderedRevision,
      thread_cursor: card.threadCursor,
      updated_at: now.toISOString(),
    };
    await this.db
      .insertInto('slack_cards')
      .values({ deployment_id: card.deploymentId, ...values })
      .onConflict((oc) => oc.column('deployment_id').doUpdateSet(values))
      .execute();
  }

  /** Deployments whose card is missing or behind, updated since `since`: the catch-up list after a start. */
  async behind(since: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('deployments')
      .leftJoin('slack_cards', 'slack_cards.deployment_id', 'deployments.id')
      .select(['deployments.id as id'])
      .where('deployments.updated_at', '>=', since)
      .where((eb) =>
        eb.or([
          eb('slack_cards.deployment_id', 'is', null),
          eb('slack_cards.ts', 'is', null),
          eb('slack_cards.rendered_revision', '<', eb.ref('deployments.revision')),
        ]),
      )
      .orderBy('deployments.updated_at', 'asc')
      .execute();
    return rows.map((r) => r.id);
  }
}
