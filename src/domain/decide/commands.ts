import { versionLabel } from '../deployment.ts';
import type { CommandInput } from '../inputs.ts';
import { allowed } from '../release-state.ts';
import { describeSplit } from '../split.ts';
import { stageInWords, stageLabel } from '../stage-words.ts';
import { approveAndMaybeSwitch } from './release-path.ts';
import { passStep } from './monitoring.ts';
import { refuse, type Decision, type Transition } from './transition.ts';

/**
 * A person's command. What may be done now is allowedActions()'s answer (the same one the card's
 * buttons and the CLI's hints come from); here each command is checked against it and applied.
 */
export function onCommand(ctx: Transition, input: CommandInput): Decision {
  const { d } = ctx;
  const since = d.stageTimes[d.stage] ?? d.updatedAt;
  const state = `${d.id} ${stageInWords(d.stage)} since ${since} (${d.reason})`;
  const permitted = allowed(d, input.type);
  switch (input.type) {
    case 'approve': {
      if (!permitted) return refuse('STALE_ACTION', `nothing to approve: ${state}`);
      if (ctx.settings.approval.fourEyes && input.actor === d.requestedBy) {
        return refuse(
          'FOUR_EYES',
          `${input.actor} requested ${d.id}; four-eyes is on for ${d.service}/${d.environment}, so someone else must approve it`,
        );
      }
      if (d.approvals.some((a) => a.actor === input.actor)) {
        return refuse('ALREADY_APPROVED', `${input.actor} already approved ${d.id}; it needs another approver`);
      }
      if (permitted.needsOverride && !input.override) {
        return refuse(
          'ROLLBACK_NOT_READY',
          `a rollback to ${versionLabel(d.previousVersion)} would not be possible (${d.progress.rollbackReady!.detail}); approve with override to switch anyway`,
        );
      }
      return approveAndMaybeSwitch(ctx, input.actor, `approved by ${input.actor}${input.override ? ' with override' : ''}`, input.override ?? false);
    }
    case 'promote': {
      if (!permitted) return refuse('STALE_ACTION', `nothing to promote: ${state}`);
      if (permitted.needsOverride && !input.override) {
        return refuse('ROLLBACK_NOT_READY', `a rollback would not be possible (${d.progress.rollbackReady!.detail}); promote with override to go on`);
      }
      const withFlags = ctx.patch({
        progress: { ...d.progress, awaitingPromotion: false, ...(input.override ? { readinessOverride: true } : {}) },
      });
      return passStep(withFlags, [], { promotedBy: input.actor }, input.actor);
    }
    case 'reject': {
      if (!permitted) return refuse('STALE_ACTION', `nothing to reject: ${state}`);
      const why = input.comment ? `: ${input.comment}` : '';
      return ctx.to('rejected', `rejected by ${input.actor}${why}; traffic untouched`, {}, { action: 'rejected', actor: input.actor });
    }
    case 'cancel': {
      if (!permitted) return refuse('STALE_ACTION', `cannot cancel now: ${state}`);
      // After the switch a cancel is a rollback; once it needed attention, it closes the release.
      if (d.stage === 'switching' || d.stage === 'monitoring') {
        return ctx.startRollback(`cancelled by ${input.actor} after the switch`, input.actor, {}, 'cancelled');
      }
      if (d.stage === 'needs_attention') {
        return ctx.to(
          'cancelled',
          `closed by ${input.actor} after needing attention; traffic left as last verified: ${describeSplit(d.split, [d.version, d.previousVersion])}`,
          {},
          { action: 'cancelled', actor: input.actor },
        );
      }
      return ctx.to('cancelled', `cancelled by ${input.actor} while ${stageLabel(d.stage)}; traffic untouched`, {}, { action: 'cancelled', actor: input.actor });
    }
    case 'rollback': {
      if (!permitted) {
        if (d.stage === 'rolling_back') return refuse('STALE_ACTION', `already rolling back: ${state}`);
        return refuse('NOTHING_TO_ROLL_BACK', `nothing to roll back: ${state}; traffic has not moved to green — cancel it instead`);
      }
      const why = input.comment ? `: ${input.comment}` : '';
      return ctx.startRollback(`manual rollback by ${input.actor}${why}`, input.actor, {}, 'rollback-requested');
    }
  }
}
