import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { BehaviorSpec, CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { apiCaller, type ApiCaller } from './api-caller.ts';
import { TOKEN_ENV, TOKENS, testConfigYaml, type TestConfigOptions } from './bot-harness.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { GREEN_SCRIPT, startRoutesStandIn, toRoutesYaml, type RoutesStandInOptions } from './routes-fixtures.ts';
import { STAND_IN_TOKEN } from './stand-in-helpers.ts';
import { showDeployment, waitForProcessStage } from './process-deployments.ts';

/**
 * The route-switched strategy end to end: the stand-in (zone routes on blue) in the test process,
 * the real `kevin-deploy serve` from dist/ in a child process that can be SIGKILLed and started
 * again on the same SQLite file.
 */

export interface RoutesE2e {
  standIn: CloudflareStandIn;
  /** Blue's version, live on every route before each test. */
  v1: string;
  dir: string;
  bot: BotProcess;
  api: ApiCaller;
  /** Uploads to green's Worker, as CI would for the next release. */
  upload(tag: string, behavior?: BehaviorSpec): string;
  deploy(version: string): Promise<DeploymentView>;
  approve(id: string): Promise<void>;
  show(id: string): Promise<DeploymentView>;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  tail(lines?: number): string;
  close(): Promise<void>;
}

export async function startRoutesE2e(options: Partial<TestConfigOptions> & RoutesStandInOptions & { editYaml?: (yaml: string) => string } = {}): Promise<RoutesE2e> {
  const { standIn, v1 } = await startRoutesStandIn(options);
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-routes-e2e-'));
  let bot: BotProcess | undefined;
  try {
    const yaml = toRoutesYaml(testConfigYaml({ productionUrl: 'https://placeholder.invalid', ...options }), standIn, options);
    const configPath = join(dir, 'kevin-deploy.yml');
    writeFileSync(configPath, options.editYaml ? options.editYaml(yaml) : yaml);
    bot = await startBotProcess({
      args: ['serve', '--config', configPath],
      env: { ...TOKEN_ENV, DATABASE_URL: `sqlite:${join(dir, 'kd.db')}`, CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN, CLOUDFLARE_BASE_URL: standIn.apiBaseUrl },
      readyTimeoutMs: 60_000,
    });
    const running = bot;
    const api = apiCaller(() => running.url, TOKENS.ops);
    const tail = (lines = 30) => running.output.slice(-lines).join('\n');
    return {
      standIn,
      v1,
      dir,
      bot: running,
      api,
      tail,
      upload: (tag, behavior) => standIn.addVersion(GREEN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
      async deploy(version) {
        const created = await api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version }, TOKENS.alice);
        if (created.status !== 201) throw new Error(`deploy ${version} answered ${created.status}: ${JSON.stringify(created.body)}`);
        return created.body;
      },
      async approve(id) {
        const approved = await api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob);
        if (approved.status !== 200) throw new Error(`approve ${id} answered ${approved.status}: ${JSON.stringify(approved.body)}`);
      },
      show: (id) => showDeployment(api, id),
      waitForStage: (id, stages, timeoutMs = 45_000) => waitForProcessStage(api, id, stages, timeoutMs, () => tail()),
      async close() {
        await running.stop('SIGKILL').catch(() => undefined);
        await standIn.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await bot?.stop('SIGKILL').catch(() => undefined);
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
