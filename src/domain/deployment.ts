import type { Evaluation } from './metric-triggers.ts';
import type { Stage } from './stages.ts';

/** A platform version as people know it: the id plus the tag CI gave it (if any). */
export interface VersionInfo {
  id: string;
  tag: string | null;
}

/** Version id → percent of traffic. */
export type Split = Record<string, number>;

export interface Approval {
  actor: string;
  at: string;
}

/** One check of a probe run (health, detailed health, readiness, version, content). */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was seen, in words: "200 healthy", "503 from /health", "'KEVIN' missing on /". */
  detail: string;
}

/**
 * Per-stage working memory. Everything a wait or a retry needs is here, persisted with the
 * stage, so a restarted bot rebuilds every wait from these timestamps and counters.
 */
export interface Progress {
  /** Attempts made in the current stage/phase (probe attempts, switch attempts). */
  attempt: number;
  /** The split the current stage is applying (staging, switching, rolling_back). */
  targetSplit?: Split;
  /** rolling_back: first restore traffic, then verify blue. */
  rollbackPhase?: 'switch' | 'verify';
  /** Why the rollback started; kept while rolling back so the final reason can quote it. */
  rollbackCause?: string;
  /** The checks of the last probe run, shown by `status`. */
  lastChecks?: CheckResult[];
  /** When the current approval request expires. */
  approvalExpiresAt?: string;
  monitorStartedAt?: string;
  monitorEndsAt?: string;
  /** Consecutive failed health samples while monitoring. */
  consecutiveHealthFailures?: number;
  samplesTaken?: number;
  /** When the bot last watched (the window's start, then each sample): a longer gap than a watch allows extends the window. */
  lastWatchedAt?: string;
  /** Time the window was not watched (the bot was down) and was added to its end. */
  unwatchedMs?: number;
  /** What the triggers concluded at the last sample or at the window's end, for status and the card. */
  lastEvaluations?: Evaluation[];
  /** Canary: the index of the current step in strategy.steps. */
  canaryStep?: number;
  /** Canary with a manual gate: the step passed and waits for Promote or Abort. */
  awaitingPromotion?: boolean;
  /** The window ended inconclusive and onInconclusive is pause: waits for Promote or Rollback. */
  pausedBecause?: string;
  /** How many times an inconclusive window was extended. */
  extensions?: number;
  /** Rollback readiness, checked before each switch. */
  rollbackReady?: { ready: boolean; detail: string; checkedAt: string };
  /** The approver accepted switching although blue could not be rolled back to. */
  readinessOverride?: boolean;
  /** The stage's reason before retry notes were added to it. */
  stageReason?: string;
  /** The last platform error seen in this stage (retries continue). */
  lastError?: string;
}

export type DeploymentKind = 'release' | 'rollback';

/**
 * A deployment's whole truth: one persisted status row. `decide()` maps a status and an input to
 * the next status; the runner persists it and then acts.
 */
export interface Deployment {
  id: string;
  service: string;
  environment: string;
  /** A release stages green beside blue; a rollback deployment switches straight back to an older version. */
  kind: DeploymentKind;
  stage: Stage;
  /** What the requester typed: an id, 8-char prefix, tag or message. */
  versionRef: string;
  /** Green for a release; the version rolled back to for a rollback deployment. */
  version: VersionInfo | null;
  /** Blue for a release (the rollback target); the version replaced for a rollback deployment. */
  previousVersion: VersionInfo | null;
  strategy: 'blue-green';
  /** The split as last verified on the platform. */
  split: Split;
  requestedBy: string;
  note: string | null;
  /** Deploy even if Cloudflare reports that secrets changed since the version (error 10220). */
  force: boolean;
  approvals: Approval[];
  /** Why it is in this stage, in words. */
  reason: string;
  stageTimes: Partial<Record<Stage, string>>;
  progress: Progress;
  /** When the runner must look at it again; null when it waits for nothing but a person or the lock. */
  wakeAt: string | null;
  /** Optimistic concurrency: every write must name the revision it read. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** An entry of the append-only audit trail. */
export interface DeploymentEvent {
  deploymentId: string;
  at: string;
  actor: string;
  action: string;
  fromStage: Stage | null;
  toStage: Stage | null;
  details: Record<string, unknown>;
}

export interface Target {
  service: string;
  environment: string;
}

export function targetOf(d: Pick<Deployment, 'service' | 'environment'>): Target {
  return { service: d.service, environment: d.environment };
}

export function targetLabel(t: Target): string {
  return `${t.service}/${t.environment}`;
}

/** The version a rollback returns traffic to. */
export function rollbackTargetOf(d: Deployment): VersionInfo | null {
  return d.kind === 'release' ? d.previousVersion : d.version;
}

/** The version a rollback takes traffic away from. */
export function rolledBackFromOf(d: Deployment): VersionInfo | null {
  return d.kind === 'release' ? d.version : d.previousVersion;
}

export function versionLabel(v: VersionInfo | null | undefined): string {
  if (!v) return 'unknown version';
  const short = v.id.slice(0, 8);
  return v.tag ? `${v.tag} (${short})` : short;
}
