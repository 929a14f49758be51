/**
 * npm run bench:replicas — several `kevin-deploy serve` replicas sharing one Postgres schema.
 *
 * This process runs the Cloudflare stand-in and two real replicas (`node bin/kevin-deploy.js
 * serve`, kd-a and kd-b, `server: { leaseTtl: 2s }`, LOG_LEVEL=debug, JSON logs read by the
 * bench) on a schema of their own, and measures in one run:
 *   1. takeover: a release's staging step is held in flight (the stand-in delays its deployment
 *      POST 1.5 s); the lease holder (read from deployment_leases) is SIGKILLed, and the time is
 *      taken from the kill to the moment the lease row is no longer the dead replica's — only the
 *      survivor's acquireLease can change it (polled every 5 ms). The survivor's own log line
 *      ("took the deployment over") is printed beside it. The killed replica is restarted (same
 *      port, same name) before the next one. Goal: ≤ TTL + 1 s.
 *   2. command → wake: N releases wait for approval; each is approved in turn, alternately on
 *      kd-a and kd-b, and runs to its end before the next. Timed: the approve answer → the first
 *      Cloudflare call of the step it starts and → the switch POST (at the stand-in: whichever
 *      replica acts); and, across replicas, the approving replica's commit (its "stage changed"
 *      log line) → the other replica's runner acting on it (its first log line about the
 *      deployment: the NOTIFY arrived and it tried the lease). Both race for the step's lease —
 *      the approving replica's runner, poked directly, and the other, woken by NOTIFY — and the
 *      switch POST time is also shown by who won. Goal: p99 < 100 ms.
 *   3. commit latency, in this process: openStore on SQLite (a temp file; WAL, synchronous=FULL)
 *      and on Postgres (a fresh schema): M compare-and-set commits
 *      (store.transaction(s => s.updateDeployment(…))) and M acquireLease + releaseLease pairs.
 *   4. R releases over the two replicas (requested alternately through each, then all
 *      approved): each replica's RSS (VmRSS every 200 ms), commits per second (the sum of the
 *      deployments' revisions, polled every 250 ms: every insert and update counts one), audit
 *      events per second, and how the commits and steps split between the replicas (their
 *      transition and "executing step" log lines).
 * Every schema the bench creates is dropped at the end (on a failure too, with psql), every child
 * is killed, the temp dir removed.
 *
 * Options: --takeovers K (default 5; 1 with --smoke), --commands N (50; 5), --commits M (500;
 * 50), --releases R (200; 20), --postgres URL (default $KEVIN_DEPLOY_TEST_POSTGRES_URL or
 * postgres://postgres@127.0.0.1:5432/test), and bench-kit's --smoke and --time-limit SECONDS.
 * Asserts nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openStore } from '../src/adapters/store/open-store.ts';
import type { Deployment } from '../src/domain/deployment.ts';
import { TERMINAL_STAGES, type Stage } from '../src/domain/stages.ts';
import { startCloudflareStandIn, type CloudflareStandIn } from '../sandbox/cloudflare-stand-in.ts';
import { freePort } from '../sandbox/free-port.ts';
import { BENCH_OPTIONS, percentile, startBench } from './bench-kit.ts';
import { BENCH_API_TOKEN, benchConfig } from './bench-bot.ts';

const { values } = parseArgs({
  options: {
    ...BENCH_OPTIONS,
    takeovers: { type: 'string' },
    commands: { type: 'string' },
    commits: { type: 'string' },
    releases: { type: 'string' },
    postgres: { type: 'string' },
  },
});
const bench = startBench('replicas', values);

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${option} must be a positive integer, got ${text}`);
  return n;
}
const TAKEOVERS = positiveInt(values.takeovers ?? (bench.smoke ? '1' : '5'), 'takeovers');
const COMMANDS = positiveInt(values.commands ?? (bench.smoke ? '5' : '50'), 'commands');
const COMMITS = positiveInt(values.commits ?? (bench.smoke ? '50' : '500'), 'commits');
const RELEASES = positiveInt(values.releases ?? (bench.smoke ? '20' : '200'), 'releases');
const PG_URL = values.postgres ?? process.env.KEVIN_DEPLOY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const TOKEN = 'bench-token-0123456789';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const LEASE_TTL_MS = 2_000;
const HOLD_MS = 1_500;
/** Section 4's monitoring window and sample interval: long enough that all R releases are monitored at once. */
const WINDOW = bench.smoke ? '2s' : '5s';
const INTERVAL = bench.smoke ? '250ms' : '500ms';
const READY_TIMEOUT_MS = 30_000;

/** The checkout: bin/kevin-deploy.js runs dist/, which this file is compiled into (dist/bench/). */
const REPO = [new URL('../../', import.meta.url), new URL('../', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(join(dir, 'bin', 'kevin-deploy.js')));
if (!REPO) throw new Error('cannot find bin/kevin-deploy.js above this file');
const BIN = join(REPO, 'bin', 'kevin-deploy.js');

const takeoverScript = (i: number) => `tk${i}`;
const wakeScript = (i: number) => `wk${String(i).padStart(3, '0')}`;
const releaseScript = (i: number) => `rl${String(i).padStart(4, '0')}`;

const withSchema = (url: string, schema: string) => `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
const newSchemaName = (what: string) => `kd_bench_${what}_${process.pid}_${randomBytes(3).toString('hex')}`;
const num = (value: number, digits: number, unit = '') => (Number.isFinite(value) ? `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}` : 'n/a');
const ms = (value: number, digits = 0) => num(value, digits, 'ms');
const s = (valueMs: number, digits = 2) => num(valueMs / 1000, digits, 's');
const mb = (value: number) => num(value, 0, 'MB');
const max = (list: readonly number[]) => (list.length === 0 ? NaN : Math.max(...list));
const mean = (list: readonly number[]) => (list.length === 0 ? NaN : list.reduce((a, b) => a + b, 0) / list.length);

// ——— cleanup: on success in order, on a failure (bench-kit's watchdog or a throw) or a signal at once ———

const cleanups: Array<() => void> = [];
function abortAll(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`bench replicas: cleanup failed: ${String(error)}\n`);
    }
  }
}
bench.onAbort(abortAll);
const onSignal = (signal: NodeJS.Signals) => {
  abortAll();
  process.stderr.write(`bench replicas: stopped by ${signal}\n`);
  process.exit(1);
};
process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

/** Synchronous, for an abort: psql drops the schema (the replicas are killed first, cleanups run last-in first-out). */
function dropSchemaSync(name: string): void {
  const result = spawnSync('psql', [PG_URL, '-v', 'ON_ERROR_STOP=1', '-qc', `DROP SCHEMA IF EXISTS "${name}" CASCADE`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  if (result.status !== 0) process.stderr.write(`bench replicas: could not drop schema ${name} (${result.error?.message ?? result.stderr?.toString().trim()}); drop it by hand\n`);
}

async function dropSchema(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}

// ——— the replicas ———

/** A log line of a replica that names a deployment. */
interface LogLine {
  at: number;
  msg: string;
  id: string;
  stage: string | undefined;
  step: string | undefined;
  service: string | undefined;
}

interface Replica {
  name: string;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  lines: LogLine[];
  tail: string[];
}

const alive = (r: Replica) => r.child !== undefined && r.child.exitCode === null && r.child.signalCode === null;

function collect(stream: NodeJS.ReadableStream, replica: Replica): void {
  let partial = '';
  stream.setEncoding('utf8');
  const line = (text: string) => {
    if (!text) return;
    replica.tail.push(text);
    if (replica.tail.length > 30) replica.tail.shift();
    if (!text.startsWith('{')) return;
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (typeof o.deploymentId !== 'string' || typeof o.time !== 'string' || typeof o.msg !== 'string') return;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      replica.lines.push({ at: Date.parse(o.time), msg: o.msg, id: o.deploymentId, stage: str(o.stage), step: str(o.step), service: str(o.service) });
    } catch {
      // not a JSON log line
    }
  };
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) line(part);
  });
  stream.on('end', () => {
    line(partial);
    partial = '';
  });
}

function tails(replicas: readonly Replica[]): string {
  return replicas.map((r) => `— ${r.name} (${alive(r) ? 'running' : 'not running'}) —\n${r.tail.slice(-12).join('\n')}`).join('\n');
}

async function stopReplica(r: Replica): Promise<void> {
  const child = r.child;
  if (!child || !alive(r)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// ——— the Postgres store, read past the replicas ———

type Row = Record<string, unknown>;

async function query<T extends Row>(client: pg.Client, text: string, params: unknown[] = []): Promise<T[]> {
  return (await client.query<T>(text, params)).rows;
}

// ——— the fixed parts of the run ———

interface Ctx {
  standIn: CloudflareStandIn;
  replicas: [Replica, Replica];
  db: pg.Client;
  /** Stand-in API calls by script: when (performance.now()), which. */
  calls: Map<string, Array<{ at: number; method: string; path: string }>>;
  launch(r: Replica): Promise<number>;
}

async function waitUntil<T>(label: string, check: () => Promise<T | undefined>, timeoutMs: number, ctx: Ctx | undefined, intervalMs = 20): Promise<T> {
  bench.phase(label);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000} s ${label}${ctx ? `\n${tails(ctx.replicas)}` : ''}`);
    await sleep(intervalMs);
  }
}

async function api<T = any>(r: Replica, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${r.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_API_TOKEN}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function request(r: Replica, script: string): Promise<string> {
  const created = await api<{ id: string; detail?: string }>(r, 'POST', '/deployments', { service: script, environment: 'production', version: 'g1' });
  if (created.status !== 201) throw new Error(`requesting ${script} through ${r.name}: HTTP ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

async function inBatches<T>(items: readonly T[], concurrency: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await each(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const TERMINAL = [...TERMINAL_STAGES];
const STUCK: Stage[] = [...TERMINAL, 'needs_attention'];

/** Waits until every one of `ids` is in `stage` (or, with `stage` terminal, has ended); a release stuck elsewhere fails the bench. */
async function waitForAll(ctx: Ctx, ids: readonly string[], stage: 'awaiting_approval' | 'ended', label: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    label,
    async () => {
      const rows = await query<{ id: string; stage: Stage; reason: string }>(ctx.db, 'SELECT id, stage, reason FROM deployments WHERE id = ANY($1)', [ids]);
      const done = stage === 'ended' ? rows.filter((r) => TERMINAL_STAGES.has(r.stage)) : rows.filter((r) => r.stage === stage);
      if (stage === 'awaiting_approval') {
        const stuck = rows.find((r) => STUCK.includes(r.stage));
        if (stuck) throw new Error(`${stuck.id} is ${stuck.stage} and will not wait for approval: ${stuck.reason}`);
      }
      return done.length === ids.length ? true : undefined;
    },
    timeoutMs,
    ctx,
    25,
  );
}

// ——— 1. takeover ———

interface Takeover {
  script: string;
  killed: string;
  survivor: string;
  stage: string;
  leaseLeftMs: number;
  takeoverMs: number;
  loggedMs: number;
  onToApprovalMs: number;
  restartMs: number;
}

async function takeovers(ctx: Ctx): Promise<Takeover[]> {
  const results: Takeover[] = [];
  for (let i = 0; i < TAKEOVERS; i++) {
    const script = takeoverScript(i);
    const via = ctx.replicas[i % 2]!;
    const posts = () => (ctx.calls.get(script) ?? []).filter((c) => c.method === 'POST' && c.path.endsWith('/deployments'));
    ctx.standIn.injectFault({ method: 'POST', path: `/scripts/${script}/deployments$`, kind: 'latency', latencyMs: HOLD_MS, times: 1 });
    bench.phase(`takeover ${i + 1}: requesting ${script} through ${via.name}`);
    const id = await request(via, script);
    await waitUntil(`takeover ${i + 1}: waiting for ${id}'s staging POST to reach Cloudflare`, async () => (posts().length > 0 ? true : undefined), 15_000, ctx, 2);
    const lease = await waitUntil(
      `takeover ${i + 1}: reading who holds ${id}'s lease`,
      async () =>
        (
          await query<{ owner: string; left_ms: number; stage: string }>(
            ctx.db,
            `SELECT l.owner, (extract(epoch FROM (l.expires_at::timestamptz - clock_timestamp())) * 1000)::float8 AS left_ms, d.stage
               FROM deployment_leases l JOIN deployments d ON d.id = l.deployment_id WHERE l.deployment_id = $1`,
            [id],
          )
        )[0],
      5_000,
      ctx,
      2,
    );
    const holder = ctx.replicas.find((r) => r.name === lease.owner);
    if (!holder) throw new Error(`${id}'s lease is held by "${lease.owner}", not a replica of this bench`);
    const survivor = ctx.replicas.find((r) => r !== holder)!;
    const killedChild = holder.child!;
    const exited = once(killedChild, 'exit');
    const killWall = Date.now();
    killedChild.kill('SIGKILL');
    const killAt = performance.now();
    const takenAt = await waitUntil(
      `takeover ${i + 1}: waiting for ${survivor.name} to take ${id} over from the killed ${holder.name}`,
      async () => {
        const row = (await query<{ owner: string }>(ctx.db, 'SELECT owner FROM deployment_leases WHERE deployment_id = $1', [id]))[0];
        return row?.owner === holder.name ? undefined : performance.now();
      },
      30_000,
      ctx,
      5,
    );
    await exited;
    const onAt = await waitUntil(
      `takeover ${i + 1}: waiting for ${survivor.name} to bring ${id} to awaiting_approval`,
      async () => {
        const row = (await query<{ stage: Stage; reason: string }>(ctx.db, 'SELECT stage, reason FROM deployments WHERE id = $1', [id]))[0];
        if (row && STUCK.includes(row.stage)) throw new Error(`${id} ended ${row.stage} after the takeover: ${row.reason}`);
        return row?.stage === 'awaiting_approval' ? performance.now() : undefined;
      },
      30_000,
      ctx,
      10,
    );
    const logged = survivor.lines.find((l) => l.id === id && l.msg.startsWith('took the deployment over'));
    bench.phase(`takeover ${i + 1}: restarting ${holder.name}`);
    const restartMs = await ctx.launch(holder);
    const rejected = await api(survivor, 'POST', `/deployments/${id}/reject`, { comment: 'bench: takeover measured' });
    if (rejected.status !== 200) throw new Error(`rejecting ${id}: HTTP ${rejected.status}: ${JSON.stringify(rejected.body)}`);
    results.push({
      script,
      killed: holder.name,
      survivor: survivor.name,
      stage: lease.stage,
      leaseLeftMs: lease.left_ms,
      takeoverMs: takenAt - killAt,
      loggedMs: logged ? logged.at - killWall : NaN,
      onToApprovalMs: onAt - killAt,
      restartMs,
    });
  }
  return results;
}

// ——— 2. command → wake ———

interface Wake {
  approvedOn: string;
  firstCallMs: number;
  switchPostMs: number;
  stepBy: string | undefined;
  /** The approving replica's commit → the other replica's first reaction (log times, ms). */
  crossMs: number;
}

async function commandsToWake(ctx: Ctx): Promise<Wake[]> {
  const scripts = Array.from({ length: COMMANDS }, (_, i) => wakeScript(i));
  const ids: string[] = [];
  bench.phase(`requesting ${COMMANDS} releases to approve`);
  await inBatches(scripts, 8, async (script, i) => {
    ids[i] = await request(ctx.replicas[(i + 1) % 2]!, script);
  });
  await waitForAll(ctx, ids, 'awaiting_approval', `waiting for ${COMMANDS} releases to await approval`, 60_000);
  const results: Wake[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const id = ids[i]!;
    const script = scripts[i]!;
    const approver = ctx.replicas[i % 2]!;
    const other = ctx.replicas[(i + 1) % 2]!;
    bench.phase(`command ${i + 1}: approving ${id} on ${approver.name}`);
    const sentWall = Date.now();
    const sentAt = performance.now();
    const approved = await api(approver, 'POST', `/deployments/${id}/approve`, {});
    const answeredAt = performance.now();
    if (approved.status !== 200) throw new Error(`approving ${id} on ${approver.name}: HTTP ${approved.status}: ${JSON.stringify(approved.body)}`);
    await waitForAll(ctx, [id], 'ended', `command ${i + 1}: waiting for ${id} to end`, 30_000);
    const after = (ctx.calls.get(script) ?? []).filter((c) => c.at >= sentAt);
    const firstCall = after[0];
    const switchPost = after.find((c) => c.method === 'POST' && c.path.endsWith('/deployments'));
    const commit = approver.lines.find((l) => l.id === id && l.at >= sentWall - 1 && l.msg === 'stage changed' && l.stage === 'switching');
    const reaction = commit ? other.lines.find((l) => l.id === id && l.at >= sentWall - 1) : undefined;
    const firstStep = [...approver.lines.map((l) => ({ l, by: approver.name })), ...other.lines.map((l) => ({ l, by: other.name }))]
      .filter(({ l }) => l.id === id && l.at >= sentWall - 1 && l.msg === 'executing step')
      .sort((a, b) => a.l.at - b.l.at)[0];
    results.push({
      approvedOn: approver.name,
      firstCallMs: firstCall ? firstCall.at - answeredAt : NaN,
      switchPostMs: switchPost ? switchPost.at - answeredAt : NaN,
      stepBy: firstStep?.by,
      crossMs: commit && reaction ? reaction.at - commit.at : NaN,
    });
  }
  return results;
}

// ——— 3. commit latency, in this process ———

interface CommitFigures {
  commit: number[];
  lease: number[];
}

async function commitLatency(url: string, label: string): Promise<CommitFigures> {
  const { store } = await openStore(url);
  try {
    const now = new Date().toISOString();
    let d: Deployment = {
      id: `bench-${label}-${randomBytes(4).toString('hex')}`,
      service: 'bench',
      environment: 'production',
      kind: 'release',
      stage: 'monitoring',
      versionRef: 'g1',
      version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'g1' },
      previousVersion: { id: 'aaaaaaaa-1111-4111-8111-111111111111', tag: 'v1' },
      strategy: 'blue-green',
      split: { 'bbbbbbbb-2222-4222-8222-222222222222': 100, 'aaaaaaaa-1111-4111-8111-111111111111': 0 },
      requestedBy: 'bench',
      note: null,
      force: false,
      approvals: [{ actor: 'bench', at: now }],
      reason: 'monitoring',
      stageTimes: { requested: now, monitoring: now },
      progress: { attempt: 0, samplesTaken: 0 },
      wakeAt: now,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    await store.insertDeployment(d);
    const commitOnce = async (n: number) => {
      const at = new Date().toISOString();
      const next = await store.transaction((session) => session.updateDeployment({ ...d, progress: { attempt: 0, samplesTaken: n }, wakeAt: at, updatedAt: at }, d.revision));
      if (!next) throw new Error(`${label}: the compare-and-set commit at revision ${d.revision} found another revision`);
      d = next;
    };
    const leaseOnce = async () => {
      if (!(await store.acquireLease(d.id, 'bench', LEASE_TTL_MS))) throw new Error(`${label}: acquireLease refused`);
      await store.releaseLease(d.id, 'bench');
    };
    // A few untimed first: the first statements of a connection are planned and cached.
    for (let i = 0; i < 5; i++) {
      await commitOnce(i);
      await leaseOnce();
    }
    const figures: CommitFigures = { commit: [], lease: [] };
    for (let i = 0; i < COMMITS; i++) {
      const t = performance.now();
      await commitOnce(i);
      figures.commit.push(performance.now() - t);
    }
    for (let i = 0; i < COMMITS; i++) {
      const t = performance.now();
      await leaseOnce();
      figures.lease.push(performance.now() - t);
    }
    return figures;
  } finally {
    await store.close();
  }
}

// ——— 4. R releases over 2 replicas ———

interface Load {
  requestMs: number;
  approveMs: number;
  totalMs: number;
  commits: number;
  events: number;
  peakCommitsPerS: number;
  maxMonitoring: number;
  rss: Record<string, { before: number; peak: number; mean: number }>;
  split: Record<string, { commits: number; steps: number }>;
}

function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function manyReleases(ctx: Ctx): Promise<Load> {
  const scripts = Array.from({ length: RELEASES }, (_, i) => releaseScript(i));
  const ids: string[] = [];
  const rssSamples = new Map<string, number[]>(ctx.replicas.map((r) => [r.name, []]));
  const before = Object.fromEntries(ctx.replicas.map((r) => [r.name, rssMb(r.child?.pid) ?? NaN]));
  const rssTimer = setInterval(() => {
    for (const r of ctx.replicas) {
      const value = rssMb(r.child?.pid);
      if (value !== undefined) rssSamples.get(r.name)!.push(value);
    }
  }, 200);
  const series: Array<{ at: number; commits: number; events: number; monitoring: number }> = [];
  let polling = true;
  const poll = async () => {
    while (polling) {
      const known = ids.filter(Boolean);
      const [row] = await query<{ commits: number; monitoring: number; events: number }>(
        ctx.db,
        `SELECT coalesce(sum(revision), 0)::int AS commits, count(*) FILTER (WHERE stage = 'monitoring')::int AS monitoring,
                (SELECT count(*) FROM deployment_events WHERE deployment_id = ANY($1))::int AS events
           FROM deployments WHERE id = ANY($1)`,
        [known],
      );
      series.push({ at: performance.now(), commits: row?.commits ?? 0, events: row?.events ?? 0, monitoring: row?.monitoring ?? 0 });
      await sleep(250);
    }
  };
  const t0 = performance.now();
  series.push({ at: t0, commits: 0, events: 0, monitoring: 0 });
  const poller = poll();
  try {
    bench.phase(`requesting ${RELEASES} releases through both replicas`);
    await inBatches(scripts, 16, async (script, i) => {
      ids[i] = await request(ctx.replicas[i % 2]!, script);
    });
    await waitForAll(ctx, ids, 'awaiting_approval', `waiting for ${RELEASES} releases to await approval`, 300_000);
    const t1 = performance.now();
    bench.phase(`approving ${RELEASES} releases through both replicas`);
    await inBatches(ids, 16, async (id, i) => {
      const approved = await api(ctx.replicas[i % 2]!, 'POST', `/deployments/${id}/approve`, {});
      if (approved.status !== 200) throw new Error(`approving ${id}: HTTP ${approved.status}: ${JSON.stringify(approved.body)}`);
    });
    await waitForAll(ctx, ids, 'ended', `waiting for ${RELEASES} releases to end`, 600_000);
    const t2 = performance.now();
    polling = false;
    await poller;
    // The final count, after every release has ended.
    const [last] = await query<{ commits: number; events: number }>(
      ctx.db,
      `SELECT coalesce(sum(revision), 0)::int AS commits, (SELECT count(*) FROM deployment_events WHERE deployment_id = ANY($1))::int AS events FROM deployments WHERE id = ANY($1)`,
      [ids],
    );
    const outcomes = await query<{ stage: string; n: number }>(ctx.db, 'SELECT stage, count(*)::int AS n FROM deployments WHERE id = ANY($1) GROUP BY stage', [ids]);
    const notSucceeded = outcomes.filter((o) => o.stage !== 'succeeded');
    if (notSucceeded.length > 0) process.stdout.write(`  note: not every release succeeded: ${outcomes.map((o) => `${o.n} ${o.stage}`).join(', ')}\n`);
    // Commits per second over any 1 s of the run (the closest samples 1 s apart).
    let peak = 0;
    for (let a = 0, b = 0; b < series.length; b++) {
      while (series[b]!.at - series[a]!.at > 1_000) a++;
      const span = series[b]!.at - series[a]!.at;
      if (span >= 750) peak = Math.max(peak, ((series[b]!.commits - series[a]!.commits) * 1000) / span);
    }
    // Give the replicas' logs a moment to arrive before counting them.
    await sleep(300);
    const idSet = new Set(ids);
    const split = Object.fromEntries(
      ctx.replicas.map((r) => {
        const mine = r.lines.filter((l) => idSet.has(l.id));
        return [
          r.name,
          {
            commits: mine.filter((l) => l.msg === 'deployment requested' || l.msg === 'stage changed' || l.msg === 'progress').length,
            steps: mine.filter((l) => l.msg === 'executing step').length,
          },
        ];
      }),
    );
    const rss = Object.fromEntries(ctx.replicas.map((r) => [r.name, { before: before[r.name] ?? NaN, peak: max(rssSamples.get(r.name)!), mean: mean(rssSamples.get(r.name)!) }]));
    return {
      requestMs: t1 - t0,
      approveMs: t2 - t1,
      totalMs: t2 - t0,
      commits: last?.commits ?? 0,
      events: last?.events ?? 0,
      peakCommitsPerS: peak,
      maxMonitoring: Math.max(0, ...series.map((x) => x.monitoring)),
      rss,
      split,
    };
  } finally {
    polling = false;
    clearInterval(rssTimer);
    await poller.catch(() => undefined);
  }
}

// ——— the run ———

function serviceYaml(script: string, url: string, window: string, interval: string): string {
  return `  ${script}:
    platform: { accountId: ${ACCOUNT}, scriptName: ${script} }
    productionUrl: ${url}
    health: { attempts: 3, interval: 30ms, timeout: 2s }
    monitor: { window: ${window}, interval: ${interval}, metrics: { source: none } }
    rollback: { verifyAttempts: 3, verifyInterval: 30ms }
    approval: { approvers: ['*'], fourEyes: false }
    environments: { production: {} }`;
}

async function main(): Promise<void> {
  const smoke = bench.smoke ? ' (smoke)' : '';
  console.log(
    `kevin-deploy replicas benchmark: 2 replicas on one Postgres schema, leaseTtl ${LEASE_TTL_MS / 1000} s; ` +
      `takeovers K=${TAKEOVERS}, commands N=${COMMANDS}, commits M=${COMMITS}, releases R=${RELEASES}${smoke}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-replicas-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const schema = newSchemaName('replicas');
  const commitSchema = newSchemaName('commits');
  cleanups.push(() => dropSchemaSync(schema));
  cleanups.push(() => dropSchemaSync(commitSchema));

  bench.phase('starting the Cloudflare stand-in');
  const scripts = [
    ...Array.from({ length: TAKEOVERS }, (_, i) => takeoverScript(i)),
    ...Array.from({ length: COMMANDS }, (_, i) => wakeScript(i)),
    ...Array.from({ length: RELEASES }, (_, i) => releaseScript(i)),
  ];
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts });
  cleanups.push(() => void standIn.close());
  for (const script of scripts) {
    const v1 = standIn.addVersion(script, { tag: 'v1' });
    standIn.deploy(script, { [v1.id]: 100 });
    standIn.addVersion(script, { tag: 'g1' });
  }
  const calls: Ctx['calls'] = new Map();
  standIn.onRequest(({ method, path }) => {
    const script = /\/workers\/scripts\/([^/]+)/.exec(path)?.[1];
    if (!script) return;
    let list = calls.get(script);
    if (!list) calls.set(script, (list = []));
    list.push({ at: performance.now(), method, path });
  });

  const services = scripts.map((script) =>
    script.startsWith('rl') ? serviceYaml(script, standIn.trafficUrl(script), WINDOW, INTERVAL) : serviceYaml(script, standIn.trafficUrl(script), '300ms', '100ms'),
  );
  const text = `server: { host: 127.0.0.1, leaseTtl: ${LEASE_TTL_MS}ms }
apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]
services:
${services.join('\n')}
`;
  benchConfig('replicas-bench', text);
  const configPath = join(dir, 'kevin-deploy.yml');
  writeFileSync(configPath, text);
  const databaseUrl = withSchema(PG_URL, schema);

  const replicas: [Replica, Replica] = await Promise.all(
    ['kd-a', 'kd-b'].map(async (name): Promise<Replica> => {
      const port = await freePort();
      return { name, port, url: `http://127.0.0.1:${port}`, child: undefined, lines: [], tail: [] };
    }),
  ) as [Replica, Replica];
  cleanups.push(() => {
    for (const r of replicas) if (alive(r)) r.child!.kill('SIGKILL');
  });
  const launch = async (r: Replica): Promise<number> => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(r.port),
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        KEVIN_DEPLOY_INSTANCE: r.name,
        DATABASE_URL: databaseUrl,
        CLOUDFLARE_API_TOKEN: TOKEN,
        CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
        BENCH_TOKEN: BENCH_API_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    r.child = child;
    collect(child.stdout!, r);
    collect(child.stderr!, r);
    await waitUntil(
      `waiting for ${r.name} to answer /readyz`,
      async () => {
        if (!alive(r)) throw new Error(`${r.name} exited while starting:\n${r.tail.join('\n')}`);
        try {
          return (await fetch(`${r.url}/readyz`)).status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      READY_TIMEOUT_MS,
      undefined,
      25,
    );
    return performance.now() - started;
  };
  // One after the other: the first creates the schema and migrates it.
  const startA = await launch(replicas[0]);
  const startB = await launch(replicas[1]);

  const db = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await db.connect();
  cleanups.push(() => void db.end().catch(() => undefined));
  const settings = await query<{ fsync: string; synchronous_commit: string; version: string }>(
    db,
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit, current_setting('server_version') AS version",
  );
  const pgSettings = settings[0]!;
  console.log(
    `Postgres ${pgSettings.version} at ${PG_URL.replace(/:[^:@/]*@/, ':***@')} (fsync ${pgSettings.fsync}, synchronous_commit ${pgSettings.synchronous_commit}); ` +
      `replicas kd-a and kd-b started in ${s(startA)} and ${s(startB)}, ${scripts.length} services, LOG_LEVEL=debug (their logs are read for the wake and the split)`,
  );
  const ctx: Ctx = { standIn, replicas, db, calls, launch };

  // 1.
  console.log('');
  console.log(`1. takeover after SIGKILL of the lease holder (staging POST held ${s(HOLD_MS, 1)}); measured: the kill → the lease row no longer the killed replica's (polled every 5 ms)`);
  const tk = await takeovers(ctx);
  for (const [i, t] of tk.entries()) {
    console.log(
      `  #${i + 1} ${t.script}: ${t.killed} killed in ${t.stage} (its lease had ${s(t.leaseLeftMs)} left) → ${t.survivor} took it over in ${s(t.takeoverMs)} ` +
        `(its log says ${s(t.loggedMs)}); awaiting approval ${s(t.onToApprovalMs)} after the kill; ${t.killed} restarted in ${s(t.restartMs)}`,
    );
  }
  const takeoverMs = tk.map((t) => t.takeoverMs);
  const takeoverGoalMs = LEASE_TTL_MS + 1_000;
  const takeoverMet = max(takeoverMs) <= takeoverGoalMs;
  console.log(`takeover (n=${tk.length}): p50 ${s(percentile(takeoverMs, 50))}, max ${s(max(takeoverMs))} — goal ≤ TTL + 1 s = ${s(takeoverGoalMs, 1)}: ${takeoverMet ? 'met' : 'not met'}`);

  // 2.
  console.log('');
  console.log(`2. command → wake: ${COMMANDS} approvals, alternately on kd-a and kd-b, one at a time (each release ends before the next approve)`);
  const wakes = await commandsToWake(ctx);
  const firstCall = wakes.map((w) => w.firstCallMs).filter(Number.isFinite);
  const switchPost = wakes.map((w) => w.switchPostMs).filter(Number.isFinite);
  const cross = wakes.map((w) => w.crossMs).filter(Number.isFinite);
  const bySelf = wakes.filter((w) => w.stepBy === w.approvedOn);
  const byOther = wakes.filter((w) => w.stepBy !== undefined && w.stepBy !== w.approvedOn);
  const postsOf = (list: Wake[]) => list.map((w) => w.switchPostMs).filter(Number.isFinite);
  console.log(`  approve answer → first Cloudflare call of the step (n=${firstCall.length}): p50 ${ms(percentile(firstCall, 50), 1)}, p99 ${ms(percentile(firstCall, 99), 1)}, max ${ms(max(firstCall), 1)}`);
  console.log(`  approve answer → switch POST at Cloudflare (n=${switchPost.length}): p50 ${ms(percentile(switchPost, 50), 1)}, p99 ${ms(percentile(switchPost, 99), 1)}, max ${ms(max(switchPost), 1)}`);
  console.log(
    `  the step was taken by the approving replica ${bySelf.length} time(s) (switch POST p50 ${ms(percentile(postsOf(bySelf), 50), 1)}: its own runner, poked directly), ` +
      `by the other ${byOther.length} time(s) (p50 ${ms(percentile(postsOf(byOther), 50), 1)}, p99 ${ms(percentile(postsOf(byOther), 99), 1)}: woken by NOTIFY, it won the lease)`,
  );
  const crossMissing = wakes.length - cross.length;
  const crossP99 = percentile(cross, 99);
  const wakeMet = cross.length > 0 && crossMissing === 0 && crossP99 < 100;
  console.log(
    `command-to-wake across replicas: commit on one → the other's runner acts (log times, 1 ms resolution) (n=${cross.length}): ` +
      `p50 ${ms(percentile(cross, 50))}, p99 ${ms(crossP99)}, max ${ms(max(cross))}${crossMissing > 0 ? `; ${crossMissing} without a reaction seen` : ''} — goal p99 < 100 ms: ${wakeMet ? 'met' : 'not met'}`,
  );

  // 3.
  console.log('');
  console.log(
    `3. commit latency in this process (M=${COMMITS} each, after 5 untimed): SQLite (temp file, WAL, synchronous=FULL; lease writes synchronous=NORMAL) ` +
      `vs Postgres (a fresh schema; a lease pair is two autocommits)`,
  );
  bench.phase('timing SQLite commits');
  const sqlite = await commitLatency(`sqlite:${join(dir, 'commits.db')}`, 'sqlite');
  bench.phase('timing Postgres commits');
  const postgres = await commitLatency(withSchema(PG_URL, commitSchema), 'postgres');
  await dropSchema(commitSchema);
  console.log(`${''.padEnd(2)}${'dialect'.padEnd(10)}${'CAS commit p50'.padStart(16)}${'p99'.padStart(11)}${'lease pair p50'.padStart(16)}${'p99'.padStart(11)}`);
  for (const [label, f] of [['sqlite', sqlite], ['postgres', postgres]] as const) {
    console.log(
      `${''.padEnd(2)}${label.padEnd(10)}${ms(percentile(f.commit, 50), 2).padStart(16)}${ms(percentile(f.commit, 99), 2).padStart(11)}` +
        `${ms(percentile(f.lease, 50), 2).padStart(16)}${ms(percentile(f.lease, 99), 2).padStart(11)}`,
    );
  }
  const commitRatio = percentile(postgres.commit, 50) / percentile(sqlite.commit, 50);
  const leaseRatio = percentile(postgres.lease, 50) / percentile(sqlite.lease, 50);
  console.log(`  Postgres / SQLite at p50: commit ×${num(commitRatio, 2)}, lease pair ×${num(leaseRatio, 2)}`);

  // 4.
  console.log('');
  console.log(`4. ${RELEASES} releases over 2 replicas (requested and approved alternately through each; monitoring window ${WINDOW}, sample every ${INTERVAL})`);
  const load = await manyReleases(ctx);
  const totalS = load.totalMs / 1000;
  console.log(
    `  request → all ${RELEASES} awaiting approval ${s(load.requestMs)}; approve → all ${RELEASES} ended ${s(load.approveMs)}; at most ${load.maxMonitoring} monitoring at once (seen every 250 ms)`,
  );
  console.log(
    `  commits: ${load.commits} in ${s(load.totalMs, 1)} = ${num(load.commits / totalS, 1)}/s overall, peak ${num(load.peakCommitsPerS, 1)}/s over 1 s; ` +
      `audit events ${num(load.events / totalS, 1)}/s`,
  );
  for (const r of replicas) {
    const rss = load.rss[r.name]!;
    const split = load.split[r.name]!;
    const commitsLogged = Object.values(load.split).reduce((a, b) => a + b.commits, 0);
    const steps = Object.values(load.split).reduce((a, b) => a + b.steps, 0);
    console.log(
      `  ${r.name}: RSS ${mb(rss.before)} before, peak ${mb(rss.peak)}, mean ${mb(rss.mean)}; ` +
        `committed ${split.commits} transitions (${num((split.commits / commitsLogged) * 100, 0, '%')}), executed ${split.steps} steps (${num((split.steps / steps) * 100, 0, '%')})`,
    );
  }
  const commitsLogged = Object.values(load.split).reduce((a, b) => a + b.commits, 0);
  console.log(`  (the replicas logged ${commitsLogged} transitions for the ${load.commits} commits the database counts)`);

  // Summary.
  console.log('');
  const rows: Array<[string, string, string, string]> = [
    ['figure', 'goal', 'measured', 'verdict'],
    [`takeover after SIGKILL, max of ${tk.length}`, `≤ ${s(takeoverGoalMs, 1)} (TTL + 1 s)`, `${s(max(takeoverMs))} (p50 ${s(percentile(takeoverMs, 50))})`, takeoverMet ? 'met' : 'not met'],
    [`command → other replica acts, p99 of ${cross.length}`, '< 100 ms', `${ms(crossP99)} (p50 ${ms(percentile(cross, 50))})`, wakeMet ? 'met' : 'not met'],
    [`approve → switch POST, p99 of ${switchPost.length}`, '—', ms(percentile(switchPost, 99), 1), '—'],
    ['CAS commit p50, Postgres vs SQLite', '—', `${ms(percentile(postgres.commit, 50), 2)} vs ${ms(percentile(sqlite.commit, 50), 2)} (×${num(commitRatio, 2)})`, '—'],
    [`${RELEASES} releases over 2 replicas`, '—', `${num(load.commits / totalS, 1)} commits/s; RSS peak ${replicas.map((r) => mb(load.rss[r.name]!.peak)).join(' / ')}`, '—'],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  '));

  bench.phase('stopping the replicas and the stand-in, dropping the schema');
  for (const r of replicas) await stopReplica(r);
  await db.end();
  await standIn.close();
  await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
  cleanups.length = 0;
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
}

await bench.run(main);
