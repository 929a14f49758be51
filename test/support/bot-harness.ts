import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import type { KevinDeployConfig } from '../../src/config/schema.ts';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { startBot, type RunningBot } from '../../src/app/start-bot.ts';
import { STAND_IN_ACCOUNT, STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { apiCaller } from './api-caller.ts';
import { waitForStage } from './wait-for-stage.ts';
import { capturedLogger } from './captured-logger.ts';
import { newTestSchema, type TestSchema } from './postgres-schema.ts';
import type { Clock } from '../../src/ports/clock.ts';

/** Tokens of the test actors (see testConfigYaml): who may do what is part of several tests. */
export const TOKENS = {
  ops: 'tok-ops-0123456789',
  alice: 'tok-alice-0123456789',
  bob: 'tok-bob-0123456789',
  viewer: 'tok-viewer-0123456789',
} as const;

export const TOKEN_ENV = {
  KD_TOKEN_OPS: TOKENS.ops,
  KD_TOKEN_ALICE: TOKENS.alice,
  KD_TOKEN_BOB: TOKENS.bob,
  KD_TOKEN_VIEWER: TOKENS.viewer,
};

export interface TestConfigOptions {
  productionUrl: string;
  stagingUrl?: string;
  approvalMode?: 'manual' | 'auto';
  healthAttempts?: number;
  monitorWindow?: string;
  approvalExpiresAfter?: string;
  reach?: string;
  extraServiceYaml?: string;
  /** Top-level YAML added to the file (e.g. a `slack:` section). */
  extraTopYaml?: string;
  /** YAML lines under `monitor:` (default `metrics: { source: none }`: no metric triggers). */
  monitorExtraYaml?: string;
}

/**
 * A configuration with fast timings (tens of milliseconds instead of the seed's seconds) and four
 * actors: ops (admin), alice (deployer), bob (approver), viewer (no roles beyond reading).
 */
export function testConfigYaml(o: TestConfigOptions): string {
  return `
version: 1
${o.extraTopYaml ?? ''}
apiTokens:
  - { env: KD_TOKEN_OPS, actor: ops, roles: [admin] }
  - { env: KD_TOKEN_ALICE, actor: alice, roles: [deployer] }
  - { env: KD_TOKEN_BOB, actor: bob, roles: [approver] }
  - { env: KD_TOKEN_VIEWER, actor: viewer, roles: [deployer] }
services:
  kevinstamp:
    platform:
      type: cloudflare-workers
      accountId: ${STAND_IN_ACCOUNT}
      scriptName: ${STAND_IN_SCRIPT}
      ${o.reach ?? 'reach: { mode: version-override }'}
    productionUrl: ${o.productionUrl}
    health:
      attempts: ${o.healthAttempts ?? 3}
      interval: 30ms
      timeout: 2s
    monitor:
      window: ${o.monitorWindow ?? '400ms'}
      interval: 40ms
      ${o.monitorExtraYaml ?? 'metrics: { source: none }'}
    rollback:
      verifyAttempts: 3
      verifyInterval: 30ms
    switch:
      attempts: 4
      backoff: 20ms
    approval:
      mode: ${o.approvalMode ?? 'manual'}
      approvers: [role:approver]
      expiresAfter: ${o.approvalExpiresAfter ?? '1h'}
    access:
      deploy: [alice, ops]
    environments:
      production: {}
${o.extraServiceYaml ?? ''}`;
}

export function testConfig(o: TestConfigOptions): KevinDeployConfig {
  const result = loadConfig({ path: 'test.yml', text: testConfigYaml(o), env: TOKEN_ENV });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.config;
}

export interface Harness {
  standIn: CloudflareStandIn;
  bot: RunningBot;
  logs: string[];
  v1: string;
  dir: string;
  /** The Postgres schema the store lives in (dialect: 'postgres'). */
  schema: TestSchema | undefined;
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T; type: string }>;
  /** Uploads a version like CI would. */
  upload(tag: string, behavior?: Parameters<CloudflareStandIn['addVersion']>[1]['behavior']): string;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  close(): Promise<void>;
}

/**
 * A real bot (HTTP server, runner, store) against a Cloudflare stand-in, in this process. The store
 * is SQLite in a temp dir, or with `dialect: 'postgres'` a Postgres schema of its own, dropped at close.
 */
export async function startHarness(
  options: Partial<TestConfigOptions> & {
    databaseUrl?: string;
    dialect?: 'sqlite' | 'postgres';
    env?: Record<string, string>;
    clock?: Clock;
    /** Alert channels without an account deliver to local sinks (the console's Outbox), as in the sandbox. */
    localAlertSinks?: boolean;
  } = {},
): Promise<Harness> {
  const standIn = await startTestStandIn();
  const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-test-'));
  const { logger, logs } = capturedLogger();
  const config = testConfig({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT), ...options });
  const schema = options.dialect === 'postgres' ? newTestSchema() : undefined;
  const bot = await startBot({
    config,
    env: {
      ...TOKEN_ENV,
      DATABASE_URL: options.databaseUrl ?? schema?.url ?? `sqlite:${join(dir, 'kevin-deploy.db')}`,
      CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN,
      CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
      ...options.env,
    },
    port: 0,
    host: '127.0.0.1',
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.localAlertSinks ? { localAlertSinks: true } : {}),
    runner: { scanIntervalMs: 50, errorBackoffMs: 100, schemaCheckIntervalMs: 200 },
  }).catch(async (error: unknown) => {
    // A bot that did not start leaves nothing behind either.
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
    await schema?.drop();
    throw error;
  });

  const api: Harness['api'] = apiCaller(() => bot.url, TOKENS.ops);

  return {
    standIn,
    bot,
    logs,
    v1,
    dir,
    schema,
    api,
    upload: (tag, behavior) => standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
    waitForStage: (id, stages, timeoutMs) => waitForStage(api, id, stages, timeoutMs),
    async close() {
      await bot.close();
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}
