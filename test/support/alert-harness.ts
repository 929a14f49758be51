import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KevinDeployConfig } from '../../src/config/schema.ts';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { StoredAlert } from '../../src/ports/alert-outbox.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { startBot, type RunningBot } from '../../src/app/start-bot.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord-fake.ts';
import { startFakeMailChannels, type FakeMailChannels } from '../fakes/mailchannels-fake.ts';
import { pagerDutySignature, signedWebhook, startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty-fake.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackMessage } from '../fakes/slack-web-api.ts';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-fake.ts';
import { apiCaller, type ApiCaller } from './api-caller.ts';
import { testConfig, TOKEN_ENV, TOKENS } from './bot-harness.ts';
import { APPROVER_GROUP, buttonsOf, CHANNEL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, slackSectionYaml, textOf, U } from './slack-harness.ts';
import { blockActionsBody, postSigned, responseUrlCatcher, type ResponseUrlCatcher, type SignedResponse } from './slack-requests.ts';
import { STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { waitFor } from './wait-for.ts';
import { waitForStage } from './wait-for-stage.ts';
import { capturedLogger } from './captured-logger.ts';

/**
 * A real in-process bot (startBot) with every alert channel on, each pointed at its loopback fake
 * through the environment only: Slack (cards in C0DEPLOYS, alerts in C0ALERTS), PagerDuty over
 * HTTPS (events, change events, signed V3 webhooks), MailChannels, Discord (bot token, signed
 * interactions) and Twilio (SMS to SMS_TO, emergencies only by default). Releases run against the Cloudflare stand-in; the bot can be restarted on the same
 * database while the fakes keep their state (and their faults).
 */

export const ALERTS_CHANNEL = 'C0ALERTS';
export const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32';
export const PD_WEBHOOK_SECRET = 'pd-webhook-secret-0123456789';
export const COMMUNITY_CHANNEL = '998877665544332211';
export const EMAIL_FROM = 'kevin-deploy@kevinstamp.example';
export const EMAIL_TO = 'oncall@kevinstamp.example';
/** alerting.sms.to: the on-call phones (555-01xx numbers are fictional). */
export const SMS_TO = ['+15555550101', '+15555550102'] as const;
/** The Slack alert messages' metadata type (alert-message.ts). */
export const ALERT_METADATA_TYPE = 'kevin_deploy_alert';
export { U, CHANNEL };

export interface AlertHarnessOptions {
  approvalExpiresAfter?: string;
  /** Long enough for a trigger to fire under traffic (3 failed samples at 40 ms). Default 1500ms. */
  monitorWindow?: string;
  /** Environment overrides; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Deadlines of outbound calls, shortened where a test makes a channel go silent. */
  slackRequestTimeoutMs?: number;
  alertAttemptTimeoutMs?: number;
  /** server.publicUrl (links in the SMS text). */
  publicUrl?: string;
}

export interface AlertHarness {
  slack: FakeSlack;
  pd: FakePagerDuty;
  mail: FakeMailChannels;
  discord: FakeDiscord;
  twilio: FakeTwilio;
  catcher: ResponseUrlCatcher;
  standIn: CloudflareStandIn;
  config: KevinDeployConfig;
  readonly bot: RunningBot;
  logs: string[];
  /** Blue before any test release (tag v1, 100 %). */
  v1: string;
  api: ApiCaller;
  upload(tag: string, behavior?: Parameters<CloudflareStandIn['addVersion']>[1]['behavior']): string;
  /** A release of `tag` to production requested by alice over the API; its id. */
  deploy(tag: string): Promise<string>;
  /** Approves as bob. */
  approve(id: string): Promise<void>;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  /** GET /api/v1/alerts (as ops), oldest first (the API lists newest first). */
  alerts(query?: Record<string, string>): Promise<StoredAlert[]>;
  /** Waits until no delivery is pending (of one deployment when given); the alerts then, oldest first. */
  settled(deploymentId?: string, timeoutMs?: number): Promise<StoredAlert[]>;
  /** The bot's posts in the alerts channel (current state, after edits). */
  alertMessages(): FakeSlackMessage[];
  /** The alerts-channel post of an alert (found by the idempotency key in its metadata, which edits keep). */
  alertMessageFor(alertId: string): FakeSlackMessage | undefined;
  /** Waits for the alerts-channel post whose Acknowledge button carries this incident key. */
  waitForAlertMessage(incidentKey: string): Promise<FakeSlackMessage>;
  /** Clicks Acknowledge on an alert message, signed as Slack does, as userId. */
  clickAck(userId: string, message: FakeSlackMessage, incidentKey: string): Promise<{ response: SignedResponse; responseUrl: string }>;
  /** The text of the first post to a response_url. */
  replyTo(responseUrl: string): Promise<string>;
  /** POSTs a signed V3 webhook (`body` as given, or built by the fake from `input`) to /pagerduty/webhooks. */
  pdWebhook(input: Parameters<typeof signedWebhook>[2] | { raw: string }, secret?: string): Promise<{ status: number; json: unknown }>;
  /** POSTs a raw body to /discord/interactions with the given headers (sign with discord.signInteraction). */
  discordInteraction(rawBody: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }>;
  metrics(): Promise<string>;
  /** Stops the bot gracefully and starts a new one on the same database, config and env. */
  restart(between?: () => void | Promise<void>): Promise<void>;
  /** Recent log lines, for failure messages. */
  tail(lines?: number): string;
  close(): Promise<void>;
}

function alertingYaml(): string {
  return `
alerting:
  slack:
    channel: ${ALERTS_CHANNEL}
  email:
    from: ${EMAIL_FROM}
  discord:
    channelId: '${COMMUNITY_CHANNEL}'
  sms:
    to: [${SMS_TO.map((n) => `'${n}'`).join(', ')}]
  retry:
    initialBackoff: 50ms
    maxBackoff: 200ms
`;
}

/** Service-level settings (after the environments map, at the service's indentation). */
const SERVICE_ALERTS_YAML = `    alerts:
      emailTo: [${EMAIL_TO}]
`;

async function jsonOf(response: Response): Promise<{ status: number; json: unknown }> {
  const text = await response.text();
  try {
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
  } catch {
    return { status: response.status, json: text };
  }
}

export async function startAlertHarness(options: AlertHarnessOptions = {}): Promise<AlertHarness> {
  const slack = await startFakeSlack({ botToken: SLACK_BOT_TOKEN, usergroups: { [APPROVER_GROUP]: [U.carol] } });
  const pd = await startFakePagerDuty({ routingKeys: [ROUTING_KEY] });
  const mail = await startFakeMailChannels();
  const discord = await startFakeDiscord({ channels: [{ id: COMMUNITY_CHANNEL }] });
  const twilio = await startFakeTwilio();
  const catcher = await responseUrlCatcher();
  const standIn = await startTestStandIn();
  const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-alerts-test-'));
  const { logger, logs } = capturedLogger();
  const config = testConfig({
    productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT),
    extraTopYaml: slackSectionYaml('20ms') + alertingYaml() + (options.publicUrl ? `server:\n  publicUrl: ${options.publicUrl}\n` : ''),
    extraServiceYaml: SERVICE_ALERTS_YAML,
    monitorWindow: options.monitorWindow ?? '1500ms',
    ...(options.approvalExpiresAfter ? { approvalExpiresAfter: options.approvalExpiresAfter } : {}),
  });
  const env: Record<string, string> = {
    ...TOKEN_ENV,
    DATABASE_URL: `sqlite:${join(dir, 'kevin-deploy.db')}`,
    CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN,
    CLOUDFLARE_BASE_URL: standIn.apiBaseUrl,
    SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_HOST: pd.host,
    PAGERDUTY_WEBHOOK_SECRET: PD_WEBHOOK_SECRET,
    MAILCHANNELS_API_KEY: mail.apiKey,
    MAILCHANNELS_API_URL: mail.apiUrl,
    DISCORD_BOT_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.api,
    DISCORD_PUBLIC_KEY: discord.publicKeyHex,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: twilio.from,
    TWILIO_API_URL: twilio.apiUrl,
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const launch = () =>
    startBot({
      config,
      env,
      port: 0,
      host: '127.0.0.1',
      logger,
      httpsAgent: pd.agent(),
      alerts: { pollMs: 50, ...(options.alertAttemptTimeoutMs ? { attemptTimeoutMs: options.alertAttemptTimeoutMs } : {}) },
      runner: { scanIntervalMs: 50, errorBackoffMs: 100 },
      ...(options.slackRequestTimeoutMs ? { slackRequestTimeoutMs: options.slackRequestTimeoutMs } : {}),
    });
  let bot = await launch();
  const api = apiCaller(() => bot.url, TOKENS.ops);
  const tail = (lines = 25) => logs.slice(-lines).join('');

  const harness: AlertHarness = {
    slack,
    pd,
    mail,
    discord,
    twilio,
    catcher,
    standIn,
    config,
    get bot() {
      return bot;
    },
    logs,
    v1,
    api,
    tail,
    upload: (tag, behavior) => standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}`, ...(behavior ? { behavior } : {}) }).id,
    async deploy(tag) {
      const created = await api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: tag }, TOKENS.alice);
      if (created.status !== 201) throw new Error(`deploy ${tag} answered ${created.status}: ${JSON.stringify(created.body)}`);
      return created.body.id;
    },
    async approve(id) {
      const approved = await api('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob);
      if (approved.status !== 200) throw new Error(`approve ${id} answered ${approved.status}: ${JSON.stringify(approved.body)}`);
    },
    waitForStage: (id, stages, timeoutMs = 30_000) => waitForStage(api, id, stages, timeoutMs),
    async alerts(query = {}) {
      const answer = await api<{ alerts: StoredAlert[] }>('GET', `/api/v1/alerts?${new URLSearchParams({ limit: '500', ...query }).toString()}`);
      if (answer.status !== 200) throw new Error(`GET /api/v1/alerts answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return [...answer.body.alerts].sort((a, b) => a.seq - b.seq);
    },
    async settled(deploymentId, timeoutMs = 30_000) {
      const query: Record<string, string> = deploymentId ? { deployment: deploymentId } : {};
      let last: StoredAlert[] = [];
      await waitFor(
        async () => {
          last = await harness.alerts(query);
          return last.length > 0 && last.every((a) => a.deliveries.every((d) => d.status !== 'pending'));
        },
        {
          timeoutMs,
          describe: () =>
            `every delivery done; still pending: ${JSON.stringify(last.flatMap((a) => a.deliveries.filter((d) => d.status === 'pending').map((d) => `${a.id}#${d.channel} (${d.lastError ?? 'not tried'})`)))}\n${tail()}`,
        },
      );
      return last;
    },
    alertMessages: () => slack.messages(ALERTS_CHANNEL).filter((m) => (m.metadata as { event_type?: string } | undefined)?.event_type === ALERT_METADATA_TYPE),
    alertMessageFor: (alertId) =>
      harness.alertMessages().find((m) => (m.metadata as { event_payload?: { key?: string } }).event_payload?.key === `${alertId}#slack`),
    async waitForAlertMessage(incidentKey) {
      let found: FakeSlackMessage | undefined;
      await waitFor(
        () => (found = harness.alertMessages().find((m) => buttonsOf(m.blocks).some((b) => b.action_id === 'kd_alert_ack' && b.value === incidentKey))) !== undefined,
        { timeoutMs: 20_000, describe: () => `a Slack alert for ${incidentKey}; the alerts channel has ${JSON.stringify(harness.alertMessages().map((m) => m.text))}` },
      );
      return found!;
    },
    async clickAck(userId, message, incidentKey) {
      const responseUrl = catcher.urlFor('actions');
      const body = blockActionsBody({
        actionId: 'kd_alert_ack',
        value: incidentKey,
        buttonText: 'Acknowledge',
        userId,
        channelId: message.channel,
        messageTs: message.ts,
        message: { text: message.text, blocks: message.blocks },
        responseUrl,
      });
      const response = await postSigned(`${bot.url}/slack/events`, body, { secret: SLACK_SIGNING_SECRET });
      return { response, responseUrl };
    },
    async replyTo(responseUrl) {
      const path = new URL(responseUrl).pathname;
      return textOf((await catcher.waitForPost((r) => r.path === path, 10_000)).body);
    },
    async pdWebhook(input, secret = PD_WEBHOOK_SECRET) {
      if ('raw' in input) {
        const response = await fetch(`${bot.url}/pagerduty/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-pagerduty-signature': pagerDutySignature(input.raw, [secret]) },
          body: input.raw,
        });
        return jsonOf(response);
      }
      const sent = await signedWebhook(`${bot.url}/pagerduty/webhooks`, secret, input);
      let json: unknown = sent.text;
      try {
        json = JSON.parse(sent.text);
      } catch {
        // not JSON: keep the text
      }
      return { status: sent.status, json };
    },
    async discordInteraction(rawBody, headers) {
      return jsonOf(await fetch(`${bot.url}/discord/interactions`, { method: 'POST', headers, body: rawBody }));
    },
    async metrics() {
      return (await fetch(`${bot.url}/metrics`)).text();
    },
    async restart(between) {
      await bot.close();
      await between?.();
      bot = await launch();
    },
    async close() {
      await bot.close();
      await Promise.all([slack.close(), pd.close(), mail.close(), discord.close(), twilio.close(), catcher.close(), standIn.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Drives a release of `tag` (with `behavior`) to awaiting approval and approves it; its id. */
export async function approvedRelease(h: AlertHarness, tag: string, behavior?: Parameters<AlertHarness['upload']>[1]): Promise<string> {
  h.upload(tag, behavior);
  const id = await h.deploy(tag);
  await h.waitForStage(id, 'awaiting_approval');
  await h.approve(id);
  return id;
}

/**
 * Drives a release of `tag` whose rollback cannot be verified (it turns unhealthy after traffic,
 * and blue v1 is unhealthy by the time it is approved) to its end, needs_attention: a critical
 * rollback, then an emergency. Its id. Shared by the tests that need an emergency alert.
 */
export async function releaseWithUnverifiableRollback(h: AlertHarness, tag = 'v2'): Promise<string> {
  h.upload(tag, { afterTraffic: { health: 'unhealthy' } });
  const id = await h.deploy(tag);
  await h.waitForStage(id, 'awaiting_approval');
  h.standIn.setBehavior(h.v1, { health: 'unhealthy' });
  await h.approve(id);
  await h.waitForStage(id, 'needs_attention');
  return id;
}

/** The one alert of `kind` among `alerts`, failing with what there is instead. */
export function only(alerts: StoredAlert[], kind: StoredAlert['kind']): StoredAlert {
  const found = alerts.filter((a) => a.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} alert, got ${found.length}: ${JSON.stringify(alerts.map((a) => a.kind))}`);
  return found[0]!;
}

/** `kind:channel:status` of every delivery, for compact assertions. */
export function deliveriesOf(alerts: StoredAlert[]): string[] {
  return alerts.flatMap((a) => a.deliveries.map((d) => `${a.kind}:${d.channel}:${d.status}`));
}

/** A metric sample's value from a /metrics text, or undefined when the series is absent. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
