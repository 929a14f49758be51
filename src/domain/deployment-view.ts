import type { Deployment, DeploymentEvent, VersionInfo } from './deployment.ts';
import type { FreezeLock } from '../ports/store.ts';

/**
 * A deployment as the API and `--json` show it. These field names are the external contract:
 * scripts depend on them; add fields, never rename.
 */
export interface DeploymentView {
  id: string;
  kind: Deployment['kind'];
  service: string;
  environment: string;
  stage: Deployment['stage'];
  version: VersionInfo | null;
  versionRef: string;
  previousVersion: VersionInfo | null;
  strategy: Deployment['strategy'];
  split: Deployment['split'];
  requestedBy: string;
  note: string | null;
  approvals: Deployment['approvals'];
  reason: string;
  stageTimes: Deployment['stageTimes'];
  checks: NonNullable<Deployment['progress']['lastChecks']>;
  nextCheckAt: string | null;
  queuePosition?: number | null;
  createdAt: string;
  updatedAt: string;
  events?: EventView[];
}

export interface EventView {
  at: string;
  actor: string;
  action: string;
  from: string | null;
  to: string | null;
  details: Record<string, unknown>;
}

export function toDeploymentView(
  d: Deployment,
  extra: { events?: DeploymentEvent[]; queuePosition?: number | null } = {},
): DeploymentView {
  return {
    id: d.id,
    kind: d.kind,
    service: d.service,
    environment: d.environment,
    stage: d.stage,
    version: d.version,
    versionRef: d.versionRef,
    previousVersion: d.previousVersion,
    strategy: d.strategy,
    split: d.split,
    requestedBy: d.requestedBy,
    note: d.note,
    approvals: d.approvals,
    reason: d.reason,
    stageTimes: d.stageTimes,
    checks: d.progress.lastChecks ?? [],
    nextCheckAt: d.wakeAt,
    ...(extra.queuePosition !== undefined ? { queuePosition: extra.queuePosition } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(extra.events
      ? {
          events: extra.events.map((e) => ({
            at: e.at,
            actor: e.actor,
            action: e.action,
            from: e.fromStage,
            to: e.toStage,
            details: e.details,
          })),
        }
      : {}),
  };
}

export interface LockView {
  service: string;
  environment: string;
  holder: string;
  reason: string;
  since: string;
  expiresAt: string | null;
}

export function toLockView(lock: FreezeLock): LockView {
  return { ...lock };
}
