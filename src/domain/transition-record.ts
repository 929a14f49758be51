import type { Deployment, DeploymentEvent } from './deployment.ts';

/** One committed status change: what it was, what it is, and the audit events that explain it. */
export interface TransitionRecord {
  /** Null for a deployment just created. */
  before: Deployment | null;
  after: Deployment;
  events: DeploymentEvent[];
}
