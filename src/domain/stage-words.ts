import type { Stage } from './stages.ts';

/**
 * A stage in a sentence about a release: "kd-1 succeeded", "kd-1 was rolled back", "kd-1 is
 * awaiting approval" — never "kd-1 is succeeded" or "kd-1 rolled_back". Tables and --json keep the
 * stage names of the contract; sentences use these (the CLI's status lines, the demo; refusals such
 * as "already ended: it is …" could too).
 */
const PREDICATES: Record<Stage, string> = {
  requested: 'is waiting in the queue',
  resolving: 'is finding its version',
  staging: 'is staging green',
  verifying: 'is verifying green',
  awaiting_approval: 'is awaiting approval',
  switching: 'is switching traffic',
  monitoring: 'is being monitored',
  succeeded: 'succeeded',
  rolling_back: 'is rolling back',
  rolled_back: 'was rolled back',
  needs_attention: 'needs attention',
  failed: 'failed',
  rejected: 'was rejected',
  expired: 'expired',
  cancelled: 'was cancelled',
};

/** A stage as a label: "awaiting approval", "rolled back" (tables and --json keep the contract's names). */
export function stageLabel(stage: Stage): string {
  return stage.replaceAll('_', ' ');
}

export function stageInWords(stage: Stage): string {
  return PREDICATES[stage] ?? `is ${stageLabel(stage)}`;
}
