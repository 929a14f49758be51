import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, TOKENS, type Harness } from '../support/bot-harness.ts';
import { inSchema } from '../support/postgres-schema.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * A rolling upgrade on Postgres: a newer kevin-deploy migrates the store while this version still
 * runs. This replica must notice, stop taking work it may not understand, and say so on /readyz
 * (so a load balancer stops sending it requests) — not go on writing statuses it may corrupt.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a rolling upgrade: the store migrated by a newer version while this one runs', () => {
  it('stops taking work, names the migrations it does not know, and reports not ready', async () => {
    h = await startHarness({ dialect: 'postgres' });
    const harness = h;
    expect((await fetch(`${harness.bot.url}/readyz`)).status).toBe(200);

    await inSchema(harness.schema!, (client) =>
      client.query("INSERT INTO kysely_migration (name, timestamp) VALUES ('0999-from-a-newer-version', '2027-01-01T00:00:00.000Z')"),
    );
    let body: { problems?: string[] } = {};
    await waitFor(
      async () => {
        const ready = await fetch(`${harness.bot.url}/readyz`);
        body = (await ready.json()) as { problems?: string[] };
        return ready.status === 503;
      },
      { timeoutMs: 10_000, describe: () => `readyz to fail: ${JSON.stringify(body)}` },
    );
    expect(body.problems).toEqual([
      'a newer kevin-deploy migrated the store (0999-from-a-newer-version): this replica takes no more work; replace it with the new version',
    ]);
    expect(harness.logs.join('\n')).toContain('0999-from-a-newer-version');

    // A request that still reaches it is admitted as before (the newer replicas will run it), but
    // this replica's runner takes none of its steps: green is never staged.
    harness.upload('v2');
    const created = await harness.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' }, TOKENS.alice);
    expect(created.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const shown = await harness.api<{ stage: string }>('GET', `/api/v1/deployments/${(created.body as { id: string }).id}`);
    expect(shown.body.stage).toBe('staging');
    expect(harness.standIn.effectiveSwitches('kevinstamp').length).toBe(1);
  });
});
