import type { Logger } from 'pino';
import { decide } from '../domain/decide/index.ts';
import type { Deployment } from '../domain/deployment.ts';
import type { Input } from '../domain/inputs.ts';
import { metricHistoryWanted } from '../domain/monitor-evaluation.ts';
import { planStep } from '../domain/plan-step.ts';
import type { ReleaseSettings } from '../domain/release-settings.ts';
import { isTerminal } from '../domain/stages.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import type { TargetCatalog } from '../ports/target-catalog.ts';
import { commitDecision, promoteNextQueued } from './commit-decision.ts';
import type { StepExecutor } from './step-executor.ts';
import type { TransitionBus } from './transition-bus.ts';

export interface RunnerOptions {
  store: Store;
  executor: StepExecutor;
  bus: TransitionBus;
  targets: TargetCatalog;
  clock: Clock;
  logger: Logger;
  /** Stable per replica (host:port by default) so a restarted replica takes its own leases back at once. */
  owner: string;
  leaseMs?: number;
  /** How often the store is scanned for due work (other replicas' deployments, missed timers). */
  scanIntervalMs?: number;
  /** Back-off after an unexpected error in a deployment's loop. */
  errorBackoffMs?: number;
  /** How often the store's schema is compared with what this version knows (a rolling upgrade). */
  schemaCheckIntervalMs?: number;
}

/** What a commit answers when the replica no longer holds the lease it worked under. */
const LEASE_LOST = Symbol('lease lost');

// setTimeout's ceiling; longer waits are re-armed by the periodic scan.
const MAX_TIMER_MS = 2_147_483_647;
const MAX_STEPS_PER_TURN = 200;

/**
 * Drives every unfinished deployment: load → plan → execute → decide → commit, one deployment at
 * a time per deployment id, under a lease so a second replica cannot double a step. No timer is
 * the only record of a wait: each wait is a `wakeAt` in the store, and the periodic scan (and the
 * start-up scan) re-arms timers from it, so a restart simply carries on.
 */
export class Runner {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly rerun = new Set<string>();
  private scanTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Steps whose result was not committed because the lease had lapsed (for /metrics). */
  leaseLosses = 0;
  /** Deployments taken over from a replica whose lease had expired (for /metrics). */
  takeovers = 0;
  /**
   * Deployments whose lease the scan last saw in another replica's name, with the revision they
   * had then: taking one at that same revision means the other started a step and never
   * committed it — a takeover — rather than that it finished and let go.
   */
  private readonly heldElsewhere = new Map<string, { owner: string; revision: number }>();
  private lastScanAt = 0;
  private lastSchemaCheckAt = 0;
  /** Set once a newer kevin-deploy migrated the store: this replica takes no more work. */
  private refusing: string | undefined;
  private readonly leaseMs: number;
  private readonly scanIntervalMs: number;
  private readonly errorBackoffMs: number;

  constructor(private readonly o: RunnerOptions) {
    this.leaseMs = o.leaseMs ?? 15_000;
    this.scanIntervalMs = o.scanIntervalMs ?? 1_000;
    this.errorBackoffMs = o.errorBackoffMs ?? 5_000;
  }

  async start(): Promise<void> {
    await this.scan();
    this.scanTimer = setInterval(() => void this.scan(), this.scanIntervalMs);
    // Long probes must not let the lease lapse while the step is still running.
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(250, Math.floor(this.leaseMs / 3)));
  }

  /** Something changed for this deployment (a command, a new request): look at it now. */
  poke(id: string): void {
    if (this.stopping) return;
    this.arm(id, 0);
  }

  /** Deployments whose step this replica is working on now: the leases it holds. */
  leasesHeld(): number {
    return this.running.size;
  }

  /** Alive means the scan loop ran recently (for /readyz). */
  isAlive(): boolean {
    return !this.stopping && this.clockMs() - this.lastScanAt < Math.max(10_000, this.scanIntervalMs * 5);
  }

  /** Stop taking work, let in-flight steps finish (bounded), release every lease. */
  async stop(timeoutMs = 8_000): Promise<void> {
    this.stopping = true;
    if (this.scanTimer) clearInterval(this.scanTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const inFlight = Promise.allSettled([...this.running.values()]);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([inFlight, new Promise((resolve) => (timeout = setTimeout(resolve, timeoutMs)))]);
    if (timeout) clearTimeout(timeout);
    await this.o.store.releaseAllLeases(this.o.owner).catch((error: unknown) => {
      this.o.logger.warn({ err: error }, 'could not release leases on shutdown; they expire by themselves');
    });
  }

  private clockMs(): number {
    return this.o.clock.now().getTime();
  }

  /** Why this replica takes no work, if it does not (for /readyz). */
  refusingWorkBecause(): string | undefined {
    return this.refusing;
  }

  /**
   * During a rolling upgrade a newer replica migrates the store while this one still runs. This
   * one then stops taking work — statuses it cannot read, steps it does not know — rather than
   * corrupt them, and says so; the newer replicas carry on.
   */
  private async checkSchema(): Promise<void> {
    const every = this.o.schemaCheckIntervalMs ?? 10_000;
    if (this.refusing || Date.now() - this.lastSchemaCheckAt < every) return;
    this.lastSchemaCheckAt = Date.now();
    const unknown = await this.o.store.unknownMigrations();
    if (unknown.length === 0) return;
    this.refusing = `a newer kevin-deploy migrated the store (${unknown.join(', ')}): this replica takes no more work; replace it with the new version`;
    this.o.logger.error({ unknownMigrations: unknown }, this.refusing);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private async scan(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.checkSchema();
      if (this.refusing) return;
      const now = this.clockMs();
      const work = await this.o.store.listWork();
      // Forget what the scan no longer lists (ended deployments): the map holds only current work.
      const listed = new Set(work.map((item) => item.id));
      for (const id of this.heldElsewhere.keys()) if (!listed.has(id)) this.heldElsewhere.delete(id);
      for (const item of work) {
        if (this.running.has(item.id)) continue;
        if (item.leaseOwner !== null && item.leaseOwner !== this.o.owner) this.heldElsewhere.set(item.id, { owner: item.leaseOwner, revision: item.revision });
        else this.heldElsewhere.delete(item.id);
        if (item.leaseLive && item.leaseOwner !== this.o.owner) {
          // Due work another replica holds: look again the moment its lease runs out, so a dead
          // holder is taken over at expiry rather than at the scan after it.
          if (item.wakeAt !== null && Date.parse(item.wakeAt) <= now && item.leaseExpiresInMs !== null) this.arm(item.id, item.leaseExpiresInMs + 5);
          continue;
        }
        if (item.wakeAt !== null && !this.timers.has(item.id)) this.arm(item.id, Date.parse(item.wakeAt) - now);
        else if (item.wakeAt !== null && Date.parse(item.wakeAt) <= now) this.arm(item.id, 0);
      }
      await this.promoteStalledQueues();
      this.lastScanAt = this.clockMs();
    } catch (error) {
      this.o.logger.error({ err: error }, 'scanning the store for due deployments failed');
    }
  }

  /**
   * A queue normally moves when the active release ends or its target is unlocked. A freeze lock
   * that simply expired tells nobody, so the scan also starts queues whose target became free.
   */
  private async promoteStalledQueues(): Promise<void> {
    const queue = await this.o.store.listQueue();
    const seen = new Set<string>();
    for (const entry of queue) {
      const key = `${entry.service}/${entry.environment}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const settings = this.o.targets.find(entry.service, entry.environment);
      if (!settings) continue;
      const promoted = await this.o.store.transaction((session) => promoteNextQueued(session, entry, settings, this.o.clock.now()));
      if (promoted) {
        await this.o.bus.publish([promoted]);
        this.poke(promoted.after.id);
      }
    }
  }

  private arm(id: string, delayMs: number): void {
    const existing = this.timers.get(id);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.work(id);
    }, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    this.timers.set(id, timer);
  }

  private work(id: string): Promise<void> {
    if (this.stopping || this.refusing) return Promise.resolve();
    if (this.running.has(id)) {
      this.rerun.add(id);
      return this.running.get(id)!;
    }
    const turn = this.turn(id).finally(() => {
      this.running.delete(id);
      if (this.rerun.delete(id)) this.poke(id);
    });
    this.running.set(id, turn);
    return turn;
  }

  private async turn(id: string): Promise<void> {
    const { store, clock, logger, owner } = this.o;
    // A store that fails here (a dropped connection, a busy file) is a reason to look again
    // later, never an unhandled rejection that would end the process.
    const leased = await store.acquireLease(id, owner, this.leaseMs).catch((error: unknown) => {
      logger.warn({ err: error, deploymentId: id }, 'could not take the lease on a deployment; looking again shortly');
      this.arm(id, this.errorBackoffMs);
      return false;
    });
    if (!leased) {
      logger.debug({ deploymentId: id }, 'skipped: another replica holds the lease');
      return;
    }
    const previous = this.heldElsewhere.get(id);
    this.heldElsewhere.delete(id);
    try {
      for (let steps = 0; steps < MAX_STEPS_PER_TURN && !this.stopping && !this.refusing; steps++) {
        const d = await store.getDeployment(id);
        if (!d || isTerminal(d.stage)) return;
        if (steps === 0 && previous && d.revision === previous.revision) {
          this.takeovers += 1;
          logger.info({ deploymentId: id, from: previous.owner, stage: d.stage }, 'took the deployment over from a replica whose lease expired mid-step');
        }
        const settings = this.o.targets.find(d.service, d.environment);
        const log = logger.child({ deploymentId: d.id, service: d.service, env: d.environment, stage: d.stage });
        if (!settings) {
          log.error('skipped: the configuration no longer has this service/environment; fix the config and restart');
          return;
        }
        const step = planStep(d, clock.now(), settings);
        if (step.type === 'none') return;
        if (step.type === 'wait') {
          if (step.until) this.arm(id, Date.parse(step.until) - this.clockMs());
          else log.debug('waiting for a person or the target lock');
          return;
        }
        // The one step that writes to the platform goes only while the lease is surely this
        // replica's: one that stalled past its lease (a long pause, a cut network) must not move
        // traffic on a status another replica has since moved on from.
        if (step.type === 'apply-split' && !(await store.holdsLease(id, owner))) {
          this.leaseLosses += 1;
          log.warn('lost the lease before switching traffic; another replica carries on, nothing was sent');
          return;
        }
        log.debug({ step: step.type }, 'executing step');
        const input = await this.withMetricHistory(await this.o.executor.execute(step, d, settings), d, settings);
        // Even when stopping, the result of a step already taken is recorded (the checkpoint);
        // only the next step waits for the next start.
        const decision = decide(d, input, clock.now(), settings);
        if (!decision.ok) {
          log.warn({ refusal: decision.refusal }, 'step result did not apply; looking again later');
          this.arm(id, this.errorBackoffMs);
          return;
        }
        const records = await store.transaction(async (session) =>
          // The fence: a replica whose lease lapsed while it worked commits nothing.
          (await session.holdsLease(id, owner)) ? commitDecision(session, d, decision, settings, clock.now()) : LEASE_LOST,
        );
        if (records === LEASE_LOST) {
          this.leaseLosses += 1;
          log.warn('lost the lease while working on this step (stalled, or cut off from the database); another replica carries on, nothing was committed');
          return;
        }
        if (!records) {
          log.debug('status changed meanwhile (a command or another replica); deciding again from the new status');
          continue;
        }
        for (const record of records) if (record.after.id !== id) this.poke(record.after.id);
        await this.o.bus.publish(records);
      }
    } catch (error) {
      logger.error({ err: error, deploymentId: id }, 'unexpected error while working on a deployment; retrying later');
      this.arm(id, this.errorBackoffMs);
    } finally {
      await store.releaseLease(id, owner).catch(() => undefined);
    }
  }

  /** A monitoring sample is judged with the window's metric samples so far, read from their own record. */
  private async withMetricHistory(input: Input, d: Deployment, settings: ReleaseSettings): Promise<Input> {
    if (input.type !== 'checks' || d.stage !== 'monitoring') return input;
    const wanted = metricHistoryWanted(d.progress, settings);
    return wanted ? { ...input, history: await this.o.store.listMetricSamples(d.id, wanted) } : input;
  }

  private async renewLeases(): Promise<void> {
    for (const id of this.running.keys()) {
      await this.o.store.renewLease(id, this.o.owner, this.leaseMs).catch(() => undefined);
    }
  }
}
