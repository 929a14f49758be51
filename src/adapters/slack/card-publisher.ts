import { setTimeout as sleep } from 'node:timers/promises';
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { KevinDeployConfig } from '../../config/schema.ts';
import { settingsOf } from '../../config/target-lookup.ts';
import type { Deployment } from '../../domain/deployment.ts';
import type { TransitionRecord } from '../../domain/transition-record.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ChatCard, Store } from '../../ports/store.ts';
import { renderDeploymentCard } from './deployment-card.ts';
import { peopleOf, type People } from './mrkdwn.ts';
import { threadMessage } from './thread-messages.ts';
import { backoffAfter } from '../../domain/backoff.ts';

export interface CardPublisherOptions {
  /** A WebClient that does not retry by itself and rejects on 429: this queue owns pacing and retries. */
  client: webApi.WebClient;
  store: Store;
  config: KevinDeployConfig;
  clock: Clock;
  logger: Logger;
  /** Least time between two calls in one channel (Slack: about one message per second). */
  minIntervalMs: number;
  /** How far back to look for cards to catch up on at start. */
  catchUpMs?: number;
  /** This replica's name, in whose name a card's lease is taken while it is drawn. */
  owner: string;
  /** How long a card's lease lasts (a draw of card and thread takes a few calls); default 60 s. */
  cardLeaseMs?: number;
  /** When another replica is drawing the card, how long before looking again; default 1 s. */
  busyRetryMs?: number;
}

/** Errors that retrying cannot fix: the configuration or the workspace must change. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'not_authed',
  'invalid_blocks',
]);

interface ChannelQueue {
  channel: string;
  pending: Set<string>;
  working: Promise<void> | undefined;
  notBefore: number;
  failures: number;
}

/**
 * Keeps one Slack message per deployment current. Every committed transition marks its card
 * dirty; a worker per channel redraws dirty cards from the store — so a burst of stage changes
 * becomes one update with the final state — spaced to respect Slack's per-channel rate, pausing
 * for a 429's Retry-After and backing off while Slack is down. Details (checks, trigger
 * evaluations, errors) go to the card's thread, from the audit trail. Progress is persisted per
 * card, so a restarted bot catches up instead of starting over, and a failing Slack never touches
 * a release.
 */
export class CardPublisher {
  private readonly queues = new Map<string, ChannelQueue>();
  private stopped = false;
  /** Aborts every wait (pacing, Retry-After, back-off) so stopping never sits out a timer. */
  private readonly stopping = new AbortController();
  private readonly people: People;

  constructor(private readonly o: CardPublisherOptions) {
    this.people = peopleOf(o.config.slack.users);
  }

  readonly observe = (record: TransitionRecord): void => {
    this.enqueue(record.after);
  };

  /** Redraws a card whose thread gained an audit event outside a status change (an acknowledgement). */
  refresh(d: Deployment): void {
    this.enqueue(d);
  }

  /** Redraws every card that fell behind while the bot was down. */
  async catchUp(): Promise<void> {
    const since = new Date(this.o.clock.now().getTime() - (this.o.catchUpMs ?? 24 * 3_600_000)).toISOString();
    for (const id of await this.o.store.cardsBehind(since)) {
      const d = await this.o.store.getDeployment(id);
      if (d) this.enqueue(d);
    }
  }

  /**
   * Stops drawing. A call already in flight is waited for a little, not to its timeout: the store
   * still says which cards are behind, and the next start catches up.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.inFlight()),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  /** Resolves when every queue is empty (tests and shutdown). */
  async idle(): Promise<void> {
    for (let working = this.inFlight(); working.length > 0; working = this.inFlight()) await Promise.allSettled(working);
  }

  private inFlight(): Array<Promise<void>> {
    return [...this.queues.values()].flatMap((q) => (q.working ? [q.working] : []));
  }

  private channelOf(d: Deployment): string | undefined {
    return settingsOf(this.o.config, d.service, d.environment)?.slackChannel ?? this.o.config.slack.channel;
  }

  private enqueue(d: Deployment): void {
    const channel = this.channelOf(d);
    if (!channel || this.stopped) return;
    let queue = this.queues.get(channel);
    if (!queue) {
      queue = { channel, pending: new Set(), working: undefined, notBefore: 0, failures: 0 };
      this.queues.set(channel, queue);
    }
    this.schedule(queue, d.id);
  }

  private schedule(queue: ChannelQueue, id: string): void {
    if (this.stopped) return;
    queue.pending.add(id);
    if (!queue.working) queue.working = this.drain(queue).finally(() => (queue.working = undefined));
  }

  private async drain(queue: ChannelQueue): Promise<void> {
    while (queue.pending.size > 0 && !this.stopped) {
      const [id] = queue.pending;
      queue.pending.delete(id!);
      try {
        await this.sync(id!, queue);
        queue.failures = 0;
      } catch (error) {
        if (this.stopped) return; // the store still says the card is behind; the next start catches up
        const verdict = classify(error);
        if (verdict.kind === 'permanent') {
          this.o.logger.error({ deploymentId: id, channel: queue.channel, slackError: verdict.error }, `Slack refused the deployment card (${verdict.error}); fix the Slack setup — the release is not affected`);
          continue;
        }
        queue.failures += 1;
        const wait = verdict.kind === 'rate-limited' ? verdict.retryAfterMs : backoffAfter(queue.failures, 1000, 60_000);
        queue.notBefore = Math.max(queue.notBefore, this.now() + wait);
        this.o.logger.warn({ deploymentId: id, channel: queue.channel, waitMs: wait, err: verdict.error }, 'Slack did not take the card update; trying again');
        // Back at the front: the newest state is redrawn when Slack answers again.
        queue.pending = new Set([id!, ...queue.pending]);
      }
    }
  }

  private now(): number {
    return this.o.clock.now().getTime();
  }

  /** One Slack call, spaced from the previous one in the same channel. */
  private async call<T>(queue: ChannelQueue, request: () => Promise<T>): Promise<T> {
    const wait = queue.notBefore - this.now();
    if (wait > 0) await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    if (this.stopped) throw new Error('stopping: the card is redrawn after the next start');
    try {
      return await request();
    } finally {
      queue.notBefore = this.now() + this.o.minIntervalMs;
    }
  }

  /**
   * Brings the card up to date under its lease. Replicas share the store, and each hears only its
   * own commits: one draws at a time, and whoever holds the lease draws until the card shows the
   * newest revision and every event — so a change another replica committed meanwhile is drawn too,
   * in order. A replica that finds the lease taken looks again shortly, in case it was let go just
   * before its change.
   */
  private async sync(id: string, queue: ChannelQueue): Promise<void> {
    const { store, owner } = this.o;
    if (!(await store.acquireCardLease(id, owner, this.o.cardLeaseMs ?? 60_000))) {
      setTimeout(() => this.schedule(queue, id), this.o.busyRetryMs ?? 1_000).unref();
      return;
    }
    try {
      let drawn = await this.draw(id, queue);
      // Another replica may have committed while this one drew: draw again until the card is current.
      while (!this.stopped && drawn !== undefined && ((await store.getDeployment(id))?.revision ?? drawn) > drawn) drawn = await this.draw(id, queue);
    } finally {
      await store.releaseCardLease(id, owner).catch(() => undefined);
    }
  }

  /** One pass over the card and its thread; the revision of the status it drew (undefined: nothing to draw). */
  private async draw(id: string, queue: ChannelQueue): Promise<number | undefined> {
    const { client, store, config } = this.o;
    const d = await store.getDeployment(id);
    const settings = d && settingsOf(config, d.service, d.environment);
    if (!d || !settings) return undefined;
    const position = d.stage === 'requested' ? (await store.queueOf(d)).findIndex((q) => q.deploymentId === d.id) + 1 || null : null;
    const card: ChatCard = (await store.getCard(id)) ?? { deploymentId: id, channel: queue.channel, ref: null, renderedRevision: 0, threadCursor: 0 };
    const rendered = renderDeploymentCard(d, settings, { queuePosition: position, people: this.people });
    if (!card.ref) {
      // Recorded before the post: a crash between the two leaves a card without ts, which the
      // next start posts again (the one case where a card can appear twice).
      await store.putCard(card, this.o.clock.now());
      const posted = await this.call(queue, () =>
        client.chat.postMessage({ channel: card.channel, text: rendered.text, blocks: rendered.blocks, unfurl_links: false, unfurl_media: false }),
      );
      card.ref = posted.ts ?? null;
      card.renderedRevision = d.revision;
      await store.putCard(card, this.o.clock.now());
    } else if (card.renderedRevision < d.revision) {
      try {
        await this.call(queue, () => client.chat.update({ channel: card.channel, ts: card.ref!, text: rendered.text, blocks: rendered.blocks }));
      } catch (error) {
        if (classify(error).error !== 'message_not_found') throw error;
        // Someone deleted the card: post a new one.
        card.ref = null;
        await store.putCard(card, this.o.clock.now());
        return this.draw(id, queue);
      }
      card.renderedRevision = d.revision;
      await store.putCard(card, this.o.clock.now());
    }
    const events = await store.listEvents(id);
    for (let i = card.threadCursor; i < events.length; i++) {
      const message = threadMessage(events[i]!, d, this.people);
      if (message) {
        await this.call(queue, () =>
          client.chat.postMessage({ channel: card.channel, thread_ts: card.ref!, text: message.text, blocks: message.blocks, unfurl_links: false }),
        );
      }
      card.threadCursor = i + 1;
      await store.putCard(card, this.o.clock.now());
    }
    return d.revision;
  }
}

type Verdict =
  | { kind: 'permanent'; error: string }
  | { kind: 'rate-limited'; retryAfterMs: number; error: string }
  | { kind: 'transient'; error: string };

/** Reads @slack/web-api's coded errors. */
export function classify(error: unknown): Verdict {
  const e = error as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
  if (e.code === 'slack_webapi_rate_limited_error') {
    return { kind: 'rate-limited', retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000, error: 'ratelimited' };
  }
  const slackError = e.data?.error;
  if (e.code === 'slack_webapi_platform_error' && slackError) {
    if (slackError === 'ratelimited') return { kind: 'rate-limited', retryAfterMs: 1000, error: slackError };
    return PERMANENT.has(slackError) ? { kind: 'permanent', error: slackError } : { kind: 'transient', error: slackError };
  }
  return { kind: 'transient', error: e.message ?? String(error) };
}
