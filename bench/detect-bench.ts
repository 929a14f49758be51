/**
 * npm run bench:detect — how long a release that breaks under traffic keeps serving users before
 * the bot notices, and how long until blue is verified at 100 % again.
 *
 * In the sandbox, in one process: the Cloudflare stand-in (edge and sample site), the real bot
 * (SQLite, runner, HTTP) with the app-json metrics source, and a traffic collector sending steady
 * GETs through the edge. Each run releases a healthy green, and as soon as monitoring has taken
 * its first sample, breaks green at a known instant within the next interval (50 % of page
 * requests answer 500). Measured
 * from that instant, on the bot's committed transitions:
 *
 *   first breach seen  — the first sample whose error-rate evaluation is above the threshold,
 *   detection          — the error-rate trigger fired (→ rolling_back),
 *   blue verified      — blue has 100 % and passed its health checks (→ rolled_back),
 *
 * next to the theoretical bound (the trigger's sustainedFor plus one sample interval: a breach
 * must be seen for sustainedFor, and the first breaching sample can come up to one interval
 * after the break) and the seed script's rollback (≥ 60 s: it slept 60 s before verifying, after
 * however long a person took to notice).
 *
 * Profiles (--profile, comma-separated; default fast, quick with --smoke):
 *   quick  interval 1 s,  errorRate sustainedFor 3 s   — a quick look, ~10 s a run
 *   fast   interval 10 s, errorRate sustainedFor 30 s  — a fast production profile, ~1 min a run
 *   seed   interval 30 s, errorRate sustainedFor 2 m   — the seed defaults; minutes a run, opt-in
 * Options: --runs N (default 1), --rate R (collector requests per second, default 20), --aligned
 * (break right after a sample, the worst case, instead of at a random point of the interval), and
 * bench-kit's --smoke and --time-limit SECONDS (the seed profile with several runs needs more
 * than the default 900 s).
 *
 * The content trigger is off: a 500 from `/` fails the KEVIN content check, which would roll back
 * at the next sample and measure that trigger instead of the error rate. Asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { formatDuration } from '../src/domain/format-duration.ts';
import type { Evaluation } from '../src/domain/metric-triggers.ts';
import { sampleNumberOf } from '../src/domain/monitor-evaluation.ts';
import { startCloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { startTrafficCollector } from '../sandbox/traffic-collector.ts';
import { BENCH_OPTIONS, startBench } from './bench-kit.ts';
import { benchConfig, startBenchBot } from './bench-bot.ts';

interface Profile {
  name: string;
  intervalMs: number;
  sustainedForMs: number;
  windowMs: number;
  what: string;
}

const PROFILES: Record<string, Profile> = {
  quick: { name: 'quick', intervalMs: 1_000, sustainedForMs: 3_000, windowMs: 30_000, what: 'a quick look' },
  fast: { name: 'fast', intervalMs: 10_000, sustainedForMs: 30_000, windowMs: 120_000, what: 'fast profile (10 s samples)' },
  seed: { name: 'seed', intervalMs: 30_000, sustainedForMs: 120_000, windowMs: 300_000, what: 'seed defaults' },
};

const { values } = parseArgs({
  options: {
    ...BENCH_OPTIONS,
    profile: { type: 'string' },
    runs: { type: 'string', default: '1' },
    rate: { type: 'string', default: '20' },
    aligned: { type: 'boolean', default: false },
  },
});
const bench = startBench('detect', values);
const RUNS = Number(values.runs);
const RATE = Number(values.rate);
const ALIGNED = values.aligned;
const SELECTED = (values.profile ?? (bench.smoke ? 'quick' : 'fast')).split(',').map((name) => {
  const profile = PROFILES[name.trim()];
  if (!profile) throw new Error(`unknown profile "${name}"; choose from ${Object.keys(PROFILES).join(', ')}`);
  return profile;
});
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);

const TOKEN = 'bench-token-0123456789';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const SCRIPT = 'kevinstamp';
const THRESHOLD_PERCENT = 5;

interface RunResult {
  firstBreachMs: number | null;
  detectedMs: number;
  verifiedMs: number;
  trigger: string;
  summary: string;
}

interface ProfileResult {
  profile: Profile;
  runs: RunResult[];
}

const ms = (value: number) => `${(value / 1000).toFixed(1)} s`;

async function runProfile(profile: Profile): Promise<ProfileResult> {
  bench.phase(`starting the stand-in, the traffic and the bot for the ${profile.name} profile`);
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts: [SCRIPT] });
  const v1 = standIn.addVersion(SCRIPT, { tag: 'v1' });
  standIn.deploy(SCRIPT, { [v1.id]: 100 });
  const traffic = startTrafficCollector({ url: standIn.trafficUrl(SCRIPT), ratePerSecond: RATE });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-detect-bench-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  // Seed numbers everywhere (threshold 5 %, minRequests 10, health checks, rollback verification);
  // only the monitoring cadence differs between profiles.
  const text = `
apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]
services:
  kevinstamp:
    platform: { accountId: ${ACCOUNT}, scriptName: ${SCRIPT} }
    productionUrl: ${standIn.trafficUrl(SCRIPT)}
    monitor:
      window: ${formatDuration(profile.windowMs)}
      interval: ${formatDuration(profile.intervalMs)}
      metrics: { source: app-json, path: /metrics }
      triggers:
        errorRate: { thresholdPercent: ${THRESHOLD_PERCENT}, sustainedFor: ${formatDuration(profile.sustainedForMs)} }
        content: { enabled: false }
    approval: { approvers: ['*'], fourEyes: false }
    environments: { production: {} }
`;
  const bot = await startBenchBot({ config: benchConfig('detect-bench', text), dir, cloudflare: { apiToken: TOKEN, baseUrl: standIn.apiBaseUrl } });

  // Moments seen right after each commit, per deployment.
  const marks = new Map<string, Map<string, number>>();
  const firedSummaries = new Map<string, { trigger: string; summary: string }>();
  let onSample: ((id: string, evaluations: Evaluation[]) => void) | undefined;
  bot.bus.subscribe(({ after, events }) => {
    const now = performance.now();
    const seen = marks.get(after.id) ?? new Map<string, number>();
    marks.set(after.id, seen);
    for (const e of events) {
      if (e.action === 'stage-changed' || e.fromStage !== e.toStage) seen.set(`to:${e.toStage}`, seen.get(`to:${e.toStage}`) ?? now);
      if (sampleNumberOf(e) !== undefined) {
        onSample?.(after.id, (e.details.evaluations as Evaluation[] | undefined) ?? []);
      }
      if (e.action === 'rollback-started') {
        firedSummaries.set(after.id, { trigger: String(e.details.trigger ?? 'none'), summary: String(e.details.cause ?? e.details.reason) });
      }
    }
    seen.set(`to:${after.stage}`, seen.get(`to:${after.stage}`) ?? now);
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${bot.url}/api/v1${path}`, {
      method,
      headers: { authorization: 'Bearer bench-api-token', 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await r.json()) as { id: string; stage: string; reason: string };
  };
  const until = async (id: string, mark: string): Promise<number> => {
    bench.phase(`waiting for ${id} to reach ${mark.replace(/^to:/, '')} (${profile.name} profile)`);
    for (;;) {
      const at = marks.get(id)?.get(mark);
      if (at !== undefined) return at;
      const stage = [...(marks.get(id)?.keys() ?? [])].filter((k) => k.startsWith('to:')).at(-1);
      if (stage && ['to:succeeded', 'to:failed', 'to:needs_attention'].includes(stage) && mark !== stage) {
        const shown = await api('GET', `/deployments/${id}`);
        throw new Error(`${id} ended ${shown.stage} before ${mark}: ${shown.reason}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const runs: RunResult[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const tag = `${profile.name}-${i + 1}`;
      const green = standIn.addVersion(SCRIPT, { tag });
      let brokeAt: number | undefined;
      let breaking: Promise<void> | undefined;
      let firstBreachAt: number | undefined;
      let deploymentId: string | undefined;
      onSample = (id, evaluations) => {
        if (id !== deploymentId) return;
        if (breaking === undefined) {
          // Monitoring runs: break green at a known instant, somewhere in the next sample interval
          // (right after a sample is the worst case for noticing; a random offset covers them all).
          const offset = ALIGNED ? 0 : Math.random() * profile.intervalMs;
          breaking = new Promise<void>((resolve) =>
            setTimeout(() => {
              standIn.setBehavior(green.id, { errorPercent: 50 });
              brokeAt = performance.now();
              resolve();
            }, offset),
          );
          return;
        }
        if (brokeAt === undefined) return;
        const errorRate = evaluations.find((e) => e.signal === 'error-rate');
        if (firstBreachAt === undefined && (errorRate?.verdict === 'building' || errorRate?.verdict === 'fired')) firstBreachAt = performance.now();
      };
      bench.phase(`requesting release ${tag}`);
      const created = await api('POST', '/deployments', { service: 'kevinstamp', environment: 'production', version: tag });
      deploymentId = created.id;
      await until(created.id, 'to:awaiting_approval');
      bench.phase(`approving ${created.id}`);
      await api('POST', `/deployments/${created.id}/approve`);
      const detectedAt = await until(created.id, 'to:rolling_back');
      bench.phase(`waiting for green ${tag} to be broken`);
      await breaking;
      const verifiedAt = await until(created.id, 'to:rolled_back');
      const broke = brokeAt ?? detectedAt;
      const fired = firedSummaries.get(created.id) ?? { trigger: 'unknown', summary: '' };
      runs.push({
        firstBreachMs: firstBreachAt === undefined ? null : firstBreachAt - broke,
        detectedMs: detectedAt - broke,
        verifiedMs: verifiedAt - broke,
        trigger: fired.trigger,
        summary: fired.summary,
      });
      process.stderr.write(`  ${profile.name} run ${i + 1}/${RUNS}: detected after ${ms(detectedAt - broke)} (${fired.trigger}), blue verified after ${ms(verifiedAt - broke)}\n`);
    }
    bench.phase(`stopping the traffic, the bot and the stand-in of the ${profile.name} profile`);
  } finally {
    onSample = undefined;
    await traffic.stop();
    await bot.close();
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { profile, runs };
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median, with the range when there are several runs. */
function spread(list: number[]): string {
  if (list.length < 2) return ms(median(list));
  return `${ms(median(list))} (${(Math.min(...list) / 1000).toFixed(1)}–${(Math.max(...list) / 1000).toFixed(1)})`;
}

async function main(): Promise<void> {
  console.log(
    `kevin-deploy detection benchmark: green breaks (50 % of page requests fail) once monitoring runs; ` +
      `${RATE} req/s through the sandbox edge; app-json /metrics; error-rate threshold ${THRESHOLD_PERCENT} %; ${RUNS} run(s) per profile; ` +
      `break ${ALIGNED ? 'right after a sample' : 'at a random point of a sample interval'}`,
  );
  const results: ProfileResult[] = [];
  for (const profile of SELECTED) {
    process.stderr.write(`${profile.name}: interval ${formatDuration(profile.intervalMs)}, sustainedFor ${formatDuration(profile.sustainedForMs)}…\n`);
    results.push(await runProfile(profile));
  }

  const header = ['profile', 'interval', 'sustained', 'first breach', 'detected', 'blue verified', 'theory (sustained+interval)', 'seed script'];
  const rows = results.map(({ profile, runs }) => {
    const firstBreaches = runs.map((r) => r.firstBreachMs).filter((v): v is number => v !== null);
    return [
      `${profile.name} (${profile.what})`,
      formatDuration(profile.intervalMs),
      formatDuration(profile.sustainedForMs),
      firstBreaches.length > 0 ? ms(median(firstBreaches)) : 'n/a',
      spread(runs.map((r) => r.detectedMs)),
      spread(runs.map((r) => r.verifiedMs)),
      ms(profile.sustainedForMs + profile.intervalMs),
      '≥ 60.0 s',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('times from the break: medians (min–max over runs); "detected" = the trigger fired (→ rolling_back), "blue verified" = rolled_back');
  console.log("seed script: rollback verified ≥ 60 s after someone ran it (sleep 60 before verifying), plus the time it took a person to notice");
  for (const { profile, runs } of results) {
    const triggers = [...new Set(runs.map((r) => r.trigger))].join(', ');
    console.log(`${profile.name}: fired by ${triggers}; last run: ${runs.at(-1)?.summary.slice(0, 240)}`);
  }
}

await bench.run(main);
