import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KevinDeployConfig } from '../../src/config/schema.ts';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { startBot, type RunningBot } from '../../src/app/start-bot.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage, type FakeSlackOptions } from '../fakes/slack-web-api.ts';
import { apiCaller, type ApiCaller } from './api-caller.ts';
import { testConfig, TOKEN_ENV, TOKENS } from './bot-harness.ts';
import {
  blockActionsBody,
  postSigned,
  responseUrlCatcher,
  slashCommandBody,
  slashCommandPayload,
  type PostSignedOptions,
  type ResponseUrlCatcher,
  type SignedResponse,
} from './slack-requests.ts';
import { STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { newTestSchema } from './postgres-schema.ts';
import { waitFor } from './wait-for.ts';
import { waitForStage } from './wait-for-stage.ts';
import { capturedLogger } from './captured-logger.ts';

/**
 * A real bot with Slack on (HTTP mode by default, Socket Mode on request) against the loopback
 * Slack fake and the Cloudflare stand-in, plus the helpers Slack tests need: signed slash commands
 * and clicks, the response_url catcher, the deployment cards, and a restart on the same database.
 */

export const SLACK_BOT_TOKEN = 'xoxb-kd-test-bot-token';
export const SLACK_SIGNING_SECRET = 'kd-test-signing-secret-0123456789';
export const SLACK_APP_TOKEN = 'xapp-1-kd-test-app-token';
export const CHANNEL = 'C0DEPLOYS';
/** staging's own card channel (a per-target slackChannel). */
export const STAGING_CHANNEL = 'C0STAGING';
export const TEAM = 'T0KEVINTEAM';
export const APPROVER_GROUP = 'S0APPROVERS';

/**
 * The Slack people of these tests:
 * alice deployer (mapped to the actor alice), bob approver (mapped to bob), carol approver through
 * the user group S0APPROVERS (unmapped: her actor is slack:U0CAROL), ops admin (mapped to ops),
 * dave nobody in particular.
 */
export const U = {
  alice: 'U0ALICE',
  bob: 'U0BOB',
  carol: 'U0CAROL',
  ops: 'U0OPS',
  dave: 'U0DAVE',
} as const;

export function slackSectionYaml(minUpdateInterval = '20ms'): string {
  return `
slack:
  channel: ${CHANNEL}
  minUpdateInterval: ${minUpdateInterval}
  roles:
    deployer: [${U.alice}]
    approver: [${U.bob}, ${APPROVER_GROUP}]
    admin: [${U.ops}]
  users:
    ${U.alice}: alice
    ${U.bob}: bob
    ${U.ops}: ops
`;
}

/**
 * kevinstamp gets a second, unprotected environment, staging (its default), whose cards go to
 * their own channel, whose approvers are named by Slack principals and which needs two approvals.
 */
export const STAGING_YAML = `      staging:
        slackChannel: ${STAGING_CHANNEL}
        approval:
          approvers: [slack:${U.bob}, slack-group:${APPROVER_GROUP}]
          required: 2
    defaultEnvironment: staging
`;

export interface SlackHarnessOptions {
  monitorWindow?: string;
  approvalExpiresAfter?: string;
  minUpdateInterval?: string;
  socketMode?: boolean;
  fake?: Partial<FakeSlackOptions>;
  /** 'postgres': the store is a Postgres schema of its own (dropped at close), so replicas can share it. */
  dialect?: 'sqlite' | 'postgres';
}

export interface SlashOptions {
  command?: string;
  channelId?: string;
  retryNum?: number;
  post?: Partial<PostSignedOptions>;
}

export interface SlackHarness {
  fake: FakeSlack;
  catcher: ResponseUrlCatcher;
  standIn: CloudflareStandIn;
  config: KevinDeployConfig;
  readonly bot: RunningBot;
  logs: string[];
  v1: string;
  api: ApiCaller;
  eventsUrl(): string;
  upload(tag: string, behavior?: Parameters<CloudflareStandIn['addVersion']>[1]['behavior']): string;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  /** POSTs a body to /slack/events, signed with the app's signing secret (to another replica with `url`). */
  post(body: string, options?: Partial<PostSignedOptions> & { url?: string }): Promise<SignedResponse>;
  /** Starts one more bot on the same store, config and Slack (dialect 'postgres'): a second replica. */
  startReplica(): Promise<RunningBot>;
  /** Sends a signed slash command; returns the HTTP answer (the ack) and its response_url. */
  slash(userId: string, text: string, options?: SlashOptions): Promise<{ response: SignedResponse; responseUrl: string }>;
  /** The text of the first reply posted to responseUrl. */
  replyTo(responseUrl: string, timeoutMs?: number): Promise<string>;
  /**
   * Runs a slash command and returns its ephemeral answer, wherever it comes: in the ack itself
   * (read-only commands, usage errors) or over response_url (anything that changes state).
   */
  ask(userId: string, text: string, options?: SlashOptions): Promise<{ text: string; via: 'ack' | 'response_url' }>;
  /** `/deploy TEXT` by userId; resolves with the new deployment id (from the ephemeral reply) and the reply. */
  deploy(userId: string, text: string): Promise<{ id: string; reply: string }>;
  /** Clicks a card button (signed block_actions) as userId. */
  click(userId: string, actionId: string, deploymentId: string): Promise<{ response: SignedResponse; responseUrl: string }>;
  /** Top-level messages of the deploy channel (C0DEPLOYS). */
  cards(): FakeSlackMessage[];
  /** The deployment's card, in the deploy channel or staging's. */
  cardOf(id: string): FakeSlackMessage | undefined;
  /** Waits until the deployment's card exists (and matches). */
  waitForCard(id: string, predicate?: (card: FakeSlackMessage) => boolean, timeoutMs?: number): Promise<FakeSlackMessage>;
  /** Stops the bot (gracefully) and starts a new one on the same database, config and env. */
  restart(before?: () => void | Promise<void>): Promise<void>;
  /** Waits until the running bot's card publisher has nothing left to draw. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The stage a card's fallback text names (`kevinstamp → production: v2 (…) — awaiting approval`). */
export function stageOfText(text: string): Stage | undefined {
  const match = / — ([a-z ]+)$/.exec(text);
  return match ? (match[1]!.replaceAll(' ', '_') as Stage) : undefined;
}

/** Every version of a card, oldest first: the earlier ones chat.update replaced, then the current. */
export function versionsOf(card: FakeSlackMessage): Array<{ text: string; blocks?: unknown[] }> {
  return [...card.history, { text: card.text, ...(card.blocks ? { blocks: card.blocks } : {}) }];
}

/** Every button of a card (or of a list of blocks). */
export function buttonsOf(blocks: unknown[] | undefined): Array<{ action_id: string; value: string; text: { text: string }; confirm?: unknown }> {
  return (blocks ?? [])
    .filter((b): b is { type: string; elements: unknown[] } => (b as { type?: string }).type === 'actions')
    .flatMap((b) => b.elements as Array<{ action_id: string; value: string; text: { text: string }; confirm?: unknown }>);
}

export function actionIdsOf(blocks: unknown[] | undefined): string[] {
  return buttonsOf(blocks).map((b) => b.action_id);
}

/** The text of a response_url post (or of an ack body). */
export function textOf(body: unknown): string {
  return typeof body === 'object' && body !== null && typeof (body as { text?: unknown }).text === 'string'
    ? (body as { text: string }).text
    : String(body);
}

export async function startSlackHarness(options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const fake = await startFakeSlack({
    botToken: SLACK_BOT_TOKEN,
    ...(options.socketMode ? { appToken: SLACK_APP_TOKEN } : {}),
    usergroups: { [APPROVER_GROUP]: [U.carol] },
    ...options.fake,
  });
  const catcher = await responseUrlCatcher();
  const standIn = await startTestStandIn();
  const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-slack-test-'));
  const { logger, logs } = capturedLogger();
  const config = testConfig({
    productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT),
    extraTopYaml: slackSectionYaml(options.minUpdateInterval),
    extraServiceYaml: STAGING_YAML,
    ...(options.monitorWindow ? { monitorWindow: options.monitorWindow } : {}),
    ...(options.approvalExpiresAfter ? { approvalExpiresAfter: options.approvalExpiresAfter } : {}),
  });
  const schema = options.dialect === 'postgres' ? newTestSchema('kd_slack') : undefined;
  const replicas: RunningBot[] = [];
  const env = {
    ...TOKEN_ENV,
    DATABASE_URL: schema?.url ?? `sqlite:${join(dir, 'kevin-deploy.db')}`,
    CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN,
    CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
    SLACK_BOT_TOKEN,
    SLACK_API_URL: fake.apiUrl,
    ...(options.socketMode ? { SLACK_APP_TOKEN } : { SLACK_SIGNING_SECRET }),
  };
  const launch = () =>
    startBot({ config, env, port: 0, host: '127.0.0.1', logger, runner: { scanIntervalMs: 50, errorBackoffMs: 100 } });
  let bot = await launch().catch(async (error: unknown) => {
    // A bot that did not start leaves nothing behind either.
    await fake.close();
    await catcher.close();
    await standIn.close();
    rmSync(dir, { recursive: true, force: true });
    await schema?.drop();
    throw error;
  });
  const api = apiCaller(() => bot.url, TOKENS.ops);

  const harness: SlackHarness = {
    fake,
    catcher,
    standIn,
    config,
    get bot() {
      return bot;
    },
    logs,
    v1,
    api,
    eventsUrl: () => `${bot.url}/slack/events`,
    upload: (tag, behavior) => standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
    waitForStage: (id, stages, timeoutMs) => waitForStage(api, id, stages, timeoutMs),
    post(body, postOptions = {}) {
      const { url, ...signing } = postOptions;
      return postSigned(url ?? harness.eventsUrl(), body, { secret: SLACK_SIGNING_SECRET, ...signing });
    },
    async startReplica() {
      const replica = await launch();
      replicas.push(replica);
      return replica;
    },
    async slash(userId, text, slashOptions = {}) {
      const responseUrl = catcher.urlFor('commands');
      const input = {
        command: slashOptions.command ?? '/deploy',
        text,
        userId,
        channelId: slashOptions.channelId ?? CHANNEL,
        teamId: TEAM,
        responseUrl,
      };
      if (options.socketMode) {
        const ack = await fake.socketMode!.sendEnvelope({ type: 'slash_commands', payload: slashCommandPayload(input) });
        return { response: { status: 200, headers: new Headers(), text: JSON.stringify(ack.payload ?? {}), json: ack.payload }, responseUrl };
      }
      const response = await harness.post(slashCommandBody(input), {
        ...(slashOptions.retryNum !== undefined ? { retryNum: slashOptions.retryNum } : {}),
        ...slashOptions.post,
      });
      return { response, responseUrl };
    },
    async replyTo(responseUrl, timeoutMs = 10_000) {
      const path = new URL(responseUrl).pathname;
      const caught = await catcher.waitForPost((r) => r.path === path, timeoutMs);
      return textOf(caught.body);
    },
    async ask(userId, text, slashOptions) {
      const { response, responseUrl } = await harness.slash(userId, text, slashOptions);
      if (response.status !== 200) throw new Error(`${slashOptions?.command ?? '/deploy'} ${text}: HTTP ${response.status} ${response.text}`);
      const acked = response.json as { response_type?: string; text?: string } | undefined;
      if (acked && typeof acked.text === 'string') {
        if (acked.response_type !== 'ephemeral') throw new Error(`an answer in the ack that is not ephemeral: ${response.text}`);
        return { text: acked.text, via: 'ack' };
      }
      const text2 = await harness.replyTo(responseUrl);
      const [post] = catcher.bodies(responseUrl);
      if ((post?.body as { response_type?: string } | undefined)?.response_type !== 'ephemeral') {
        throw new Error(`an answer over response_url that is not ephemeral: ${JSON.stringify(post?.body)}`);
      }
      return { text: text2, via: 'response_url' };
    },
    async deploy(userId, text) {
      const { response, responseUrl } = await harness.slash(userId, text);
      if (response.status !== 200) throw new Error(`/deploy ${text}: HTTP ${response.status} ${response.text}`);
      const reply = await harness.replyTo(responseUrl);
      const id = /`(kd-[a-z0-9]+)`/.exec(reply)?.[1];
      if (!id) throw new Error(`/deploy ${text}: no deployment id in the reply: ${reply}`);
      return { id, reply };
    },
    async click(userId, actionId, deploymentId) {
      const card = harness.cardOf(deploymentId);
      const responseUrl = catcher.urlFor('actions');
      const body = blockActionsBody({
        actionId,
        value: deploymentId,
        blockId: `kd_actions_${deploymentId}`,
        userId,
        channelId: card?.channel ?? CHANNEL,
        messageTs: card?.ts ?? '1700000000.000100',
        ...(card ? { message: { text: card.text, blocks: card.blocks } } : {}),
        responseUrl,
      });
      const response = await harness.post(body);
      return { response, responseUrl };
    },
    cards: () => fake.messages(CHANNEL),
    cardOf: (id) =>
      [...fake.messages(CHANNEL), ...fake.messages(STAGING_CHANNEL)].find((m) => JSON.stringify(m.blocks ?? []).includes(`\`${id}\``)),
    async waitForCard(id, predicate = () => true, timeoutMs = 20_000) {
      let found: FakeSlackMessage | undefined;
      await waitFor(
        () => {
          found = harness.cardOf(id);
          return found !== undefined && predicate(found);
        },
        { timeoutMs, describe: () => `the card of ${id}${found ? `; it shows: ${found.text}` : ' (none yet)'}` },
      );
      return found!;
    },
    async restart(before) {
      await bot.close();
      await before?.();
      bot = await launch();
    },
    async idle() {
      await bot.slack!.outbound.publisher.idle();
    },
    async close() {
      for (const replica of replicas) await replica.close();
      await bot.close();
      await fake.close();
      await catcher.close();
      await standIn.close();
      rmSync(dir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
  return harness;
}
