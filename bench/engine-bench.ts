/**
 * npm run bench:engine — how fast the bot moves traffic once a person or a trigger decides.
 *
 * Runs N releases (default 50) against the Cloudflare stand-in, in one process, and measures:
 *   (a) approve → split verified (green 100 %), and
 *   (b) rollback trigger fired → split verified (blue 100 %), and on to blue's health verified,
 * each split into platform time (inside Cloudflare API calls and probes) and bot time (everything
 * else: HTTP, decide(), SQLite commits with fsync, scheduling). Prints p50/p99; asserts nothing.
 *
 * Options: --releases N (default 50; 4 with --smoke), --latency MS (added to every stand-in API
 * call, to play a real round trip), and bench-kit's --smoke and --time-limit SECONDS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { WorkersPlatform } from '../src/adapters/cloudflare/workers-platform.ts';
import { HttpProbe } from '../src/adapters/probe/http-probe.ts';
import { lookupTarget } from '../src/config/target-lookup.ts';
import type { Probe } from '../src/ports/probe.ts';
import type { TrafficPlatform } from '../src/ports/traffic-platform.ts';
import { startCloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { startBot } from '../src/app/start-bot.ts';
import type { Deployment } from '../src/domain/deployment.ts';
import { isTerminal } from '../src/domain/stages.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';
import { benchConfig } from './bench-bot.ts';

const { values } = parseArgs({
  options: { ...BENCH_OPTIONS, releases: { type: 'string' }, latency: { type: 'string', default: '0' } },
});
const bench = startBench('engine', values);
const RELEASES = Number(values.releases ?? (bench.smoke ? '4' : '50'));
const LATENCY_MS = Number(values.latency);
const TOKEN = 'bench-token-0123456789';
const ACCOUNT = '0123456789abcdef0123456789abcdef';

interface Span {
  start: number;
  end: number;
}

/** Records the time spent inside every call of an object's methods. */
function timed<T extends object>(target: T, spans: Span[]): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await value.apply(obj, args);
        } finally {
          spans.push({ start, end: performance.now() });
        }
      };
    },
  });
}

function overlap(spans: Span[], from: number, to: number): number {
  return spans.reduce((sum, s) => sum + Math.max(0, Math.min(s.end, to) - Math.max(s.start, from)), 0);
}

async function main(): Promise<void> {
  bench.phase('starting the Cloudflare stand-in and the bot');
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts: ['kevinstamp'] });
  if (LATENCY_MS > 0) standIn.injectFault({ kind: 'latency', latencyMs: LATENCY_MS, times: -1 });
  const v1 = standIn.addVersion('kevinstamp', { tag: 'v1' });
  standIn.deploy('kevinstamp', { [v1.id]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-bench-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  const text = `
apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]
services:
  kevinstamp:
    platform: { accountId: ${ACCOUNT}, scriptName: kevinstamp }
    productionUrl: ${standIn.trafficUrl('kevinstamp')}
    health: { attempts: 3, interval: 10ms, timeout: 2s }
    # No metrics source: this bench times how fast traffic moves once a person or a trigger
    # decides, not metric evaluation. With one, the 150 ms window is shorter than any metric
    # trigger's sustainedFor, so every window would end inconclusive and pause for a person.
    # Failing releases are still rolled back, by the KEVIN content trigger (which stays on).
    monitor: { window: 150ms, interval: 10ms, metrics: { source: none } }
    rollback: { verifyAttempts: 3, verifyInterval: 10ms }
    approval: { approvers: ['*'], fourEyes: false }
    environments: { production: {} }
`;
  const config = benchConfig('engine-bench', text);

  const platformSpans: Span[] = [];
  const cloudflareCalls: Array<{ at: number; call: string }> = [];
  const probeSpans: Span[] = [];
  const platform: TrafficPlatform = timed(
    new WorkersPlatform({
      apiToken: TOKEN,
      baseUrl: standIn.apiBaseUrl,
      settingsOf: (t) => lookupTarget(config, t.service, t.environment),
      onCall: (call) => cloudflareCalls.push({ at: performance.now(), call }),
    }),
    platformSpans,
  );
  const probe: Probe = timed(new HttpProbe(), probeSpans);
  const bot = await startBot({
    config,
    env: { BENCH_TOKEN: 'bench-api-token', DATABASE_URL: `sqlite:${join(dir, 'bench.db')}` },
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }),
    platform,
    probe,
  });

  // Moments seen by a transition observer, right after each commit.
  const seen = new Map<string, Map<string, number>>();
  const latest = new Map<string, Deployment>();
  bot.bus.subscribe(({ after, events }) => {
    latest.set(after.id, after);
    const marks = seen.get(after.id) ?? new Map<string, number>();
    for (const e of events) marks.set(e.action === 'stage-changed' ? `to:${e.toStage}` : e.action, performance.now());
    marks.set(`to:${after.stage}`, marks.get(`to:${after.stage}`) ?? performance.now());
    seen.set(after.id, marks);
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${bot.url}/api/v1${path}`, {
      method,
      headers: { authorization: 'Bearer bench-api-token', 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await r.json()) as { id: string; stage: string; reason: string };
  };
  // Polls on timers, so the watchdog (bench-kit) still fires if a mark never comes; a release that
  // stopped where the mark cannot come any more (ended, needs a person, paused) fails at once.
  const until = async (id: string, mark: string) => {
    const what = mark.startsWith('to:') ? `reach ${mark.slice(3)}` : `record ${mark}`;
    bench.phase(`waiting for ${id} to ${what}`);
    for (;;) {
      const at = seen.get(id)?.get(mark);
      if (at !== undefined) return at;
      const d = latest.get(id);
      if (d && (isTerminal(d.stage) || d.stage === 'needs_attention' || d.progress.pausedBecause !== undefined)) {
        const where = d.progress.pausedBecause !== undefined ? `paused in ${d.stage}` : d.stage;
        throw new Error(`${id} is ${where} and will not ${what}: ${d.reason}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  // Cloudflare API calls per phase of a release: the round trips each guarantee costs.
  const callsPerPhase = new Map<string, Array<Map<string, number>>>();
  const countCalls = (phase: string, from: number, to: number) => {
    const counts = new Map<string, number>();
    for (const c of cloudflareCalls) if (c.at >= from && c.at <= to) counts.set(c.call, (counts.get(c.call) ?? 0) + 1);
    callsPerPhase.set(phase, [...(callsPerPhase.get(phase) ?? []), counts]);
  };
  const switchTotal: number[] = [];
  const switchPlatform: number[] = [];
  const rollbackTotal: number[] = [];
  const rollbackPlatform: number[] = [];
  const rollbackVerified: number[] = [];
  for (let i = 0; i < RELEASES; i++) {
    const failing = i % 2 === 1; // every other release loses its KEVIN content once it has traffic
    standIn.addVersion('kevinstamp', { tag: `b${i}`, ...(failing ? { behavior: { afterTraffic: { kevin: false } } } : {}) });
    bench.phase(`requesting release b${i} (${i + 1} of ${RELEASES})`);
    const requestedAt = performance.now();
    const d = await api('POST', '/deployments', { service: 'kevinstamp', environment: 'production', version: `b${i}` });
    countCalls('request → awaiting approval (resolve, read, stage green at 0 %)', requestedAt, await until(d.id, 'to:awaiting_approval'));
    const approvedAt = performance.now();
    bench.phase(`approving ${d.id}`);
    await api('POST', `/deployments/${d.id}/approve`);
    const switchedAt = await until(d.id, 'to:monitoring');
    switchTotal.push(switchedAt - approvedAt);
    countCalls('approve → monitoring (readiness, the switch)', approvedAt, switchedAt);
    switchPlatform.push(overlap(platformSpans, approvedAt, switchedAt));
    if (failing) {
      const triggeredAt = await until(d.id, 'to:rolling_back');
      const blueAt = await until(d.id, 'rollback-switched');
      const healthyAt = await until(d.id, 'to:rolled_back');
      rollbackTotal.push(blueAt - triggeredAt);
      countCalls('trigger → blue 100 % (the switch back)', triggeredAt, blueAt);
      rollbackPlatform.push(overlap(platformSpans, triggeredAt, blueAt));
      rollbackVerified.push(healthyAt - triggeredAt);
    } else {
      await until(d.id, 'to:succeeded');
    }
  }

  const row = (label: string, total: number[], platformMs: number[]) => {
    const bot = total.map((t, i) => t - platformMs[i]!);
    const f = (n: number) => n.toFixed(1).padStart(8);
    return `${label.padEnd(36)} ${f(percentile(total, 50))} ${f(percentile(total, 99))} ${f(percentile(platformMs, 50))} ${f(percentile(platformMs, 99))} ${f(percentile(bot, 50))} ${f(percentile(bot, 99))}`;
  };
  console.log(`kevin-deploy engine benchmark: ${RELEASES} releases against the Cloudflare stand-in, +${LATENCY_MS} ms per API call`);
  console.log(`${''.padEnd(36)} ${'total ms'.padStart(17)} ${'platform ms'.padStart(17)} ${'bot ms'.padStart(17)}`);
  console.log(`${''.padEnd(36)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`);
  console.log(row(`(a) approve → green 100 % verified`, switchTotal, switchPlatform));
  console.log(row(`(b) trigger → blue 100 % verified`, rollbackTotal, rollbackPlatform));
  console.log(
    `(b') trigger → blue health verified: p50 ${percentile(rollbackVerified, 50).toFixed(1)} ms, p99 ${percentile(rollbackVerified, 99).toFixed(1)} ms (includes probes)`,
  );
  console.log(`goal: bot time p99 < 50 ms; the seed's rollback script needed > 60 000 ms (sleep 60 before verifying)`);
  console.log(`samples: ${switchTotal.length} switches, ${rollbackTotal.length} rollbacks`);
  console.log('Cloudflare API calls per release phase (median of the releases; a switch is read, create, read):');
  for (const [phase, runs] of callsPerPhase) {
    const kinds = [...new Set(runs.flatMap((r) => [...r.keys()]))].sort();
    const byKind = kinds.map((k) => `${k} ${percentile(runs.map((r) => r.get(k) ?? 0), 50)}`).join(', ');
    const total = percentile(runs.map((r) => [...r.values()].reduce((a, b) => a + b, 0)), 50);
    console.log(`  ${phase.padEnd(62)} ${String(total).padStart(3)} calls  (${byKind})`);
  }

  bench.phase('closing the bot and the stand-in');
  await bot.close();
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
}

await bench.run(main);
