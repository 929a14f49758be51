/**
 * npm run bench:slack — how fast the bot acknowledges Slack, compared with Bolt doing nothing.
 *
 * Sends signed `/deploy status` (answered inside the ack) and then `/deploy help` (answered from
 * the command table alone: the path to the ack without a command's work) slash commands at increasing concurrency to (1) the bot, running
 * for real against a loopback Slack Web API and the Cloudflare stand-in, and (2) a bare Bolt app
 * whose handler only acks; prints the ack latency p50/p99 of both and their ratio. Slack gives an
 * app 3 s to answer. Asserts nothing.
 *
 * Options: --requests N (per concurrency level, default 200; 20 with --smoke), --levels 1,8,32,64
 * (1,8 with --smoke), and bench-kit's --smoke and --time-limit SECONDS. BENCH_TEXT=… sends only that text.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startCloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { freePort } from '../sandbox/free-port.ts';
import { startFakeSlack } from '../test/fakes/slack-web-api.ts';
import { signSlackRequest, slashCommandBody } from '../test/support/slack-requests.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';

const { values } = parseArgs({
  options: { ...BENCH_OPTIONS, requests: { type: 'string' }, levels: { type: 'string' } },
});
const bench = startBench('slack', values);
const REQUESTS = Number(values.requests ?? (bench.smoke ? '20' : '200'));
const LEVELS = (values.levels ?? (bench.smoke ? '1,8' : '1,8,32,64')).split(',').map(Number);
const SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench-token';
const CF_TOKEN = 'bench-cloudflare-token';
const ACCOUNT = '0123456789abcdef0123456789abcdef';

async function measure(url: string, concurrency: number, responseUrl: () => string, text = process.env.BENCH_TEXT ?? 'status'): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next += 1;
      const body = slashCommandBody({ command: '/deploy', text, userId: 'U0BENCH', channelId: 'C0BENCH', teamId: 'T0BENCH', responseUrl: responseUrl() });
      const started = performance.now();
      const response = await fetch(url, { method: 'POST', headers: signSlackRequest(SECRET, body), body });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`ack was HTTP ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

async function main(): Promise<void> {
  bench.phase('starting the fake Slack and the Cloudflare stand-in');
  const slack = await startFakeSlack({ botToken: BOT_TOKEN });
  const standIn = await startCloudflareStandIn({ apiToken: CF_TOKEN, accountId: ACCOUNT, scripts: ['kevinstamp'] });
  const v1 = standIn.addVersion('kevinstamp', { tag: 'v1' });
  standIn.deploy('kevinstamp', { [v1.id]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-bench-slack-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'kevin-deploy.yml');
  writeFileSync(
    configFile,
    `
slack:
  channel: C0BENCH
  roles: { deployer: [U0BENCH] }
services:
  kevinstamp:
    platform: { accountId: ${ACCOUNT}, scriptName: kevinstamp }
    productionUrl: ${standIn.trafficUrl('kevinstamp')}
    environments: { production: {} }
`,
  );
  const [botPort, barePort, sinkPort] = [await freePort(), await freePort(), await freePort()];
  // Each side in its own process, so neither shares an event loop with the load generator.
  const children = [
    await launch(BIN, ['serve', '--config', configFile], {
      PORT: String(botPort),
      LOG_LEVEL: 'warn',
      DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
      CLOUDFLARE_API_TOKEN: CF_TOKEN,
      CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
    }, async () => (await fetch(`http://127.0.0.1:${botPort}/readyz`).catch(() => undefined))?.status === 200),
    await launch(here('bare-bolt-app.js'), [String(barePort), SECRET], {}, undefined),
    await launch(here('response-sink.js'), [String(sinkPort)], {}, undefined),
  ];
  let n = 0;
  const responseUrl = () => `http://127.0.0.1:${sinkPort}/commands/T0BENCH/${++n}/x`;
  const targets = [
    { name: 'kevin-deploy', url: `http://127.0.0.1:${botPort}/slack/events` },
    { name: 'bare Bolt (ack only)', url: `http://127.0.0.1:${barePort}/slack/events` },
  ];
  // Warm both up so the first level does not measure JIT compilation.
  for (const t of targets) {
    bench.phase(`warming up ${t.name}`);
    await measure(t.url, 4, responseUrl);
  }

  // `status` is answered inside the ack (its store reads and rendering are on the ack's clock);
  // `help` is answered from the command table alone, so its row isolates the path to the ack —
  // the signature check, Bolt's dispatch, our middleware — from the work a command does.
  const texts = [process.env.BENCH_TEXT ?? 'status', ...(process.env.BENCH_TEXT ? [] : ['help'])];
  for (const text of texts) {
    console.log(`Slack ack latency: ${REQUESTS} signed "/deploy ${text}" per level, each server in its own process; Slack allows 3000 ms`);
    console.log(`${'concurrency'.padEnd(12)} ${'kevin-deploy p50/p99 ms'.padEnd(26)} ${'bare Bolt p50/p99 ms'.padEnd(24)} ratio p50  ratio p99`);
    for (const level of LEVELS) {
      bench.phase(`sending ${REQUESTS} "/deploy ${text}" at concurrency ${level} to ${targets[0]!.name}`);
      const ours = await measure(targets[0]!.url, level, responseUrl, text);
      bench.phase(`sending ${REQUESTS} "/deploy ${text}" at concurrency ${level} to ${targets[1]!.name}`);
      const baseline = await measure(targets[1]!.url, level, responseUrl, text);
      const [o50, o99, b50, b99] = [percentile(ours, 50), percentile(ours, 99), percentile(baseline, 50), percentile(baseline, 99)];
      console.log(
        `${String(level).padEnd(12)} ${`${o50.toFixed(1)} / ${o99.toFixed(1)}`.padEnd(26)} ${`${b50.toFixed(1)} / ${b99.toFixed(1)}`.padEnd(24)} ${(o50 / b50).toFixed(2).padEnd(10)} ${(o99 / b99).toFixed(2)}`,
      );
    }
  }
  console.log('goal: ratio ≤ 1.2, and p99 far under 3000 ms; `status` pays for answering inside the ack, `help` shows the path alone');

  bench.phase('stopping the child processes, the stand-in and the fake Slack');
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => once(c, 'exit')));
  await standIn.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
}

const BIN = fileURLToPath(new URL('../../bin/kevin-deploy.js', import.meta.url));
function here(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

async function launch(script: string, args: string[], env: Record<string, string>, ready: (() => Promise<boolean>) | undefined): Promise<ChildProcess> {
  const label = [script, ...args].join(' ');
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_OPTIONS ? process.env.BENCH_NODE_OPTIONS.split(' ') : []), script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // A bench that fails or runs out of time must not leave its servers running.
  bench.onAbort(() => child.kill('SIGKILL'));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));
  if (ready) {
    bench.phase(`waiting for ${label} to answer /readyz`);
    for (let i = 0; !(await ready()); i++) {
      if (exited !== undefined) throw new Error(`${label} exited (${exited}) before it was ready`);
      if (i >= 300) throw new Error(`${label} was not ready after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } else {
    bench.phase(`waiting for ${label} to print ready`);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', () => reject(new Error(`${label} exited (${exited}) before it was ready`)));
    });
  }
  child.stdout!.resume();
  return child;
}

await bench.run(main);
