import { InvalidArgumentError, Option, type Command } from 'commander';
import { rmSync } from 'node:fs';
import { KevinDeployError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { findRunningEdge, readEdgeInfo, type EdgeInfo } from '../sandbox/edge-info.ts';
import { EdgeStateStore } from '../sandbox/edge-state-store.ts';
import { BEHAVIOR_PRESETS, parseBehavior } from '../sandbox/sample-site.ts';
import { SandboxEdgeClient } from '../sandbox/sandbox-edge-client.ts';
import { sandboxPaths } from '../sandbox/sandbox-paths.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { formatTime } from './time-format.ts';

export interface SandboxIo {
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  json: (cmd: Command) => boolean;
}

/** `kevin-deploy sandbox …`: the local edge and the tools to play CI against it. */
export function addSandboxCommands(program: Command, io: SandboxIo): void {
  const sandbox = program.command('sandbox').description('the local Cloudflare stand-in used by `npm start`, the demo and the tests');

  sandbox
    .command('edge')
    .description('run the local edge (Cloudflare API, KEVINSTAMP router, synthetic traffic); `serve --sandbox` starts it for you')
    .action(async () => {
      const { runSandboxEdge } = await import('../sandbox/edge-process.ts');
      const { stopOnSignals } = await import('./serve-command.ts');
      try {
        const logger = createLogger({ env: io.env });
        const edge = await runSandboxEdge(sandboxPaths(io.env, io.cwd), logger);
        stopOnSignals(() => edge.close());
      } catch (error) {
        throw new CliFailure(EXIT.usage, error instanceof Error ? error.message : String(error));
      }
    });

  sandbox
    .command('upload')
    .description('upload a version of the sample KEVINSTAMP site, as CI would with `wrangler versions upload --tag`')
    .addOption(new Option('--tag <tag>', 'the version tag, e.g. v2 (must be new)').makeOptionMandatory().argParser(tagOption))
    .option('--message <text>', 'the version message')
    // Checked while parsing the command line: a typo is a usage error (exit 2), before the edge is asked.
    .addOption(new Option('--behavior <preset>', `how the version behaves: ${BEHAVIOR_PRESETS.join(', ')}`).default('healthy').argParser(behaviorOption))
    .action(async (opts: { tag: string; message?: string; behavior: string }, cmd: Command) => {
      const client = new SandboxEdgeClient(await runningEdge(io));
      const version = await wrap(() => client.upload(opts));
      io.out(
        io.json(cmd)
          ? JSON.stringify(version, null, 2)
          : `uploaded ${version.tag} as version ${version.id.slice(0, 8)} (${version.behavior}); deploy it with: npx kevin-deploy deploy kevinstamp ${version.tag} --env production`,
      );
    });

  sandbox
    .command('status')
    .description('the edge: versions, the live split, and the synthetic traffic it has measured')
    .action(async (_opts: unknown, cmd: Command) => {
      const edge = await runningEdge(io);
      const client = new SandboxEdgeClient(edge);
      const [versions, split, traffic] = await Promise.all([client.versions(), client.activeSplit(), client.trafficStats()]);
      const view = { edge: { api: edge.apiBaseUrl, traffic: edge.trafficUrl, pid: edge.pid }, split, versions, traffic };
      if (io.json(cmd)) return io.out(JSON.stringify(view, null, 2));
      const tag = (id: string) => versions.find((v) => v.id === id)?.annotations?.['workers/tag'] ?? id.slice(0, 8);
      io.out(
        [
          `edge       ${edge.trafficUrl} (pid ${edge.pid})`,
          `live       ${Object.entries(split).map(([id, p]) => `${tag(id)} ${p} %`).join(', ') || 'nothing deployed'}`,
          `versions   ${versions.map((v) => v.annotations?.['workers/tag'] ?? v.id.slice(0, 8)).join(', ')}`,
          `traffic    ${describeTraffic(traffic, tag)}`,
        ].join('\n'),
      );
    });

  sandbox
    .command('reset')
    .description('forget the sandbox: its edge state and files (stop `npm start` first); the bot database is kept unless --all')
    .option('--all', 'also delete the bot database (every release recorded in the sandbox)')
    .action(async (opts: { all?: boolean }) => {
      const paths = sandboxPaths(io.env, io.cwd);
      if (await findRunningEdge(paths.edgeInfoFile)) {
        throw new CliFailure(EXIT.failed, 'the sandbox edge is running; stop `npm start` (Ctrl-C) first');
      }
      rmSync(paths.edgeInfoFile, { force: true });
      if (opts.all) {
        const file = paths.databaseUrl.slice('sqlite:'.length);
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
        rmSync(paths.apiTokenFile, { force: true });
        rmSync(paths.botInfoFile, { force: true });
        io.out(`removed the sandbox and its database in ${paths.dataDir}`);
        return;
      }
      const store = await EdgeStateStore.open(paths.databaseUrl);
      const removed = await store.clear();
      await store.close();
      io.out(`forgot the sandbox edge state (${removed} record(s)); the next start deploys a fresh v1`);
    });

  sandbox
    .command('demo')
    .description('a scripted, self-checking story in a fresh sandbox: a good release, an automatic rollback, a manual rollback')
    .action(async () => {
      const { runDemo } = await import('../sandbox/demo.ts');
      const code = await runDemo({ out: io.out, env: io.env });
      if (code !== 0) throw new CliFailure(code, 'the demo did not go as scripted (see the timeline above)');
    });
}

async function runningEdge(io: SandboxIo): Promise<EdgeInfo> {
  const paths = sandboxPaths(io.env, io.cwd);
  const edge = await wrap(() => findRunningEdge(paths.edgeInfoFile));
  if (edge) return edge;
  const stale = (() => {
    try {
      return readEdgeInfo(paths.edgeInfoFile);
    } catch {
      return undefined;
    }
  })();
  throw new CliFailure(
    EXIT.failed,
    stale ? `the sandbox edge (pid ${stale.pid}) is not answering; start it with \`npm start\`` : 'no sandbox is running here; start one with `npm start`',
  );
}

/** The edge's refusals (a tag that exists, an edge that does not answer) are refusals: exit 1. */
async function wrap<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof KevinDeployError) throw new CliFailure(EXIT.failed, error.message);
    throw error;
  }
}

const NEEDS_NUMBER: Record<string, string> = {
  erroring: 'erroring:N — N % of page requests fail, e.g. erroring:20',
  slow: 'slow:MS — every request takes MS milliseconds longer, e.g. slow:3000',
};

function behaviorOption(value: string): string {
  const bare = value.trim().replace(/^fails-after-traffic:/, '').replace(/:$/, '');
  if (NEEDS_NUMBER[bare]) throw new InvalidArgumentError(`It needs a number: ${NEEDS_NUMBER[bare]}`);
  try {
    parseBehavior(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return value;
}

function tagOption(value: string): string {
  if (!/^[^\s]{1,64}$/.test(value)) throw new InvalidArgumentError('a tag is 1 to 64 characters without spaces, e.g. v2');
  return value;
}

/**
 * For `--follow` against a local sandbox: the traffic the edge has measured since the last call
 * (requests, failures, who answered), so the live view shows real figures moving with the split.
 */
export async function sandboxTrafficProbe(env: NodeJS.ProcessEnv, cwd: string): Promise<(() => Promise<string | undefined>) | undefined> {
  let edge: EdgeInfo | undefined;
  try {
    edge = await findRunningEdge(sandboxPaths(env, cwd).edgeInfoFile);
  } catch {
    return undefined;
  }
  if (!edge) return undefined;
  const client = new SandboxEdgeClient(edge);
  let previous: { sent: number; failed: number; byVersion: Record<string, { ok: number; failed: number }> } | undefined;
  return async () => {
    const now = (await client.trafficStats()) as typeof previous;
    if (!now) return undefined;
    const before = previous;
    previous = now;
    if (!before) return `${now.sent} requests so far, ${now.failed} failed`;
    const answered = Object.entries(now.byVersion)
      .map(([id, c]) => [id, c.ok + c.failed - ((before.byVersion[id]?.ok ?? 0) + (before.byVersion[id]?.failed ?? 0))] as const)
      .filter(([, n]) => n > 0)
      .map(([id, n]) => `${id === 'none' ? 'no version' : id.slice(0, 8)} ${n}`)
      .join(', ');
    return `${now.sent - before.sent} requests since the last line, ${now.failed - before.failed} failed${answered ? ` — answered by ${answered}` : ''}`;
  };
}

function describeTraffic(stats: unknown, tag: (id: string) => string): string {
  const t = stats as { sent?: number; failed?: number; since?: string; byVersion?: Record<string, { ok: number; failed: number }> } | undefined;
  if (!t || t.sent === undefined) return 'no synthetic traffic';
  const versions = Object.entries(t.byVersion ?? {})
    .map(([id, c]) => `${id === 'none' ? 'no version' : tag(id)} ${c.ok + c.failed}${c.failed > 0 ? ` (${c.failed} failed)` : ''}`)
    .join(', ');
  return `${t.sent} requests since ${t.since ? formatTime(t.since) : 'start'}, ${t.failed ?? 0} failed — ${versions}`;
}
