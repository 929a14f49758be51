import type { AlertChannelName, AlertLevel } from './alert.ts';

/**
 * What the domain needs to know about one target (a service in one environment): timings, counts,
 * thresholds and rules — nothing about the platform, the chat or the file they were written in.
 * The configuration (src/config) produces these; its resolved settings satisfy this type by
 * construction (checked at compile time in config/schema.ts), so the domain never imports config.
 * Durations are milliseconds.
 */
export interface ReleaseSettings {
  service: string;
  environment: string;
  /** Protected environments (production) must be named explicitly and get four-eyes by default. */
  protected: boolean;
  /** Where users reach the service: probed after a rollback, and the base of green's checks when the platform routes by header. */
  productionUrl: string;
  /** What must be true of a page for KEVIN to be there (e.g. "/" contains "KEVIN"). */
  contentChecks: ReadonlyArray<{ path: string; contains: string }>;
  health: {
    /** The seed's health endpoints; null skips that check. */
    paths: { health: string; detailed: string | null; ready: string | null };
    /** Probe attempts at green before it counts as failed. */
    attempts: number;
    interval: number;
    timeout: number;
  };
  approval: {
    mode: 'manual' | 'auto';
    /** Principals who may approve (see policy.ts). */
    approvers: readonly string[];
    fourEyes: boolean;
    required: number;
    expiresAfter: number;
  };
  monitor: {
    window: number;
    interval: number;
    mode: 'enforce' | 'shadow';
    /** Which metrics source reads live figures ('none': health checks only). */
    metrics: { source: string };
    minRequests: number;
    onInconclusive: 'pause' | 'extend' | 'rollback';
    triggers: {
      errorRate: { thresholdPercent: number; sustainedFor: number };
      responseTime: { thresholdMs: number; sustainedFor: number };
      healthFailures: { consecutive: number };
      content: { enabled: boolean };
      relativeErrorRate?: { maxPointsAboveBlue: number; sustainedFor: number } | undefined;
    };
  };
  switch: { attempts: number; backoff: number };
  rollback: { verifyAttempts: number; verifyInterval: number };
  strategy:
    | { type: 'blue-green' }
    | { type: 'canary'; steps: readonly number[]; bakeTime?: number | undefined; manualGate: boolean };
  access: { deploy: readonly string[]; rollback: readonly string[]; lock: readonly string[] };
  alerts: AlertSettings;
}

/** Who hears what for one target: routes per level, escalation, email recipients, community notices. */
export interface AlertSettings {
  routes: Record<AlertLevel, readonly AlertChannelName[]>;
  acknowledgeWithin: { warning?: number | undefined; critical?: number | undefined };
  emailTo: readonly string[];
  community: { announceUpcoming: boolean; announceReleased: boolean; announceRollbacks: boolean };
}
