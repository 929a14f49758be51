import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { KevinDeployConfig } from '../../config/schema.ts';
import type { Deployment } from '../../domain/deployment.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { TransitionFeed } from '../../ports/transition-feed.ts';
import { CardPublisher } from './card-publisher.ts';
import { SlackActors } from './slack-actors.ts';
import { SlackAlertChannel } from './slack-alert-channel.ts';
import { slackLogger } from './slack-logger.ts';

export interface SlackOutboundDeps {
  botToken: string;
  apiUrl?: string | undefined;
  config: KevinDeployConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** How long one Slack Web API call may take (the WebClient's default is to wait for ever). */
  requestTimeoutMs: number;
  /** This replica's name: cards are drawn under a lease in its name, so replicas never draw one card at once. */
  owner: string;
  /** Who is on call, as PagerDuty says (emails); mentioned on critical alerts. Absent without PagerDuty's API. */
  onCallEmails?: (() => Promise<string[]>) | undefined;
}

/**
 * What the bot says in Slack on its own: one card per release (with its thread) and the alerts
 * channel — plus reading Slack for who is who (user groups, on-call by email). Built before
 * alerting (which delivers through `alertChannel`) and before the inbound surface (which resolves
 * actors through `actors`), so nothing is wired after the fact.
 */
export class SlackOutbound {
  readonly publisher: CardPublisher;
  readonly alertChannel: SlackAlertChannel;
  readonly actors: SlackActors;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: SlackOutboundDeps) {
    const { config, logger } = deps;
    // Retries and pacing are the card queue's and the alert outbox's: the client fails fast and
    // rejects on 429 so they see it. Every call has a deadline: a Slack that accepts connections
    // and never answers would otherwise hang card updates and alert deliveries until a restart.
    const client = new webApi.WebClient(deps.botToken, {
      ...(deps.apiUrl ? { slackApiUrl: deps.apiUrl } : {}),
      timeout: deps.requestTimeoutMs,
      logger: slackLogger(logger.child({ component: 'slack' })),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    this.actors = new SlackActors(config, client, deps.clock, (error, group) =>
      logger.warn({ err: error, group }, 'could not read a Slack user group; its members get no group-based rights for now'),
    );
    this.publisher = new CardPublisher({
      client,
      store: deps.store,
      config,
      clock: deps.clock,
      logger: logger.child({ component: 'slack-cards' }),
      minIntervalMs: config.slack.minUpdateInterval,
      owner: deps.owner,
    });
    this.alertChannel = new SlackAlertChannel({
      client,
      channelFor: () => config.alerting.slack.channel ?? config.slack.channel,
      mentions: () => this.onCallMentions(client),
      clock: deps.clock,
    });
  }

  /** Redraws a deployment's card (its thread gained an audit event outside a status change). */
  refresh(d: Deployment): void {
    this.publisher.refresh(d);
  }

  /** Follows committed transitions and catches up on cards that fell behind while the bot was down. */
  async start(feed: TransitionFeed): Promise<void> {
    this.unsubscribe = feed.subscribe(this.publisher.observe);
    await this.publisher.catchUp();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.publisher.stop();
  }

  /**
   * The on-call person from PagerDuty, as a Slack mention (looked up by email); otherwise the
   * configured alerting.slack.mention users and groups.
   */
  private async onCallMentions(client: webApi.WebClient): Promise<string[]> {
    const emails = (await this.deps.onCallEmails?.().catch(() => [])) ?? [];
    const found: string[] = [];
    for (const email of emails.slice(0, 3)) {
      const user = await client.users.lookupByEmail({ email }).catch(() => undefined);
      if (user?.user?.id) found.push(`<@${user.user.id}>`);
    }
    if (found.length > 0) return found;
    return this.deps.config.alerting.slack.mention.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`));
  }
}
