import type { MetricSample } from '../../src/domain/metric-triggers.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'vitest';
import type { DeploymentView, EventView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { CloudflareStandIn, StandInOptions } from '../../sandbox/cloudflare-stand-in.ts';
import { TOKEN_ENV, TOKENS, testConfigYaml, type TestConfigOptions } from './bot-harness.ts';
import { runCli, startBotProcess, type BotProcess } from './bot-process.ts';
import { STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { showDeployment, waitForProcessStage } from './process-deployments.ts';
import { apiCaller } from './api-caller.ts';

/**
 * End-to-end fixtures: the Cloudflare stand-in runs in the test process, and the real
 * `kevin-deploy serve` (the compiled dist/, through bin/kevin-deploy.js) runs in a child process
 * that reaches the stand-in over HTTP — exactly as an operator would run it. Nothing of the bot
 * is mocked: state lives in a SQLite file in a temp dir, so the process can be SIGKILLed and
 * started again on the same database.
 */

export interface E2eOptions extends Partial<TestConfigOptions> {
  /** Edits the generated YAML (e.g. a slower monitor interval) before it is written. */
  editYaml?: (yaml: string) => string;
  /** Extra or overriding environment variables of `serve`. */
  env?: Record<string, string>;
  standIn?: Partial<StandInOptions>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface E2eBot {
  standIn: CloudflareStandIn;
  /** Blue: the version live before each test (tag v1, 100 %). */
  v1: string;
  dir: string;
  configPath: string;
  bot: BotProcess;
  /** The environment `serve` runs with. */
  env: Record<string, string>;
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T; type: string }>;
  /** Uploads a version like CI would (`wrangler versions upload --tag`). */
  upload(tag: string, behavior?: Parameters<CloudflareStandIn['addVersion']>[1]['behavior']): string;
  /** POST /api/v1/deployments for kevinstamp/production as alice, expecting 201. */
  deploy(version: string, extra?: Record<string, unknown>, token?: string): Promise<DeploymentView>;
  approve(id: string, token?: string): Promise<DeploymentView>;
  /** The single-deployment view, with its events. */
  show(id: string): Promise<DeploymentView>;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  /** Runs the CLI against this bot, as the given token (null: no token at all). */
  cli(args: string[], options?: { token?: string | null; env?: Record<string, string> }): Promise<CliResult>;
  /** The bot's output so far, for failure messages. */
  tail(lines?: number): string;
  close(): Promise<void>;
}

export async function startE2e(options: E2eOptions = {}): Promise<E2eBot> {
  const standIn = await startTestStandIn(options.standIn);
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-e2e-'));
  let bot: BotProcess | undefined;
  try {
    const cfToken = options.standIn?.apiToken ?? STAND_IN_TOKEN;
    const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
    standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });

    const { editYaml, env: extraEnv, standIn: _standInOptions, ...configOptions } = options;
    const yaml = testConfigYaml({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT), ...configOptions });
    const configPath = join(dir, 'kevin-deploy.yml');
    writeFileSync(configPath, editYaml ? editYaml(yaml) : yaml);

    const env: Record<string, string> = {
      ...TOKEN_ENV,
      DATABASE_URL: `sqlite:${join(dir, 'kd.db')}`,
      CLOUDFLARE_API_TOKEN: cfToken,
      CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
      ...extraEnv,
    };
    bot = await startBotProcess({ args: ['serve', '--config', configPath], env, readyTimeoutMs: 60_000 });
    const running = bot;

    const api: E2eBot['api'] = apiCaller(() => running.url, TOKENS.ops);

    const tail = (lines = 30) => running.output.slice(-lines).join('\n');

    const e2e: E2eBot = {
      standIn,
      v1,
      dir,
      configPath,
      bot: running,
      env,
      api,
      tail,
      upload: (tag, behavior) =>
        standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
      async deploy(version, extra = {}, token = TOKENS.alice) {
        const created = await api<DeploymentView>(
          'POST',
          '/api/v1/deployments',
          { service: 'kevinstamp', environment: 'production', version, ...extra },
          token,
        );
        if (created.status !== 201) throw new Error(`deploy ${version} answered ${created.status}: ${JSON.stringify(created.body)}`);
        return created.body;
      },
      async approve(id, token = TOKENS.bob) {
        const approved = await api<DeploymentView>('POST', `/api/v1/deployments/${id}/approve`, {}, token);
        if (approved.status !== 200) throw new Error(`approve ${id} answered ${approved.status}: ${JSON.stringify(approved.body)}`);
        return approved.body;
      },
      show: (id) => showDeployment(api, id),
      waitForStage: (id, stages, timeoutMs = 45_000) => waitForProcessStage(api, id, stages, timeoutMs, () => tail()),
      cli(args, cliOptions = {}) {
        const token = cliOptions.token === undefined ? TOKENS.alice : cliOptions.token;
        return runCli(args, {
          KEVIN_DEPLOY_URL: running.url,
          ...(token !== null ? { KEVIN_DEPLOY_API_TOKEN: token } : {}),
          ...cliOptions.env,
        });
      },
      async close() {
        await closeAll(running, standIn, dir);
      },
    };
    return e2e;
  } catch (error) {
    await closeAll(bot, standIn, dir);
    throw error;
  }
}

async function closeAll(bot: BotProcess | undefined, standIn: CloudflareStandIn, dir: string): Promise<void> {
  // SIGKILL: cleanup must not wait for a graceful drain (tests of the drain stop the bot themselves).
  if (bot) await bot.stop('SIGKILL').catch(() => undefined);
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
}

export interface StoredDeployment {
  stage: Stage;
  split: Record<string, number>;
  progress: Record<string, unknown>;
  wakeAt: string | null;
  revision: number;
}

/**
 * What the database holds for a deployment, read straight from the SQLite file — only while no
 * bot process runs (between a SIGKILL and the restart), to prove where the crash really hit.
 */
export function readStoredDeployment(e: Pick<E2eBot, 'dir'>, id: string): StoredDeployment {
  const db = new BetterSqlite3(join(e.dir, 'kd.db'));
  try {
    const row = db
      .prepare('SELECT stage, split_json, progress_json, wake_at, revision FROM deployments WHERE id = ?')
      .get(id) as { stage: Stage; split_json: string; progress_json: string; wake_at: string | null; revision: number } | undefined;
    if (!row) throw new Error(`no deployment ${id} in the database`);
    return {
      stage: row.stage,
      split: JSON.parse(row.split_json) as Record<string, number>,
      progress: JSON.parse(row.progress_json) as Record<string, unknown>,
      wakeAt: row.wake_at,
      revision: row.revision,
    };
  } finally {
    db.close();
  }
}

/** The metric samples recorded for a deployment, oldest first, read straight from the database file. */
export function readStoredMetricSamples(e: Pick<E2eBot, 'dir'>, id: string): MetricSample[] {
  const db = new BetterSqlite3(join(e.dir, 'kd.db'));
  try {
    const rows = db.prepare('SELECT sample_json FROM metric_samples WHERE deployment_id = ? ORDER BY id').all(id) as Array<{ sample_json: string }>;
    return rows.map((r) => JSON.parse(r.sample_json) as MetricSample);
  } finally {
    db.close();
  }
}

/** Events that change the stage (or create the deployment), in order. */
export function stageChanges(events: readonly EventView[]): EventView[] {
  return events.filter((e) => e.from === null || e.from !== e.to);
}

/**
 * The audit trail is complete: it starts with the request (or its queueing), every stage change follows on from
 * the one before (each `from` is the previous `to` — no gap, nothing recorded twice), the stages
 * are exactly `expected`, and it ends in the deployment's final stage.
 */
export function expectCompleteAuditTrail(view: DeploymentView, expected: Stage[]): void {
  const events = view.events ?? [];
  expect(events.length, 'the deployment has events').toBeGreaterThan(0);
  // A request starts the trail; a queued one says so.
  expect(['requested', 'queued']).toContain(events[0]!.action);
  expect(events[0]!.from).toBeNull();
  const changes = stageChanges(events);
  for (let i = 1; i < changes.length; i++) {
    const previous = changes[i - 1]!;
    const current = changes[i]!;
    expect(current.from, `event ${i} (${current.action} ${current.from} → ${current.to}) follows ${previous.to}`).toBe(previous.to);
  }
  // Events that only record progress stay in the stage they were recorded in.
  let stage: string | null = null;
  for (const e of events) {
    if (e.from !== null && e.from === e.to) expect(e.from, `${e.action} recorded in ${stage}`).toBe(stage);
    else stage = e.to;
  }
  expect(changes.map((e) => e.to)).toEqual(expected);
  expect(changes.at(-1)!.to).toBe(view.stage);
  // Times never go backwards.
  const times = events.map((e) => Date.parse(e.at));
  expect([...times].sort((a, b) => a - b)).toEqual(times);
}

export const HAPPY_PATH: Stage[] = ['resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded'];
export const ROLLED_BACK_PATH: Stage[] = [
  'resolving',
  'staging',
  'verifying',
  'awaiting_approval',
  'switching',
  'monitoring',
  'rolling_back',
  'rolled_back',
];
