import type { Target } from './deployment.ts';

/** A freeze lock: while it is in force, deploys to the target are refused (rollbacks never are). */
export interface FreezeLock extends Target {
  holder: string;
  reason: string;
  since: string;
  /** When it lifts by itself; null = until someone unlocks. */
  expiresAt: string | null;
}

/** The lock if it is in force at `now` (not expired), else undefined. */
export function lockInForce(lock: FreezeLock | undefined, now: Date): FreezeLock | undefined {
  return lock && (lock.expiresAt === null || Date.parse(lock.expiresAt) > now.getTime()) ? lock : undefined;
}
