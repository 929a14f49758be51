import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import type { DeploymentView, EventView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import { startTrafficCollector, type TrafficCollector } from '../../sandbox/traffic-collector.ts';
import { startBot } from '../../src/app/start-bot.ts';
import { apiCaller } from './api-caller.ts';
import { testConfigYaml, TOKEN_ENV, TOKENS, type Harness, type TestConfigOptions } from './bot-harness.ts';
import { STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { waitFor } from './wait-for.ts';
import { waitForStage } from './wait-for-stage.ts';
import { capturedLogger } from './captured-logger.ts';

/**
 * Metric-driven monitoring needs what the plain harness does not give: a monitoring interval of
 * the test's choosing (the harness writes 40 ms, which YAML will not let `monitorExtraYaml`
 * override) and real traffic through the edge so each version's `/metrics` counts real requests.
 * Everything else is the plain harness: a real bot in this process against the Cloudflare stand-in.
 */

export interface MetricYamlOptions {
  source?: 'app-json' | 'none';
  minRequests?: number;
  onInconclusive?: 'pause' | 'extend' | 'rollback';
  mode?: 'enforce' | 'shadow';
  errorRate?: { thresholdPercent: number; sustainedFor: string };
  responseTime?: { thresholdMs: number; sustainedFor: string };
  /** false turns the KEVIN content trigger off (the checks still run and still show). */
  contentTrigger?: boolean;
}

/** The YAML lines under `monitor:` for a metric-driven target (each line after the first indented to match). */
export function metricMonitorYaml(o: MetricYamlOptions = {}): string {
  const errorRate = o.errorRate ?? { thresholdPercent: 5, sustainedFor: '500ms' };
  const responseTime = o.responseTime ?? { thresholdMs: 2000, sustainedFor: '500ms' };
  const lines = [
    o.source === 'none' ? 'metrics: { source: none }' : 'metrics: { source: app-json, path: /metrics }',
    `mode: ${o.mode ?? 'enforce'}`,
    `minRequests: ${o.minRequests ?? 3}`,
    `onInconclusive: ${o.onInconclusive ?? 'pause'}`,
    'triggers:',
    `  errorRate: { thresholdPercent: ${errorRate.thresholdPercent}, sustainedFor: ${errorRate.sustainedFor} }`,
    `  responseTime: { thresholdMs: ${responseTime.thresholdMs}, sustainedFor: ${responseTime.sustainedFor} }`,
    `  content: { enabled: ${o.contentTrigger ?? true} }`,
  ];
  return lines.join('\n      ');
}

export interface MetricHarnessOptions extends Partial<TestConfigOptions> {
  /** The monitoring interval (default 100ms). */
  monitorInterval?: string;
  /** Edits the generated YAML before it is loaded. */
  editYaml?: (yaml: string) => string;
  env?: Record<string, string>;
}

export interface MetricHarness extends Harness {
  /** POST /api/v1/deployments for kevinstamp/production as alice; the answer as it came. */
  deploy(version: string, extra?: Record<string, unknown>): Promise<{ status: number; body: DeploymentView }>;
  /** POST …/:action as the given token (default bob, an approver); the answer as it came. */
  act(id: string, action: 'approve' | 'promote' | 'rollback' | 'reject' | 'cancel', body?: Record<string, unknown>, token?: string): Promise<{ status: number; body: any }>;
  /** GET /api/v1/deployments/:id (with events). */
  show(id: string): Promise<DeploymentView>;
  /** Deploys `version`, waits for approval, approves as bob; returns the deployment id. */
  release(version: string): Promise<string>;
  /** Polls the view until `condition` holds; returns the view that satisfied it. */
  waitForView(id: string, condition: (view: DeploymentView) => boolean, what: string, timeoutMs?: number): Promise<DeploymentView>;
  /** Starts steady GETs through the edge (stopped by close()). */
  startTraffic(ratePerSecond?: number): TrafficCollector;
}

export async function startMetricHarness(options: MetricHarnessOptions = {}): Promise<MetricHarness> {
  const standIn = await startTestStandIn();
  const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-metrics-test-'));
  const collectors: TrafficCollector[] = [];
  const { logger, logs } = capturedLogger();

  const { monitorInterval, editYaml, env: extraEnv, ...configOptions } = options;
  let yaml = testConfigYaml({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT), ...configOptions });
  yaml = yaml.replace(/^ {6}interval: 40ms$/m, `      interval: ${monitorInterval ?? '100ms'}`);
  if (editYaml) yaml = editYaml(yaml);
  const loaded = loadConfig({ path: 'metric-test.yml', text: yaml, env: TOKEN_ENV });
  if (!loaded.ok) {
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}\n${yaml}`);
  }

  const bot = await startBot({
    config: loaded.config,
    env: {
      ...TOKEN_ENV,
      DATABASE_URL: `sqlite:${join(dir, 'kevin-deploy.db')}`,
      CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN,
      CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
      ...extraEnv,
    },
    port: 0,
    host: '127.0.0.1',
    logger,
    runner: { scanIntervalMs: 50, errorBackoffMs: 100 },
  });
  const api: Harness['api'] = apiCaller(() => bot.url, TOKENS.ops);

  const harness: MetricHarness = {
    standIn,
    schema: undefined,
    bot,
    logs,
    v1,
    dir,
    api,
    upload: (tag, behavior) => standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
    waitForStage: (id, stages, timeoutMs = 30_000) => waitForStage(api, id, stages, timeoutMs),
    deploy: (version, extra = {}) =>
      api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version, ...extra }, TOKENS.alice),
    act: (id, action, body = {}, token = TOKENS.bob) => api('POST', `/api/v1/deployments/${id}/${action}`, body, token),
    async show(id) {
      const shown = await api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
      if (shown.status !== 200) throw new Error(`GET ${id} answered ${shown.status}: ${JSON.stringify(shown.body)}`);
      return shown.body;
    },
    async release(version) {
      const created = await harness.deploy(version);
      if (created.status !== 201) throw new Error(`deploy ${version} answered ${created.status}: ${JSON.stringify(created.body)}`);
      await harness.waitForStage(created.body.id, 'awaiting_approval');
      const approved = await harness.act(created.body.id, 'approve');
      if (approved.status !== 200) throw new Error(`approve answered ${approved.status}: ${JSON.stringify(approved.body)}`);
      return created.body.id;
    },
    async waitForView(id, condition, what, timeoutMs = 30_000) {
      let last: DeploymentView | undefined;
      await waitFor(
        async () => {
          last = await harness.show(id);
          return condition(last);
        },
        { timeoutMs, intervalMs: 20, describe: () => `${id}: ${what}; it is ${last?.stage}: ${last?.reason}` },
      );
      return last!;
    },
    startTraffic(ratePerSecond = 20) {
      const collector = startTrafficCollector({ url: standIn.trafficUrl(STAND_IN_SCRIPT), ratePerSecond });
      collectors.push(collector);
      return collector;
    },
    async close() {
      await Promise.all(collectors.map((c) => c.stop()));
      await bot.close();
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The events of one action, oldest first. */
export function eventsOf(view: DeploymentView, action: string): EventView[] {
  return (view.events ?? []).filter((e) => e.action === action);
}

/** Stages the deployment went through, in order (from its stage-changing events). */
export function stagePath(view: DeploymentView): Stage[] {
  return (view.events ?? []).filter((e) => e.from === null || e.from !== e.to).map((e) => e.to as Stage);
}
