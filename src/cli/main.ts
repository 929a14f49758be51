import { Command, CommanderError, Option } from 'commander';
import { configJsonSchema } from '../config/json-schema.ts';
import type { DeploymentView, LockView } from '../domain/deployment-view.ts';
import { ApiClient } from './api-client.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { loadConfigOrExit } from './load-config-or-exit.ts';
import type { StoredAlert } from '../ports/alert-outbox.ts';
import { renderAlerts } from './render-alerts.ts';
import { renderDeployment, renderHistory, renderLock, renderStatus, type TargetStatusView } from './render.ts';
import { followDeployment } from './follow.ts';
import { addSandboxCommands, sandboxTrafficProbe } from './sandbox-commands.ts';
import { serve } from './serve-command.ts';
import { packageVersion } from './package-version.ts';
import { chooseApiToken } from './api-token.ts';

const DEFAULT_URL = 'http://127.0.0.1:3000';
const DEPLOYMENT_ID = /^kd-[a-z0-9]{6,}$/;

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

  program
    .command('serve')
    .description('run the bot: HTTP API, runner, chat surfaces')
    .option('--sandbox', 'run against the local sandbox edge instead of Cloudflare')
    .option('--config <path>', 'configuration file (default $KEVIN_DEPLOY_CONFIG or ./kevin-deploy.yml)')
    .option('--port <port>', 'port (default $PORT or 3000)')
    .action(async (opts: { sandbox?: boolean; config?: string; port?: string }) => {
      await serve({ ...opts, env: io.env, cwd: io.cwd, out: io.out, err: io.err });
    });

  program
    .command('deploy')
    .description('stage VERSION beside the live version, verify it, and ask for approval')
    .argument('<service>', 'a configured service, e.g. kevinstamp')
    .argument('<version>', 'version id, 8-character id prefix or tag (workers/tag)')
    .option('--env <environment>', 'environment (protected ones such as production must be named)')
    .option('--queue', 'wait in line if another release of the target is active')
    .option('--note <text>', 'a note for the approvers and the audit trail')
    .option('--force', 'deploy even though secrets changed since the version was uploaded (Cloudflare 10220)')
    .option('--follow', 'stay and show the release live until it ends (exit 0 only if it succeeds)')
    .action(async (service: string, version: string, opts: { env?: string; queue?: boolean; note?: string; force?: boolean; follow?: boolean }, cmd: Command) => {
      const api = client(cmd);
      const d = await api.post<DeploymentView>('/deployments', {
        service,
        version,
        environment: opts.env,
        note: opts.note,
        queue: opts.queue,
        force: opts.force,
      });
      print(cmd, d, () => renderDeployment(d));
      if (opts.follow) await follow(api, d.id);
    });

  const descriptions = {
    approve: 'approve a release waiting for approval',
    reject: 'reject a release waiting for approval',
    cancel: 'cancel a release (after the switch this rolls back)',
    promote: 'go on: the next canary step after a manual gate, or accept a release paused on inconclusive metrics',
  } as const;
  for (const verb of ['approve', 'reject', 'cancel', 'promote'] as const) {
    const command = program.command(verb).argument('<id>', 'deployment id, e.g. kd-abcd234xyz').description(descriptions[verb]);
    if (verb === 'reject') command.option('--comment <text>', 'why');
    if (verb === 'approve' || verb === 'promote') command.option('--override', 'go on although a rollback to blue would not be possible');
    command.action(async (id: string, opts: { comment?: string; override?: boolean }, cmd: Command) => {
      const d = await client(cmd).post<DeploymentView>(`/deployments/${encodeURIComponent(id)}/${verb}`, {
        comment: opts.comment,
        override: opts.override,
      });
      print(cmd, d, () => renderDeployment(d));
    });
  }

  program
    .command('rollback')
    .description('send all traffic back to the previous known-good version (or --to VERSION), then verify it')
    .argument('<service-or-id>', 'a service, or the id of the release to roll back')
    .option('--env <environment>', 'environment')
    .option('--to <version>', 'version to roll back to (default: the previous known-good one)')
    .option('--note <text>', 'why, for the audit trail')
    .action(async (target: string, opts: { env?: string; to?: string; note?: string }, cmd: Command) => {
      const api = client(cmd);
      const d = DEPLOYMENT_ID.test(target)
        ? await api.post<DeploymentView>(`/deployments/${encodeURIComponent(target)}/rollback`, { note: opts.note })
        : await api.post<DeploymentView>('/rollbacks', { service: target, environment: opts.env, to: opts.to, note: opts.note });
      print(cmd, d, () => renderDeployment(d));
    });

  program
    .command('status')
    .description('what is live, active, queued and frozen — or one deployment with its timeline')
    .argument('[service-or-id]', 'a service, or a deployment id')
    .option('--follow', 'with an id: show the release live until it ends (exit 0 only if it succeeds)')
    .action(async (target: string | undefined, opts: { follow?: boolean }, cmd: Command) => {
      const api = client(cmd);
      if (target && DEPLOYMENT_ID.test(target)) {
        if (opts.follow) return follow(api, target);
        const d = await api.get<DeploymentView>(`/deployments/${encodeURIComponent(target)}`);
        print(cmd, d, () => renderDeployment(d));
        return;
      }
      if (opts.follow) throw new CliFailure(EXIT.usage, '--follow needs a deployment id: kevin-deploy status <id> --follow');
      const status = await api.get<{ targets: TargetStatusView[] }>('/status', { service: target });
      print(cmd, status, () => renderStatus(status.targets));
    });

  program
    .command('history')
    .description('recent deployments, newest first')
    .argument('[service]', 'a service')
    .option('--env <environment>', 'environment')
    .option('--limit <n>', 'how many (default 20)')
    .action(async (service: string | undefined, opts: { env?: string; limit?: string }, cmd: Command) => {
      const result = await client(cmd).get<{ deployments: DeploymentView[] }>('/deployments', {
        service,
        environment: opts.env,
        limit: opts.limit,
      });
      print(cmd, result, () => renderHistory(result.deployments));
    });

  program
    .command('lock')
    .description('freeze a target: deploys are refused until unlock; rollbacks still work')
    .argument('<service>', 'a service')
    .option('--env <environment>', 'environment')
    .addOption(new Option('--reason <text>', 'why (shown to everyone who is refused)').makeOptionMandatory())
    .option('--for <duration>', 'lift by itself after this long, e.g. 2h (default: until unlock)')
    .action(async (service: string, opts: { env?: string; reason: string; for?: string }, cmd: Command) => {
      const lock = await client(cmd).post<LockView>('/locks', { service, environment: opts.env, reason: opts.reason, expiresAfter: opts.for });
      print(cmd, lock, () => renderLock(lock, 'locked'));
    });

  program
    .command('unlock')
    .description('lift a freeze lock; the oldest queued release starts')
    .argument('<service>', 'a service')
    .option('--env <environment>', 'environment')
    .action(async (service: string, opts: { env?: string }, cmd: Command) => {
      const api = client(cmd);
      let environment = opts.env;
      if (!environment) {
        // The API addresses a lock by service and environment; find the one locked environment.
        const status = await api.get<{ targets: TargetStatusView[] }>('/status', { service });
        const locked = status.targets.filter((t) => t.lock);
        if (locked.length !== 1) {
          if (locked.length === 0) throw new CliFailure(EXIT.failed, `${service} is not locked`);
          throw new CliFailure(EXIT.usage, `${service} is locked in ${locked.map((t) => t.environment).join(' and ')}: name one with --env`);
        }
        environment = locked[0]!.environment;
      }
      const result = await api.delete<{ unlocked: LockView }>(`/locks/${encodeURIComponent(service)}/${encodeURIComponent(environment)}`);
      print(cmd, result, () => renderLock(result.unlocked, 'unlocked'));
    });

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

  const follow = async (api: ApiClient, id: string) => {
    const extra = await sandboxTrafficProbe(io.env, io.cwd);
    const code = await followDeployment(api, id, io.out, extra ? { extra } : {});
    if (code !== EXIT.ok) throw new CliFailure(code, `${id} did not succeed (see above)`);
  };

  addSandboxCommands(program, { out: io.out, env: io.env, cwd: io.cwd, json });

  const config = program.command('config').description('check the configuration file or print its JSON Schema');
  config
    .command('check')
    .description('validate the configuration; each problem with file:line:column and path; exit 2 on problems')
    .option('--config <path>', 'configuration file (default $KEVIN_DEPLOY_CONFIG or ./kevin-deploy.yml)')
    .action((opts: { config?: string }, cmd: Command) => {
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
    .action(() => io.out(JSON.stringify(configJsonSchema(), null, 2)));

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
