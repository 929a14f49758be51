import type { webApi } from '@slack/bolt';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DiscordChannel } from '../../src/adapters/discord/discord-channel.ts';
import { MailChannelsChannel, type EmailAddress } from '../../src/adapters/email/mailchannels-channel.ts';
import { isLocalRef, LocalSinkChannel } from '../../src/adapters/local-sink/local-sink-channel.ts';
import { PagerDutyChannel } from '../../src/adapters/pagerduty/pagerduty-channel.ts';
import { SlackAlertChannel } from '../../src/adapters/slack/slack-alert-channel.ts';
import { TwilioSmsChannel } from '../../src/adapters/sms/twilio-sms-channel.ts';
import type { Database } from '../../src/adapters/store/database-schema.ts';
import { KyselyStore } from '../../src/adapters/store/kysely-store.ts';
import { composeAlerting, type Alerting, type AlertingEnv } from '../../src/app/compose-alerting.ts';
import { ALERT_CHANNELS, type Alert, type AlertChannelName, type AlertKind, ALERT_KINDS } from '../../src/domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import { ManualClock, alertConfig, raise, record, silentLogger, tempDatabase, type TempDatabase } from '../support/alert-fixtures.ts';

/**
 * The sandbox's local sinks: each channel without an account "delivers" by rendering the alert
 * with the real adapter's pure functions — and skips (or fails) exactly where the real adapter
 * would, with the same words. The real adapters are driven here with nothing behind them (a
 * stubbed Slack client and fetch, unreachable PagerDuty and Discord hosts): every decision they
 * make before sending is compared with the sink's, for every kind of alert.
 */

const ALL_KINDS: readonly AlertKind[] = ALERT_KINDS;

const NOW = new Date('2026-11-26T09:00:30.000Z');
const RECIPIENTS: Record<string, EmailAddress[]> = { production: [{ email: 'ops@kevinstamp.example' }, { email: 'OPS@kevinstamp.example' }], staging: [] };
const NUMBERS: Record<string, string[]> = { production: ['+15551234567'], staging: [] };

function alertOf(kind: AlertKind, over: { level?: Alert['level']; incident?: boolean; environment?: string } = {}): Alert {
  return {
    id: `dep-0001/2026-11-26T09:00:00.000Z/${kind}`,
    kind,
    level: over.level ?? 'critical',
    title: `kevinstamp ${kind}`,
    facts: {
      service: 'kevinstamp',
      environment: over.environment ?? 'production',
      deploymentId: 'dep-0001',
      version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2' },
      stage: 'rolled_back',
      reason: 'error rate 20 % > 5 %',
      requestedBy: 'alice',
    },
    ...(over.incident === false ? {} : { incidentKey: 'dep-0001/error-rate' }),
    createdAt: '2026-11-26T09:00:00.000Z',
  };
}

function contextFor(alert: Alert, channel: AlertChannelName, incidentRefs: string[]): DeliveryContext {
  return { idempotencyKey: `${alert.id}#${channel}`, attempt: 1, incidentRefs };
}

/** Slack's Web API, answering as Slack does; nothing is sent anywhere. */
const slackClient = {
  chat: {
    postMessage: async () => ({ ok: true, channel: 'C0ALERTS', ts: '1700000000.000100' }),
    update: async () => ({ ok: true }),
  },
  conversations: { history: async () => ({ ok: true, messages: [] }) },
} as unknown as webApi.WebClient;

/** The real adapters, each as configured as it can be without a service behind it. */
function realChannels(): Record<AlertChannelName, AlertChannel> {
  return {
    slack: new SlackAlertChannel({ client: slackClient, channelFor: () => 'C0ALERTS', mentions: async () => [], clock: { now: () => NOW } }),
    email: new MailChannelsChannel({
      apiKey: 'mc-test-key',
      from: { email: 'kevin-deploy@kevinstamp.example' },
      to: (alert) => RECIPIENTS[alert.facts.environment] ?? [],
      fetch: async () => new Response(null, { status: 202 }),
    }),
    // Port 1 refuses at once: a send becomes a retry, every decision before it is the adapter's own.
    pagerduty: new PagerDutyChannel({ routingKey: 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32', eventsHost: '127.0.0.1:1', timeoutMs: 2_000 }),
    discord: new DiscordChannel({ mode: 'webhook', id: '112233445566778899', token: 'test-webhook-token', api: 'http://127.0.0.1:1/api', timeoutMs: 2_000 }),
    sms: new TwilioSmsChannel({
      accountSid: `AC${'0'.repeat(32)}`,
      authToken: 'twilio-test-token',
      from: '+15005550006',
      apiUrl: 'http://127.0.0.1:1',
      to: (alert) => NUMBERS[alert.facts.environment] ?? [],
      timeoutMs: 2_000,
    }),
  };
}

function localChannels(): Record<AlertChannelName, AlertChannel> {
  const options = { emailTo: (alert: Alert) => RECIPIENTS[alert.facts.environment] ?? [], smsTo: (alert: Alert) => NUMBERS[alert.facts.environment] ?? [], now: () => NOW };
  return {
    slack: new LocalSinkChannel('slack', options),
    email: new LocalSinkChannel('email', options),
    pagerduty: new LocalSinkChannel('pagerduty', options),
    discord: new LocalSinkChannel('discord', options),
    sms: new LocalSinkChannel('sms', options),
  };
}

/** The sink decided as the adapter did: the same skip or refusal, word for word; otherwise it delivered locally. */
function expectSameDecision(real: DeliveryOutcome, local: DeliveryOutcome, context: DeliveryContext, what: string): void {
  if (real.status === 'skipped' || real.status === 'failed') {
    expect(local, what).toEqual(real);
  } else {
    expect(local, `${what} (the adapter answered ${JSON.stringify(real)})`).toEqual({ status: 'delivered', ref: `local:${context.idempotencyKey}` });
  }
}

describe('LocalSinkChannel', () => {
  it('decides like the real adapter for every kind, level, incident, environment and earlier message', async () => {
    const real = realChannels();
    const local = localChannels();
    let compared = 0;
    const skipped = new Map<AlertChannelName, Set<string>>(ALERT_CHANNELS.map((c) => [c, new Set()]));
    for (const kind of ALL_KINDS) {
      for (const shape of [{ level: 'info', incident: false }, { level: 'critical', incident: true }] as const) {
        for (const environment of ['production', 'staging']) {
          for (const incidentRefs of [[], ['C0ALERTS|1700000000.000100']]) {
            const alert = alertOf(kind, { ...shape, environment });
            for (const channel of ALERT_CHANNELS) {
              const context = contextFor(alert, channel, incidentRefs);
              const what = `${channel}: ${kind} ${shape.level} in ${environment}, ${incidentRefs.length} earlier message(s)`;
              const theirs = await real[channel].deliver(alert, context);
              const ours = await local[channel].deliver(alert, context);
              expectSameDecision(theirs, ours, context, what);
              if (ours.status === 'skipped') skipped.get(channel)!.add(ours.reason);
              compared += 1;
            }
          }
        }
      }
    }
    expect(compared).toBe(ALL_KINDS.length * 2 * 2 * 2 * ALERT_CHANNELS.length);
    // Every rule of every adapter was exercised, not just "delivered" everywhere.
    expect([...skipped.get('slack')!].sort()).toEqual(['community notices go to Discord only', 'shown on the deployment card', 'the incident has no Slack message to update']);
    expect(skipped.get('email')).toContain('deploy-marker alerts are not sent by email');
    expect(skipped.get('email')).toContain('community-released alerts are not sent by email');
    expect(skipped.get('email')).toContain('no email recipients for kevinstamp staging (alerts.emailTo)');
    expect(skipped.get('pagerduty')).toContain('community-incident is for the community channel, not PagerDuty');
    expect(skipped.get('pagerduty')).toContain('an acknowledged alert without an incidentKey names no PagerDuty incident');
    expect(skipped.get('discord')).toContain('Discord only carries community notices; rolled-back is for the team');
    expect(skipped.get('sms')).toContain('deploy-marker alerts are not sent by SMS');
    expect(skipped.get('sms')).toContain('no SMS recipients for kevinstamp staging (alerts.smsTo or alerting.sms.to)');
  }, 60_000);

  it('refuses a community notice that would leak, as Discord would, and never sends', async () => {
    // An environment called "update" is an internal fact the upcoming notice's wording contains.
    const alert = alertOf('community-upcoming', { level: 'info', incident: false, environment: 'update' });
    const context = contextFor(alert, 'discord', []);
    const theirs = await realChannels().discord.deliver(alert, context);
    const ours = await localChannels().discord.deliver(alert, context);
    expect(ours.status).toBe('failed');
    expect(ours).toEqual(theirs);
    expect(ours.status === 'failed' && ours.error).toContain('the environment name');
  });

  it('delivers with a local ref made of the idempotency key, whatever the alert says', async () => {
    const alert = { ...alertOf('rolled-back'), title: '<script>alert(1)</script> "quoted" <https://evil.example|click>' };
    for (const channel of ['slack', 'email', 'pagerduty'] as const) {
      const context = contextFor(alert, channel, []);
      const outcome = await localChannels()[channel].deliver(alert, context);
      expect(outcome).toEqual({ status: 'delivered', ref: `local:${alert.id}#${channel}` });
      expect(isLocalRef(outcome.status === 'delivered' ? outcome.ref : undefined)).toBe(true);
    }
    expect(isLocalRef('C0ALERTS|1700000000.000100')).toBe(false);
    expect(isLocalRef(null)).toBe(false);
  });
});

describe('composeAlerting with local sinks', () => {
  let tmp: TempDatabase | undefined;
  let db: Kysely<Database>;
  let alerting: Alerting | undefined;

  afterEach(async () => {
    await alerting?.dispatcher.stop();
    alerting = undefined;
    await tmp?.cleanup();
    tmp = undefined;
  });

  async function compose(env: AlertingEnv, localSinks: boolean | undefined): Promise<Alerting> {
    tmp = tempDatabase();
    ({ db } = await tmp.open());
    const config = alertConfig({
      production: { emailTo: ['ops@kevinstamp.example'], routes: { critical: ['slack', 'email', 'pagerduty', 'discord'] } },
    });
    alerting = await composeAlerting({
      config,
      env,
      store: new KyselyStore(db, 'sqlite'),
      db,
      dialect: 'sqlite',
      clock: new ManualClock(),
      logger: silentLogger,
      owner: 'local-sink-test',
      slackChannel: undefined,
      localSinks,
    });
    return alerting;
  }

  it('with no environment, every channel is a local sink and none is missing', async () => {
    const a = await compose({}, true);
    expect(a.local).toEqual(['slack', 'email', 'pagerduty', 'discord', 'sms']);
    expect(a.missing).toEqual({});
    expect(a.configured).toEqual([]);
  });

  it('without the option, nothing changes: the channels are missing, with what to set', async () => {
    const a = await compose({}, undefined);
    expect(a.local).toEqual([]);
    expect(Object.keys(a.missing).sort()).toEqual(['discord', 'email', 'pagerduty', 'slack', 'sms']);
    expect(a.missing.pagerduty).toMatch(/PAGERDUTY_ROUTING_KEY/);
    expect(a.missing.sms).toMatch(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM/);
  });

  it('a configured channel stays real; only the others are local', async () => {
    const a = await compose({ PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY32', PAGERDUTY_EVENTS_HOST: '127.0.0.1:1' }, true);
    expect(a.configured).toEqual(['pagerduty']);
    expect(a.local).toEqual(['slack', 'email', 'discord', 'sms']);
    expect(a.missing).toEqual({});
  });

  it('the dispatcher delivers a rollback to the local sinks, and Discord skips it as Discord would', async () => {
    const a = await compose({}, true);
    const rolledBack = alertOf('rolled-back');
    await record(db, [raise(rolledBack, ['slack', 'email', 'pagerduty', 'discord'])]);
    a.dispatcher.poke();
    await a.dispatcher.idle();
    const [stored] = await a.outbox.list({});
    const byChannel = Object.fromEntries(stored!.deliveries.map((d) => [d.channel, d]));
    for (const channel of ['slack', 'email', 'pagerduty'] as const) {
      expect(byChannel[channel], channel).toMatchObject({ status: 'delivered', ref: `local:${rolledBack.id}#${channel}` });
    }
    expect(byChannel.discord).toMatchObject({ status: 'skipped', lastError: 'Discord only carries community notices; rolled-back is for the team' });
    expect(a.emailAddressesOf(rolledBack)).toEqual({ from: undefined, to: [{ email: 'ops@kevinstamp.example' }] });
  });
});
