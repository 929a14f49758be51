/**
 * npm run bench:scale — how many releases one bot can monitor at once.
 *
 * For each size N (--releases, default 50,200,1000; 10 with --smoke), in two processes:
 *   - this one runs the Cloudflare stand-in with N scripts (an edge and a sample site each), each
 *     with v1 live and a healthy green `g1` uploaded;
 *   - a child process (this file again, with --bot-child) runs the real bot (SQLite, runner, HTTP
 *     API, app-json metrics) on a config of N services, one per script, and measures itself — so
 *     what it reports is the bot's alone, not the stand-in's.
 * The child requests the N releases over the API (at most --concurrency requests in flight), waits
 * until all N are verified and awaiting approval, approves all N, and once all N are in their
 * monitoring window measures, for --measure (default 10 intervals, or until the first window
 * ends):
 *   CPU per sample            process.cpuUsage() delta / monitoring samples committed meanwhile,
 *                             and that CPU time as a share of one core;
 *   event-loop delay          p50, p99 and max (perf_hooks monitorEventLoopDelay, beyond its timer);
 *   RSS peak                  sampled every 100 ms while measuring (and the process's lifetime
 *                             maximum, resourceUsage().maxRSS, which includes setting up);
 *   SQLite writes             transitions committed per second (seen on bot.bus; each sample's
 *                             turn also takes and releases its lease: two more write transactions)
 *                             and bytes written to storage per second and per sample (write_bytes
 *                             of /proc/self/io: the bot process writes nothing else; WAL,
 *                             synchronous=FULL);
 *   sample lateness           each sample's scheduled time (the wakeAt its previous commit set)
 *                             against when it was recorded (committed, seen on bot.bus) and when it
 *                             started (the bot's probe was called for that script), p50/p99;
 *   history growth            bytes each sample commit writes, logically (the deployment row as
 *                             JSON plus its audit events), by sample number: early vs late in the
 *                             window, and write_bytes per sample in the first vs the second half.
 * Monitoring settings are the seed's scaled down in time by interval/30 s: --interval (default 1s;
 * 200ms with --smoke), errorRate sustainedFor 4 intervals, responseTime 2 intervals. The window
 * (--window, default 30s; 3500ms) is longer than the seed's 10 intervals so that all N windows are
 * still open once all N are approved; the metric history the bot keeps is window/interval + 2
 * samples. No user traffic: green's /metrics counts only the bot's own probes. The measurement
 * stops early when a window ends (it passes, or pauses as inconclusive) before --measure is up;
 * a window that ends before all N are monitoring breaks the size (a longer --window measures it).
 *
 * A size that does not finish within --size-limit seconds (default 300; 45 with --smoke) is
 * stopped and reported with the phase it was in, and larger sizes are skipped: the bench says
 * where the bot breaks instead of hanging. --v8-flags "…" starts the bot child with those V8 flags
 * (e.g. "--max-semi-space-size=1 --max-old-space-size=96"), to measure memory against CPU; the
 * idle bot's RSS (started, no release) is printed as the floor. Options also: --concurrency N (default 16) and
 * bench-kit's --smoke and --time-limit SECONDS. Asserts nothing.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { HttpProbe } from '../src/adapters/probe/http-probe.ts';
import { startBot } from '../src/app/start-bot.ts';
import { parseDuration } from '../src/config/duration.ts';
import { loadConfig } from '../src/config/load-config.ts';
import type { Deployment } from '../src/domain/deployment.ts';
import { sampleNumberOf } from '../src/domain/monitor-evaluation.ts';
import { isTerminal } from '../src/domain/stages.ts';
import type { Probe } from '../src/ports/probe.ts';
import type { CloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';

const { values } = parseArgs({
  options: {
    ...BENCH_OPTIONS,
    releases: { type: 'string' },
    interval: { type: 'string' },
    window: { type: 'string' },
    measure: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    'size-limit': { type: 'string' },
    'bot-child': { type: 'boolean', default: false },
    'v8-flags': { type: 'string' },
  },
});

const TOKEN = 'bench-token-0123456789';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const API_TOKEN = 'bench-api-token';
const MB = 1024 * 1024;
/**
 * monitorEventLoopDelay records the time between the ticks of a timer of this period, so an idle
 * loop reads ~10 ms: the delay is what is beyond it.
 */
const LOOP_RESOLUTION_MS = 10;
const PROGRESS_SPAN_MS = 5_000;
const beyondTimer = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);

/** What the child is asked to do for one size. */
interface SizeJob {
  releases: number;
  apiBaseUrl: string;
  /** One per script, in the order of scriptName(i). */
  trafficUrls: string[];
  intervalMs: number;
  windowMs: number;
  measureMs: number;
  concurrency: number;
  dir: string;
}

interface SizeResult {
  releases: number;
  /** The bot started, its config loaded, no release yet, after a full GC: the floor every size starts from. */
  idleRssMb: number;
  idleHeapLiveMb: number;
  configMs: number;
  setupMs: number;
  approveMs: number;
  /** Approve answers lost to a reset connection (looked at, retried). */
  apiResets: number;
  measuredMs: number;
  /** Why the measurement stopped before --measure, if it did. */
  cutShort: string | null;
  samples: number;
  cpuMs: number;
  cpuSystemMs: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  rssPeakMb: number;
  maxRssMb: number;
  /** V8's heap at the end of the measurement: live objects (after a full GC) and reserved: how much of the RSS is JavaScript. */
  heapLiveMb: number;
  heapTotalMb: number;
  commits: number;
  writeBytes: number | null;
  writeBytesFirstHalfPerSample: number | null;
  writeBytesSecondHalfPerSample: number | null;
  latenessMs: number[];
  startLatenessMs: number[];
  /** Logical bytes of a sample's commit, by sample number (index 0 = sample 1): mean, and how many releases reached it. */
  bytesBySample: Array<{ mean: number; count: number }>;
  historyBound: number;
  dbMb: number;
}

type ToParent =
  | { type: 'phase'; label: string }
  | { type: 'measuring'; on: boolean }
  | { type: 'result'; result: SizeResult }
  | { type: 'failed'; message: string }
  /** A step done (for the report when a later one breaks). */
  | { type: 'milestone'; text: string }
  /** How sampling goes right now, every 2 s (for the report when the size breaks). */
  | { type: 'progress'; text: string };

const scriptName = (i: number) => `s${String(i).padStart(4, '0')}`;

function durationMs(text: string, option: string): number {
  const parsed = parseDuration(text);
  if (parsed === undefined || parsed <= 0) throw new Error(`--${option} is a duration such as 1s or 250ms, got ${text}`);
  return parsed;
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} must be a positive integer, got ${text}`);
  return n;
}

// ——— the bot child: runs the bot for one size and measures it ———

/** Bytes this process has caused to be written to storage (Linux); undefined where unreadable. */
function writeBytes(): number | undefined {
  try {
    const match = /^write_bytes:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function inBatches<T>(items: readonly T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function runBotChild(job: SizeJob, send: (message: ToParent) => void): Promise<void> {
  const phase = (label: string) => send({ type: 'phase', label });
  const rss: number[] = [];
  let measuring = false;
  /** Every sample since the start, for the progress reports: when it was recorded, how late. */
  const everySample: Array<{ at: number; late: number }> = [];
  const rssTimer = setInterval(() => {
    if (measuring) rss.push(process.memoryUsage.rss());
  }, 100);
  const progressTimer = setInterval(() => {
    const since = Date.now() - PROGRESS_SPAN_MS;
    const recent = everySample.filter((x) => x.at >= since).map((x) => x.late);
    send({
      type: 'progress',
      text:
        `${everySample.length} monitoring samples recorded so far; in the last ${PROGRESS_SPAN_MS / 1000} s ${recent.length} ` +
        `(lateness p50 ${percentile(recent, 50).toFixed(0)} ms, p99 ${percentile(recent, 99).toFixed(0)} ms, max ${Math.max(0, ...recent).toFixed(0)} ms); ` +
        `RSS ${(process.memoryUsage.rss() / MB).toFixed(0)} MB (max ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`,
    });
  }, 2000);
  progressTimer.unref();

  phase(`loading a config of ${job.releases} services`);
  const configStart = performance.now();
  const i = job.intervalMs;
  const services = job.trafficUrls
    .map(
      (url, n) => `  ${scriptName(n)}:
    platform: { accountId: ${ACCOUNT}, scriptName: ${scriptName(n)} }
    productionUrl: ${url}
    health: { attempts: 10, interval: 500ms, timeout: 5s }
    monitor:
      window: ${job.windowMs}ms
      interval: ${i}ms
      metrics: { source: app-json, path: /metrics }
      triggers:
        errorRate: { thresholdPercent: 5, sustainedFor: ${4 * i}ms }
        responseTime: { thresholdMs: 5000, sustainedFor: ${2 * i}ms }
    approval: { approvers: ['*'], fourEyes: false }
    environments: { production: {} }`,
    )
    .join('\n');
  const text = `apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]\nservices:\n${services}\n`;
  const loaded = loadConfig({ path: 'scale-bench.yml', text, env: {} });
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  const configMs = performance.now() - configStart;

  // The real HTTP probe, noting when each script's probe starts: the start of a sample.
  const probeStarted = new Map<string, number>();
  const http = new HttpProbe();
  const probe: Probe = {
    run(request) {
      probeStarted.set(request.baseUrl, Date.now());
      return http.run(request);
    },
  };
  phase('starting the bot');
  const dbFile = join(job.dir, 'bench.db');
  const bot = await startBot({
    config: loaded.config,
    env: { BENCH_TOKEN: API_TOKEN, DATABASE_URL: `sqlite:${dbFile}`, CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_BASE_URL: job.apiBaseUrl },
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }),
    probe,
  });
  const urlOf = new Map(job.trafficUrls.map((url, n) => [scriptName(n), url]));
  (globalThis as { gc?: () => void }).gc?.();
  const idleRssMb = process.memoryUsage.rss() / MB;
  const idleHeapLiveMb = process.memoryUsage().heapUsed / MB;

  const latest = new Map<string, Deployment>();
  const reached = new Map<string, Set<string>>();
  let firstExit: string | null = null;
  let commits = 0;
  let samples = 0;
  const lateness: number[] = [];
  const startLateness: number[] = [];
  const bytesBySample: Array<{ sum: number; count: number }> = [];
  bot.bus.subscribe(({ before, after, events }) => {
    const now = Date.now();
    latest.set(after.id, after);
    const stages = reached.get(after.stage) ?? new Set<string>();
    stages.add(after.id);
    reached.set(after.stage, stages);
    const sample = events.map(sampleNumberOf).find((n) => n !== undefined);
    if (sample !== undefined && before?.stage === 'monitoring') {
      const slot = (bytesBySample[sample - 1] ??= { sum: 0, count: 0 });
      slot.sum += JSON.stringify(after).length + JSON.stringify(events).length;
      slot.count += 1;
      if (before.wakeAt !== null) everySample.push({ at: now, late: now - Date.parse(before.wakeAt) });
    }
    if (after.stage !== 'monitoring' || after.progress.pausedBecause !== undefined) {
      if (before?.stage === 'monitoring' && firstExit === null) firstExit = `${after.id} left its window (${after.progress.pausedBecause ? 'paused' : after.stage})`;
    }
    if (!measuring) return;
    commits += 1;
    if (sample !== undefined && before?.stage === 'monitoring' && before.wakeAt !== null) {
      samples += 1;
      const scheduled = Date.parse(before.wakeAt);
      lateness.push(now - scheduled);
      const started = probeStarted.get(urlOf.get(after.service) ?? '');
      if (started !== undefined && started >= scheduled - 1) startLateness.push(started - scheduled);
    }
  });

  /** Connection-level failures of API calls (the answer lost), each looked at and retried. */
  let resets = 0;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${bot.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((error: unknown) => {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      throw Object.assign(new Error(`${method} ${path}: ${error instanceof Error ? error.message : String(error)}${cause ? ` (${String(cause.code ?? cause.message)})` : ''}`), {
        lost: true,
      });
    });
    const answer = (await r.json()) as { id: string; stage: string; detail?: string };
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${answer.detail ?? JSON.stringify(answer)}`);
    return answer;
  };
  // An approval whose answer was lost (ECONNRESET on a reused connection was seen at 1000
  // releases, while the loop stalled for seconds): look whether it was applied, approve again if not.
  const approve = async (id: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api('POST', `/deployments/${id}/approve`);
      } catch (error) {
        if (!(error as { lost?: boolean }).lost || attempt >= 10) throw error;
        resets += 1;
        const now = await api('GET', `/deployments/${id}`).catch((lookError: unknown) => {
          if (!(lookError as { lost?: boolean }).lost) throw lookError;
          resets += 1;
          return undefined;
        });
        if (now && now.stage !== 'awaiting_approval') return now;
      }
    }
  };
  const waitAll = async (ids: string[], stage: string, what: string) => {
    let lastPhase = 0;
    for (;;) {
      const there = reached.get(stage) ?? new Set<string>();
      const missing = ids.filter((id) => !there.has(id));
      if (performance.now() - lastPhase > 1000) {
        phase(`${what}: ${ids.length - missing.length} of ${ids.length} releases in ${stage}`);
        lastPhase = performance.now();
      }
      if (missing.length === 0) return;
      for (const id of missing) {
        const d = latest.get(id);
        if (d && (isTerminal(d.stage) || d.stage === 'needs_attention' || d.progress.pausedBecause !== undefined)) {
          throw new Error(`${d.service}: ${id} is ${d.progress.pausedBecause ? `paused in ${d.stage}` : d.stage} and will not reach ${stage}: ${d.reason}`);
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const setupStart = performance.now();
  const ids: string[] = [];
  let requested = 0;
  await inBatches(
    job.trafficUrls.map((_, n) => scriptName(n)),
    job.concurrency,
    async (service) => {
      ids.push((await api('POST', '/deployments', { service, environment: 'production', version: 'g1' })).id);
      if (++requested % 50 === 0) phase(`requesting releases: ${requested} of ${job.releases} requested`);
    },
  );
  await waitAll(ids, 'awaiting_approval', 'staging and verifying green');
  const setupMs = performance.now() - setupStart;
  send({ type: 'milestone', text: `request → all ${job.releases} awaiting approval ${(setupMs / 1000).toFixed(1)} s` });

  const approveStart = performance.now();
  let approved = 0;
  await inBatches(ids, job.concurrency, async (id) => {
    await approve(id);
    if (++approved % 50 === 0) phase(`approving: ${approved} of ${job.releases} approved`);
  });
  const lost = resets > 0 ? ` (${resets} answer(s) lost to a reset connection, looked at and retried)` : '';
  send({ type: 'milestone', text: `all ${job.releases} approved in ${((performance.now() - approveStart) / 1000).toFixed(1)} s${lost}` });
  await waitAll(ids, 'monitoring', 'switching');
  const approveMs = performance.now() - approveStart;
  send({ type: 'milestone', text: `approve → all ${job.releases} monitoring ${(approveMs / 1000).toFixed(1)} s` });
  if (firstExit !== null) {
    throw new Error(`a window of ${job.windowMs / 1000} s ended before all ${job.releases} releases were monitoring (${firstExit}); a longer --window lets this size be measured`);
  }

  phase(`measuring ${job.releases} releases in their monitoring windows`);
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const io0 = writeBytes();
  send({ type: 'measuring', on: true });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  loop.enable();
  measuring = true;
  let halfMark: { bytes: number | undefined; samples: number } | undefined;
  let cutShort: string | null = null;
  while (performance.now() - t0 < job.measureMs) {
    if (firstExit !== null) {
      cutShort = firstExit;
      break;
    }
    if (halfMark === undefined && performance.now() - t0 >= job.measureMs / 2) halfMark = { bytes: writeBytes(), samples };
    await new Promise((r) => setTimeout(r, 50));
  }
  measuring = false;
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  const io1 = writeBytes();
  const heapTotalMb = process.memoryUsage().heapTotal / MB;
  // After a full collection, what is left is live (the child runs with --expose-gc for this only).
  (globalThis as { gc?: () => void }).gc?.();
  const heapLiveMb = process.memoryUsage().heapUsed / MB;
  send({ type: 'measuring', on: false });
  clearInterval(rssTimer);
  // Bytes written to storage per sample, in the first and the second half of the measurement.
  const perSample = (from: { bytes: number | undefined; samples: number }, to: { bytes: number | undefined; samples: number }) =>
    from.bytes === undefined || to.bytes === undefined || to.samples === from.samples ? null : (to.bytes - from.bytes) / (to.samples - from.samples);
  const start = { bytes: io0, samples: 0 };
  const end = { bytes: io1, samples };

  let dbBytes = 0;
  for (const file of [dbFile, `${dbFile}-wal`]) {
    try {
      dbBytes += statSync(file).size;
    } catch {
      // no WAL file at the moment
    }
  }
  const result: SizeResult = {
    releases: job.releases,
    idleRssMb,
    idleHeapLiveMb,
    configMs,
    setupMs,
    approveMs,
    apiResets: resets,
    measuredMs: t1 - t0,
    cutShort,
    samples,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuSystemMs: cpu.system / 1000,
    loopP50Ms: beyondTimer(loop.percentile(50)),
    loopP99Ms: beyondTimer(loop.percentile(99)),
    loopMaxMs: beyondTimer(loop.max),
    rssPeakMb: Math.max(0, ...rss) / MB,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    heapLiveMb,
    heapTotalMb,
    commits,
    writeBytes: io0 === undefined || io1 === undefined ? null : io1 - io0,
    writeBytesFirstHalfPerSample: halfMark === undefined ? null : perSample(start, halfMark),
    writeBytesSecondHalfPerSample: halfMark === undefined ? null : perSample(halfMark, end),
    latenessMs: lateness,
    startLatenessMs: startLateness,
    bytesBySample: bytesBySample.map((s) => ({ mean: s.count > 0 ? s.sum / s.count : 0, count: s.count })),
    historyBound: Math.min(500, Math.ceil(job.windowMs / job.intervalMs) + 2),
    dbMb: dbBytes / MB,
  };
  clearInterval(progressTimer);
  send({ type: 'result', result });
  phase('closing the bot');
  await bot.close();
}

// ——— this process: the stand-in, one bot child per size, the figures ———

type SizeOutcome = { n: number; result: SizeResult; standInCpuMs: number; standInWallMs: number; note: string | null } | { n: number; broke: string };

async function startStandIn(n: number): Promise<CloudflareStandIn> {
  const scripts = Array.from({ length: n }, (_, i) => scriptName(i));
  // Imported here only: the bot child measures its RSS, and must not carry the stand-in's code.
  const { startCloudflareStandIn } = await import('../sandbox/cloudflare-stand-in.ts');
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts });
  for (const script of scripts) {
    const v1 = standIn.addVersion(script, { tag: 'v1' });
    standIn.deploy(script, { [v1.id]: 100 });
    standIn.addVersion(script, { tag: 'g1' });
  }
  return standIn;
}

const CLOSE_GRACE_MS = 20_000;

async function runSize(bench: ReturnType<typeof startBench>, job: Omit<SizeJob, 'apiBaseUrl' | 'trafficUrls' | 'dir'>, limitS: number): Promise<SizeOutcome> {
  const n = job.releases;
  bench.phase(`N=${n}: starting the stand-in with ${n} scripts`);
  const standIn = await startStandIn(n);
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-scale-bench-'));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--bot-child'], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: [...process.execArgv, '--expose-gc', ...v8Flags],
  });
  const abort = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  bench.onAbort(abort);
  // Stopped from outside (Ctrl-C, SIGTERM): the bot child and its store go too.
  const onSignal = (signal: NodeJS.Signals) => {
    abort();
    process.stderr.write(`bench scale: stopped by ${signal}\n`);
    process.exit(1);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));

  const outcome = await new Promise<SizeOutcome>((resolve) => {
    let lastPhase = 'starting the bot child';
    let result: SizeResult | undefined;
    let broke: string | undefined;
    let failure: string | undefined;
    const milestones: string[] = [];
    let progress: string | undefined;
    let note: string | null = null;
    let cpu0: NodeJS.CpuUsage | undefined;
    let wall0 = 0;
    let standInCpuMs = 0;
    let standInWallMs = 0;
    const started = performance.now();
    let timer = setTimeout(() => {
      broke = `still ${lastPhase} after ${limitS} s (--size-limit)`;
      child.kill('SIGKILL');
    }, limitS * 1000);
    child.on('message', (message: ToParent) => {
      if (message.type === 'phase') {
        lastPhase = message.label;
        bench.phase(`N=${n}: ${message.label}`);
      } else if (message.type === 'measuring') {
        if (message.on) {
          cpu0 = process.cpuUsage();
          wall0 = performance.now();
        } else if (cpu0) {
          const cpu = process.cpuUsage(cpu0);
          standInCpuMs = (cpu.user + cpu.system) / 1000;
          standInWallMs = performance.now() - wall0;
        }
      } else if (message.type === 'failed') {
        failure = message.message;
      } else if (message.type === 'milestone') {
        milestones.push(message.text);
      } else if (message.type === 'progress') {
        progress = message.text;
      } else {
        result = message.result;
        clearTimeout(timer);
        timer = setTimeout(() => {
          note = `the bot took more than ${CLOSE_GRACE_MS / 1000} s to close; stopped`;
          child.kill('SIGKILL');
        }, CLOSE_GRACE_MS);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve({ n, result, standInCpuMs, standInWallMs, note });
      else {
        const after = `${((performance.now() - started) / 1000).toFixed(1)} s`;
        const why = broke ?? (failure ? `failed while ${lastPhase} after ${after}: ${failure}` : `the bot child exited (${code ?? signal}) while ${lastPhase} after ${after}`);
        const last = failure ? '' : stderr.trim().split('\n').slice(-6).join('\n    ');
        const lines = [
          why,
          ...(milestones.length > 0 ? [`done before: ${milestones.join('; ')}`] : []),
          ...(progress ? [`sampling then: ${progress}`] : []),
          ...(last ? [last] : []),
        ];
        resolve({ n, broke: lines.join('\n    ') });
      }
    });
    child.send({ type: 'job', job: { ...job, apiBaseUrl: standIn.apiBaseUrl, trafficUrls: standIn.scripts().map((s) => standIn.trafficUrl(s)), dir } });
  });
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  bench.phase(`N=${n}: closing the stand-in`);
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
  return outcome;
}

const num = (value: number, digits: number, unit = '') => (Number.isFinite(value) ? `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}` : 'n/a');
const kb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);

function describe(o: Extract<SizeOutcome, { result: SizeResult }>): string[] {
  const r = o.result;
  const s = r.measuredMs / 1000;
  const perRelease = r.samples / r.releases;
  const reachedBy = (i: number) => (r.bytesBySample[i]?.count ?? 0) >= r.releases / 2;
  const early = r.bytesBySample.slice(0, 3).filter((_, i) => reachedBy(i));
  let lastIdx = r.bytesBySample.length - 1;
  while (lastIdx > 0 && !reachedBy(lastIdx)) lastIdx--;
  const late = r.bytesBySample.slice(Math.max(3, lastIdx - 2), lastIdx + 1);
  const mean = (l: Array<{ mean: number }>) => (l.length === 0 ? NaN : l.reduce((a, b) => a + b.mean, 0) / l.length);
  const growth = (mean(late) / mean(early) - 1) * 100;
  const history =
    late.length === 0
      ? `samples 1–${early.length}: ${num(mean(early) / 1024, 1, 'KB')} (too few samples per release to compare with later ones)`
      : `samples 1–${early.length}: ${num(mean(early) / 1024, 1, 'KB')}, samples ${Math.max(4, lastIdx - 1)}–${lastIdx + 1}: ${num(mean(late) / 1024, 1, 'KB')} (${growth >= 0 ? '+' : ''}${num(growth, 0, '%')})`;
  return [
    `N=${r.releases}: config loaded in ${num(r.configMs / 1000, 1, 's')}; request → all ${r.releases} awaiting approval ${num(r.setupMs / 1000, 1, 's')}; approve → all monitoring ${num(r.approveMs / 1000, 1, 's')}${r.apiResets > 0 ? ` (${r.apiResets} API answer(s) lost to a reset connection, retried)` : ''}`,
    `  measured ${num(s, 1, 's')}${r.cutShort ? ` (cut short: ${r.cutShort})` : ''}: ${r.samples} samples (${num(perRelease, 1)} per release)`,
    `  CPU ${num(r.cpuMs / r.samples, 2, 'ms')} per sample (${num((r.cpuSystemMs / r.cpuMs) * 100, 0, '%')} of it in the kernel), ${num((r.cpuMs / r.measuredMs) * 100, 0, '%')} of one core; event-loop delay p50 ${num(r.loopP50Ms, 1, 'ms')}, p99 ${num(r.loopP99Ms, 1, 'ms')}, max ${num(r.loopMaxMs, 1, 'ms')}`,
    `  RSS peak ${num(r.rssPeakMb, 0, 'MB')} while monitoring (${num(r.maxRssMb, 0, 'MB')} lifetime max, setup included); V8 heap at the end ${num(r.heapTotalMb, 0, 'MB')}, ${num(r.heapLiveMb, 0, 'MB')} of it live; ` +
      `the idle bot (started, config loaded, no release) ${num(r.idleRssMb, 0, 'MB')} RSS, ${num(r.idleHeapLiveMb, 0, 'MB')} live heap`,
    `  SQLite: ${num(r.commits / s, 1)} transitions committed/s (+2 lease writes per sample, not fsynced); ${r.writeBytes === null ? 'bytes written n/a (no /proc/self/io)' : `${num(r.writeBytes / MB / s, 2, 'MB/s')} written, ${kb(r.writeBytes / r.samples)} per sample`}; store ${num(r.dbMb, 1, 'MB')} (db + WAL) at the end`,
    `  sample lateness (recorded − scheduled): p50 ${num(percentile(r.latenessMs, 50), 0, 'ms')}, p99 ${num(percentile(r.latenessMs, 99), 0, 'ms')}, max ${num(Math.max(...r.latenessMs), 0, 'ms')}; ` +
      `start (probe called − scheduled): p50 ${num(percentile(r.startLatenessMs, 50), 0, 'ms')}, p99 ${num(percentile(r.startLatenessMs, 99), 0, 'ms')}`,
    `  writes per sample vs history (the bot keeps ≤ ${r.historyBound} metric samples): a sample's commit (row + events as JSON) ${history}; ` +
      `written to storage per sample, first half ${kb(r.writeBytesFirstHalfPerSample)}, second half ${kb(r.writeBytesSecondHalfPerSample)}`,
    `  stand-in (the other process): ${num((o.standInCpuMs / o.standInWallMs) * 100, 0, '%')} of one core while measuring${o.note ? `; ${o.note}` : ''}`,
  ];
}

/** V8 flags for the bot child only (--v8-flags "--max-semi-space-size=1 --max-old-space-size=96"): the memory/CPU trade-off, measured. */
const v8Flags = (values['v8-flags'] ?? '').split(/\s+/).filter(Boolean);

async function main(): Promise<void> {
  const bench = startBench('scale', values);
  const sizes = (values.releases ?? (bench.smoke ? '10' : '50,200,1000')).split(',').map((t) => positiveInt(t.trim(), 'releases'));
  const intervalMs = durationMs(values.interval ?? (bench.smoke ? '200ms' : '1s'), 'interval');
  const windowMs = durationMs(values.window ?? (bench.smoke ? '3500ms' : '30s'), 'window');
  const measureMs = values.measure === undefined ? 10 * intervalMs : durationMs(values.measure, 'measure');
  const concurrency = positiveInt(values.concurrency, 'concurrency');
  const limitS = Number(values['size-limit'] ?? (bench.smoke ? '45' : '300'));
  if (!Number.isFinite(limitS) || limitS <= 0) throw new Error(`--size-limit must be a number of seconds, got ${values['size-limit']}`);

  await bench.run(async () => {
    console.log(
      `kevin-deploy scale benchmark: one bot monitoring N releases at once (N = ${sizes.join(', ')}) against the stand-in in another process; ` +
        `sample every ${intervalMs} ms, window ${windowMs / 1000} s, measured ${measureMs / 1000} s; app-json metrics, no user traffic; ` +
        `bot V8 flags: ${v8Flags.length > 0 ? v8Flags.join(' ') : 'Node defaults'}`,
    );
    const outcomes: SizeOutcome[] = [];
    for (const n of sizes) {
      const outcome = await runSize(bench, { releases: n, intervalMs, windowMs, measureMs, concurrency }, limitS);
      outcomes.push(outcome);
      if ('broke' in outcome) {
        console.log(`N=${n}: broke — ${outcome.broke}`);
        const skipped = sizes.slice(sizes.indexOf(n) + 1);
        if (skipped.length > 0) console.log(`skipped: N = ${skipped.join(', ')}`);
        break;
      }
      for (const line of describe(outcome)) console.log(line);
    }

    const cols = ['releases', 'samples', 'CPU/sample', 'CPU %core', 'loop p99', 'RSS peak', 'commits/s', 'KB/sample', 'late p50', 'late p99'];
    console.log(cols.map((c) => c.padStart(10)).join(' '));
    for (const o of outcomes) {
      if ('broke' in o) {
        console.log(`${String(o.n).padStart(10)}  broke (above)`);
        continue;
      }
      const r = o.result;
      const cells = [
        String(r.releases),
        String(r.samples),
        num(r.cpuMs / r.samples, 2, 'ms'),
        num((r.cpuMs / r.measuredMs) * 100, 0, '%'),
        num(r.loopP99Ms, 1, 'ms'),
        num(r.rssPeakMb, 0, 'MB'),
        num(r.commits / (r.measuredMs / 1000), 1),
        r.writeBytes === null ? 'n/a' : num(r.writeBytes / r.samples / 1024, 1),
        num(percentile(r.latenessMs, 50), 0, 'ms'),
        num(percentile(r.latenessMs, 99), 0, 'ms'),
      ];
      console.log(cells.map((c) => c.padStart(10)).join(' '));
    }
    const at200 = outcomes.find((o) => o.n === 200);
    let verdict = '200 not measured in this run';
    if (at200 && 'broke' in at200) verdict = 'not met: 200 broke (above)';
    else if (at200) {
      const r = at200.result;
      const p99 = percentile(r.latenessMs, 99);
      const met = Math.max(r.rssPeakMb, r.maxRssMb) < 150 && p99 < 1000 && r.cpuMs < r.measuredMs;
      verdict = `${met ? 'met' : 'not met'}: RSS ${num(r.rssPeakMb, 0, 'MB')} while monitoring (${num(r.maxRssMb, 0, 'MB')} lifetime max), lateness p99 ${num(p99, 0, 'ms')}, ${num((r.cpuMs / r.measuredMs) * 100, 0, '%')} of one core`;
    }
    console.log(`goal: 200 releases on one core: RSS < 150 MB, lateness p99 < 1 s — ${verdict}`);
  });
}

if (values['bot-child']) {
  // Stops with the bench: a parent that is gone (or killed us) leaves nothing running.
  process.on('disconnect', () => process.exit(1));
  process.once('message', (message: { type: 'job'; job: SizeJob }) => {
    runBotChild(message.job, (m) => process.send?.(m))
      // Exits once every message has gone out (they are sent in order: the last one's callback says so).
      .then(() => new Promise((sent) => process.send?.({ type: 'phase', label: 'done' }, undefined, {}, sent) ?? sent(undefined)))
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        const message = error instanceof Error ? error.message : String(error);
        const exit = () => process.exit(1);
        setTimeout(exit, 2000);
        if (process.send) process.send({ type: 'failed', message } satisfies ToParent, undefined, {}, exit);
        else exit();
      });
  });
} else {
  await main();
}
