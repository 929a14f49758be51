import { join } from 'node:path';
import pino from 'pino';
import { startBot, type RunningBot } from '../src/app/start-bot.ts';
import { loadConfig } from '../src/config/load-config.ts';
import type { KevinDeployConfig } from '../src/config/schema.ts';

/** The API token every bench's config names (`apiTokens: [{ env: BENCH_TOKEN, … }]`). */
export const BENCH_API_TOKEN = 'bench-api-token';

/** A bench's kevin-deploy.yml text, checked as the bot would check it; a mistake throws with each problem. */
export function benchConfig(name: string, text: string): KevinDeployConfig {
  const loaded = loadConfig({ path: `${name}.yml`, text, env: {} });
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return loaded.config;
}

/**
 * The real bot, in this process, on an ephemeral port, with its SQLite store in `dir` and the
 * Cloudflare stand-in as its Cloudflare; silent unless BENCH_LOG names a level.
 */
export function startBenchBot(options: { config: KevinDeployConfig; dir: string; cloudflare: { apiToken: string; baseUrl: string } }): Promise<RunningBot> {
  return startBot({
    config: options.config,
    env: {
      BENCH_TOKEN: BENCH_API_TOKEN,
      DATABASE_URL: `sqlite:${join(options.dir, 'bench.db')}`,
      CLOUDFLARE_API_TOKEN: options.cloudflare.apiToken,
      CLOUDFLARE_BASE_URL: options.cloudflare.baseUrl,
    },
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }),
  });
}
