import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot } from '../../src/app/start-bot.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { apiCaller } from './api-caller.ts';
import { TOKEN_ENV, TOKENS, testConfigYaml, type Harness, type TestConfigOptions } from './bot-harness.ts';
import { capturedLogger } from './captured-logger.ts';
import { GREEN_SCRIPT, startRoutesStandIn, toRoutesYaml, type RoutesStandInOptions } from './routes-fixtures.ts';
import { STAND_IN_TOKEN } from './stand-in-helpers.ts';
import { waitForStage } from './wait-for-stage.ts';

/**
 * A real bot (HTTP server, runner, SQLite store) in this process against the stand-in, with
 * kevinstamp/production on the routes platform: blue and green as two Workers, the zone's routes
 * on blue. `upload` uploads to green's Worker, as CI would for the next release.
 */
export async function startRoutesHarness(options: Partial<TestConfigOptions> & RoutesStandInOptions = {}): Promise<Harness> {
  const { standIn, v1 } = await startRoutesStandIn(options);
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-routes-'));
  const { logger, logs } = capturedLogger();
  const yaml = toRoutesYaml(testConfigYaml({ productionUrl: 'https://placeholder.invalid', ...options }), standIn, options);
  const loaded = loadConfig({ path: 'test.yml', text: yaml, env: TOKEN_ENV });
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const bot = await startBot({
    config: loaded.config,
    env: { ...TOKEN_ENV, DATABASE_URL: `sqlite:${join(dir, 'kevin-deploy.db')}`, CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN, CLOUDFLARE_BASE_URL: standIn.apiBaseUrl },
    port: 0,
    host: '127.0.0.1',
    logger,
    runner: { scanIntervalMs: 50, errorBackoffMs: 100, schemaCheckIntervalMs: 200 },
  }).catch(async (error: unknown) => {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const api = apiCaller(() => bot.url, TOKENS.ops);
  return {
    standIn,
    bot,
    logs,
    v1,
    dir,
    schema: undefined,
    api,
    upload: (tag, behavior) => standIn.addVersion(GREEN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
    waitForStage: (id, stages, timeoutMs) => waitForStage(api, id, stages, timeoutMs),
    async close() {
      await bot.close();
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
