import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../src/cli/api-client.ts';
import { stageInWords } from '../src/domain/stage-words.ts';
import type { DeploymentView } from '../src/domain/deployment-view.ts';
import type { AlertChannelName } from '../src/domain/alert.ts';
import type { StoredAlert } from '../src/ports/alert-outbox.ts';
import type { Stage } from '../src/domain/stages.ts';
import { readEdgeInfo } from './edge-info.ts';
import { freePort } from './free-port.ts';
import { SandboxEdgeClient } from './sandbox-edge-client.ts';

const BIN = fileURLToPath(new URL('../../bin/kevin-deploy.js', import.meta.url));
const STEP_TIMEOUT_MS = 60_000;

class DemoFailure extends Error {}

/**
 * `npm run demo`: starts a fresh sandbox exactly as `npm start` does (in a temp directory, on
 * free ports, with the fast timing profile) and tells a story through the real API, checking each
 * step: a good release succeeds, a release that breaks once it gets traffic is rolled back by
 * itself, then a person rolls back by hand. Prints a timeline; exits 1 if anything did not happen.
 * It ends by saying where to look in a sandbox of one's own: the console, its Outbox (every alert
 * as each channel would show it — the demo checks the rollback's reached the local sinks) and the
 * public status page.
 */
export async function runDemo(io: { out: (text: string) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  const started = Date.now();
  const say = (text: string) => io.out(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}`);
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-demo-'));
  const [botPort, apiPort, edgePort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: io.env.PATH,
    HOME: io.env.HOME,
    DATABASE_URL: `sqlite:${join(dir, 'kevin-deploy.db')}`,
    PORT: String(botPort),
    KEVIN_DEPLOY_SANDBOX_API_PORT: String(apiPort),
    KEVIN_DEPLOY_SANDBOX_EDGE_PORT: String(edgePort),
    KEVIN_DEPLOY_SANDBOX_PROFILE: 'fast',
    KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS: '10',
    LOG_LEVEL: 'warn',
  };
  say(`starting a fresh sandbox in ${dir} (bot :${botPort}, edge :${edgePort})`);
  const bot = spawn(process.execPath, [BIN, 'serve', '--sandbox'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  bot.stdout.on('data', (c: Buffer) => output.push(c.toString()));
  bot.stderr.on('data', (c: Buffer) => output.push(c.toString()));
  try {
    const url = `http://127.0.0.1:${botPort}`;
    await until('the bot to become ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200);
    const api = new ApiClient({ baseUrl: url, token: readFileSync(join(dir, 'sandbox-api-token'), 'utf8').trim() });
    const edge = readEdgeInfo(join(dir, 'sandbox-edge.json'));
    if (!edge) throw new DemoFailure('the sandbox edge did not describe itself');
    const cf = new SandboxEdgeClient(edge);
    const servedBy = async () => (await fetch(edge.trafficUrl)).headers.get('x-kevin-version');
    say(`ready: KEVINSTAMP v1 is live at ${edge.trafficUrl}, served by ${short(await servedBy())}`);

    // 1. A good release.
    const v2 = await cf.upload({ tag: 'v2', message: 'a friendlier KEVIN gallery' });
    say(`CI uploaded v2 (${short(v2.id)})`);
    const good = await release(api, 'v2', say);
    await expectStage(api, good.id, 'succeeded', say);
    await expectServedBy(servedBy, v2.id, 'v2');
    say(`✓ v2 succeeded and serves all traffic`);

    // 2. A release that breaks only once it gets traffic.
    const v3 = await cf.upload({ tag: 'v3', message: 'looks fine until users arrive', behavior: 'fails-after-traffic' });
    say(`CI uploaded v3 (${short(v3.id)}), which fails once it gets traffic`);
    const bad = await release(api, 'v3', say);
    const rolledBack = await expectStage(api, bad.id, 'rolled_back', say);
    if (!/trigger/.test(rolledBack.reason)) throw new DemoFailure(`v3 was rolled back, but not by a trigger: ${rolledBack.reason}`);
    await expectServedBy(servedBy, v2.id, 'v2');
    say(`✓ v3 was rolled back automatically: ${rolledBack.reason}`);
    const sinks = await expectLocalAlerts(api, bad.id);
    say(`✓ its alert "${sinks.title}" went to the local sinks of Slack, email and PagerDuty (no account needed)`);

    // 3. A person rolls back the live release by hand.
    const manual = await api.post<DeploymentView>('/rollbacks', { service: 'kevinstamp', environment: 'production', note: 'demo: back to v1' });
    say(`a person asked for a rollback (${manual.id})`);
    const back = await expectStage(api, manual.id, 'rolled_back', say);
    const v1 = back.version?.id ?? '';
    await expectServedBy(servedBy, v1, 'v1');
    say(`✓ manual rollback done: v1 (${short(v1)}) serves all traffic again`);

    const traffic = (await cf.trafficStats()) as { sent?: number; failed?: number } | undefined;
    if (traffic) {
      const why = traffic.failed ? ` — v3's, before its rollback` : '';
      say(`synthetic traffic during the demo: ${traffic.sent} requests, ${traffic.failed} failed${why}`);
    }
    // The pages the ending points to are served (the console asks to sign in first; that is fine).
    for (const path of ['/console/outbox', '/status']) {
      const status = (await fetch(`${url}${path}`).catch(() => undefined))?.status;
      if (status !== 200) throw new DemoFailure(`${path} answered ${status ?? 'nothing'}, expected a page`);
    }
    say('the demo went as scripted');
    io.out(whereToLook(io.env));
    return 0;
  } catch (error) {
    say(`✗ ${error instanceof Error ? error.message : String(error)}`);
    io.out(`last output of the sandbox:\n${output.join('').split('\n').slice(-15).join('\n')}`);
    return 1;
  } finally {
    if (bot.exitCode === null) {
      const exited = once(bot, 'exit');
      bot.kill('SIGTERM');
      const giveUp = new AbortController();
      await Promise.race([exited, sleep(10_000, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
      giveUp.abort();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function release(api: ApiClient, tag: string, say: (text: string) => void): Promise<DeploymentView> {
  const d = await api.post<DeploymentView>('/deployments', { service: 'kevinstamp', environment: 'production', version: tag, note: 'demo' });
  say(`deploy ${tag} requested (${d.id}): ${d.reason}`);
  await expectStage(api, d.id, 'awaiting_approval', say);
  await api.post(`/deployments/${d.id}/approve`, {});
  say(`approved ${d.id}`);
  return d;
}

async function expectStage(api: ApiClient, id: string, stage: Stage, say: (text: string) => void): Promise<DeploymentView> {
  let seen = '';
  let last: DeploymentView | undefined;
  await until(`${id} to reach ${stage.replace(/_/g, ' ')}`, async () => {
    last = await api.get<DeploymentView>(`/deployments/${id}`);
    if (last.stage !== seen) {
      seen = last.stage;
      say(`  ${id} ${last.stage}: ${last.reason}`);
    }
    if (last.stage !== stage && (last.stage === 'failed' || last.stage === 'needs_attention' || last.stage === 'rolled_back' || last.stage === 'succeeded')) {
      throw new DemoFailure(`${id} ${stageInWords(last.stage)} (expected: ${stageInWords(stage)}): ${last.reason}`);
    }
    return last.stage === stage;
  });
  return last!;
}

/** Waits until the release's critical alert is delivered locally to Slack, email and PagerDuty (the sandbox has no accounts). */
async function expectLocalAlerts(api: ApiClient, deploymentId: string): Promise<{ title: string }> {
  const wanted: AlertChannelName[] = ['slack', 'email', 'pagerduty'];
  let found: StoredAlert | undefined;
  await until(`the alerts of ${deploymentId} to be delivered to local sinks`, async () => {
    const { alerts } = await api.get<{ alerts: StoredAlert[] }>('/alerts', { deployment: deploymentId });
    found = alerts.find((a) => a.kind === 'rolled-back');
    const delivery = (channel: AlertChannelName) => found?.deliveries.find((d) => d.channel === channel);
    const refused = found?.deliveries.find((d) => wanted.includes(d.channel) && (d.status === 'failed' || d.status === 'skipped'));
    if (refused) throw new DemoFailure(`the rollback's alert was ${refused.status} on ${refused.channel}: ${refused.lastError ?? 'no reason given'}`);
    return wanted.every((c) => delivery(c)?.status === 'delivered' && delivery(c)?.ref?.startsWith('local:'));
  });
  return { title: found!.title };
}

/** The demo's sandbox is gone by now: these are the addresses of `npm start`'s. */
function whereToLook(env: NodeJS.ProcessEnv): string {
  const url = `http://127.0.0.1:${env.PORT || 3000}`;
  return [
    '',
    'Where to look — run `npm start` (a sandbox that stays up) and open:',
    `  ${url}/console          the console: releases, approvals, locks (sign in with the API token in ./data/sandbox-api-token)`,
    `  ${url}/console/outbox   every alert as Slack, PagerDuty, email and Discord would show it`,
    `  ${url}/status           the public status page the KEVIN community sees`,
    '',
  ].join('\n');
}

async function expectServedBy(servedBy: () => Promise<string | null>, versionId: string, tag: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const got = await servedBy();
    if (got !== versionId) throw new DemoFailure(`the edge answered with ${short(got)}, expected ${tag} (${short(versionId)})`);
  }
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new DemoFailure(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function short(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : 'nobody';
}

