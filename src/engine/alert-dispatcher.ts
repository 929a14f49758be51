import type { Logger } from 'pino';
import { formatDuration } from '../domain/format-duration.ts';
import { nextLevel, type Alert, type AlertChannelName, type AlertLevel } from '../domain/alert.ts';
import type { AlertChannel, DeliveryOutcome } from '../ports/alert-channel.ts';
import type { AlertOutbox, DeliveryCompletion, DeliveryJob, StoredAlert } from '../ports/alert-outbox.ts';
import type { Clock } from '../ports/clock.ts';
import type { TargetCatalog } from '../ports/target-catalog.ts';
import { backoffAfter } from '../domain/backoff.ts';

export interface AlertDispatcherOptions {
  outbox: AlertOutbox;
  /** The configured channels; a route to a channel not here is recorded as skipped, with what to set. */
  channels: readonly AlertChannel[];
  /** Why each unconfigured channel is missing, e.g. "set PAGERDUTY_ROUTING_KEY". */
  missing: Partial<Record<AlertChannelName, string>>;
  /** Each target's alert settings (escalation times, routes). */
  targets: TargetCatalog;
  /** Delivery retries: the first wait, doubling up to the longest (a 429's Retry-After wins when longer). */
  retry: { initialBackoff: number; maxBackoff: number };
  clock: Clock;
  logger: Logger;
  /** This replica's name for leases. */
  owner: string;
  /** How often the outbox is scanned when nothing pokes the dispatcher. */
  pollMs?: number;
  /** How long a delivery attempt may hold its lease (longer than any channel's timeout), by the database's clock. */
  leaseMs?: number;
  /**
   * How long one attempt may take before it is given up and retried, whatever the channel does:
   * a channel whose remote stops answering must not hold the dispatcher (and every other channel)
   * until a restart. Shorter than the lease, so the retry is recorded while the lease is still ours.
   */
  attemptTimeoutMs?: number;
  /** Called after every attempt (metrics). */
  onAttempt?: ((channel: AlertChannelName, outcome: DeliveryOutcome['status']) => void) | undefined;
}

/**
 * Drains the alert outbox: per channel, the oldest undelivered alert first, one at a time, so a
 * channel that was down gets everything in order once it is back. Each attempt is leased in the
 * store, so replicas never send the same (alert, channel) twice at once, and the channel adapters
 * carry the idempotency key so a crash between sending and recording does not double it either.
 * Retries back off exponentially, never sooner than a 429 asked. It runs beside the release
 * runner and shares nothing with it: a failing channel never holds up a rollback.
 */
export class AlertDispatcher {
  private readonly channels: Map<AlertChannelName, AlertChannel>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastEscalationScan = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly retry: { initialBackoff: number; maxBackoff: number };

  constructor(private readonly o: AlertDispatcherOptions) {
    this.channels = new Map(o.channels.map((c) => [c.name, c]));
    this.pollMs = o.pollMs ?? 1_000;
    this.leaseMs = o.leaseMs ?? 60_000;
    this.attemptTimeoutMs = Math.min(o.attemptTimeoutMs ?? 30_000, Math.floor(this.leaseMs / 2));
    this.retry = o.retry;
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.poke();
  }

  /** Look now (a status change just wrote alerts, or a person acknowledged one). */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /**
   * Stops polling and waits a little for an attempt in flight. A channel that hangs must not hold
   * up a shutdown (SIGTERM has to finish within seconds): its lease is then left to expire — or to
   * this replica's next start, which takes its own leases back at once — and the idempotency key
   * covers the attempt being made again.
   */
  async stop(graceMs = 3_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const running = this.running;
    let drained = running === undefined;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      drained = await Promise.race([
        running.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    if (drained) await this.o.outbox.releaseLeases(this.o.owner).catch(() => undefined);
    else this.o.logger.warn('stopping while an alert delivery is still in flight; it is retried on the next start');
  }

  /** Whether anything is due right now; for tests and the CLI. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      // Escalation times are minutes: scanning open incidents once a poll is plenty, not on every poke.
      const now = this.o.clock.now().getTime();
      if (now - this.lastEscalationScan >= this.pollMs) {
        this.lastEscalationScan = now;
        await this.escalate();
      }
      // Keep going while deliveries succeed: a backlog drains at the channels' pace, not the poll's.
      // After a batch of rounds the loop yields (another poke follows at once) so a stop is never kept waiting.
      for (let round = 0; !this.stopped; round++) {
        if (round === 100) {
          this.again = true;
          return;
        }
        // Our clock says what is due; the lease's expiry is the database's clock's to judge.
        const jobs = await this.o.outbox.leaseDue(this.o.owner, this.o.clock.now().toISOString(), this.leaseMs);
        if (jobs.length === 0) return;
        const outcomes = await Promise.all(jobs.map((job) => this.attempt(job)));
        if (!outcomes.some((status) => status === 'delivered' || status === 'skipped' || status === 'failed')) return;
      }
    } catch (error) {
      this.o.logger.error({ err: error }, 'the alert dispatcher could not read the outbox; it tries again at the next poll');
    }
  }

  private async attempt(job: DeliveryJob): Promise<DeliveryOutcome['status']> {
    const { alert, channel: name } = job;
    const channel = this.channels.get(name);
    // The per-deployment fields every deployment's log line carries (stage: as it was when raised).
    const f = alert.facts;
    const log = this.o.logger.child({ deploymentId: f.deploymentId, service: f.service, env: f.environment, stage: f.stage, alert: alert.id, channel: name });
    let outcome: DeliveryOutcome;
    if (!channel) {
      outcome = { status: 'skipped', reason: `${name} is not configured${this.o.missing[name] ? `: ${this.o.missing[name]}` : ''}` };
    } else {
      outcome = await this.deliverWithDeadline(channel, job);
    }
    const now = this.o.clock.now();
    const completion = this.completionOf(outcome, job, now);
    const kept = await this.o.outbox.complete(job, this.o.owner, completion, now.toISOString());
    this.o.onAttempt?.(name, outcome.status);
    if (!kept) log.warn('lost the lease on an alert delivery while sending; another replica carries on');
    else if (outcome.status === 'failed') log.error({ error: outcome.error }, 'alert channel refused the alert (a configuration error); not retried');
    else if (outcome.status === 'retry') log.warn({ error: outcome.error, attempt: job.attempts + 1, nextAttemptAt: completion.status === 'retry' ? completion.nextAttemptAt : undefined }, 'alert delivery failed; will retry');
    else if (outcome.status === 'delivered') {
      log.info({ level: alert.level, kind: alert.kind, late: lateness(alert, now) }, 'alert delivered');
      if (outcome.warning) log.warn({ warning: outcome.warning }, 'alert delivered, but not completely');
    }
    else log.debug({ reason: outcome.reason }, 'alert delivery skipped');
    return outcome.status;
  }

  /**
   * One attempt, given up at the deadline. The channel gets the signal to abort its request; one
   * that ignores it is left behind (its late answer is dropped) and the idempotency key covers
   * the attempt being made again.
   */
  private async deliverWithDeadline(channel: AlertChannel, job: DeliveryJob): Promise<DeliveryOutcome> {
    const { alert } = job;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<DeliveryOutcome>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve({ status: 'retry', error: `${channel.name} did not answer within ${formatDuration(this.attemptTimeoutMs)}; trying again` });
      }, this.attemptTimeoutMs);
    });
    const attempt = channel
      .deliver(alert, {
        idempotencyKey: `${alert.id}#${channel.name}`,
        attempt: job.attempts + 1,
        incidentRefs: job.incidentRefs,
        previousRef: job.previousRef ?? undefined,
        signal: abort.signal,
        // Once the deadline passed the attempt is no longer ours to record: the retry is.
        recordProgress: async (ref) =>
          !abort.signal.aborted && (await this.o.outbox.recordProgress(job, this.o.owner, ref, this.o.clock.now().toISOString()).catch(() => false)),
      })
      // Adapters should not throw; if one does, it is treated like an outage of that channel.
      .catch((error: unknown): DeliveryOutcome => ({ status: 'retry', error: error instanceof Error ? error.message : String(error) }));
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private completionOf(outcome: DeliveryOutcome, job: DeliveryJob, now: Date): DeliveryCompletion {
    switch (outcome.status) {
      case 'delivered':
        return { status: 'delivered', ref: outcome.ref ?? null };
      case 'skipped':
        return { status: 'skipped', error: outcome.reason };
      case 'failed':
        return { status: 'failed', error: outcome.error, ...(outcome.ref !== undefined ? { ref: outcome.ref } : {}) };
      case 'retry': {
        const backoff = backoffAfter(job.attempts + 1, this.retry.initialBackoff, this.retry.maxBackoff);
        const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
        return { status: 'retry', error: outcome.error, nextAttemptAt: new Date(now.getTime() + wait).toISOString(), ...(outcome.ref !== undefined ? { ref: outcome.ref } : {}) };
      }
    }
  }

  /** Unacknowledged incidents past their level's acknowledgeWithin go up one level, once. */
  private async escalate(): Promise<void> {
    const candidates = await this.o.outbox.escalationCandidates(['warning', 'critical']);
    const now = this.o.clock.now();
    for (const alert of candidates) {
      const settings = this.o.targets.find(alert.facts.service, alert.facts.environment);
      if (!settings) continue;
      const within = settings.alerts.acknowledgeWithin[alert.level as 'warning' | 'critical'];
      const next = nextLevel(alert.level);
      if (within === undefined || !next) continue;
      if (Date.parse(alert.createdAt) + within > now.getTime()) continue;
      const escalation = escalationOf(alert, next, within, now);
      const channels = settings.alerts.routes[next].filter((c) => c !== 'discord');
      if (await this.o.outbox.escalate(alert, escalation, channels, now.toISOString())) {
        this.o.logger.warn({ alert: alert.id, from: alert.level, to: next }, 'alert not acknowledged in time; escalated');
      }
    }
  }
}

function escalationOf(alert: StoredAlert, level: AlertLevel, withinMs: number, now: Date): Alert {
  return {
    id: `${alert.id}/escalated`,
    kind: 'escalated',
    level,
    title: `not acknowledged within ${formatDuration(withinMs)}: ${alert.title}`,
    facts: alert.facts,
    ...(alert.incidentKey ? { incidentKey: alert.incidentKey } : {}),
    createdAt: now.toISOString(),
  };
}

function lateness(alert: Alert, now: Date): string | undefined {
  const ms = now.getTime() - Date.parse(alert.createdAt);
  return ms > 60_000 ? formatDuration(ms) : undefined;
}
