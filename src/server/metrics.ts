import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isTerminal, STAGES } from '../domain/stages.ts';
import type { TransitionRecord } from '../domain/transition-record.ts';
import type { AlertOutbox } from '../ports/alert-outbox.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

/** What /metrics reads from the runner. */
export interface RunnerFigures {
  leasesHeld(): number;
  readonly takeovers: number;
  readonly leaseLosses: number;
}

/**
 * Prometheus metrics (prom-client). Counters and histograms are fed from committed transitions;
 * gauges are read from the store at scrape time, so they are right after a restart too.
 */
export class BotMetrics {
  readonly registry = new Registry();
  private readonly outcomes: Counter<'outcome' | 'kind'>;
  private readonly stageDurations: Histogram<'stage'>;
  private readonly rollbacks: Counter<'cause'>;
  private readonly alertAttempts: Counter<'channel' | 'outcome'>;
  private readonly cloudflareCalls: Counter<'call' | 'outcome'>;

  constructor(store: Store) {
    // Unprefixed: stock Node.js dashboards and alerts look for process_* and nodejs_*; the job
    // label tells kevin-deploy's apart (a prefix would give kevin_deploy_process_process_…).
    collectDefaultMetrics({ register: this.registry });
    this.outcomes = new Counter({
      name: 'kevin_deploy_deployments_total',
      help: 'Deployments that ended, by outcome (succeeded, rolled_back, failed, rejected, expired, cancelled) and kind',
      labelNames: ['outcome', 'kind'],
      registers: [this.registry],
    });
    this.stageDurations = new Histogram({
      name: 'kevin_deploy_stage_duration_seconds',
      help: 'Time spent in each stage, observed when the stage is left',
      labelNames: ['stage'],
      buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600],
      registers: [this.registry],
    });
    this.rollbacks = new Counter({
      name: 'kevin_deploy_rollbacks_total',
      help: 'Rollbacks started, by cause (trigger, manual, switch-failure)',
      labelNames: ['cause'],
      registers: [this.registry],
    });
    this.alertAttempts = new Counter({
      name: 'kevin_deploy_alert_delivery_attempts_total',
      help: 'Alert delivery attempts by channel and outcome (delivered, retry, failed, skipped)',
      labelNames: ['channel', 'outcome'],
      registers: [this.registry],
    });
    this.cloudflareCalls = new Counter({
      name: 'kevin_deploy_cloudflare_api_calls_total',
      help: 'Cloudflare API calls by kind (list-deployable-versions, read-deployment, create-deployment, …) and outcome (ok, error)',
      labelNames: ['call', 'outcome'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'kevin_deploy_active_deployments',
      help: 'Deployments not yet in a terminal stage (including needs_attention and queued)',
      registers: [this.registry],
      async collect() {
        const counts = await store.countByStage();
        this.set(
          STAGES.filter((stage) => !isTerminal(stage)).reduce((sum, stage) => sum + (counts[stage] ?? 0), 0),
        );
      },
    });
    new Gauge({
      name: 'kevin_deploy_queue_length',
      help: 'Release requests waiting for their target',
      registers: [this.registry],
      async collect() {
        this.set((await store.listQueue()).length);
      },
    });
  }

  /** Called by the alert dispatcher after each attempt. */
  readonly cloudflareCall = (call: string, outcome: string): void => {
    this.cloudflareCalls.inc({ call, outcome });
  };

  readonly alertAttempt = (channel: string, outcome: string): void => {
    this.alertAttempts.inc({ channel, outcome });
  };

  /** Delivery state read from the outbox at scrape time: right after a restart, and across replicas. */
  /** Per replica: the leases it holds, the releases it took over, the steps it lost, how late wake signals arrive. */
  watchRunner(runner: RunnerFigures): (lagMs: number) => void {
    new Gauge({
      name: 'kevin_deploy_leases_held',
      help: 'Deployments whose step this replica is working on now (the leases it holds)',
      registers: [this.registry],
      collect() {
        this.set(runner.leasesHeld());
      },
    });
    new Counter({
      name: 'kevin_deploy_lease_takeovers_total',
      help: 'Deployments this replica took over from a replica whose lease had expired',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(runner.takeovers);
      },
    });
    new Counter({
      name: 'kevin_deploy_lease_losses_total',
      help: 'Steps whose result this replica did not commit because its lease had lapsed meanwhile',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(runner.leaseLosses);
      },
    });
    const lag = new Histogram({
      name: 'kevin_deploy_wake_signal_lag_seconds',
      help: 'From a replica announcing a change (Postgres NOTIFY) to this replica hearing it (includes the two hosts\' clock difference)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    return (lagMs) => lag.observe(lagMs / 1000);
  }

  watchAlerts(outbox: AlertOutbox, clock: Clock): void {
    new Gauge({
      name: 'kevin_deploy_alert_deliveries',
      help: 'Alert deliveries in the outbox by channel and status (pending, delivered, failed, skipped)',
      labelNames: ['channel', 'status'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await outbox.countDeliveries()) this.set({ channel: row.channel, status: row.status }, row.count);
      },
    });
    new Gauge({
      name: 'kevin_deploy_alert_oldest_pending_seconds',
      help: 'Age of the oldest undelivered alert per channel (0 when none): how far behind a channel is',
      labelNames: ['channel'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const now = clock.now().getTime();
        for (const row of await outbox.oldestPending()) this.set({ channel: row.channel }, Math.max(0, (now - Date.parse(row.createdAt)) / 1000));
      },
    });
  }

  /** A TransitionBus observer. */
  readonly observe = (record: TransitionRecord): void => {
    const { before, after } = record;
    if (!before || before.stage === after.stage) return;
    const enteredAt = before.stageTimes[before.stage];
    if (enteredAt) {
      const seconds = (Date.parse(after.updatedAt) - Date.parse(enteredAt)) / 1000;
      if (seconds >= 0) this.stageDurations.observe({ stage: before.stage }, seconds);
    }
    if (isTerminal(after.stage)) this.outcomes.inc({ outcome: after.stage, kind: after.kind });
    if (after.stage === 'rolling_back' && before.stage !== 'needs_attention') {
      const action = record.events.at(-1)?.action;
      const cause = after.kind === 'rollback' || action === 'rollback-requested' || action === 'cancelled' ? 'manual' : before.stage === 'switching' ? 'switch-failure' : 'trigger';
      this.rollbacks.inc({ cause });
    }
  };

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
