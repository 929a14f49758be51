import { KevinDeployError } from '../errors.ts';
import { createLogger, logFormatFor, logLevelFor, secretProblems } from '../logger.ts';
import { startBot, type RunningBot } from '../app/start-bot.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { loadConfigOrExit } from './load-config-or-exit.ts';
import { loadSandbox } from './load-sandbox.ts';
import { stopOnSignals } from './stop-on-signals.ts';

export interface ServeOptions {
  sandbox?: boolean | undefined;
  config?: string | undefined;
  port?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
}


/**
 * `kevin-deploy serve`: loads the configuration, starts the bot, and shuts down cleanly on
 * SIGTERM/SIGINT — stop taking work, record in-flight steps, release leases — within 10 s.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const { env } = options;
  const port = parsePort(options.port ?? env.PORT);
  checkLogSettings(env);
  // The sandbox always runs its own KEVINSTAMP configuration: a real file's URLs and accounts
  // mean nothing against the local edge.
  if (options.sandbox) return startSandbox(options, port);
  const loaded = loadConfigOrExit(options.config, env, options.cwd);
  if (!loaded) {
    // A Cloudflare token says "real": never fall back to the sandbox silently then.
    if (env.CLOUDFLARE_API_TOKEN) {
      throw new CliFailure(
        EXIT.usage,
        'CLOUDFLARE_API_TOKEN is set but there is no kevin-deploy.yml (nor --config / KEVIN_DEPLOY_CONFIG): write one from kevin-deploy.example.yml, or run `kevin-deploy serve --sandbox`',
      );
    }
    return startSandbox(options, port);
  }
  const { config, warnings } = loaded;
  const apiTokenEnvNames = config.apiTokens.map((t) => t.env);
  refuseShortSecrets(env, apiTokenEnvNames);
  const logger = createLogger({ env, apiTokenEnvNames });
  for (const warning of warnings) logger.warn(warning);
  // A control plane must not die of one library's forgotten promise: the release state is
  // persisted, so log it loudly and keep serving.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (kept running)'));
  // Signals are handled from the first moment; a stop during start-up has nothing in flight yet.
  let bot: RunningBot | undefined;
  stopOnSignals(() => bot?.close() ?? Promise.resolve());
  try {
    bot = await startBot({ config, env, port: port ?? config.server.port ?? 3000, logger });
  } catch (error) {
    throw new CliFailure(EXIT.usage, error instanceof Error ? error.message : String(error));
  }
}

async function startSandbox(options: ServeOptions, port: number | undefined): Promise<void> {
  // The sandbox's bot has no apiTokens: its one token is KEVIN_DEPLOY_API_TOKEN (or the file).
  refuseShortSecrets(options.env, []);
  // Loaded only now, and absent from the production image: then a clear usage error, not a crash.
  const { serveSandbox } = await loadSandbox(
    'give a kevin-deploy.yml (--config or KEVIN_DEPLOY_CONFIG; see kevin-deploy.example.yml) to run the bot against Cloudflare',
  );
  try {
    await serveSandbox({ ...options, port });
  } catch (error) {
    // Port taken, corrupt sandbox state…: the message says what to do; it is a setup problem.
    if (error instanceof KevinDeployError) throw new CliFailure(EXIT.usage, error.message);
    throw error;
  }
}


/** LOG_FORMAT and LOG_LEVEL are checked before anything starts, so a typo is a usage error, not a crash. */
function checkLogSettings(env: NodeJS.ProcessEnv): void {
  try {
    logFormatFor(env, false);
    logLevelFor(env);
  } catch (error) {
    throw new CliFailure(EXIT.usage, error instanceof Error ? error.message : String(error));
  }
}

function refuseShortSecrets(env: NodeJS.ProcessEnv, apiTokenEnvNames: readonly string[]): void {
  const problems = secretProblems(env, apiTokenEnvNames);
  if (problems.length > 0) throw new CliFailure(EXIT.usage, problems.join('\n'));
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliFailure(EXIT.usage, `port must be a number from 0 to 65535; got "${value}"`);
  }
  return port;
}
