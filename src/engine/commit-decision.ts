import type { ReleaseSettings } from '../domain/release-settings.ts';
import type { TransitionRecord } from '../domain/transition-record.ts';
import { alertsFor } from '../domain/alert-rules.ts';
import { decide, type Decision } from '../domain/decide/index.ts';
import { targetOf, type Deployment, type DeploymentEvent, type Target } from '../domain/deployment.ts';
import { isTerminal } from '../domain/stages.ts';
import { lockInForce } from '../domain/freeze-lock.ts';
import type { StoreSession } from '../ports/store.ts';


/**
 * Persists a decision: compare-and-set on the revision, the audit events, and — when the
 * deployment just ended — the release of its target and the start of the next queued request,
 * all in one transaction. Returns undefined when someone else wrote first (reload and decide again).
 * Nothing is executed here: effects happen only after this returns.
 */
export async function commitDecision(
  session: StoreSession,
  before: Deployment,
  decision: Extract<Decision, { ok: true }>,
  settings: ReleaseSettings,
  now: Date,
): Promise<TransitionRecord[] | undefined> {
  const stored = await session.updateDeployment(decision.deployment, before.revision);
  if (!stored) return undefined;
  await session.appendEvents(decision.events);
  if (decision.metricSample) await session.appendMetricSample(stored.id, decision.metricSample);
  await recordAlerts(session, stored, decision.events, settings, now);
  const records: TransitionRecord[] = [{ before, after: stored, events: decision.events }];
  if (isTerminal(stored.stage) && !isTerminal(before.stage)) {
    await session.releaseClaim(targetOf(stored), stored.id);
    await session.dequeue(stored.id);
    const promoted = await promoteNextQueued(session, targetOf(stored), settings, now);
    if (promoted) records.push(promoted);
  }
  return records;
}

/**
 * Starts the oldest queued request of a target if the target is free and not frozen. Called when
 * a deployment ends and when a target is unlocked.
 */
export async function promoteNextQueued(
  session: StoreSession,
  target: Target,
  settings: ReleaseSettings,
  now: Date,
): Promise<TransitionRecord | undefined> {
  if (await session.getClaim(target)) return undefined;
  if (lockInForce(await session.getLock(target), now)) return undefined;
  for (const entry of await session.queueOf(target)) {
    const queued = await session.getDeployment(entry.deploymentId);
    await session.dequeue(entry.deploymentId);
    if (!queued || queued.stage !== 'requested') continue;
    const claimed = await session.claimTarget({ ...target, deploymentId: queued.id, since: now.toISOString() });
    if (!claimed) return undefined;
    const decision = decide(queued, { type: 'claimed' }, now, settings);
    if (!decision.ok) return undefined;
    const stored = await session.updateDeployment(decision.deployment, queued.revision);
    if (!stored) return undefined;
    const events: DeploymentEvent[] = decision.events.map((e) => ({ ...e, action: 'dequeued' }));
    await session.appendEvents(events);
    await recordAlerts(session, stored, events, settings, now);
    return { before: queued, after: stored, events };
  }
  return undefined;
}

/**
 * The alerts a status change causes, written into the outbox in the same transaction: if the
 * change is committed its alerts are too, and if it is not, neither is.
 */
export async function recordAlerts(session: StoreSession, after: Deployment, events: readonly DeploymentEvent[], settings: ReleaseSettings, now: Date): Promise<void> {
  await session.recordAlerts(alertsFor(after, events, settings), now.toISOString());
}
