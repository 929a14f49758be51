import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AlertChannelName } from '../src/domain/alert.ts';
import { KevinDeployError } from '../src/errors.ts';
import { createLogger, secretsToScrub } from '../src/logger.ts';
import { startBot, type RunningBot } from '../src/app/start-bot.ts';
import { stopOnSignals } from '../src/cli/stop-on-signals.ts';
import { displayPath, isProcessAlive, readBotInfo, removeBotInfo, writeBotInfo } from '../src/cli/sandbox-token-record.ts';
import { banner } from './sandbox-banner.ts';
import { edgeEnvironment } from './edge-environment.ts';
import { findRunningEdge, type EdgeInfo } from './edge-info.ts';
import { sandboxConfig, type SandboxProfile } from './sandbox-config.ts';
import { sandboxPaths, type SandboxPaths } from './sandbox-paths.ts';
import { SandboxEdgeClient } from './sandbox-edge-client.ts';

export interface SandboxServeOptions {
  port?: number | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
}

/** The behaviours the console offers, each a complete preset (the CLI takes any number for erroring and slow). */
const CONSOLE_BEHAVIORS = ['healthy', 'fails-after-traffic', 'fails-after-traffic:erroring:30', 'erroring:20', 'slow:3000', 'no-kevin', 'health-failing', 'degraded'] as const;

const BIN = fileURLToPath(new URL('../../bin/kevin-deploy.js', import.meta.url));

/**
 * `kevin-deploy serve --sandbox` (and `npm start` with no config and no Cloudflare token): runs
 * the bot against the local edge. The edge is a separate process this one supervises; when this
 * process dies the edge keeps serving, and the next start attaches to it again.
 */
export async function serveSandbox(options: SandboxServeOptions): Promise<void> {
  const { env } = options;
  const paths = sandboxPaths(env, options.cwd);
  mkdirSync(paths.dataDir, { recursive: true });
  const tokenFromFile = !env.KEVIN_DEPLOY_API_TOKEN;
  const apiToken = env.KEVIN_DEPLOY_API_TOKEN || sandboxApiToken(paths);

  // The edge gets only the environment it needs (edgeEnvironment), never the bot's secrets.
  const edge = await EdgeSupervisor.start(paths, edgeEnvironment(env, paths.databaseUrl));
  const botEnv: NodeJS.ProcessEnv = {
    ...env,
    DATABASE_URL: paths.databaseUrl,
    KEVIN_DEPLOY_API_TOKEN: apiToken,
    CLOUDFLARE_API_TOKEN: edge.info.apiToken,
    CLOUDFLARE_BASE_URL: edge.info.apiBaseUrl,
  };
  // Every secret the bot holds (its token, the edge's) and every one the caller's environment
  // held, even where the sandbox replaced it (a real CLOUDFLARE_API_TOKEN with --sandbox).
  const logger = createLogger({ env: botEnv, secrets: secretsToScrub(env), sync: true });
  edge.useLogger(logger);
  if (edge.attached) logger.info({ pid: edge.info.pid, traffic: edge.info.trafficUrl }, 'attached to the running sandbox edge');
  if (edge.replacedPid !== undefined) {
    logger.info({ pid: edge.replacedPid, state: paths.edgeStateFile }, 'restarted the sandbox edge of an earlier kevin-deploy: it now keeps its state in its own file');
  }

  const profile: SandboxProfile = env.KEVIN_DEPLOY_SANDBOX_PROFILE === 'fast' ? 'fast' : 'standard';
  // The running edge decides the platform: one Worker, or blue and green behind routes.
  const edgePlatform = edge.info.platform ?? 'workers';
  if (edgePlatform !== paths.platform) {
    logger.warn(
      { edge: edgePlatform, wanted: paths.platform },
      `the running sandbox edge serves platform ${edgePlatform}; stop the sandbox (Ctrl-C) and start it again to switch to ${paths.platform}`,
    );
  }
  const config = sandboxConfig({
    ...(edge.info.routes ? { routes: { scriptUrls: edge.info.routes.scriptUrls } } : {}),
    productionUrl: edge.info.trafficUrl,
    profile,
    slackChannel: env.KEVIN_DEPLOY_SLACK_CHANNEL || undefined,
    // Every channel is routed: one whose secret is set sends for real, the others deliver to local
    // sinks (localAlertSinks below), which the console's Outbox shows as each channel would.
    alertChannels: { email: true, pagerduty: true, discord: true, sms: true },
  });

  let bot: RunningBot;
  try {
    const uploads = new SandboxEdgeClient(edge.info);
    bot = await startBot({
      config,
      env: botEnv,
      port: options.port ?? 3000,
      logger,
      localAlertSinks: true,
      // The console's new-release page uploads sample versions too, so a release needs no CLI.
      sandboxUploads: { behaviors: CONSOLE_BEHAVIORS, upload: (tag, behavior) => uploads.upload({ tag, behavior, message: `uploaded from the console: ${tag}` }) },
    });
  } catch (error) {
    // Leave an edge this process only attached to alone: another bot may be using it.
    await edge.stop({ attachedToo: false });
    throw error;
  }

  // The token file is vouched for only while this bot serves: the CLI sends it to this URL alone.
  if (tokenFromFile) writeBotInfo(paths.botInfoFile, { url: bot.url, pid: process.pid, startedAt: new Date().toISOString() });
  else {
    // This bot takes its token from the environment: a record for this URL (from an earlier run)
    // would vouch for the file's token here, where it is no longer valid.
    const stale = readBotInfo(paths.botInfoFile);
    if (stale?.url === bot.url) removeBotInfo(paths.botInfoFile, stale.pid);
  }

  const prefix = [
    env.DATABASE_URL ? `DATABASE_URL=${env.DATABASE_URL}` : '',
    bot.url !== 'http://127.0.0.1:3000' ? `KEVIN_DEPLOY_URL=${bot.url}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  // The logger writes synchronously (sync: true), so the start-up lines are out before the banner.
  options.out(
    banner({
      url: bot.url,
      edge: edge.info,
      tokenFile: tokenFromFile ? displayPath(paths.apiTokenFile, options.cwd) : undefined,
      envPrefix: prefix,
      alerts: { on: bot.alerting.configured, local: bot.alerting.local, off: Object.keys(bot.alerting.missing) as AlertChannelName[] },
      fourEyes: [...config.services.values()].some((s) => [...s.environments.values()].some((t) => t.approval.fourEyes)),
    }),
  );
  const stop = async () => {
    // The edge must not be restarted while everything stops (Ctrl-C reaches it too).
    edge.beginStopping();
    removeBotInfo(paths.botInfoFile, process.pid);
    await bot.close();
    await edge.stop({ attachedToo: true });
  };
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

/**
 * Keeps exactly one edge process running: attaches to a live one (left running by an earlier,
 * killed bot) or starts one, restarts it if it dies, and stops it on shutdown when it started it.
 */
class EdgeSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private logger: Logger | undefined;

  private constructor(
    private readonly paths: SandboxPaths,
    /** The edge's own environment (edgeEnvironment): no secret of the bot's. */
    private readonly env: NodeJS.ProcessEnv,
    /** What the running edge wrote about itself; undefined only until a launched edge is up. */
    private current: EdgeInfo | undefined,
    /** True when an edge was already running and this process only attached to it. */
    readonly attached: boolean,
    /** The pid of an earlier kevin-deploy's edge this process stopped to start its own. */
    readonly replacedPid?: number,
  ) {}

  get info(): EdgeInfo {
    if (this.current === undefined) throw new Error('the sandbox edge has not started yet');
    return this.current;
  }

  static async start(paths: SandboxPaths, env: NodeJS.ProcessEnv): Promise<EdgeSupervisor> {
    const running = await findRunningEdge(paths.edgeInfoFile);
    if (running && existsSync(paths.edgeStateFile)) return new EdgeSupervisor(paths, env, running, true);
    // A running edge with no state file beside it is an earlier kevin-deploy's: it keeps its state
    // in the bot's database, whose sandbox table this bot's migrations drop. Stopped (it saves its
    // state there as it stops), it is replaced by an edge that moves that state to its own file.
    if (running) await stopProcess(running.pid);
    const supervisor = new EdgeSupervisor(paths, env, undefined, false, running?.pid);
    await supervisor.launch();
    return supervisor;
  }

  /**
   * The logger is made once the edge is up, because it must scrub the edge's Cloudflare token
   * too; until then a failure is thrown, not logged.
   */
  useLogger(logger: Logger): void {
    this.logger = logger;
  }

  private async launch(): Promise<void> {
    const log = openSync(this.paths.edgeLogFile, 'a');
    // Not detached: Ctrl-C reaches the edge too. Output goes to a file, so the edge never dies of
    // a broken pipe when this process is killed.
    const child = spawn(process.execPath, [BIN, 'sandbox', 'edge'], { env: this.env, stdio: ['ignore', log, log] });
    this.child = child;
    let exitedEarly: string | undefined;
    let started = false;
    child.once('exit', (code, signal) => {
      exitedEarly = `exit code ${code ?? signal}`;
      // Only an edge that had started is restarted; one that cannot start (port taken, corrupt
      // state) is reported once and the start fails.
      if (this.stopping || this.child !== child || !started) return;
      this.logger?.error({ code, signal }, 'the sandbox edge stopped; restarting it');
      setTimeout(() => void this.launch().catch((e: unknown) => this.logger?.error({ err: e }, 'could not restart the sandbox edge')), 500);
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const info = await findRunningEdge(this.paths.edgeInfoFile);
      if (info && info.pid === child.pid) {
        this.current = info;
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
    await stopProcess(this.child?.pid ?? this.info.pid);
  }
}

/** SIGTERM, then SIGKILL if it is still there after 5 s. */
async function stopProcess(pid: number): Promise<void> {
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
