import type { Deployment } from './deployment.ts';
import type { Permission } from './policy.ts';
import type { Stage } from './stages.ts';

/** Rollback readiness as last checked before a switch: could traffic still go back to blue? */
export interface RollbackReadiness {
  ready: boolean;
  detail: string;
  checkedAt: string;
}

/** Where a release in `monitoring` is: watching its window, held at a gate, or paused. */
export type MonitoringPhase =
  /** Samples are taken until the window (or a canary step's bake) ends. */
  | { phase: 'watching'; endsAt: string | null }
  /** A canary step passed and waits for Promote (manual gate), or the next step is on hold because a rollback would not be possible. */
  | { phase: 'at-gate' }
  /** The window ended without enough conclusive metrics and the policy is to ask a person. */
  | { phase: 'paused'; because: string };

/**
 * A release's situation, typed by stage: what a persisted status means, said once. Every reader
 * (the planner, decide's commands, the card, the CLI, the view) asks this instead of combining the
 * status's optional fields itself. Derived from the stored status (which older rows also have), so
 * nothing stored changes shape.
 */
export type ReleaseState =
  | { stage: 'requested' | 'resolving' | 'staging' | 'needs_attention' }
  | { stage: 'verifying'; attempt: number }
  | { stage: 'awaiting_approval'; expiresAt: string | null; rollback: RollbackReadiness | null }
  /** Before each switch rollback readiness is checked, then the split applied. */
  | { stage: 'switching'; phase: 'checking-rollback-readiness' | 'applying-split' }
  | ({ stage: 'monitoring'; step: number; rollback: RollbackReadiness | null } & MonitoringPhase)
  /** Traffic goes back first, then blue's health is verified. */
  | { stage: 'rolling_back'; phase: 'switching-back' | 'verifying-blue'; cause: string | null }
  | { stage: Extract<Stage, 'succeeded' | 'rolled_back' | 'failed' | 'rejected' | 'expired' | 'cancelled'> };

export function stateOf(d: Deployment): ReleaseState {
  const p = d.progress;
  switch (d.stage) {
    case 'verifying':
      return { stage: 'verifying', attempt: p.attempt };
    case 'awaiting_approval':
      return { stage: 'awaiting_approval', expiresAt: p.approvalExpiresAt ?? null, rollback: p.rollbackReady ?? null };
    case 'switching':
      return { stage: 'switching', phase: !p.rollbackReady && d.previousVersion ? 'checking-rollback-readiness' : 'applying-split' };
    case 'monitoring': {
      const common = { stage: 'monitoring' as const, step: p.canaryStep ?? 0, rollback: p.rollbackReady ?? null };
      if (p.pausedBecause) return { ...common, phase: 'paused', because: p.pausedBecause };
      if (p.awaitingPromotion) return { ...common, phase: 'at-gate' };
      return { ...common, phase: 'watching', endsAt: p.monitorEndsAt ?? null };
    }
    case 'rolling_back':
      return { stage: 'rolling_back', phase: (p.rollbackPhase ?? 'switch') === 'switch' ? 'switching-back' : 'verifying-blue', cause: p.rollbackCause ?? null };
    default:
      return { stage: d.stage };
  }
}

/** True while a person must act before the release goes on (a gate or a paused window). */
export function waitsForPromotion(state: ReleaseState): boolean {
  return state.stage === 'monitoring' && (state.phase === 'at-gate' || state.phase === 'paused');
}

export const ACTION_NAMES = ['approve', 'reject', 'promote', 'cancel', 'rollback'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Something a person may do to a release now. */
export interface AllowedAction {
  action: ActionName;
  /** Which permission it takes on the target (a requester may still cancel their own release before traffic moves). */
  permission: Extract<Permission, 'approve' | 'rollback'>;
  /** It would switch although a rollback to blue would not be possible: the person must say so (override). */
  needsOverride: boolean;
  /**
   * Offered to people (a button, a hint). False when it is accepted but another action says it
   * better: a cancel after the switch is a rollback, so Rollback is what is offered.
   */
  offered: boolean;
  /**
   * What it means here, where that differs from its name: promoting a paused window accepts the
   * release; rolling back a release that needs attention retries the rollback; rolling back a
   * succeeded release starts a new rollback to the version it replaced.
   */
  meaning?: 'accept' | 'retry' | 'new-rollback' | undefined;
}

const BEFORE_TRAFFIC: ReadonlySet<Stage> = new Set(['requested', 'resolving', 'staging', 'verifying', 'awaiting_approval']);

/**
 * The one answer to "what may people do with this release now", in the order a card shows it.
 * decide() accepts exactly these commands; the Slack card's buttons, the CLI's hints and the
 * service's rollback of a finished release are all derived from it.
 */
export function allowedActions(d: Deployment): AllowedAction[] {
  const state = stateOf(d);
  const act = (action: ActionName, extra: Partial<AllowedAction> = {}): AllowedAction => ({
    action,
    permission: action === 'cancel' || action === 'rollback' ? 'rollback' : 'approve',
    needsOverride: false,
    offered: true,
    ...extra,
  });
  const rollbackNotReady = 'rollback' in state && state.rollback !== null && !state.rollback.ready;
  const actions: AllowedAction[] = [];
  if (state.stage === 'awaiting_approval') actions.push(act('approve', { needsOverride: rollbackNotReady }), act('reject'));
  if (state.stage === 'monitoring' && state.phase === 'at-gate') actions.push(act('promote', { needsOverride: rollbackNotReady }));
  if (state.stage === 'monitoring' && state.phase === 'paused') actions.push(act('promote', { meaning: 'accept' }));
  if (BEFORE_TRAFFIC.has(d.stage)) actions.push(act('cancel'));
  if (d.stage === 'switching' || d.stage === 'monitoring') {
    actions.push(act('cancel', { offered: false }), act('rollback', { offered: d.kind === 'release' }));
  }
  if (d.stage === 'needs_attention') {
    actions.push(act('cancel', { offered: false }), act('rollback', { meaning: 'retry', offered: d.kind === 'release' }));
  }
  if (d.stage === 'succeeded' && d.kind === 'release') actions.push(act('rollback', { meaning: 'new-rollback' }));
  return actions;
}

/** The allowed action of that name, if it is allowed now. */
export function allowed(d: Deployment, action: ActionName): AllowedAction | undefined {
  return allowedActions(d).find((a) => a.action === action);
}
