import type { KevinDeployConfig } from '../config/schema.ts';
import { createLogger } from '../logger.ts';
import { startBot } from '../server/start-bot.ts';
import { stopOnSignals } from '../cli/serve-command.ts';
import { startCloudflareStandIn } from './cloudflare-stand-in.ts';
import { sandboxConfig, SANDBOX_ACCOUNT_ID, SANDBOX_SCRIPT } from './sandbox-config.ts';
import { randomBytes } from 'node:crypto';

export interface SandboxServeOptions {
  port?: number | undefined;
  config?: KevinDeployConfig | undefined;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
}

/** `serve --sandbox`: the bot against a local Cloudflare stand-in with a sample KEVINSTAMP site. */
export async function serveSandbox(options: SandboxServeOptions): Promise<void> {
  const cloudflareToken = randomBytes(16).toString('hex');
  const standIn = await startCloudflareStandIn({ apiToken: cloudflareToken, accountId: SANDBOX_ACCOUNT_ID, scripts: [SANDBOX_SCRIPT] });
  const v1 = standIn.addVersion(SANDBOX_SCRIPT, { tag: 'v1', message: 'first KEVIN release' });
  standIn.deploy(SANDBOX_SCRIPT, { [v1.id]: 100 });
  const config = options.config ?? sandboxConfig({ productionUrl: standIn.trafficUrl(SANDBOX_SCRIPT) });
  const env: NodeJS.ProcessEnv = { ...options.env, CLOUDFLARE_API_TOKEN: cloudflareToken, CLOUDFLARE_BASE_URL: standIn.apiBaseUrl };
  const logger = createLogger({ level: env.LOG_LEVEL, secrets: [cloudflareToken, env.KEVIN_DEPLOY_API_TOKEN] });
  const bot = await startBot({ config, env, port: options.port ?? 3000, logger });
  options.out(`kevin-deploy sandbox: bot at ${bot.url}, KEVINSTAMP at ${standIn.trafficUrl(SANDBOX_SCRIPT)}`);
  stopOnSignals(async () => {
    await bot.close();
    await standIn.close();
  });
}
