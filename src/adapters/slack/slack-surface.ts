import { App, HTTPReceiver, SocketModeReceiver, type BlockAction, type Receiver, type webApi } from '@slack/bolt';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BUTTON_ACTION_IDS, buttonClick } from '../../../commands/card-buttons.ts';
import { COMMANDS, runCommand, type CommandName } from '../../../commands/index.ts';
import type { KevinDeployConfig } from '../../config/schema.ts';
import type { Deployment } from '../../domain/deployment.ts';
import { settingsOf } from '../../config/target-lookup.ts';
import { KevinDeployError } from '../../errors.ts';
import type { Alerts } from '../../ports/alerts.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Releases } from '../../ports/releases.ts';
import type { Store } from '../../ports/store.ts';
import type { TrafficPlatform } from '../../ports/traffic-platform.ts';
import { ALERT_ACK_ACTION } from './alert-message.ts';
import { errorReply, replyFor } from './replies.ts';
import type { SlackActors } from './slack-actors.ts';
import { slackLogger } from './slack-logger.ts';
import { peopleOf, type People } from './mrkdwn.ts';
import { parseDeployCommand, parseRollbackCommand, type ParsedSlashCommand } from './slash-command-parser.ts';
import { appHome, deployModal, DEPLOY_MODAL, MODAL_TARGET_ACTION, parseDeployModal, selectedTarget, type TargetChoice } from './views.ts';

export interface SlackEnv {
  SLACK_BOT_TOKEN?: string | undefined;
  SLACK_SIGNING_SECRET?: string | undefined;
  SLACK_APP_TOKEN?: string | undefined;
  SLACK_API_URL?: string | undefined;
}

export interface SlackSurfaceDeps {
  env: SlackEnv;
  botToken: string;
  config: KevinDeployConfig;
  releases: Releases;
  /** Acknowledge buttons on alerts. */
  alerts: Alerts;
  /** Who is who in Slack (roles, user groups): shared with the outbound side. */
  actors: SlackActors;
  store: Store;
  platform: TrafficPlatform;
  clock: Clock;
  logger: Logger;
  /** How long one Slack Web API call may take (the WebClient's default is to wait for ever). */
  requestTimeoutMs: number;
}

/**
 * How long a request is remembered against replays. Bolt refuses signatures older than 5 minutes
 * (the window in which a captured request could be sent again verbatim); a little more covers
 * clock skew between Slack and this host.
 */
const REPLAY_WINDOW_MS = 10 * 60_000;

const EVENTS_PATH = '/slack/events';

/**
 * Slack chat-ops on @slack/bolt: `/deploy` and `/rollback` dispatched into the same commands as
 * the CLI and the API, one live card per release with buttons, a deploy dialog, and App Home.
 * HTTP mode serves Slack on the bot's own port (Bolt's HTTPReceiver, mounted on fastify: Bolt
 * verifies signatures and acks); Socket Mode connects out with SLACK_APP_TOKEN. Every request is
 * acked at once and the work happens after the ack.
 */
export class SlackSurface {
  readonly mode: 'http' | 'socket';
  private readonly app: App;
  private readonly httpReceiver: HTTPReceiver | undefined;
  private readonly actors: SlackActors;
  private readonly people: People;

  constructor(private readonly deps: SlackSurfaceDeps) {
    const { env, logger, botToken } = deps;
    this.actors = deps.actors;
    this.people = peopleOf(deps.config.slack.users);
    const log = slackLogger(logger.child({ component: 'slack' }));
    // Every call has a deadline: a Slack that accepts connections and never answers would
    // otherwise hang card updates and alert deliveries until a restart.
    const timeout = deps.requestTimeoutMs;
    const clientOptions = {
      ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
      timeout,
      // Bolt's respond() posts to response_url with this fetch, and passes no deadline of its own.
      fetch: ((input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeout) })) satisfies typeof fetch,
      // Bolt's own calls (acks over response_url, views) retry a little; cards have their own queue.
      retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    };
    let receiver: Receiver;
    if (env.SLACK_APP_TOKEN) {
      this.mode = 'socket';
      // The socket client keeps the Web API's default retries: a failed apps.connections.open during
      // a reconnect is retried for minutes instead of giving up after two tries.
      const socketClientOptions = { timeout, ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) };
      receiver = new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN, logger: log, installerOptions: { clientOptions: socketClientOptions } });
    } else {
      this.mode = 'http';
      if (!env.SLACK_SIGNING_SECRET) {
        throw new KevinDeployError('USAGE', 'SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: set it (HTTP mode) or set SLACK_APP_TOKEN (Socket Mode)');
      }
      this.httpReceiver = new HTTPReceiver({
        signingSecret: env.SLACK_SIGNING_SECRET,
        endpoints: EVENTS_PATH,
        logger: log,
        // Ack first, work after: Slack wants an answer within 3 s.
        processBeforeResponse: false,
      });
      receiver = this.httpReceiver;
    }
    // `authorize` instead of a bare token: Bolt would otherwise call auth.test while constructing,
    // and an unreachable Slack would crash the process.
    this.app = new App({
      receiver,
      authorize: async () => ({ botToken: botToken }),
      logger: log,
      clientOptions,
      ...(this.mode === 'socket' ? { socketMode: true } : {}),
    });
    this.register();
  }

  /**
   * HTTP mode: POST /slack/events on the bot's port goes straight to Bolt's HTTPReceiver, which
   * reads the raw body to verify Slack's signature, answers url_verification and acks; no other
   * layer touches it (that also keeps the ack as fast as a bare Bolt app's).
   */
  readonly rawHandler = (request: IncomingMessage, response: ServerResponse): boolean => {
    const receiver = this.httpReceiver;
    if (!receiver || request.method !== 'POST' || request.url?.split('?')[0] !== EVENTS_PATH) return false;
    receiver.requestListener(request, response);
    return true;
  };

  async start(): Promise<void> {
    if (this.mode === 'socket') {
      // Connecting is not waited for: releases must not depend on Slack being reachable, and the
      // socket client keeps trying by itself.
      this.app.start().then(
        () => this.deps.logger.info('Slack Socket Mode is connected'),
        (error: unknown) => this.deps.logger.error({ err: error }, 'Slack Socket Mode could not connect; releases go on without Slack'),
      );
    }
    this.deps.logger.info({ mode: this.mode, channel: this.deps.config.slack.channel }, 'Slack is on');
  }

  async stop(): Promise<void> {
    if (this.mode === 'socket') await this.app.stop().catch(() => undefined);
  }

  private register(): void {
    const { app } = this;
    const { logger } = this.deps;

    // Slack retries a request it thinks went unanswered; the first delivery is being handled, so
    // a retry is acknowledged and dropped — it must never start a second release.
    app.use(async (args) => {
      const retryNum = (args.context as { retryNum?: number }).retryNum;
      if (retryNum !== undefined) {
        logger.info({ retryNum, reason: (args.context as { retryReason?: string }).retryReason }, 'skipped: Slack retry of a request already being handled');
        if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
        return;
      }
      await args.next();
    });

    app.command('/deploy', async ({ command, ack, respond, client }) => {
      const parsed = parseDeployCommand(command.text ?? '', (service) => [...(this.deps.config.services.get(service)?.environments.keys() ?? [])]);
      if (parsed.kind === 'modal') {
        await ack();
        await this.openDeployModal(client, command.trigger_id, command.channel_id);
        return;
      }
      await this.slash(parsed, command, ack, respond);
    });

    app.command('/rollback', async ({ command, ack, respond }) => {
      await this.slash(parseRollbackCommand(command.text ?? ''), command, ack, respond);
    });

    // The card buttons, as the command table declares them: a click runs its button's command with
    // the deployment id (the button's value), and the override variant adds its argument.
    for (const actionId of BUTTON_ACTION_IDS) {
      app.action(actionId, async ({ ack, action, body, respond }) => {
        await ack();
        const id = (action as { value?: string }).value ?? '';
        if (!(await this.firstDelivery(body, actionId))) return;
        try {
          const click = buttonClick(actionId, id)!;
          const actor = await this.actors.resolve(body.user.id);
          await runCommand(click.command, click.args, { actor, releases: this.deps.releases });
        } catch (error) {
          if (!(error instanceof KevinDeployError)) logger.error({ err: error, action: actionId, deploymentId: id }, 'a card button failed');
          await respond({ response_type: 'ephemeral', replace_original: false, text: errorReply(error, this.people) }).catch(() => undefined);
        }
      });
    }

    app.action(ALERT_ACK_ACTION, async ({ ack, action, body, respond }) => {
      await ack();
      const incidentKey = (action as { value?: string }).value ?? '';
      const { alerts } = this.deps;
      if (!(await this.firstDelivery(body, ALERT_ACK_ACTION))) return;
      try {
        const actor = await this.actors.resolve(body.user.id);
        const result = await alerts.acknowledge(incidentKey, actor.name, 'slack');
        if (result.status !== 'acknowledged') {
          const text =
            result.status === 'unknown'
              ? ':grey_question: That alert is not known here any more; nothing was changed.'
              : result.resolvedAt
                ? `:white_check_mark: Already resolved at ${result.resolvedAt}; nothing was changed.`
                : `:eyes: Already acknowledged by ${result.by ?? 'someone'} at ${result.at ?? '?'}; nothing was changed.`;
          await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(() => undefined);
        }
      } catch (error) {
        if (!(error instanceof KevinDeployError)) logger.error({ err: error, incidentKey }, 'acknowledging an alert failed');
        await respond({ response_type: 'ephemeral', replace_original: false, text: errorReply(error, this.people) }).catch(() => undefined);
      }
    });

    // Link buttons on alerts open a URL; Slack still sends the click, which only needs an ack.
    app.action(/^kd_alert_link_\d+$/, async ({ ack }) => {
      await ack();
    });

    // A select in the deploy modal: always a block_actions payload, which carries the view.
    app.action<BlockAction>(MODAL_TARGET_ACTION, async ({ ack, body, client }) => {
      await ack();
      const view = body.view;
      if (!view) return;
      const target = selectedTarget(view.state.values);
      const { channelId } = JSON.parse(view.private_metadata || '{}') as { channelId?: string };
      await client.views.update({ view_id: view.id, hash: view.hash, view: await this.modalFor(target, channelId ?? '') });
    });

    app.view(DEPLOY_MODAL, async ({ ack, body, view, client }) => {
      const parsed = parseDeployModal(view.state.values);
      if ('errors' in parsed) {
        await ack({ response_action: 'errors', errors: parsed.errors });
        return;
      }
      const { channelId } = JSON.parse(view.private_metadata || '{}') as { channelId?: string };
      if (!(await this.firstDelivery(body, DEPLOY_MODAL))) {
        await ack();
        return;
      }
      try {
        const actor = await this.actors.resolve(body.user.id);
        const result = await runCommand(COMMANDS.deploy, parsed.args, { actor, releases: this.deps.releases });
        await ack();
        if (channelId) {
          await client.chat.postEphemeral({ channel: channelId, user: body.user.id, text: replyFor('deploy', result, this.cardChannel(result.service, result.environment), this.people) });
        }
      } catch (error) {
        await ack({ response_action: 'errors', errors: { kd_target: errorReply(error, this.people).replace(/^:\w+: /, '').slice(0, 2000) } });
      }
    });

    app.event('app_home_opened', async ({ event, client }) => {
      if ((event as { tab?: string }).tab !== 'home') return;
      await client.views.publish({ user_id: event.user, view: await this.homeView() });
    });

    app.error(async (error) => {
      logger.error({ err: error }, 'Slack request failed');
    });
  }

  /**
   * Whether this request is seen for the first time. A signed Slack request stays valid for
   * minutes, and Bolt drops only Slack's own retries (X-Slack-Retry-Num): the same body sent
   * again verbatim would otherwise run twice. Every interaction carries a unique trigger_id;
   * it is recorded in the store (so a restart or another replica remembers it too). Checked
   * after the ack, so the ack stays as fast as a bare Bolt app's.
   */
  private async firstDelivery(body: unknown, what: string): Promise<boolean> {
    const triggerId = (body as { trigger_id?: unknown }).trigger_id;
    const key = typeof triggerId === 'string' && triggerId !== '' ? `slack:${triggerId}` : `slack-body:${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
    const now = this.deps.clock.now();
    try {
      const first = await this.deps.store.recordInboundDelivery(key, now.toISOString(), new Date(now.getTime() - REPLAY_WINDOW_MS).toISOString());
      if (!first) this.deps.logger.warn({ what, key }, 'skipped: a Slack request already handled was sent again (a replay); nothing was done');
      return first;
    } catch (error) {
      // Could not tell: acting on it is the safe side (commands themselves refuse what no longer applies).
      this.deps.logger.warn({ err: error, what }, 'could not check a Slack request against replays; handling it');
      return true;
    }
  }

  /** Ack at once (with usage for a bad command), then do the work and answer over response_url. */
  private async slash(
    parsed: ParsedSlashCommand,
    command: { user_id: string; trigger_id?: string },
    ack: (reply?: { response_type: 'ephemeral'; text: string }) => Promise<void>,
    respond: (reply: { response_type: 'ephemeral'; text: string }) => Promise<unknown>,
  ): Promise<void> {
    const userId = command.user_id;
    if (parsed.kind === 'usage') return ack({ response_type: 'ephemeral', text: `:grey_question: ${parsed.message}` });
    const name: CommandName = parsed.kind === 'help' ? 'help' : parsed.kind === 'run' ? parsed.command : 'help';
    const args = parsed.kind === 'run' ? parsed.args : {};
    if (COMMANDS[name].permission === 'read') {
      // Reading is a few indexed queries (well under a millisecond): answer in the ack itself,
      // which spares a second round trip over response_url.
      return ack({ response_type: 'ephemeral', text: await this.answer(name, args, userId) });
    }
    // Anything that changes state may wait on Cloudflare: ack now, answer when done.
    await ack();
    if (!(await this.firstDelivery(command, name))) return;
    const text = await this.answer(name, args, userId);
    await respond({ response_type: 'ephemeral', text }).catch((error: unknown) =>
      this.deps.logger.warn({ err: error }, 'could not answer over response_url'),
    );
  }

  /** Runs a chat command; its arguments are words from chat, which the command's schema checks. */
  private async answer(command: CommandName, args: unknown, userId: string): Promise<string> {
    try {
      const actor = await this.actors.resolve(userId);
      const result = await runCommand(COMMANDS[command], args, { actor, releases: this.deps.releases });
      const target = result as { service?: string; environment?: string };
      return replyFor(command, result, target.service && target.environment ? this.cardChannel(target.service, target.environment) : undefined, this.people);
    } catch (error) {
      if (!(error instanceof KevinDeployError)) this.deps.logger.error({ err: error, command }, 'a slash command failed');
      return errorReply(error, this.people);
    }
  }

  private cardChannel(service: string, environment: string): string | undefined {
    return settingsOf(this.deps.config, service, environment)?.slackChannel ?? this.deps.config.slack.channel;
  }

  private targets(): TargetChoice[] {
    return [...this.deps.config.services.values()].flatMap((s) =>
      [...s.environments.values()].map((t) => ({ service: t.service, environment: t.environment, protected: t.protected })),
    );
  }

  private async openDeployModal(client: webApi.WebClient, triggerId: string, channelId: string): Promise<void> {
    const targets = this.targets();
    // With one target there is nothing to choose: show its versions at once.
    const preselected = targets.length === 1 ? targets[0] : undefined;
    await client.views.open({ trigger_id: triggerId, view: await this.modalFor(preselected, channelId) });
  }

  private async modalFor(target: { service: string; environment: string } | undefined, channelId: string) {
    const targets = this.targets();
    const selected = target ? targets.find((t) => t.service === target.service && t.environment === target.environment) : undefined;
    const settings = selected && settingsOf(this.deps.config, selected.service, selected.environment);
    let versions;
    let versionsProblem: string | undefined;
    if (settings) {
      try {
        versions = await this.deps.platform.listVersions(settings, 10);
      } catch (error) {
        versionsProblem = `Could not list versions: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return deployModal({ targets, selected, versions, versionsProblem, channelId, now: this.deps.clock.now() });
  }

  private async homeView() {
    const { releases, config, clock } = this.deps;
    const status = await releases.status();
    const recent = new Map<string, Deployment[]>();
    for (const service of config.services.keys()) recent.set(service, await releases.list({ service, limit: 10 }));
    return appHome({
      active: status.flatMap((t) => (t.active ? [t.active] : [])),
      locks: status.flatMap((t) => (t.lock ? [t.lock] : [])),
      recent,
      now: clock.now(),
      people: this.people,
    });
  }
}

