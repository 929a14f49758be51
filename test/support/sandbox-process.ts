import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { EdgeInfo } from '../../sandbox/edge-info.ts';
import { BIN, freePort } from './bot-process.ts';
import { waitFor } from './wait-for.ts';

/**
 * The sandbox as a person runs it: `kevin-deploy serve` (the compiled dist/, through
 * bin/kevin-deploy.js) in a child process, from a directory with no kevin-deploy.yml, with no
 * Cloudflare token, configured only by the environment — its own SQLite file in a temp data
 * directory and free ports for the bot, the edge's Cloudflare API and the edge's traffic.
 *
 * `serve` spawns the edge (`kevin-deploy sandbox edge`) as its own child, which outlives a
 * SIGKILL of the bot on purpose. So every process is tracked — each `serve` runs in its own
 * process group (the edge it spawns joins that group), and every edge pid ever written to
 * sandbox-edge.json is remembered — and close() kills whatever of them is still alive.
 */

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command did not end by itself within its time limit and was killed (with its process group). */
  timedOut: boolean;
}

export interface SandboxRun {
  /** The temp root: cwd/ (where commands run; no config file) and data/ (the SQLite file and the sandbox files). */
  root: string;
  cwd: string;
  dataDir: string;
  dbFile: string;
  edgeInfoFile: string;
  /** The edge's own state (versions, deployments, its token), beside the bot's database. */
  edgeStateFile: string;
  url: string;
  port: number;
  apiPort: number;
  edgePort: number;
  /** The environment of `serve` and of every CLI call. */
  env: Record<string, string>;
  /** The current (or last) `serve` process. */
  bot: ChildProcess | undefined;
  /** Every stdout line of every `serve` started by start(). */
  stdout: string[];
  /** Every stdout and stderr line of every `serve` started by start(), interleaved. */
  output: string[];
  /** Starts `serve` with these arguments (default: just `serve`, as `npm start` does) and waits for /readyz 200. */
  start(args?: string[]): Promise<ChildProcess>;
  /** Runs one `kevin-deploy` command in cwd with the sandbox environment (plus `env`); kills it after timeoutMs. */
  run(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  /** Sends a signal to the current `serve` (only that process) and waits for it to exit. */
  stopBot(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** sandbox-edge.json as it is now (undefined when absent); remembers its pid for cleanup. */
  edgeInfo(): EdgeInfo | undefined;
  /** The sandbox API token the CLI reads by itself. */
  apiToken(): string;
  /** GET (or POST) the bot's API with the sandbox token. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Remembers a pid that must not outlive the test (e.g. an edge seen in `sandbox status`). */
  track(pid: number): void;
  /** The last lines of the bot output, for failure messages. */
  tail(lines?: number): string;
  /** Kills every process this sandbox started that is still alive and removes the temp root. */
  close(): Promise<void>;
}

export async function createSandbox(options: { trafficRps?: number; ports?: { port?: number; apiPort?: number; edgePort?: number } } = {}): Promise<SandboxRun> {
  const root = mkdtempSync(join(tmpdir(), 'kevin-deploy-sandbox-e2e-'));
  const cwd = join(root, 'cwd');
  const dataDir = join(root, 'data');
  mkdirSync(cwd);
  const port = options.ports?.port ?? (await freePort());
  const apiPort = options.ports?.apiPort ?? (await freePort());
  const edgePort = options.ports?.edgePort ?? (await freePort());
  const dbFile = join(dataDir, 'kd.db');
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: `sqlite:${dbFile}`,
    PORT: String(port),
    KEVIN_DEPLOY_SANDBOX_API_PORT: String(apiPort),
    KEVIN_DEPLOY_SANDBOX_EDGE_PORT: String(edgePort),
    KEVIN_DEPLOY_SANDBOX_PROFILE: 'fast',
    KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS: String(options.trafficRps ?? 10),
    KEVIN_DEPLOY_URL: url,
    LOG_LEVEL: 'info',
  };

  const groups = new Set<number>(); // process groups led by a `serve` (or a CLI call) this sandbox spawned
  const pids = new Set<number>(); // edge pids seen in sandbox-edge.json
  const edgeInfoFile = join(dataDir, 'sandbox-edge.json');
  const edgeStateFile = join(dataDir, 'sandbox-edge-state.json');

  const spawnIn = (args: string[], extraEnv: Record<string, string> = {}): ChildProcess => {
    // detached: its own process group, so cleanup can reach the edge it spawns even after it died.
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid) groups.add(child.pid);
    return child;
  };

  const readEdgeInfo = (): EdgeInfo | undefined => {
    if (!existsSync(edgeInfoFile)) return undefined;
    try {
      const info = JSON.parse(readFileSync(edgeInfoFile, 'utf8')) as EdgeInfo;
      if (typeof info.pid === 'number') pids.add(info.pid);
      return info;
    } catch {
      return undefined; // being written, or corrupt on purpose
    }
  };

  const sandbox: SandboxRun = {
    root,
    cwd,
    dataDir,
    dbFile,
    edgeInfoFile,
    edgeStateFile,
    url,
    port,
    apiPort,
    edgePort,
    env,
    bot: undefined,
    stdout: [],
    output: [],
    async start(args = ['serve']) {
      const child = spawnIn(args);
      sandbox.bot = child;
      collectLines(child.stdout!, [sandbox.stdout, sandbox.output]);
      collectLines(child.stderr!, [sandbox.output]);
      let exited = false;
      child.once('exit', () => (exited = true));
      await waitFor(
        async () => {
          if (exited) throw new Error(`kevin-deploy ${args.join(' ')} exited during start (code ${child.exitCode}, signal ${child.signalCode}):\n${sandbox.tail(20)}`);
          readEdgeInfo();
          try {
            return (await fetch(`${url}/readyz`)).status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, intervalMs: 50, describe: () => `the sandbox bot to become ready at ${url}; output:\n${sandbox.tail(20)}` },
      );
      readEdgeInfo();
      return child;
    },
    async run(args, runOptions = {}) {
      const child = spawnIn(args, runOptions.env);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid, 'SIGKILL');
      }, runOptions.timeoutMs ?? 60_000);
      // 'close', not 'exit': 'exit' can come before the last of stdout has been read.
      const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
      clearTimeout(timer);
      // Only a `serve` may leave processes behind in its group (the edge); forget the others.
      if (args[0] !== 'serve' && child.pid) groups.delete(child.pid);
      readEdgeInfo();
      return { code, signal, stdout, stderr, timedOut };
    },
    async stopBot(signal = 'SIGTERM') {
      const child = sandbox.bot;
      if (!child) throw new Error('no bot was started');
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill(signal);
      const [code, got] = await exited;
      return { code, signal: got };
    },
    edgeInfo: readEdgeInfo,
    apiToken() {
      return readFileSync(join(dataDir, 'sandbox-api-token'), 'utf8').trim();
    },
    async api(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${sandbox.apiToken()}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: response.status, body: parsed as never };
    },
    track(pid) {
      pids.add(pid);
    },
    tail(lines = 30) {
      return sandbox.output.slice(-lines).join('\n');
    },
    async close() {
      readEdgeInfo();
      for (const group of groups) killGroup(group, 'SIGKILL');
      for (const pid of pids) killIfOurs(pid);
      // Wait (bounded) until none of them answers any more, so the ports are free for the next test.
      await waitFor(() => [...pids].every((pid) => !isAlive(pid)), { timeoutMs: 10_000, intervalMs: 50 }).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/** Whether a process with this pid exists (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILL a pid, but only if it still is a kevin-deploy process (never a recycled pid). */
function killIfOurs(pid: number): void {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('kevin-deploy')) return;
  } catch {
    if (!existsSync('/proc')) {
      // not Linux: fall through and kill by pid
    } else {
      return; // gone
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function collectLines(stream: NodeJS.ReadableStream, sinks: string[][]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const sink of sinks) sink.push(...parts);
  });
  stream.on('end', () => {
    if (partial) for (const sink of sinks) sink.push(partial);
    partial = '';
  });
}

/** The edge's state file (data/sandbox-edge-state.json) replaced with text that is not JSON (only while nothing runs). */
export function corruptEdgeState(edgeStateFile: string, text = '{"format":"kevin-deploy/sandbox-edge-state@1","standIn":'): void {
  if (!existsSync(edgeStateFile)) throw new Error(`expected the edge to have written ${edgeStateFile}`);
  writeFileSync(edgeStateFile, text);
}

/** A deployment's stage as stored in the SQLite file (read while the bot is down). */
export function storedStage(dbFile: string, id: string): string | undefined {
  const db = new BetterSqlite3(dbFile, { readonly: true });
  try {
    return (db.prepare('SELECT stage FROM deployments WHERE id = ?').get(id) as { stage: string } | undefined)?.stage;
  } finally {
    db.close();
  }
}
