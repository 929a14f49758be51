import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/kevin-deploy.js', import.meta.url));

export { freePort } from '../../sandbox/free-port.ts';
import { freePort } from '../../sandbox/free-port.ts';

export interface BotProcess {
  url: string;
  port: number;
  /** Every line the process wrote to stdout and stderr, across restarts. */
  output: string[];
  child: ChildProcess;
  /** Sends a signal and waits for the exit; returns the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts the same command again (same port, same database, same instance name). */
  restart(): Promise<void>;
  /** Resolves when the current child has exited (at once if it already has). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface BotProcessOptions {
  args: string[];
  env: Record<string, string>;
  port?: number;
  /** How long a start may take before it counts as failed; default 20 s (a loaded 2-core CI machine may want more). */
  readyTimeoutMs?: number;
}

/**
 * Runs the real `kevin-deploy serve` in a child process, as an operator would, and waits until
 * /readyz answers. Used by the e2e tests that SIGKILL and restart it.
 */
export async function startBotProcess(options: BotProcessOptions): Promise<BotProcess> {
  const port = options.port ?? (await freePort());
  const output: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PORT: String(port),
    LOG_LEVEL: 'debug',
    KEVIN_DEPLOY_INSTANCE: `test-instance-${port}`,
    ...options.env,
  };

  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [BIN, ...options.args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    collectLines(child.stdout!, output);
    collectLines(child.stderr!, output);
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`kevin-deploy exited during start:\n${output.slice(-20).join('\n')}`);
        try {
          const response = await fetch(`${url}/readyz`);
          return response.status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: options.readyTimeoutMs ?? 20_000, describe: () => `kevin-deploy to become ready at ${url}; output:\n${output.slice(-10).join('\n')}` },
    );
    return child;
  };

  const handle: BotProcess = {
    url,
    port,
    output,
    child: await launch(),
    async stop(signal = 'SIGTERM') {
      const child = handle.child;
      if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill(signal);
      const [code, got] = await exited;
      return { code, signal: got };
    },
    async restart() {
      handle.child = await launch();
    },
    exited() {
      const child = handle.child;
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
      }
      return (once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>).then(([code, signal]) => ({ code, signal }));
    },
  };
  return handle;
}

/**
 * Appends every complete line of the stream to `lines`. A pipe delivers chunks that may end in
 * the middle of a line (a JSON log line split in two would not parse), so the tail is kept until
 * its newline arrives, or until the stream ends.
 */
function collectLines(stream: NodeJS.ReadableStream, lines: string[]): void {
  let partial = '';
  stream.setEncoding('utf8'); // a multi-byte character split between chunks still decodes
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  stream.on('end', () => {
    if (partial) lines.push(partial);
    partial = '';
  });
}

/** Runs the CLI once and collects its output and exit code (in the checkout, or in `cwd`). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': 'exit' can come before the last of stdout has been read.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
