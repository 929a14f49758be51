import { InvalidArgumentError, Option, type Command } from 'commander';
import { KevinDeployError } from '../errors.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { loadSandbox, type SandboxLauncher } from './load-sandbox.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { formatTime } from './time-format.ts';

export interface SandboxIo {
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  json: (cmd: Command) => boolean;
}

const NOT_HERE = 'it runs from a clone of kevin-deploy (`npm ci && npm start`)';

/** `kevin-deploy sandbox …`: the local edge and the tools to play CI against it. */
export function addSandboxCommands(program: Command, io: SandboxIo): void {
  const sandbox = program.command('sandbox').description('the local Cloudflare stand-in used by `npm start`, the demo and the tests');
  // The sandbox is loaded as `sandbox` is dispatched, before any of its verbs parses its options or
  // shows its help (`sandbox help upload` too): the --behavior presets are the sample site's. In a
  // build without it, `sandbox --help` still works and each verb says why it cannot.
  let launcher: SandboxLauncher | undefined;
  let unavailable: unknown;
  const behavior = new Option('--behavior <preset>', 'how the version behaves').default('healthy').argParser((value: string) => behaviorOption(value, launcher));
  program.hook('preSubcommand', async (_program, subcommand) => {
    if (subcommand !== sandbox) return;
    try {
      launcher = await loadSandbox(NOT_HERE);
      behavior.description = `how the version behaves: ${launcher.BEHAVIOR_PRESETS.join(', ')}`;
    } catch (error) {
      unavailable = error;
    }
  });
  const loaded = (): SandboxLauncher => {
    if (!launcher) throw unavailable ?? new Error('the sandbox was not loaded');
    return launcher;
  };

  sandbox
    .command('edge')
    .description('run the local edge (Cloudflare API, KEVINSTAMP router, synthetic traffic); `serve --sandbox` starts it for you')
    .action(async () => {
      try {
        // pino loads only when the edge starts, not for every CLI call.
        const { createLogger } = await import('../logger.ts');
        const logger = createLogger({ env: io.env });
        const edge = await loaded().runSandboxEdge(io.env, io.cwd, logger);
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
    .addOption(behavior)
    .action(async (opts: { tag: string; message?: string; behavior: string }, cmd: Command) => {
      const version = await wrap(() => loaded().uploadVersion(io.env, io.cwd, opts));
      io.out(
        io.json(cmd)
          ? JSON.stringify(version, null, 2)
          : `uploaded ${version.tag} as version ${version.id.slice(0, 8)}${version.script ? ` to ${version.script}` : ''} (${version.behavior}); deploy it with: npx kevin-deploy deploy kevinstamp ${version.tag} --env production`,
      );
    });

  sandbox
    .command('status')
    .description('the edge: versions, the live split, and the synthetic traffic it has measured')
    .action(async (_opts: unknown, cmd: Command) => {
      const view = await wrap(() => loaded().sandboxStatus(io.env, io.cwd));
      if (io.json(cmd)) return io.out(JSON.stringify(view, null, 2));
      const { edge, split, versions, traffic } = view;
      const tag = (id: string) => versions.find((v) => v.id === id)?.annotations?.['workers/tag'] ?? id.slice(0, 8);
      io.out(
        [
          `edge       ${edge.traffic} (pid ${edge.pid})`,
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
      io.out(await wrap(() => loaded().resetSandbox(io.env, io.cwd, opts)));
    });

  sandbox
    .command('demo')
    .description('a scripted, self-checking story in a fresh sandbox: a good release, an automatic rollback, a manual rollback')
    .action(async () => {
      const code = await loaded().runDemo({ out: io.out, env: io.env });
      if (code !== 0) throw new CliFailure(code, 'the demo did not go as scripted (see the timeline above)');
    });
}

/** The sandbox's refusals (no edge running, a tag that exists, an edge that does not answer) are refusals: exit 1. */
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

function behaviorOption(value: string, launcher: SandboxLauncher | undefined): string {
  const bare = value.trim().replace(/^fails-after-traffic:/, '').replace(/:$/, '');
  if (NEEDS_NUMBER[bare]) throw new InvalidArgumentError(`It needs a number: ${NEEDS_NUMBER[bare]}`);
  try {
    launcher?.parseBehavior(value);
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
 * For `--follow` against a local sandbox: the traffic the edge has measured since the last call.
 * Undefined when no sandbox edge runs here — or when this build has no sandbox (the production image).
 */
export async function sandboxTrafficProbe(env: NodeJS.ProcessEnv, cwd: string): Promise<(() => Promise<string | undefined>) | undefined> {
  let launcher: SandboxLauncher;
  try {
    launcher = await loadSandbox(NOT_HERE);
  } catch (error) {
    if (error instanceof CliFailure) return undefined;
    throw error;
  }
  return launcher.sandboxTrafficProbe(env, cwd);
}

function describeTraffic(stats: unknown, tag: (id: string) => string): string {
  const t = stats as { sent?: number; failed?: number; since?: string; byVersion?: Record<string, { ok: number; failed: number }> } | undefined;
  if (!t || t.sent === undefined) return 'no synthetic traffic';
  const versions = Object.entries(t.byVersion ?? {})
    .map(([id, c]) => `${id === 'none' ? 'no version' : tag(id)} ${c.ok + c.failed}${c.failed > 0 ? ` (${c.failed} failed)` : ''}`)
    .join(', ');
  return `${t.sent} requests since ${t.since ? formatTime(t.since) : 'start'}, ${t.failed ?? 0} failed — ${versions}`;
}
