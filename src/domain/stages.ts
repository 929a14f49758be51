/**
 * The stages of a release, exactly as named in the external contract (API, CLI --json, chat).
 * Renaming one breaks users' scripts.
 */
export const STAGES = [
  'requested',
  'resolving',
  'staging',
  'verifying',
  'awaiting_approval',
  'switching',
  'monitoring',
  'succeeded',
  'rolling_back',
  'rolled_back',
  'needs_attention',
  'failed',
  'rejected',
  'expired',
  'cancelled',
] as const;

export type Stage = (typeof STAGES)[number];

export const TERMINAL_STAGES: ReadonlySet<Stage> = new Set<Stage>([
  'succeeded',
  'rolled_back',
  'failed',
  'rejected',
  'expired',
  'cancelled',
]);

/** Stages in which green may have traffic: a cancel there must become a rollback. */
export const TRAFFIC_STAGES: ReadonlySet<Stage> = new Set<Stage>(['switching', 'monitoring']);

/** Stages before any traffic moved: a cancel simply ends the release. */
export const PRE_TRAFFIC_STAGES: ReadonlySet<Stage> = new Set<Stage>([
  'requested',
  'resolving',
  'staging',
  'verifying',
  'awaiting_approval',
]);

export function isTerminal(stage: Stage): boolean {
  return TERMINAL_STAGES.has(stage);
}
