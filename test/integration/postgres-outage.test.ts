import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import { TEST_POSTGRES_URL } from '../support/postgres-schema.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Postgres drops every connection of the bot in the middle of a release — what a server restart
 * or a failover does to its clients (done here by ending the sessions, so the other tests sharing
 * the server are not disturbed). The bot reconnects by itself and the release ends as it would
 * have: nothing lost, nothing done twice.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function endSessionsOf(schema: string): Promise<number> {
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    const ended = await admin.query<{ n: string }>('SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE application_name = $1', [`kevin-deploy/${schema}`]);
    return Number(ended.rows[0]!.n);
  } finally {
    await admin.end();
  }
}

describe('Postgres drops the bot\'s connections mid-release', () => {
  it('the bot reconnects and the release ends as it would have: one switch each way, a complete trail', async () => {
    h = await startHarness({ dialect: 'postgres', monitorWindow: '3s' });
    const harness = h;
    const green = harness.upload('v2');
    const created = await harness.api<{ id: string }>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    const id = created.body.id;
    await harness.waitForStage(id, 'awaiting_approval');
    expect((await harness.api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob)).status).toBe(200);
    await harness.waitForStage(id, 'monitoring');

    expect(await endSessionsOf(harness.schema!.name)).toBeGreaterThan(0);
    // Back: ready again, and the release finishes its window.
    await waitFor(async () => (await fetch(`${harness.bot.url}/readyz`)).status === 200, { timeoutMs: 15_000, describe: () => 'readyz to recover' });
    const done = await harness.waitForStage(id, ['succeeded', 'rolled_back', 'failed', 'needs_attention'], 30_000);
    expect(done.stage, done.reason).toBe('succeeded');
    expect(harness.standIn.effectiveSwitches('kevinstamp').slice(1)).toEqual([
      { [harness.v1]: 100, [green]: 0 },
      { [green]: 100, [harness.v1]: 0 },
    ]);
    const shown = await harness.api<{ events: Array<{ action: string }> }>('GET', `/api/v1/deployments/${id}`);
    expect(shown.body.events.filter((e) => e.action === 'approved')).toHaveLength(1);
    expect(shown.body.events.filter((e) => e.action === 'monitoring-passed')).toHaveLength(1);
  });
});
