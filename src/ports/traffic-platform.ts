import type { Split, Target, VersionInfo } from '../domain/deployment.ts';
import type { GreenReach, LiveTraffic, PlatformFailure } from '../domain/inputs.ts';
import type { ErrorCode } from '../errors.ts';

/** A version as a chooser shows it: what it is, who uploaded it, when, and why. */
export interface VersionSummary extends VersionInfo {
  message: string | null;
  author: string | null;
  createdAt: string | null;
}

/**
 * One way production traffic reaches the target, for platforms where that is not just the split:
 * a route or custom domain, the Worker it runs and that Worker's version (status shows these).
 */
export interface RoutingLine {
  kind: 'route' | 'custom-domain';
  /** The route's pattern or the domain's hostname. */
  name: string;
  /** The Worker it runs; null when it runs none. */
  servedBy: string | null;
  version: VersionInfo | null;
}

/** How to reach one version before it has traffic: a base URL plus headers to send. */
export interface VersionEndpoint {
  baseUrl: string;
  headers: Record<string, string>;
}

/**
 * Where traffic is split between versions. Targets are named by service and environment; the
 * adapter knows its own settings for each (account, script, how green is reached). The Cloudflare
 * Workers adapters implement it — one Worker split by percentage, or blue and green as two Workers
 * switched by route; so could a load balancer or DNS adapter. Every call is idempotent: `applySplit` reads the current split
 * first and does nothing when it is already in place, so a retried or repeated call never doubles
 * a switch.
 */
export interface TrafficPlatform {
  /** A version by id, 8-character id prefix, tag (`workers/tag`) or message. */
  resolveVersion(target: Target, ref: string): Promise<VersionInfo>;
  /** The live deployment: its split and the versions in it. */
  readTraffic(target: Target): Promise<LiveTraffic>;
  /**
   * `resolveVersion` and `readTraffic` together, sharing what both read (the version list), for
   * a release that becomes active at once: one listing per release, not two.
   */
  resolveWithTraffic(target: Target, ref: string): Promise<{ version: VersionInfo; live: LiveTraffic }>;
  /** Sets the split unless already set, then reads it back; returns the verified split. */
  applySplit(target: Target, split: Split, options: { force: boolean; message: string }): Promise<Split>;
  /** How green is reached before it has traffic: in the live split at 0 %, or on its own (decides what staging does). */
  greenReach(target: Target): GreenReach;
  /** How to reach a version that has no traffic (preview URL or version-override header). */
  reachVersion(target: Target, versionId: string): Promise<VersionEndpoint>;
  /** Could traffic go back to this version (the rollback target) right now? Checked before every switch. */
  checkRollbackReadiness(target: Target, versionId: string): Promise<{ ready: boolean; detail: string }>;
  /** Recent versions, newest first (for choosers). */
  listVersions(target: Target, limit: number): Promise<VersionSummary[]>;
  /**
   * Where production traffic enters and what serves it, when the platform routes by more than a
   * split (blue and green as two Workers behind routes); absent or undefined otherwise.
   */
  describeRouting?(target: Target): Promise<RoutingLine[] | undefined>;
}

/** A platform call that failed, with the words a person needs and whether retrying can help. */
export class PlatformError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    /** The platform refused the change outright and nothing moved (see PlatformFailure). */
    readonly nothingChanged = false,
  ) {
    super(message);
    this.name = 'PlatformError';
  }

  toFailure(): PlatformFailure {
    return { code: this.code, message: this.message, retryable: this.retryable, ...(this.nothingChanged ? { nothingChanged: true } : {}) };
  }
}
