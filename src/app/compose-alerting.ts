import type { Agent } from 'node:https';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { parseDiscordWebhookUrl } from '../config/discord-webhook-url.ts';
import type { EmailAddress } from '../adapters/email/mailchannels-channel.ts';
import type { OnCallLookup } from '../adapters/pagerduty/oncall-lookup.ts';
import type { Database } from '../adapters/store/database-schema.ts';
import { KyselyAlertOutbox } from '../adapters/store/kysely-alert-outbox.ts';
import type { SqlDialectName } from '../adapters/store/migrations.ts';
import type { KevinDeployConfig } from '../config/schema.ts';
import { targetCatalogOf } from '../config/target-catalog.ts';
import { settingsOf } from '../config/target-lookup.ts';
import { ALERT_CHANNELS, type Alert, type AlertChannelName } from '../domain/alert.ts';
import { uniqueNumbers } from '../domain/phone-number.ts';
import type { Deployment, DeploymentEvent } from '../domain/deployment.ts';
import { AlertDispatcher } from '../engine/alert-dispatcher.ts';
import { AlertService } from '../engine/alert-service.ts';
import type { LocalSinkOptions } from '../adapters/local-sink/local-sink-channel.ts';
import type { AlertChannel, DeliveryOutcome } from '../ports/alert-channel.ts';
import type { AlertOutbox } from '../ports/alert-outbox.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

export interface AlertingEnv {
  PAGERDUTY_ROUTING_KEY?: string | undefined;
  PAGERDUTY_EVENTS_HOST?: string | undefined;
  PAGERDUTY_API_TOKEN?: string | undefined;
  PAGERDUTY_API_URL?: string | undefined;
  PAGERDUTY_WEBHOOK_SECRET?: string | undefined;
  MAILCHANNELS_API_KEY?: string | undefined;
  MAILCHANNELS_API_URL?: string | undefined;
  DISCORD_BOT_TOKEN?: string | undefined;
  DISCORD_WEBHOOK_URL?: string | undefined;
  DISCORD_API_URL?: string | undefined;
  DISCORD_PUBLIC_KEY?: string | undefined;
  TWILIO_ACCOUNT_SID?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
  TWILIO_FROM?: string | undefined;
  TWILIO_MESSAGING_SERVICE_SID?: string | undefined;
  TWILIO_API_URL?: string | undefined;
}

export interface Alerting {
  outbox: AlertOutbox;
  service: AlertService;
  dispatcher: AlertDispatcher;
  /** Which channels are on, and what to set for the others. */
  configured: AlertChannelName[];
  missing: Partial<Record<AlertChannelName, string>>;
  /** Channels without an account that deliver to a local sink (`localSinks`): shown in the console's Outbox, never sent. */
  local: AlertChannelName[];
  /** Who an alert's email is from and to (alerting.email.from, the target's alerts.emailTo): the Outbox shows it. */
  emailAddressesOf(alert: Alert): { from: EmailAddress | undefined; to: EmailAddress[] };
  /** Who an alert's text goes to (the target's alerts.smsTo, else alerting.sms.to): the Outbox shows it. */
  smsRecipientsOf(alert: Alert): string[];
  pagerDutySecrets: string[];
  discordPublicKey: string | undefined;
}

export interface AlertingDeps {
  config: KevinDeployConfig;
  env: AlertingEnv;
  store: Store;
  db: Kysely<Database>;
  /** `db`'s dialect (openDatabase's `dialect`): alert leases are judged by the database's clock, in its own SQL. */
  dialect: SqlDialectName;
  clock: Clock;
  logger: Logger;
  owner: string;
  /** Slack's alerts channel, when Slack is on (built by the Slack outbound side). */
  slackChannel: AlertChannel | undefined;
  /** Tests reach the PagerDuty fake over HTTPS with its own CA. */
  httpsAgent?: Agent | undefined;
  pollMs?: number | undefined;
  leaseMs?: number | undefined;
  attemptTimeoutMs?: number | undefined;
  onAttempt?: (channel: AlertChannelName, outcome: DeliveryOutcome['status']) => void;
  /** An acknowledgement or resolution was written to a deployment's audit trail. */
  audited?: (d: Deployment, event: DeploymentEvent) => void;
  /**
   * The sandbox: a channel that is not configured delivers to a local sink (rendered, never sent)
   * instead of being skipped, so people can see what each channel would have shown.
   */
  localSinks?: boolean | undefined;
}

/**
 * PagerDuty's on-call lookup, when PAGERDUTY_API_TOKEN and an escalation policy are set: Slack's
 * critical alerts mention who is on call. Built first, since the Slack side needs it.
 */
export async function onCallLookupFromEnv(config: KevinDeployConfig, env: AlertingEnv, clock: Clock, agent?: Agent): Promise<OnCallLookup | undefined> {
  const policy = config.alerting.pagerduty.escalationPolicyId;
  if (!env.PAGERDUTY_ROUTING_KEY || !env.PAGERDUTY_API_TOKEN || !policy) return undefined;
  const { OnCallLookup } = await import('../adapters/pagerduty/oncall-lookup.ts');
  return new OnCallLookup({ token: env.PAGERDUTY_API_TOKEN, apiUrl: env.PAGERDUTY_API_URL || undefined, escalationPolicyId: policy, agent, now: () => clock.now() });
}

/**
 * Composes alerting from the environment: each channel is on when its secret is set (Slack when
 * the Slack surface is), and a route to a channel that is off is recorded as skipped with what to
 * set — so `kevin-deploy alerts` shows why nothing was paged instead of staying silent.
 */
/**
 * Each channel's adapter (and its vendor library: pdjs, discord.js, twilio) is loaded only when the
 * channel is configured, so a bot without them starts without paying for their import.
 */
export async function composeAlerting(deps: AlertingDeps): Promise<Alerting> {
  const { config, env, logger } = deps;
  const outbox = new KyselyAlertOutbox(deps.db, deps.dialect);
  const channels: AlertChannel[] = [];
  const missing: Partial<Record<AlertChannelName, string>> = {};

  if (deps.slackChannel) channels.push(deps.slackChannel);
  else missing.slack = 'set SLACK_BOT_TOKEN (the deployment card and the alerts channel are Slack)';

  if (env.PAGERDUTY_ROUTING_KEY) {
    const { PagerDutyChannel } = await import('../adapters/pagerduty/pagerduty-channel.ts');
    channels.push(new PagerDutyChannel({ routingKey: env.PAGERDUTY_ROUTING_KEY, eventsHost: env.PAGERDUTY_EVENTS_HOST || undefined, agent: deps.httpsAgent }));
  } else missing.pagerduty = 'set PAGERDUTY_ROUTING_KEY (an Events API v2 integration key)';

  const from = config.alerting.email.from;
  const emailFrom = from ? { email: from, name: config.alerting.email.fromName } : undefined;
  const emailTo = (alert: Alert): EmailAddress[] => (settingsOf(config, alert.facts.service, alert.facts.environment)?.alerts.emailTo ?? []).map((email) => ({ email }));
  if (env.MAILCHANNELS_API_KEY && emailFrom) {
    const { MailChannelsChannel } = await import('../adapters/email/mailchannels-channel.ts');
    channels.push(
      new MailChannelsChannel({
        apiKey: env.MAILCHANNELS_API_KEY,
        apiUrl: env.MAILCHANNELS_API_URL || undefined,
        from: emailFrom,
        to: emailTo,
        clock: () => deps.clock.now(),
      }),
    );
  } else missing.email = env.MAILCHANNELS_API_KEY ? 'set alerting.email.from in kevin-deploy.yml' : 'set MAILCHANNELS_API_KEY and alerting.email.from';

  const discord = await discordChannel(config, env);
  if ('channel' in discord) channels.push(discord.channel);
  else missing.discord = discord.missing;

  const publicUrl = config.server.publicUrl;
  const smsTo = (alert: Alert): string[] => {
    const target = settingsOf(config, alert.facts.service, alert.facts.environment)?.alerts.smsTo;
    return uniqueNumbers(target ?? config.alerting.sms.to);
  };
  const sms = await smsChannel(env, smsTo, publicUrl);
  if ('channel' in sms) channels.push(sms.channel);
  else missing.sms = sms.missing;

  const sinks = new Set(channels.map((c) => c.name));
  const local = deps.localSinks ? await addLocalSinks(channels, missing, { emailTo, smsTo, publicUrl, now: () => deps.clock.now() }, logger) : [];
  for (const name of Object.keys(missing) as AlertChannelName[]) {
    const routed = [...config.services.values()].some((s) => [...s.environments.values()].some((t) => Object.values(t.alerts.routes).some((r) => r.includes(name))));
    if (routed && name !== 'slack') logger.warn({ channel: name }, `alerts are routed to ${name} but it is not configured: ${missing[name]}`);
  }

  const dispatcher = new AlertDispatcher({
    outbox,
    channels,
    missing,
    targets: targetCatalogOf(config),
    retry: config.alerting.retry,
    clock: deps.clock,
    logger: logger.child({ component: 'alerts' }),
    owner: deps.owner,
    pollMs: deps.pollMs,
    leaseMs: deps.leaseMs,
    attemptTimeoutMs: deps.attemptTimeoutMs,
    onAttempt: deps.onAttempt,
  });
  // People acknowledge through the service; the dispatcher then tells the incident's other channels.
  const service = new AlertService({ outbox, store: deps.store, clock: deps.clock, logger, poke: () => dispatcher.poke(), audited: deps.audited });
  return {
    outbox,
    service,
    dispatcher,
    configured: [...sinks],
    missing,
    local,
    emailAddressesOf: (alert) => ({ from: emailFrom, to: emailTo(alert) }),
    smsRecipientsOf: smsTo,
    pagerDutySecrets: (env.PAGERDUTY_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    discordPublicKey: env.DISCORD_PUBLIC_KEY || undefined,
  };
}

/**
 * Gives every channel in `missing` a local sink instead (and takes it out of `missing`): the
 * sandbox shows what it would have sent rather than "skipped — set …". Loaded only when asked for.
 */
async function addLocalSinks(
  channels: AlertChannel[],
  missing: Partial<Record<AlertChannelName, string>>,
  options: LocalSinkOptions,
  logger: Logger,
): Promise<AlertChannelName[]> {
  const { LocalSinkChannel } = await import('../adapters/local-sink/local-sink-channel.ts');
  const local = ALERT_CHANNELS.filter((name) => missing[name] !== undefined);
  if (local.length === 0) return local;
  // Why each one is local, in case a secret was set but is unusable (e.g. a cut-off DISCORD_WEBHOOK_URL).
  logger.info({ channels: local, why: { ...missing } }, 'alert channels without an account deliver to local sinks (the console\'s Outbox shows them)');
  for (const name of local) {
    channels.push(new LocalSinkChannel(name, options));
    delete missing[name];
  }
  return local;
}

/** Twilio, when its account, token and sender are set; the twilio library is loaded only then. */
async function smsChannel(env: AlertingEnv, to: (alert: Alert) => string[], publicUrl: string | undefined): Promise<{ channel: AlertChannel } | { missing: string }> {
  const sender = env.TWILIO_FROM || env.TWILIO_MESSAGING_SERVICE_SID;
  if (!env.TWILIO_ACCOUNT_SID || !env.TWILIO_AUTH_TOKEN || !sender) {
    return { missing: 'set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID), and alerting.sms.to or alerts.smsTo' };
  }
  const { TwilioSmsChannel } = await import('../adapters/sms/twilio-sms-channel.ts');
  return {
    channel: new TwilioSmsChannel({
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      from: env.TWILIO_FROM || undefined,
      messagingServiceSid: env.TWILIO_FROM ? undefined : env.TWILIO_MESSAGING_SERVICE_SID,
      apiUrl: env.TWILIO_API_URL || undefined,
      to,
      publicUrl,
    }),
  };
}

async function discordChannel(config: KevinDeployConfig, env: AlertingEnv): Promise<{ channel: AlertChannel } | { missing: string }> {
  const api = env.DISCORD_API_URL || undefined;
  const load = async () => (await import('../adapters/discord/discord-channel.ts')).DiscordChannel;
  const channelId = config.alerting.discord.channelId;
  // A bot is preferred when both are set: its messages are idempotent (nonce) and can be crossposted.
  if (env.DISCORD_BOT_TOKEN && channelId) return { channel: new (await load())({ mode: 'bot', token: env.DISCORD_BOT_TOKEN, channelId, ...(api ? { api } : {}) }) };
  if (env.DISCORD_WEBHOOK_URL) {
    const parsed = parseDiscordWebhookUrl(env.DISCORD_WEBHOOK_URL);
    if ('problem' in parsed) return { missing: `DISCORD_WEBHOOK_URL is not usable: ${parsed.problem}` };
    return { channel: new (await load())({ mode: 'webhook', id: parsed.id, token: parsed.token, ...(api ? { api } : {}) }) };
  }
  if (env.DISCORD_BOT_TOKEN) return { missing: 'set alerting.discord.channelId for the bot token, or DISCORD_WEBHOOK_URL' };
  return { missing: 'set DISCORD_WEBHOOK_URL, or DISCORD_BOT_TOKEN and alerting.discord.channelId' };
}
