import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Benchmarks can't rot (issue 11): every `npm run bench:*` script in package.json runs here with
 * --smoke (a tiny size, seconds), one after the other, and must exit 0 and print its figures.
 * The scripts are read from package.json, so a new bench is run as soon as it has a script, and
 * fails here until this file says what it prints. Figures are matched by shape, never by value:
 * tests do not assert timings. It runs the compiled dist/ (npm test builds it first).
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Each bench's own watchdog stops it after 60 s in smoke mode; this only catches a bench that ignores it. */
const PER_BENCH_MS = 90_000;

const scripts = (JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
const benches = Object.entries(scripts)
  .filter(([name]) => name.startsWith('bench:'))
  .map(([name, command]) => ({ name, command, file: /^node (dist\/bench\/[\w-]+\.js)$/.exec(command)?.[1] }));

/** A figure; a difference of two measurements (bot = total − platform) may come out below zero. */
const n = String.raw`-?\d+(?:\.\d+)?`;
/** What each bench prints in smoke mode, beyond a figure in ms or s and no NaN (checked for all). */
const PRINTS: Record<string, RegExp[]> = {
  'bench:engine': [
    /kevin-deploy engine benchmark: 4 releases/,
    new RegExp(String.raw`\(a\) approve → green 100 % verified\s+(?:${n}\s+){5}${n}\n`),
    new RegExp(String.raw`\(b\) trigger → blue 100 % verified\s+(?:${n}\s+){5}${n}\n`),
    new RegExp(String.raw`\(b'\) trigger → blue health verified: p50 ${n} ms, p99 ${n} ms`),
    /samples: 4 switches, 2 rollbacks/,
  ],
  'bench:slack': [
    /Slack ack latency: 20 signed "\/deploy status" per level/,
    new RegExp(String.raw`^1 +${n} / ${n} +${n} / ${n} +${n} +${n}$`, 'm'),
    new RegExp(String.raw`^8 +${n} / ${n} +${n} / ${n} +${n} +${n}$`, 'm'),
  ],
  'bench:detect': [
    /1 run\(s\) per profile/,
    new RegExp(String.raw`^quick \(a quick look\) +1s +3s +(?:${n} s|n/a) +${n} s +${n} s +4\.0 s +≥ 60\.0 s$`, 'm'),
    /^quick: fired by error-rate;/m,
  ],
  'bench:alerts': [
    /1\. outbox → received by the fake: 5 alerts one at a time per channel/,
    ...['slack', 'email', 'pagerduty', 'discord'].map((channel) => new RegExp(String.raw`^${channel} +(?:${n} +){10}${n}$`, 'm')),
    new RegExp(String.raw`2\. backlog: .* once up: first in \d+ ms, all 20 in \d+ ms .*missing 0`),
    new RegExp(String.raw`3\. two dispatchers .* backlog of 20: all in \d+ ms .*missing 0`),
  ],
  'bench:cli': [
    /kevin-deploy CLI start: median of 2 runs each, every call paired with a `node -e 0` run/,
    new RegExp(String.raw`^node -e 0 \(the floor\) +${n} +1\.00 +${n}$`, 'm'),
    new RegExp(String.raw`^status \(a remote verb: one HTTP request\) +${n} +${n} +${n}$`, 'm'),
    new RegExp(String.raw`^--version +${n} +${n} +${n}$`, 'm'),
    new RegExp(String.raw`^status: ${n} ms against node's ${n} ms \(${n} ×\), peak ${n} MB$`, 'm'),
    /goal: status ≤ 2\.00 × node -e 0, and < 60 MB peak/,
  ],
  'bench:switch': [
    /kevin-deploy switch benchmark: 1 healthy release\(s\) and 1 rollback\(s\) under 20 requests\/s/,
    /^total +\d+ +\d+ +\d+ +\d+ +\d+$/m,
    /requests sent: \d+; failed by the switch itself: \d+ \(goal 0\); errors the broken version served by design: \d+/,
    new RegExp(String.raw`^approve → first answer by green \(n=1\) +${n} +${n} ms$`, 'm'),
    new RegExp(String.raw`^rollback trigger → first answer by blue \(n=1\) +${n} +${n} ms$`, 'm'),
  ],
  'bench:scale': [
    /kevin-deploy scale benchmark: one bot monitoring N releases at once \(N = 10\)/,
    new RegExp(String.raw`^N=10: config loaded in ${n} s; request → all 10 awaiting approval ${n} s; approve → all monitoring ${n} s$`, 'm'),
    new RegExp(String.raw`^ +10 +\d+ +${n} ms +${n} % +${n} ms +${n} MB +${n} +(?:${n}|n/a) +${n} ms +${n} ms$`, 'm'),
    new RegExp(String.raw`sample lateness \(recorded − scheduled\): p50 ${n} ms, p99 ${n} ms`),
    new RegExp(String.raw`the idle bot \(started, config loaded, no release\) ${n} MB RSS, ${n} MB live heap`),
    /writes per sample vs history .* samples 1–3: [\d.]+ KB/,
    /goal: 200 releases on one core: RSS < 150 MB, lateness p99 < 1 s/,
  ],
  'bench:replicas': [
    /kevin-deploy replicas benchmark: 2 replicas on one Postgres schema, leaseTtl 2 s; takeovers K=1, commands N=5, commits M=50, releases R=20/,
    new RegExp(
      String.raw`^  #1 tk0: kd-[ab] killed in \w+ \(its lease had ${n} s left\) → kd-[ab] took it over in ${n} s \(its log says ${n} s\); ` +
        String.raw`awaiting approval ${n} s after the kill; kd-[ab] restarted in ${n} s$`,
      'm',
    ),
    new RegExp(String.raw`^takeover \(n=1\): p50 ${n} s, max ${n} s — goal ≤ TTL \+ 1 s = 3\.0 s: (?:met|not met)$`, 'm'),
    new RegExp(String.raw`approve answer → first Cloudflare call of the step \(n=5\): p50 ${n} ms, p99 ${n} ms, max ${n} ms`),
    new RegExp(String.raw`approve answer → switch POST at Cloudflare \(n=5\): p50 ${n} ms, p99 ${n} ms, max ${n} ms`),
    /the step was taken by the approving replica \d+ time\(s\) .*, by the other \d+ time\(s\)/,
    new RegExp(String.raw`^command-to-wake across replicas: .* \(n=\d+\): p50 ${n} ms, p99 ${n} ms, max ${n} ms(?:; \d+ without a reaction seen)? — goal p99 < 100 ms: (?:met|not met)$`, 'm'),
    new RegExp(String.raw`^  sqlite +${n} ms +${n} ms +${n} ms +${n} ms$`, 'm'),
    new RegExp(String.raw`^  postgres +${n} ms +${n} ms +${n} ms +${n} ms$`, 'm'),
    new RegExp(String.raw`Postgres / SQLite at p50: commit ×${n}, lease pair ×${n}`),
    new RegExp(String.raw`request → all 20 awaiting approval ${n} s; approve → all 20 ended ${n} s; at most \d+ monitoring at once`),
    new RegExp(String.raw`commits: \d+ in ${n} s = ${n}/s overall, peak ${n}/s over 1 s; audit events ${n}/s`),
    ...['kd-a', 'kd-b'].map(
      (name) => new RegExp(String.raw`^  ${name}: RSS ${n} MB before, peak ${n} MB, mean ${n} MB; committed \d+ transitions \(${n} %\), executed \d+ steps \(${n} %\)$`, 'm'),
    ),
    new RegExp(String.raw`^takeover after SIGKILL, max of 1 +≤ 3\.0 s \(TTL \+ 1 s\) +${n} s \(p50 ${n} s\) +(?:met|not met)$`, 'm'),
    new RegExp(String.raw`^command → other replica acts, p99 of 5 +< 100 ms +${n} ms \(p50 ${n} ms\) +(?:met|not met)$`, 'm'),
  ],
};

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runSmoke(file: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) };
    const child = spawn(process.execPath, [file, '--smoke'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[test] no exit after ${PER_BENCH_MS} ms: killed (its watchdog should have stopped it first)`;
      child.kill('SIGKILL');
    }, PER_BENCH_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('benchmarks in smoke mode', { timeout: PER_BENCH_MS + 30_000 }, () => {
  it('finds the bench:* scripts in package.json, each running a compiled bench', () => {
    expect(benches.length).toBeGreaterThan(0);
    for (const bench of benches) expect(bench.file, `${bench.name} should be "node dist/bench/<file>.js", is "${bench.command}"`).toBeDefined();
  });

  for (const bench of benches) {
    it(`${bench.name} (${bench.file} --smoke) exits 0 and prints its figures`, async () => {
      expect(PRINTS[bench.name], `say in PRINTS what ${bench.name} prints`).toBeDefined();
      const file = `${REPO}${bench.file}`;
      expect(existsSync(file), `${bench.file} is missing: build with npx tsc -p . (npm test does)`).toBe(true);

      const r = await runSmoke(file);
      const run = `exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.code, run).toBe(0);
      expect(r.stdout, run).toMatch(/\d+(?:\.\d+)? ?(?:ms|s)\b/);
      expect(r.stdout, run).not.toContain('NaN');
      for (const pattern of PRINTS[bench.name]!) expect(r.stdout, run).toMatch(pattern);
    });
  }
});
