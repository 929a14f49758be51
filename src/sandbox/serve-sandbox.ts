import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { KevinDeployError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { startBot, type RunningBot } from '../server/start-bot.ts';
import { findRunningEdge, isProcessAlive, type EdgeInfo } from './edge-info.ts';
import { sandboxConfig, type SandboxProfile } from './sandbox-config.ts';
import { sandboxPaths, type SandboxPaths } from './sandbox-paths.ts';

export interface SandboxServeOptions {
  port?: number | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
}

const BIN = fileURLToPath(new URL('../../../bin/kevin-deploy.js', import.meta.url));

/**
 * `kevin-deploy serve --sandbox` (and `npm start` with no config and no Cloudflare token): runs
 * the bot against the local edge. The edge is a separate process this one supervises; when this
 * process dies the edge keeps serving, and the next start attaches to it again.
 */
export async function serveSandbox(options: SandboxServeOptions): Promise<void> {
  const { env } = options;
  const paths = sandboxPaths(env, options.cwd);
  mkdirSync(paths.dataDir, { recursive: true });
  const apiToken = env.KEVIN_DEPLOY_API_TOKEN || sandboxApiToken(paths);
  const logger = createLogger({ level: env.LOG_LEVEL, secrets: [apiToken] });

  const edge = await EdgeSupervisor.start(paths, env, logger);
  const profile: SandboxProfile = env.KEVIN_DEPLOY_SANDBOX_PROFILE === 'fast' ? 'fast' : 'standard';
  const config = sandboxConfig({ productionUrl: edge.info.trafficUrl, profile, slackChannel: env.KEVIN_DEPLOY_SLACK_CHANNEL || undefined });

  let bot: RunningBot;
  try {
    bot = await startBot({
      config,
      env: {
        ...env,
        DATABASE_URL: paths.databaseUrl,
        KEVIN_DEPLOY_API_TOKEN: apiToken,
        CLOUDFLARE_API_TOKEN: edge.info.apiToken,
        CLOUDFLARE_BASE_URL: edge.info.apiBaseUrl,
      },
      port: options.port ?? 3000,
      logger,
    });
  } catch (error) {
    // Leave an edge this process only attached to alone: another bot may be using it.
    await edge.stop({ attachedToo: false });
    throw error;
  }

  const prefix = [
    env.DATABASE_URL ? `DATABASE_URL=${env.DATABASE_URL}` : '',
    bot.url !== 'http://127.0.0.1:3000' ? `KEVIN_DEPLOY_URL=${bot.url}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  options.out(banner(bot.url, edge.info, env.KEVIN_DEPLOY_API_TOKEN ? undefined : paths.apiTokenFile, prefix));
  const stop = async () => {
    // The edge must not be restarted while everything stops (Ctrl-C reaches it too).
    edge.beginStopping();
    await bot.close();
    await edge.stop({ attachedToo: true });
  };
  const { stopOnSignals } = await import('../cli/serve-command.ts');
  stopOnSignals(stop);
}

/** The sandbox's API token, generated once and kept in the data directory (mode 600). */
export function sandboxApiToken(paths: SandboxPaths): string {
  if (existsSync(paths.apiTokenFile)) {
    const token = readFileSync(paths.apiTokenFile, 'utf8').trim();
    if (token.length >= 16) return token;
  }
  const token = `kd_sandbox_${randomBytes(18).toString('base64url')}`;
  writeFileSync(paths.apiTokenFile, `${token}\n`, { mode: 0o600 });
  return token;
}

function banner(url: string, edge: EdgeInfo, tokenFile: string | undefined, envPrefix: string): string {
  const env = envPrefix ? `${envPrefix} ` : '';
  return [
    '',
    `kevin-deploy sandbox is running — no Cloudflare, Slack or PagerDuty account needed.`,
    `  bot        ${url}   (API, /metrics, /healthz)`,
    `  KEVINSTAMP ${edge.trafficUrl}   (the local edge with synthetic traffic; see: npx kevin-deploy sandbox status)`,
    tokenFile ? `  API token  in ${tokenFile} (the CLI reads it by itself)` : `  API token  from $KEVIN_DEPLOY_API_TOKEN`,
    '',
    'Try a release, in another terminal:',
    `  ${env}npx kevin-deploy sandbox upload --tag v2     # like CI: wrangler versions upload --tag v2`,
    `  ${env}npx kevin-deploy deploy kevinstamp v2 --env production`,
    `  ${env}npx kevin-deploy approve <id>           # the id printed by deploy`,
    `  ${env}npx kevin-deploy status <id> --follow   # watch it switch, monitor and succeed`,
    `Break one on purpose: ${env}npx kevin-deploy sandbox upload --tag v3 --behavior fails-after-traffic`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

/**
 * Keeps exactly one edge process running: attaches to a live one (left running by an earlier,
 * killed bot) or starts one, restarts it if it dies, and stops it on shutdown when it started it.
 */
class EdgeSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;

  private constructor(
    private readonly paths: SandboxPaths,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    public info: EdgeInfo,
  ) {}

  static async start(paths: SandboxPaths, env: NodeJS.ProcessEnv, logger: Logger): Promise<EdgeSupervisor> {
    const running = await findRunningEdge(paths.edgeInfoFile);
    if (running) {
      logger.info({ pid: running.pid, traffic: running.trafficUrl }, 'attached to the running sandbox edge');
      return new EdgeSupervisor(paths, env, logger, running);
    }
    const supervisor = new EdgeSupervisor(paths, env, logger, undefined as never);
    await supervisor.launch();
    return supervisor;
  }

  private async launch(): Promise<void> {
    const log = openSync(this.paths.edgeLogFile, 'a');
    // Not detached: Ctrl-C reaches the edge too. Output goes to a file, so the edge never dies of
    // a broken pipe when this process is killed.
    const child = spawn(process.execPath, [BIN, 'sandbox', 'edge'], {
      env: { ...this.env, DATABASE_URL: this.paths.databaseUrl },
      stdio: ['ignore', log, log],
    });
    this.child = child;
    let exitedEarly: string | undefined;
    let started = false;
    child.once('exit', (code, signal) => {
      exitedEarly = `exit code ${code ?? signal}`;
      // Only an edge that had started is restarted; one that cannot start (port taken, corrupt
      // state) is reported once and the start fails.
      if (this.stopping || this.child !== child || !started) return;
      this.logger.error({ code, signal }, 'the sandbox edge stopped; restarting it');
      setTimeout(() => void this.launch().catch((e: unknown) => this.logger.error({ err: e }, 'could not restart the sandbox edge')), 500);
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const info = await findRunningEdge(this.paths.edgeInfoFile);
      if (info && info.pid === child.pid) {
        this.info = info;
        started = true;
        return;
      }
      if (exitedEarly) {
        throw new KevinDeployError('USAGE', `the sandbox edge did not start (${exitedEarly}): ${lastLines(this.paths.edgeLogFile)}`);
      }
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new KevinDeployError('USAGE', `the sandbox edge did not become ready; see ${this.paths.edgeLogFile}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beginStopping(): void {
    this.stopping = true;
  }

  /** Stops the edge — the one this process started, or the one it attached to: Ctrl-C stops everything. */
  async stop(options: { attachedToo: boolean }): Promise<void> {
    this.stopping = true;
    if (!this.child && !options.attachedToo) return;
    const pid = this.child?.pid ?? this.info.pid;
    if (!isProcessAlive(pid)) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 5000;
    while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

function lastLines(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const last = lines.at(-1) ?? '';
    try {
      const parsed = JSON.parse(last) as { msg?: string; err?: { message?: string } };
      return parsed.err?.message ?? parsed.msg ?? last;
    } catch {
      return last;
    }
  } catch {
    return 'no log';
  }
}
