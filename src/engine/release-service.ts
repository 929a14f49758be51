import { randomBytes } from 'node:crypto';
import { DEPLOYMENT_ID_RANDOM_BYTES, deploymentIdFrom } from '../domain/deployment-id.ts';
import { stepsOf } from '../domain/canary-steps.ts';
import { decide, type Refusal } from '../domain/decide/index.ts';
import { toDeploymentView, type DeploymentView } from '../domain/deployment-view.ts';
import {
  targetLabel,
  versionLabel,
  type Deployment,
  type DeploymentEvent,
  type DeploymentKind,
  type Target,
  type VersionInfo,
} from '../domain/deployment.ts';
import type { CommandInput } from '../domain/inputs.ts';
import { authorize, describePrincipals, principalsFor, type Actor, type Permission } from '../domain/policy.ts';
import type { ReleaseSettings } from '../domain/release-settings.ts';
import { soleVersion } from '../domain/split.ts';
import { allowed } from '../domain/release-state.ts';
import { stageInWords, stageLabel } from '../domain/stage-words.ts';
import { PRE_TRAFFIC_STAGES } from '../domain/stages.ts';
import { KevinDeployError, type ErrorCode } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import { lockInForce, type FreezeLock } from '../domain/freeze-lock.ts';
import type { QueueEntry, Store, TargetClaim } from '../ports/store.ts';
import type { LockRequest, ReleaseRequest, Releases, RollbackRequest, TargetStatus } from '../ports/releases.ts';
import type { RoleHolder, TargetCatalog } from '../ports/target-catalog.ts';
import { PlatformError, type TrafficPlatform } from '../ports/traffic-platform.ts';
import type { TransitionRecord } from '../domain/transition-record.ts';
import { commitDecision, promoteNextQueued, recordAlerts } from './commit-decision.ts';
import type { LiveTraffic } from '../domain/inputs.ts';
import type { TransitionBus } from './transition-bus.ts';

export interface ReleaseServiceDeps {
  store: Store;
  platform: TrafficPlatform;
  clock: Clock;
  targets: TargetCatalog;
  /** Everyone holding a role, so a refusal can name who may. */
  roleHolders: () => RoleHolder[];
  bus: TransitionBus;
  /** Tells the runner to look at a deployment now. */
  poke: (id: string) => void;
  newId?: () => string;
}

const COMMAND_RETRIES = 5;

/**
 * The application service behind every command (CLI, API, chat): checks who may, refuses bad or
 * conflicting requests before writing anything, and records requests and commands through the
 * same decide() + commit path the runner uses.
 */
export class ReleaseService implements Releases {
  private readonly newId: () => string;

  constructor(private readonly deps: ReleaseServiceDeps) {
    this.newId = deps.newId ?? newDeploymentId;
  }

  /** A deployment as the API and --json show it, with its canary steps when it has them. */
  view(d: Deployment, extra: { events?: DeploymentEvent[]; queuePosition?: number | null } = {}): DeploymentView {
    const settings = this.deps.targets.find(d.service, d.environment);
    return toDeploymentView(d, { ...extra, ...(settings ? { steps: stepsOf(settings) } : {}) });
  }

  /** Settings for a service/environment, with the rule that protected environments are named explicitly. */
  target(service: string, environment?: string | null): ReleaseSettings {
    return this.deps.targets.lookup(service, environment);
  }

  authorizeOn(actor: Actor, permission: Permission, settings: ReleaseSettings): void {
    const verdict = authorize(actor, permission, settings, this.deps.roleHolders());
    if (!verdict.allowed) throw new KevinDeployError('FORBIDDEN', verdict.message);
  }

  /**
   * Admission first, and it costs no platform call: who may, the freeze lock and whether the
   * target is free are all in the store, so a refused request never spends Cloudflare's API
   * budget (an active release's rollback may need it). Only an admitted request asks the
   * platform — once: the version it resolves and the live traffic it reads are recorded with the
   * deployment, and the runner does not ask again.
   */
  async requestRelease(actor: Actor, request: ReleaseRequest): Promise<Deployment> {
    const settings = this.target(request.service, request.environment);
    this.authorizeOn(actor, 'deploy', settings);
    const target = { service: settings.service, environment: settings.environment };
    const lock = lockInForce(await this.deps.store.getLock(target), this.deps.clock.now());
    if (lock) throw frozen(lock);
    const claim = await this.deps.store.getClaim(target);
    if (claim && !request.queue) throw busy(await this.deps.store.getDeployment(claim.deploymentId), target);

    // Resolved before anything is written: an unknown version is a clear error, not a failed release.
    // A queued release reads the live traffic when its turn comes; what is live now may change by
    // then. One that becomes active at once reads both with one version listing.
    const { version, live } = claim
      ? { version: await this.platformLookup(() => this.deps.platform.resolveVersion(settings, request.version)), live: undefined }
      : await this.platformLookup(() => this.deps.platform.resolveWithTraffic(settings, request.version));
    if (live && soleVersion(live.split) === version.id) {
      throw new KevinDeployError('VERSION_ALREADY_LIVE', `${versionLabel(version)} is already live on ${targetLabel(target)}`);
    }
    const d = this.newDeployment('release', actor, settings, request.version, request.note ?? null, request.force ?? false, version);
    return this.admit(d, actor, settings, request.queue ?? false, live);
  }

  async requestRollback(actor: Actor, request: RollbackRequest): Promise<Deployment> {
    const settings = this.target(request.service, request.environment);
    this.authorizeOn(actor, 'rollback', settings);
    const target = { service: settings.service, environment: settings.environment };
    const claim = await this.deps.store.getClaim(target);
    if (claim) {
      const active = await this.mustGet(claim.deploymentId);
      if (request.to && active.previousVersion && !matchesRef(active.previousVersion, request.to)) {
        throw new KevinDeployError(
          'TARGET_BUSY',
          `${active.id} is ${active.stage} on ${targetLabel(target)}; it can only be rolled back to its blue ${versionLabel(active.previousVersion)}. Roll it back first, then roll back further.`,
          { active: active.id },
        );
      }
      if (allowed(active, 'rollback')) {
        return this.command(actor, active.id, { type: 'rollback', actor: actor.name, comment: request.note });
      }
      throw new KevinDeployError(
        'NOTHING_TO_ROLL_BACK',
        `${active.id} (${describeVersion(active)}) is ${active.stage} on ${targetLabel(target)}: traffic has not moved, so there is nothing to roll back — cancel it with \`kevin-deploy cancel ${active.id}\``,
        { active: active.id },
      );
    }
    const named = request.to ? await this.platformLookup(() => this.deps.platform.resolveWithTraffic(settings, request.to!)) : undefined;
    const live = named?.live ?? (await this.platformLookup(() => this.deps.platform.readTraffic(settings)));
    const liveId = soleVersion(live.split);
    const to = named?.version ?? (await this.previousKnownGood(target, liveId));
    if (liveId === to.id) {
      throw new KevinDeployError('VERSION_ALREADY_LIVE', `${versionLabel(to)} is already live on ${targetLabel(target)}`);
    }
    const d = this.newDeployment('rollback', actor, settings, to.id, request.note ?? null, false, to);
    d.reason = `manual rollback by ${actor.name}${request.note ? `: ${request.note}` : ''}`;
    return this.admit(d, actor, settings, false, live);
  }

  approve(actor: Actor, id: string, override = false): Promise<Deployment> {
    return this.command(actor, id, { type: 'approve', actor: actor.name, override });
  }

  /** Canary gate or a paused window: go on to the next step, or accept the release. */
  promote(actor: Actor, id: string, override = false): Promise<Deployment> {
    return this.command(actor, id, { type: 'promote', actor: actor.name, override });
  }

  reject(actor: Actor, id: string, comment?: string): Promise<Deployment> {
    return this.command(actor, id, { type: 'reject', actor: actor.name, comment });
  }

  cancel(actor: Actor, id: string): Promise<Deployment> {
    return this.command(actor, id, { type: 'cancel', actor: actor.name });
  }

  /**
   * Rolls a release back: while it has traffic, that release itself; once it succeeded, a new
   * rollback to the version it replaced — but only while it is still what is live (a click on an
   * old card, or an old id, must not roll back a newer release).
   */
  async rollbackDeployment(actor: Actor, id: string, comment?: string): Promise<Deployment> {
    const d = await this.mustGet(id);
    if (allowed(d, 'rollback')?.meaning !== 'new-rollback') return this.command(actor, id, { type: 'rollback', actor: actor.name, comment });
    const [target] = (await this.status(d.service)).filter((t) => t.environment === d.environment);
    if (!target || target.active || target.lastFinished?.id !== d.id || !d.previousVersion) {
      const newer = target?.active ? ` (${target.active.id} ${stageInWords(target.active.stage)})` : target?.lastFinished ? ` (${target.lastFinished.id} came after it)` : '';
      throw new KevinDeployError('STALE_ACTION', `${d.id} is no longer the live release of ${d.service}/${d.environment}${newer}; nothing was changed`);
    }
    return this.requestRollback(actor, { service: d.service, environment: d.environment, to: d.previousVersion.id, note: comment });
  }

  async lock(actor: Actor, request: LockRequest): Promise<FreezeLock> {
    const settings = this.target(request.service, request.environment);
    this.authorizeOn(actor, 'lock', settings);
    const now = this.deps.clock.now();
    const lock: FreezeLock = {
      service: settings.service,
      environment: settings.environment,
      holder: actor.name,
      reason: request.reason,
      since: now.toISOString(),
      expiresAt: request.expiresAfterMs ? new Date(now.getTime() + request.expiresAfterMs).toISOString() : null,
    };
    await this.deps.store.transaction(async (session) => {
      const existing = await session.getLock(lock);
      const inForce = lockInForce(existing, now);
      if (inForce) throw new KevinDeployError('ALREADY_LOCKED', `${frozen(inForce).message}`, { lock: inForce });
      if (existing) await session.deleteLock(lock); // an expired lock is replaced
      await session.putLock(lock);
    });
    return lock;
  }

  async unlock(actor: Actor, request: { service: string; environment?: string | undefined }): Promise<FreezeLock> {
    const settings = this.target(request.service, request.environment);
    this.authorizeOn(actor, 'lock', settings);
    const target = { service: settings.service, environment: settings.environment };
    const now = this.deps.clock.now();
    const { lock, promoted } = await this.deps.store.transaction(async (session) => {
      const existing = await session.getLock(target);
      const inForce = lockInForce(existing, now);
      if (!inForce) {
        const expired = existing ? ` (a lock by ${existing.holder} expired at ${existing.expiresAt})` : '';
        throw new KevinDeployError('NOT_LOCKED', `${targetLabel(target)} is not locked${expired}`);
      }
      await session.deleteLock(target);
      return { lock: inForce, promoted: await promoteNextQueued(session, target, settings, now) };
    });
    if (promoted) await this.announce([promoted]);
    return lock;
  }

  async get(id: string): Promise<{ deployment: Deployment; events: DeploymentEvent[]; queuePosition: number | null }> {
    const deployment = await this.mustGet(id);
    const events = await this.deps.store.listEvents(id);
    return { deployment, events, queuePosition: await this.queuePosition(deployment) };
  }

  async list(filter: { service?: string | undefined; environment?: string | undefined; limit?: number | undefined }): Promise<Deployment[]> {
    // Unknown names are an error, not an empty list: a typo should not look like "no releases yet".
    if (filter.service && filter.environment) this.target(filter.service, filter.environment);
    else if (filter.service && !this.deps.targets.hasService(filter.service)) this.target(filter.service);
    return this.deps.store.listDeployments({ ...filter, limit: Math.min(filter.limit ?? 20, 200) });
  }

  async status(service?: string, options: { routing?: boolean } = {}): Promise<TargetStatus[]> {
    if (service && !this.deps.targets.hasService(service)) this.target(service);
    const { store } = this.deps;
    const [claims, locks, queue] = await Promise.all([store.listClaims(), store.listLocks(), store.listQueue()]);
    const result: TargetStatus[] = [];
    for (const settings of this.deps.targets.all()) {
      if (service && settings.service !== service) continue;
      const target = { service: settings.service, environment: settings.environment };
      const same = (t: Target) => t.service === target.service && t.environment === target.environment;
      const claim = claims.find(same);
      const finished = await store.listDeployments({
        ...target,
        stages: ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled'],
        limit: 1,
      });
      const queued = await Promise.all(queue.filter(same).map((q: QueueEntry) => this.mustGet(q.deploymentId)));
      result.push({
        ...target,
        protected: settings.protected,
        active: claim ? ((await store.getDeployment(claim.deploymentId)) ?? null) : null,
        queue: queued,
        lock: lockInForce(locks.find(same), this.deps.clock.now()) ?? null,
        lastFinished: finished[0] ?? null,
      });
    }
    if (options.routing) await Promise.all(result.map((t) => this.addRouting(t)));
    return result;
  }

  /** The platform's word on where the target's traffic goes, when it has one; a failure is said, never thrown. */
  private async addRouting(status: TargetStatus): Promise<void> {
    const describe = this.deps.platform.describeRouting?.bind(this.deps.platform);
    if (!describe) return;
    try {
      const routing = await describe({ service: status.service, environment: status.environment });
      if (routing) status.routing = routing;
    } catch (error) {
      status.routingProblem = error instanceof Error ? error.message : String(error);
    }
  }

  private async command(actor: Actor, id: string, input: CommandInput): Promise<Deployment> {
    let d = await this.mustGet(id);
    const settings = this.deps.targets.find(d.service, d.environment);
    if (!settings) throw new KevinDeployError('UNKNOWN_SERVICE', `${d.service}/${d.environment} is no longer configured`);
    const ownCancel = input.type === 'cancel' && actor.name === d.requestedBy && PRE_TRAFFIC_STAGES.has(d.stage);
    if (!ownCancel) this.authorizeOn(actor, permissionFor(input.type), settings);

    for (let attempt = 0; attempt < COMMAND_RETRIES; attempt++) {
      const now = this.deps.clock.now();
      const decided = decide(d, input, now, settings);
      if (!decided.ok) throw refusalError(this.namingWhoMay(decided.refusal, d, settings), d);
      // The audit trail records where the command came from and the person's platform identity.
      const decision = { ...decided, events: decided.events.map((e) => (e.actor === actor.name ? withIdentity(e, actor) : e)) };
      const records = await this.deps.store.transaction((session) => commitDecision(session, d, decision, settings, now));
      if (records) {
        await this.announce(records);
        return records[0]!.after;
      }
      d = await this.mustGet(id); // someone wrote first: decide again on what is there now
    }
    throw new KevinDeployError('STALE_ACTION', `${id} kept changing while applying ${input.type}; look at it and try again`);
  }

  /** A four-eyes refusal says who else may approve, as a role refusal does. */
  private namingWhoMay(refusal: Refusal, d: Deployment, settings: ReleaseSettings): Refusal {
    if (refusal.code !== 'FOUR_EYES') return refusal;
    const others = this.deps.roleHolders().filter((holder) => holder.actor !== d.requestedBy);
    return { ...refusal, message: `${refusal.message}; allowed: ${describePrincipals(principalsFor('approve', settings), others)}` };
  }

  /**
   * Writes a new deployment as the target's active one, or queues it, or refuses naming the active
   * one. Atomic. An active one whose version and live traffic were just read goes on at once from
   * them (the same decide() step the runner would take), in the same transaction.
   */
  private async admit(d: Deployment, actor: Actor, settings: ReleaseSettings, queue: boolean, live: LiveTraffic | undefined): Promise<Deployment> {
    const target = { service: d.service, environment: d.environment };
    const event = (action: string, reason: string): DeploymentEvent =>
      withIdentity(
        {
          deploymentId: d.id,
          at: d.createdAt,
          actor: d.requestedBy,
          action,
          fromStage: null,
          toStage: d.stage,
          details: { reason, versionRef: d.versionRef, note: d.note },
        },
        actor,
      );
    const stored = await this.deps.store.transaction(async (session) => {
      const claim: TargetClaim = { ...target, deploymentId: d.id, since: d.createdAt };
      const lock = d.kind === 'release' ? lockInForce(await session.getLock(target), new Date(d.createdAt)) : undefined;
      if (lock) throw frozen(lock);
      await session.insertDeployment(d);
      if (await session.claimTarget(claim)) {
        const requested = [event('requested', d.reason)];
        await session.appendEvents(requested);
        await recordAlerts(session, d, requested, settings, new Date(d.createdAt));
        const admitted: TransitionRecord = { before: null, after: d, events: requested };
        if (!live || !d.version) return [admitted];
        const resolved = decide(d, { type: 'resolved', version: d.version, live, greenReach: this.deps.platform.greenReach(settings) }, new Date(d.createdAt), settings);
        if (!resolved.ok) return [admitted];
        return [admitted, ...((await commitDecision(session, d, resolved, settings, new Date(d.createdAt))) ?? [])];
      }
      const active = await session.getClaim(target);
      const activeDeployment = active ? await session.getDeployment(active.deploymentId) : undefined;
      if (!queue || !activeDeployment) throw busy(activeDeployment, target);
      const position = (await session.queueOf(target)).length + 1;
      const queued: Deployment = {
        ...d,
        stage: 'requested',
        stageTimes: { requested: d.createdAt },
        wakeAt: null,
        reason: `queued behind ${activeDeployment.id} (${activeDeployment.stage}); position ${position}`,
      };
      const saved = await session.updateDeployment(queued, d.revision);
      await session.enqueue({ ...target, deploymentId: d.id, enqueuedAt: d.createdAt });
      await session.appendEvents([{ ...event('queued', queued.reason), toStage: 'requested' }]);
      return [{ before: null, after: saved!, events: [] }];
    });
    await this.announce(stored);
    return stored.at(-1)!.after;
  }

  private newDeployment(
    kind: DeploymentKind,
    actor: Actor,
    settings: ReleaseSettings,
    versionRef: string,
    note: string | null,
    force: boolean,
    version: VersionInfo,
  ): Deployment {
    const now = this.deps.clock.now().toISOString();
    return {
      id: this.newId(),
      service: settings.service,
      environment: settings.environment,
      kind,
      stage: 'resolving',
      versionRef,
      version,
      previousVersion: null,
      strategy: 'blue-green',
      split: {},
      requestedBy: actor.name,
      note,
      force,
      approvals: [],
      reason: `requested by ${actor.name} via ${actor.via}`,
      stageTimes: { requested: now, resolving: now },
      progress: { attempt: 0 },
      wakeAt: now,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** The newest version recorded as good that is not the live one. */
  private async previousKnownGood(target: Target, liveId: string | undefined): Promise<VersionInfo> {
    const history = await this.deps.store.listDeployments({ ...target, stages: ['succeeded', 'rolled_back'], limit: 100 });
    for (const d of history) {
      const candidates =
        d.kind === 'release'
          ? d.stage === 'succeeded'
            ? [d.version, d.previousVersion]
            : [d.previousVersion]
          : [d.version];
      const good = candidates.find((v): v is VersionInfo => v !== null && v.id !== liveId);
      if (good) return good;
    }
    throw new KevinDeployError(
      'NOTHING_TO_ROLL_BACK',
      `no earlier known-good version of ${targetLabel(target)} is recorded; name one with --to VERSION`,
    );
  }

  private async queuePosition(d: Deployment): Promise<number | null> {
    if (d.stage !== 'requested') return null;
    const queue = await this.deps.store.queueOf(d);
    const index = queue.findIndex((q) => q.deploymentId === d.id);
    return index >= 0 ? index + 1 : null;
  }

  private async mustGet(id: string): Promise<Deployment> {
    const d = await this.deps.store.getDeployment(id);
    if (!d) throw new KevinDeployError('DEPLOYMENT_NOT_FOUND', `no deployment with id "${id}"`);
    return d;
  }

  private async platformLookup<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof PlatformError) throw new KevinDeployError(error.code, error.message);
      throw error;
    }
  }

  private async announce(records: TransitionRecord[]): Promise<void> {
    await this.deps.bus.publish(records);
    for (const record of records) this.deps.poke(record.after.id);
  }
}

function withIdentity(event: DeploymentEvent, actor: Actor): DeploymentEvent {
  return {
    ...event,
    details: { ...event.details, via: actor.via, ...(actor.principals?.[0] ? { identity: actor.principals[0] } : {}) },
  };
}

function permissionFor(command: CommandInput['type']): Permission {
  return command === 'approve' || command === 'reject' || command === 'promote' ? 'approve' : 'rollback';
}

function refusalError(refusal: Refusal, d: Deployment): KevinDeployError {
  const code: ErrorCode = refusal.code === 'IGNORED_INPUT' ? 'STALE_ACTION' : refusal.code;
  return new KevinDeployError(code, refusal.message, { deployment: d.id, stage: d.stage });
}

function frozen(lock: FreezeLock): KevinDeployError {
  return new KevinDeployError(
    'TARGET_LOCKED',
    `${targetLabel(lock)} is frozen by ${lock.holder} since ${lock.since}${lock.expiresAt ? ` until ${lock.expiresAt}` : ''}: ${lock.reason}. ` +
      `Unlock with \`kevin-deploy unlock ${lock.service} --env ${lock.environment}\` (rollbacks are still allowed).`,
    { lock },
  );
}

function busy(active: Deployment | undefined, target: Target): KevinDeployError {
  if (!active) return new KevinDeployError('TARGET_BUSY', `${targetLabel(target)} is busy; try again`);
  const since = active.stageTimes[active.stage] ?? active.updatedAt;
  return new KevinDeployError(
    'TARGET_BUSY',
    `${targetLabel(target)} already has an active release: ${active.id} (${describeVersion(active)}) ` +
      `requested by ${active.requestedBy} at ${active.createdAt}, ${stageLabel(active.stage)} since ${since}. ` +
      'Wait for it, cancel it, or add --queue to run after it.',
    { active: active.id, activeStage: active.stage, activeRequestedBy: active.requestedBy },
  );
}

function describeVersion(d: Deployment): string {
  return d.version ? versionLabel(d.version) : d.versionRef;
}

function matchesRef(v: VersionInfo, ref: string): boolean {
  return v.id === ref || v.id.startsWith(ref) || v.tag === ref;
}

export function newDeploymentId(): string {
  return deploymentIdFrom(randomBytes(DEPLOYMENT_ID_RANDOM_BYTES));
}

