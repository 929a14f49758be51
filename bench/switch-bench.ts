/**
 * npm run bench:switch — "zero failed user requests during a switch".
 *
 * In one process: the Cloudflare stand-in (its edge routes every request to a version by the
 * active deployment, as users reach a Worker), the real bot (SQLite, runner, HTTP API, app-json
 * metrics) and steady synthetic user traffic — `GET /` on the edge's traffic URL, evenly spaced at
 * --rps (default 100), each request timed. The bot releases in rounds of two:
 *   1. a healthy release: staging and verification (green at 0 %), approval, the switch, and the
 *      whole monitoring window until it succeeds;
 *   2. a broken release — healthy until it has traffic, then off-brand (no KEVIN) and answering
 *      20 % of pages with a 500 — its switch, the monitoring sample that catches it (the content
 *      trigger), and the automatic rollback until blue's health is verified.
 *
 * Every answer is classified (the rule behind "failed by the switch", goal 0):
 *   ok                    a 2xx;
 *   error by design       a 500 answered by a version whose configured behaviour serves 500s on
 *                         purpose: the edge names the version in x-kevin-version, and the bench
 *                         knows each version's errorPercent (only the broken one has any). This is
 *                         what the broken release does to users, and what the rollback ends;
 *   failed by the switch  anything else: no complete answer (refused, reset, timeout 5 s), an
 *                         answer without x-kevin-version (the edge found no version to route to),
 *                         or a non-2xx from a version that never serves one by design.
 * The same header times when users really reach the other version (as the sandbox's traffic
 * collector learns who answered): from the switch call — the approve request of a healthy
 * release, or the rollback trigger, i.e. the moment the bot committed `rolling_back` — to the
 * first request answered by the version traffic moves to, and to the last one still answered by
 * the version it leaves. (The broken release's own switch is not timed: its rollback may come
 * before any user request reaches it; the table counts what it answered.)
 *
 * Options: --rps N (default 100; 20 with --smoke), --rounds N (default 3; 1), --window DURATION
 * (monitoring window, default 3s; 600ms), --interval DURATION (sample interval, default 250ms;
 * 150ms), and bench-kit's --smoke and --time-limit SECONDS. Asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.ts';
import type { Deployment } from '../src/domain/deployment.ts';
import { isTerminal } from '../src/domain/stages.ts';
import { startCloudflareStandIn, type BehaviorSpec } from '../sandbox/cloudflare-stand-in.ts';
import { resolveBehavior } from '../sandbox/sample-site.ts';
import { BENCH_OPTIONS, startBench } from './bench-kit.ts';
import { benchConfig, startBenchBot } from './bench-bot.ts';

const { values } = parseArgs({
  options: {
    ...BENCH_OPTIONS,
    rps: { type: 'string' },
    rounds: { type: 'string' },
    window: { type: 'string' },
    interval: { type: 'string' },
  },
});
const bench = startBench('switch', values);
const RPS = Number(values.rps ?? (bench.smoke ? '20' : '100'));
const ROUNDS = Number(values.rounds ?? (bench.smoke ? '1' : '3'));
const WINDOW = values.window ?? (bench.smoke ? '600ms' : '3s');
const INTERVAL = values.interval ?? (bench.smoke ? '150ms' : '250ms');
const durationMs = (text: string, option: string): number => {
  const parsed = parseDuration(text);
  if (parsed === undefined || parsed <= 0) throw new Error(`--${option} is a duration such as 3s or 250ms, got ${text}`);
  return parsed;
};
durationMs(WINDOW, 'window');
const INTERVAL_MS = durationMs(INTERVAL, 'interval');
if (!Number.isFinite(RPS) || RPS <= 0 || RPS > 1000) throw new Error(`--rps must be a number above 0 and at most 1000, got ${values.rps}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

const TOKEN = 'bench-token-0123456789';
const ACCOUNT = '0123456789abcdef0123456789abcdef';
const SCRIPT = 'kevinstamp';
const REQUEST_TIMEOUT_MS = 5_000;
const VERSION_HEADER = 'x-kevin-version';
/** Healthy until it has traffic; then off-brand (the content trigger rolls it back) and 20 % of pages fail. */
const BROKEN: BehaviorSpec = { afterTraffic: { kevin: false, errorPercent: 20 } };

/** One user request through the edge. Times are performance.now(). */
interface Shot {
  sentAt: number;
  doneAt: number;
  /** The HTTP status, or 'error' when no complete answer came (refused, reset, timeout). */
  status: number | 'error';
  /** x-kevin-version of the answer: the version that served it. */
  version: string | null;
  detail: string;
}

type Verdict = 'ok' | 'by-design' | 'switch';

/** Steady GETs at `rps`: as many are sent as are due since the start, so a late timer catches up instead of lowering the rate. */
function startTraffic(url: string, rps: number) {
  const shots: Shot[] = [];
  const pending = new Set<Promise<void>>();
  const startedAt = performance.now();
  let sent = 0;
  const fire = async () => {
    const sentAt = performance.now();
    let version: string | null = null;
    try {
      const response = await fetch(url, { headers: { 'user-agent': 'kevin-deploy-switch-bench' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      version = response.headers.get(VERSION_HEADER);
      const body = await response.text();
      const detail = response.status >= 300 ? `HTTP ${response.status}: ${body.replace(/\s+/g, ' ').slice(0, 120)}` : '';
      shots.push({ sentAt, doneAt: performance.now(), status: response.status, version, detail });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const detail = `${error instanceof Error ? error.message : String(error)}${cause ? ` (${String(cause.code ?? cause.message)})` : ''}`;
      shots.push({ sentAt, doneAt: performance.now(), status: 'error', version, detail });
    }
  };
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) * rps) / 1000) + 1;
    for (; sent < due; sent++) {
      const shot: Promise<void> = fire().finally(() => pending.delete(shot));
      pending.add(shot);
    }
  }, Math.max(1, Math.min(10, 500 / rps)));
  return {
    shots,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

interface Span {
  label: string;
  from: number;
  to: number;
}

async function main(): Promise<void> {
  bench.phase('starting the Cloudflare stand-in, the bot and the traffic');
  const standIn = await startCloudflareStandIn({ apiToken: TOKEN, accountId: ACCOUNT, scripts: [SCRIPT] });
  bench.onAbort(() => void standIn.close());
  const errorPercentOf = new Map<string, number>();
  const addVersion = (tag: string, behavior: BehaviorSpec = {}) => {
    const v = standIn.addVersion(SCRIPT, { tag, behavior });
    errorPercentOf.set(v.id, Math.max(resolveBehavior(behavior, false).errorPercent, resolveBehavior(behavior, true).errorPercent));
    return v;
  };
  const v1 = addVersion('v1');
  standIn.deploy(SCRIPT, { [v1.id]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-switch-bench-'));
  bench.onAbort(() => rmSync(dir, { recursive: true, force: true }));
  // Seed settings scaled down in time: the triggers' sustainedFor to two intervals, so a healthy
  // window of real traffic is conclusive and passes; minRequests 1 because the traffic is known.
  const text = `
apiTokens: [{ env: BENCH_TOKEN, actor: bench, roles: [admin] }]
services:
  kevinstamp:
    platform: { accountId: ${ACCOUNT}, scriptName: ${SCRIPT} }
    productionUrl: ${standIn.trafficUrl(SCRIPT)}
    health: { attempts: 3, interval: 10ms, timeout: 2s }
    monitor:
      window: ${WINDOW}
      interval: ${INTERVAL}
      minRequests: 1
      metrics: { source: app-json, path: /metrics }
      triggers:
        errorRate: { thresholdPercent: 5, sustainedFor: ${2 * INTERVAL_MS}ms }
        responseTime: { thresholdMs: 5000, sustainedFor: ${2 * INTERVAL_MS}ms }
    rollback: { verifyAttempts: 3, verifyInterval: 10ms }
    approval: { approvers: ['*'], fourEyes: false }
    environments: { production: {} }
`;
  const bot = await startBenchBot({ config: benchConfig('switch-bench', text), dir, cloudflare: { apiToken: TOKEN, baseUrl: standIn.apiBaseUrl } });

  // Moments seen by a transition observer, right after each commit.
  const seen = new Map<string, Map<string, number>>();
  const latest = new Map<string, Deployment>();
  bot.bus.subscribe(({ after, events }) => {
    const now = performance.now();
    latest.set(after.id, after);
    const marks = seen.get(after.id) ?? new Map<string, number>();
    for (const e of events) {
      const key = e.action === 'stage-changed' ? `to:${e.toStage}` : e.action;
      if (!marks.has(key)) marks.set(key, now);
    }
    if (!marks.has(`to:${after.stage}`)) marks.set(`to:${after.stage}`, now);
    seen.set(after.id, marks);
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${bot.url}/api/v1${path}`, {
      method,
      headers: { authorization: 'Bearer bench-api-token', 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const answer = (await r.json()) as { id: string; stage: string; reason: string; detail?: string };
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${answer.detail ?? JSON.stringify(answer)}`);
    return answer;
  };
  const until = async (id: string, mark: string) => {
    bench.phase(`waiting for ${id} to ${mark.startsWith('to:') ? `reach ${mark.slice(3)}` : `record ${mark}`}`);
    for (;;) {
      const at = seen.get(id)?.get(mark);
      if (at !== undefined) return at;
      const d = latest.get(id);
      if (d && (isTerminal(d.stage) || d.stage === 'needs_attention' || d.progress.pausedBecause !== undefined)) {
        throw new Error(`${id} is ${d.progress.pausedBecause !== undefined ? `paused in ${d.stage}` : d.stage} and will not reach ${mark}: ${d.reason}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };

  const traffic = startTraffic(standIn.trafficUrl(SCRIPT), RPS);
  bench.onAbort(() => void traffic.stop());
  const spans: Span[] = [];
  const switches: Array<{ kind: 'switch' | 'rollback'; at: number; to: string; from: string; verifiedAt: number }> = [];
  /** Every switch call (each approve, each rollback trigger): a switch's answers are counted until the next one. */
  const calls: number[] = [];
  let blue = v1;
  // A moment of steady traffic on blue before the first release.
  await new Promise((r) => setTimeout(r, Math.min(500, 20_000 / RPS)));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const broken of [false, true]) {
      const tag = `${broken ? 'broken' : 'good'}-${round}`;
      const green = addVersion(tag, broken ? BROKEN : {});
      bench.phase(`requesting release ${tag}`);
      const requestedAt = performance.now();
      const d = await api('POST', '/deployments', { service: SCRIPT, environment: 'production', version: tag });
      await until(d.id, 'to:awaiting_approval');
      spans.push({ label: 'staging, verification, approval', from: requestedAt, to: performance.now() });
      bench.phase(`approving ${d.id} (${tag})`);
      const approvedAt = performance.now();
      calls.push(approvedAt);
      await api('POST', `/deployments/${d.id}/approve`);
      const monitoringAt = await until(d.id, 'to:monitoring');
      spans.push({ label: 'switch (approve → green 100 % verified)', from: approvedAt, to: monitoringAt });
      if (!broken) {
        const doneAt = await until(d.id, 'to:succeeded');
        spans.push({ label: 'monitoring window (healthy green)', from: monitoringAt, to: doneAt });
        switches.push({ kind: 'switch', at: approvedAt, to: green.id, from: blue.id, verifiedAt: monitoringAt });
        blue = green;
      } else {
        const triggeredAt = await until(d.id, 'to:rolling_back');
        spans.push({ label: 'monitoring until the trigger (broken green)', from: monitoringAt, to: triggeredAt });
        const blueVerifiedAt = await until(d.id, 'rollback-switched');
        const healthyAt = await until(d.id, 'to:rolled_back');
        spans.push({ label: 'rollback (trigger → blue health verified)', from: triggeredAt, to: healthyAt });
        // The broken green's own switch is not timed: the rollback may come before any user request reaches it.
        calls.push(triggeredAt);
        switches.push({ kind: 'rollback', at: triggeredAt, to: blue.id, from: green.id, verifiedAt: blueVerifiedAt });
      }
    }
  }
  // The tail: requests sent before the last release ended are answered and counted.
  await new Promise((r) => setTimeout(r, 300));
  bench.phase('stopping the traffic, the bot and the stand-in');
  await traffic.stop();
  await bot.close();
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });

  const verdict = (s: Shot): Verdict => {
    if (s.status !== 'error' && s.status >= 200 && s.status < 300) return 'ok';
    if (s.status === 500 && s.version !== null && (errorPercentOf.get(s.version) ?? 0) > 0) return 'by-design';
    return 'switch';
  };
  const rows = new Map<string, { requests: number; ok: number; byDesign: number; switchFailed: number; servedByBroken: number }>();
  const row = (label: string) => {
    let r = rows.get(label);
    if (!r) rows.set(label, (r = { requests: 0, ok: 0, byDesign: 0, switchFailed: 0, servedByBroken: 0 }));
    return r;
  };
  for (const span of spans) row(span.label);
  const failures: Shot[] = [];
  for (const shot of traffic.shots) {
    const span = spans.find((s) => shot.sentAt >= s.from && shot.sentAt < s.to);
    const r = row(span?.label ?? 'before, between and after releases');
    const v = verdict(shot);
    r.requests += 1;
    if (v === 'ok') r.ok += 1;
    else if (v === 'by-design') r.byDesign += 1;
    else {
      r.switchFailed += 1;
      failures.push(shot);
    }
    if (shot.version !== null && (errorPercentOf.get(shot.version) ?? 0) > 0) r.servedByBroken += 1;
  }
  const total = [...rows.values()].reduce(
    (sum, r) => ({
      requests: sum.requests + r.requests,
      ok: sum.ok + r.ok,
      byDesign: sum.byDesign + r.byDesign,
      switchFailed: sum.switchFailed + r.switchFailed,
      servedByBroken: sum.servedByBroken + r.servedByBroken,
    }),
    { requests: 0, ok: 0, byDesign: 0, switchFailed: 0, servedByBroken: 0 },
  );

  // When users really reached the other version, from the switch call (the healthy releases' switches, and the rollbacks).
  // Answers that came after the call to requests sent before the next switch call (in-flight ones included).
  const answeredBy = (version: string, from: number, to: number) =>
    traffic.shots.filter((s) => s.version === version && s.doneAt >= from && s.sentAt < to).map((s) => s.doneAt);
  const timing = (kind: 'switch' | 'rollback') => {
    const list = switches
      .filter((s) => s.kind === kind)
      .map((s) => ({ ...s, end: calls.find((at) => at > s.at) ?? Infinity }));
    return {
      n: list.length,
      firstNew: list.map((s) => Math.min(...answeredBy(s.to, s.at, s.end)) - s.at),
      lastOld: list.map((s) => Math.max(s.at, ...answeredBy(s.from, s.at, s.end)) - s.at),
      verified: list.map((s) => s.verifiedAt - s.at),
    };
  };
  const sw = timing('switch');
  const rb = timing('rollback');
  const sorted = (l: number[]) => [...l].sort((a, b) => a - b);
  const median = (l: number[]) => {
    const s = sorted(l);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const fmt = (l: number[]) => {
    const finite = l.filter(Number.isFinite);
    if (finite.length < l.length) return `${''.padStart(8)}   no answer by that version seen in ${l.length - finite.length} of ${l.length}`;
    return `${median(finite).toFixed(1).padStart(8)} ${Math.max(...finite).toFixed(1).padStart(8)} ms`;
  };

  console.log(
    `kevin-deploy switch benchmark: ${ROUNDS} healthy release(s) and ${ROUNDS} rollback(s) under ${RPS} requests/s through the stand-in's edge ` +
      `(window ${WINDOW}, sample every ${INTERVAL}; app-json metrics)`,
  );
  const head = (cells: string[]) => `${cells[0]!.padEnd(46)} ${cells.slice(1).map((c) => c.padStart(9)).join(' ')}`;
  console.log(head(['phase (by when a request was sent)', 'requests', '2xx', 'by design', 'switch', 'by broken']));
  for (const [label, r] of rows) {
    console.log(head([label, String(r.requests), String(r.ok), String(r.byDesign), String(r.switchFailed), String(r.servedByBroken)]));
  }
  console.log(head(['total', String(total.requests), String(total.ok), String(total.byDesign), String(total.switchFailed), String(total.servedByBroken)]));
  console.log(
    `requests sent: ${total.requests}; failed by the switch itself: ${total.switchFailed} (goal 0); errors the broken version served by design: ${total.byDesign}; ` +
      `answered by the broken version: ${total.servedByBroken}`,
  );
  for (const f of failures.slice(0, 5)) console.log(`  failed by the switch: ${f.status} from ${f.version ?? 'no version'} — ${f.detail}`);
  console.log(`${''.padEnd(46)} ${'median'.padStart(8)} ${'max'.padStart(8)}`);
  console.log(`${`approve → first answer by green (n=${sw.n})`.padEnd(46)} ${fmt(sw.firstNew)}`);
  console.log(`${`approve → last answer by blue (n=${sw.n})`.padEnd(46)} ${fmt(sw.lastOld)}`);
  console.log(`${`approve → green 100 % verified (n=${sw.n})`.padEnd(46)} ${fmt(sw.verified)}`);
  console.log(`${`rollback trigger → first answer by blue (n=${rb.n})`.padEnd(46)} ${fmt(rb.firstNew)}`);
  console.log(`${`rollback trigger → last answer by green (n=${rb.n})`.padEnd(46)} ${fmt(rb.lastOld)}`);
  console.log(`${`rollback trigger → blue 100 % verified (n=${rb.n})`.padEnd(46)} ${fmt(rb.verified)}`);
  console.log(
    'rule: "switch" = no complete answer, an answer naming no version, or a non-2xx from a version that serves none by design; ' +
      '"by design" = a 500 from the broken version (20 % of its pages after traffic); a "last answer" of 0 ms: none came after the call',
  );
}

await bench.run(main);
