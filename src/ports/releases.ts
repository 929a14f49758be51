import type { Deployment, DeploymentEvent, Target } from '../domain/deployment.ts';
import type { DeploymentView } from '../domain/deployment-view.ts';
import type { FreezeLock } from '../domain/freeze-lock.ts';
import type { Actor } from '../domain/policy.ts';
import type { ReleaseSettings } from '../domain/release-settings.ts';
import type { RoutingLine } from './traffic-platform.ts';

export interface ReleaseRequest {
  service: string;
  environment?: string | undefined;
  version: string;
  note?: string | undefined;
  queue?: boolean | undefined;
  force?: boolean | undefined;
}

export interface RollbackRequest {
  service: string;
  environment?: string | undefined;
  to?: string | undefined;
  note?: string | undefined;
}

export interface LockRequest {
  service: string;
  environment?: string | undefined;
  reason: string;
  expiresAfterMs?: number | undefined;
}

export interface TargetStatus extends Target {
  protected: boolean;
  active: Deployment | null;
  queue: Deployment[];
  lock: FreezeLock | null;
  lastFinished: Deployment | null;
  /** Asked for with `routing`: where production traffic enters and which Worker serves it, for platforms that route (not only split). */
  routing?: RoutingLine[] | undefined;
  /** Why `routing` could not be read (the platform did not answer). */
  routingProblem?: string | undefined;
}

/**
 * What people can ask of kevin-deploy, whichever surface they use (the command table, the HTTP
 * API, Slack, Discord): the engine's release service implements it; surfaces depend on this, not
 * on the engine.
 */
export interface Releases {
  /** A deployment as the API and --json show it. */
  view(d: Deployment, extra?: { events?: DeploymentEvent[]; queuePosition?: number | null }): DeploymentView;
  /** A target's settings (protected environments must be named). */
  target(service: string, environment?: string | null): ReleaseSettings;
  requestRelease(actor: Actor, request: ReleaseRequest): Promise<Deployment>;
  requestRollback(actor: Actor, request: RollbackRequest): Promise<Deployment>;
  approve(actor: Actor, id: string, override?: boolean): Promise<Deployment>;
  promote(actor: Actor, id: string, override?: boolean): Promise<Deployment>;
  reject(actor: Actor, id: string, comment?: string): Promise<Deployment>;
  cancel(actor: Actor, id: string): Promise<Deployment>;
  rollbackDeployment(actor: Actor, id: string, comment?: string): Promise<Deployment>;
  lock(actor: Actor, request: LockRequest): Promise<FreezeLock>;
  unlock(actor: Actor, request: { service: string; environment?: string | undefined }): Promise<FreezeLock>;
  get(id: string): Promise<{ deployment: Deployment; events: DeploymentEvent[]; queuePosition: number | null }>;
  list(filter: { service?: string | undefined; environment?: string | undefined; limit?: number | undefined }): Promise<Deployment[]>;
  /** `routing`: also ask the platform where production traffic goes now (blue and green as two Workers behind routes). */
  status(service?: string, options?: { routing?: boolean }): Promise<TargetStatus[]>;
}
