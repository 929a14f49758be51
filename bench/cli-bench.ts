/**
 * npm run bench:cli — how long a person waits for the CLI, against the time Node itself takes.
 *
 * Starts the Cloudflare stand-in and a real bot in this process, then runs, paired and in turn,
 * `node -e 0` (the floor: Node's own start) and each CLI call being measured, as separate
 * processes: `kevin-deploy status` against the running bot (a remote verb: one HTTP request),
 * `--version` and `--help`. Prints the median wall time of each, its ratio to the paired
 * baseline, and the median peak RSS (read by a preload in the child, the baseline included).
 * Asserts nothing.
 *
 * Goal (issue 11): `status` ≤ 2× `node -e 0` wall time and < 60 MB peak.
 *
 * Options: --runs N (default 15; 2 with --smoke), and bench-kit's --smoke and --time-limit.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';
import { BENCH_API_TOKEN, benchConfig, startBenchBot } from './bench-bot.ts';

const { values } = parseArgs({ options: { ...BENCH_OPTIONS, runs: { type: 'string' } } });
const bench = startBench('cli', values);
const RUNS = Number(values.runs ?? (bench.smoke ? '2' : '15'));
const BIN = fileURLToPath(new URL('../../bin/kevin-deploy.js', import.meta.url));
const TOKEN = 'bench-cloudflare-token';
const ACCOUNT = '0123456789abcdef0123456789abcdef';

interface Run {
  ms: number;
  rssMb: number;
  code: number | null;
}

/** Runs `node [--import preload] args…` and reports its wall time, exit code and peak RSS. */
function runNode(preload: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', preload, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      const rss = /kd-bench-max-rss=(\d+)/.exec(stderr)?.[1];
      if (rss === undefined) return reject(new Error(`no RSS reported by ${args.join(' ')} (exit ${code}): ${stderr.slice(0, 300)}`));
      resolve({ ms, rssMb: Number(rss) / 1024, code });
    });
  });
}

const median = (runs: Run[], key: 'ms' | 'rssMb') => percentile(runs.map((r) => r[key]), 50);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-cli-bench-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  // Reports the child's peak RSS (KiB) as it exits; loaded into the baseline too, so both pay it.
  const preload = join(dir, 'report-rss.mjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`kd-bench-max-rss=${process.resourceUsage().maxRSS}\\n`));\n");

  bench.phase('starting the stand-in and the bot');
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts: ['kevinstamp'] });
  const v1 = standIn.addVersion('kevinstamp', { tag: 'v1' });
  standIn.deploy('kevinstamp', { [v1.id]: 100 });
  const text = `
apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]
services:
  kevinstamp:
    platform: { accountId: ${ACCOUNT}, scriptName: kevinstamp }
    productionUrl: ${standIn.trafficUrl('kevinstamp')}
    environments: { production: {} }
`;
  const bot = await startBenchBot({ config: benchConfig('cli-bench', text), dir, cloudflare: { apiToken: TOKEN, baseUrl: standIn.apiBaseUrl } });

  // A clean environment: no sandbox token file nearby, the bot's URL and token given.
  const env = { PATH: process.env.PATH ?? '', HOME: dir, KEVIN_DEPLOY_URL: bot.url, KEVIN_DEPLOY_API_TOKEN: BENCH_API_TOKEN };
  const calls: Array<[label: string, args: string[]]> = [
    ['status (a remote verb: one HTTP request)', [BIN, 'status']],
    ['--version', [BIN, '--version']],
    ['--help', [BIN, '--help']],
  ];
  const baseline: Run[] = [];
  const measured = new Map<string, Run[]>(calls.map(([label]) => [label, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [label, args] of calls) {
      bench.phase(`run ${i + 1} of ${RUNS}: node -e 0, then ${label}`);
      baseline.push(await runNode(preload, ['-e', '0'], env));
      const run = await runNode(preload, args, env);
      if (run.code !== 0) throw new Error(`kevin-deploy ${args.slice(1).join(' ')} exited ${run.code}`);
      measured.get(label)!.push(run);
    }
  }

  const floorMs = median(baseline, 'ms');
  const floorMb = median(baseline, 'rssMb');
  console.log(`kevin-deploy CLI start: median of ${RUNS} runs each, every call paired with a \`node -e 0\` run`);
  console.log(`${'call'.padEnd(44)} ${'wall ms'.padStart(8)} ${'× node'.padStart(7)} ${'peak MB'.padStart(8)}`);
  console.log(`${'node -e 0 (the floor)'.padEnd(44)} ${floorMs.toFixed(0).padStart(8)} ${'1.00'.padStart(7)} ${floorMb.toFixed(1).padStart(8)}`);
  for (const [label, runs] of measured) {
    const ms = median(runs, 'ms');
    console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(8)} ${(ms / floorMs).toFixed(2).padStart(7)} ${median(runs, 'rssMb').toFixed(1).padStart(8)}`);
  }
  const status = measured.get(calls[0]![0])!;
  console.log(
    `status: ${median(status, 'ms').toFixed(0)} ms against node's ${floorMs.toFixed(0)} ms (${(median(status, 'ms') / floorMs).toFixed(2)} ×), peak ${median(status, 'rssMb').toFixed(1)} MB`,
  );
  console.log('goal: status ≤ 2.00 × node -e 0, and < 60 MB peak');

  await bot.close();
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
}

await bench.run(main);
