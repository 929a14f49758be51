import { Command, CommanderError } from 'commander';
import { ApiClient } from './api-client.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import type { StoredAlert } from '../ports/alert-outbox.ts';
import { renderAlerts } from './render-alerts.ts';
import { addTableVerbs } from './table-verbs.ts';
import { followDeployment } from './follow.ts';
import { addSandboxCommands, sandboxTrafficProbe } from './sandbox-commands.ts';
import { packageVersion } from './package-version.ts';
import { chooseApiToken } from './api-token.ts';

const DEFAULT_URL = 'http://127.0.0.1:3000';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * The `kevin-deploy` command. Remote verbs call the bot's API; `serve` runs the bot; `config`
 * works on the file locally. Exit codes: 0 ok, 1 refused or failed, 2 usage or configuration.
 */
export function buildProgram(io: Io): Command {
  const program = new Command('kevin-deploy')
    .description('Blue-green releases for Cloudflare Workers, driven from chat, the CLI or the API')
    .option('--json', 'print the API objects as JSON (for scripts)')
    .option('--url <url>', 'where the bot runs (default $KEVIN_DEPLOY_URL or http://127.0.0.1:3000)')
    .version(packageVersion(), '-V, --version', 'print the version of kevin-deploy')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  const client = (cmd: Command) => {
    const opts = cmd.optsWithGlobals<{ url?: string }>();
    const baseUrl = opts.url ?? (io.env.KEVIN_DEPLOY_URL || DEFAULT_URL);
    // $KEVIN_DEPLOY_API_TOKEN; in the sandbox, the token file in ./data — for the sandbox's own URL only.
    return new ApiClient({ baseUrl, token: chooseApiToken(baseUrl, io.env, io.cwd) });
  };
  const json = (cmd: Command) => Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
  const print = (cmd: Command, value: unknown, human: () => string) => io.out(json(cmd) ? JSON.stringify(value, null, 2) : human());
  /** `--follow`: the release live until it ends; exit 0 only if it succeeds. */
  const follow = async (api: ApiClient, id: string) => {
    const extra = await sandboxTrafficProbe(io.env, io.cwd);
    const code = await followDeployment(api, id, io.out, extra ? { extra } : {});
    if (code !== EXIT.ok) throw new CliFailure(code, `${id} did not succeed (see above)`);
  };

  program
    .command('serve')
    .description('run the bot: HTTP API, runner, chat surfaces')
    .option('--sandbox', 'run against the local sandbox edge instead of Cloudflare')
    .option('--config <path>', 'configuration file (default $KEVIN_DEPLOY_CONFIG or ./kevin-deploy.yml)')
    .option('--port <port>', 'port (default $PORT or 3000)')
    .action(async (opts: { sandbox?: boolean; config?: string; port?: string }) => {
      // The whole bot loads only for serve: every other verb starts in the time Node starts.
      const { serve } = await import('./serve-command.ts');
      await serve({ ...opts, env: io.env, cwd: io.cwd, out: io.out, err: io.err });
    });

  // The verbs of the command table (deploy … unlock): arguments, options and help from commands/.
  addTableVerbs(program, { client, print, follow });

  const alerts = program
    .command('alerts')
    .description('alerts and their delivery per channel (Slack, email, PagerDuty, Discord), newest first')
    .option('--deployment <id>', 'only the alerts of one deployment')
    .option('--status <status>', 'only alerts with a delivery in this state: pending, delivered, failed, skipped')
    .option('--limit <n>', 'how many (default 50)')
    .action(async (opts: { deployment?: string; status?: string; limit?: string }, cmd: Command) => {
      const result = await client(cmd).get<{ alerts: StoredAlert[] }>('/alerts', { deployment: opts.deployment, status: opts.status, limit: opts.limit });
      print(cmd, result, () => renderAlerts(result.alerts));
    });
  alerts
    .command('ack')
    .description('acknowledge an incident (as the Acknowledge button does); PagerDuty is told')
    .argument('<incident>', 'the incident key kevin-deploy alerts shows')
    .action(async (incidentKey: string, _opts: unknown, cmd: Command) => {
      const result = await client(cmd).post<{ acknowledged: boolean; by?: string | null; at?: string | null }>('/alerts/acknowledge', { incidentKey });
      print(cmd, result, () => (result.acknowledged ? `acknowledged ${incidentKey}\n` : `already acknowledged by ${result.by ?? '?'} at ${result.at ?? '?'}; nothing changed\n`));
    });

  program
    .command('discord')
    .description('Discord application setup')
    .command('register')
    .description('register the /kevin status command (needs DISCORD_BOT_TOKEN and alerting.discord.applicationId)')
    .option('--config <path>', 'configuration file (default $KEVIN_DEPLOY_CONFIG or ./kevin-deploy.yml)')
    .option('--guild <id>', 'register on one server only (takes effect at once); default: globally')
    .action(async (opts: { config?: string; guild?: string }, cmd: Command) => {
      const { loadConfigOrExit } = await import('./load-config-or-exit.ts');
      const loaded = loadConfigOrExit(opts.config, io.env, io.cwd);
      const applicationId = loaded?.config.alerting.discord.applicationId;
      if (!applicationId) throw new CliFailure(EXIT.usage, 'set alerting.discord.applicationId in kevin-deploy.yml (the Developer Portal shows it as Application ID)');
      const token = io.env.DISCORD_BOT_TOKEN;
      if (!token) throw new CliFailure(EXIT.usage, 'DISCORD_BOT_TOKEN is not set: the application\'s bot token registers its commands');
      if (opts.guild !== undefined && !/^\d{17,20}$/.test(opts.guild)) throw new CliFailure(EXIT.usage, `--guild takes a server id (17–20 digits), got "${opts.guild}"`);
      let commands: Array<{ name: string; id: string }>;
      // Loaded only here: discord.js takes a noticeable moment to import, and no other verb needs it.
      const { registerDiscordCommands } = await import('../adapters/discord/register-commands.ts');
      try {
        commands = (await registerDiscordCommands({ applicationId, token, guildId: opts.guild, api: io.env.DISCORD_API_URL || undefined })) as Array<{ name: string; id: string }>;
      } catch (error) {
        throw new CliFailure(EXIT.failed, `Discord refused the command registration: ${error instanceof Error ? error.message : String(error)}`);
      }
      print(cmd, { registered: commands }, () => `registered ${commands.map((c) => `/${c.name}`).join(', ')} ${opts.guild ? `on server ${opts.guild}` : 'globally (may take up to an hour to appear)'}\n`);
    });

  addSandboxCommands(program, { out: io.out, env: io.env, cwd: io.cwd, json });

  const config = program.command('config').description('check the configuration file or print its JSON Schema');
  config
    .command('check')
    .description('validate the configuration; each problem with file:line:column and path; exit 2 on problems')
    .option('--config <path>', 'configuration file (default $KEVIN_DEPLOY_CONFIG or ./kevin-deploy.yml)')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const { loadConfigOrExit } = await import('./load-config-or-exit.ts');
      const loaded = loadConfigOrExit(opts.config, io.env, io.cwd);
      if (!loaded) throw new CliFailure(EXIT.usage, 'no configuration file: pass --config, set KEVIN_DEPLOY_CONFIG, or create ./kevin-deploy.yml (see kevin-deploy.example.yml)');
      const targets = [...loaded.config.services.values()].flatMap((s) => [...s.environments.keys()].map((e) => `${s.name}/${e}`));
      print(cmd, { ok: true, source: loaded.config.source, targets, warnings: loaded.warnings }, () =>
        [...loaded.warnings, `${loaded.config.source}: ok — ${targets.length} target(s): ${targets.join(', ')}`].join('\n'),
      );
    });
  config
    .command('schema')
    .description('print the JSON Schema of kevin-deploy.yml')
    .action(async () => {
      const { configJsonSchema } = await import('../config/json-schema.ts');
      io.out(JSON.stringify(configJsonSchema(), null, 2));
    });

  return program;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof CliFailure) {
      const wantsJson = argv.includes('--json');
      io.err(wantsJson && error.body ? JSON.stringify(error.body, null, 2) : error.plain ? error.message : `kevin-deploy: ${error.message}`);
      return error.exitCode;
    }
    io.err(`kevin-deploy: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
}

/** The process entry (bin/kevin-deploy.js). `serve` keeps the process alive on its own. */
export async function runCli(): Promise<void> {
  const code = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  });
  process.exitCode = code;
}
