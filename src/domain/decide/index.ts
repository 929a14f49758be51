import { SYSTEM_ACTOR } from '../actors.ts';
import type { Deployment } from '../deployment.ts';
import type { CommandInput, Input } from '../inputs.ts';
import type { ReleaseSettings } from '../release-settings.ts';
import { stageInWords } from '../stage-words.ts';
import { isTerminal } from '../stages.ts';
import { onCommand } from './commands.ts';
import { onMonitorSample, startMonitoring } from './monitoring.ts';
import { retryOr } from './platform-retry.ts';
import { onApprovalTick, onGreenChecks, onResolved, startVerifying } from './release-path.ts';
import { onRollbackObservation } from './rollback.ts';
import { onReadiness } from './switching.ts';
import { refuse, Transition, type Decision } from './transition.ts';

export type { Decision, Refusal } from './transition.ts';

/**
 * The heart of kevin-deploy: given a deployment's persisted status, what just happened, the time
 * and the target's settings, return the next status and the audit events that explain it. Pure:
 * no IO, no clock, no randomness — table-tested in test/unit.
 *
 * Domain failures (green unhealthy, a trigger fired, the platform refused) are stages with a
 * reason, never exceptions. The rules live by concern: release-path (resolve → approval),
 * switching, monitoring, rollback, commands; transition.ts is the builder they share.
 */
export function decide(d: Deployment, input: Input, now: Date, settings: ReleaseSettings): Decision {
  if (isTerminal(d.stage)) {
    return refuse('STALE_ACTION', `${d.id} already ended: it ${stageInWords(d.stage)} (${d.reason})`);
  }
  const ctx = new Transition(d, now, settings);
  switch (input.type) {
    case 'approve':
    case 'reject':
    case 'cancel':
    case 'rollback':
    case 'promote':
      return onCommand(ctx, input);
    default:
      return onObservation(ctx, input) ?? refuse('IGNORED_INPUT', `${input.type} means nothing to ${d.id} while it ${stageInWords(d.stage)}`);
  }
}

/** What the runner observed (a step's result, or the passage of time), by stage; undefined: it means nothing now. */
function onObservation(ctx: Transition, input: Exclude<Input, CommandInput>): Decision | undefined {
  const { d } = ctx;
  switch (d.stage) {
    case 'requested':
      return input.type === 'claimed' ? ctx.to('resolving', 'resolving the requested version', { wakeAt: ctx.iso }) : undefined;
    case 'resolving':
      if (input.type === 'resolved') return onResolved(ctx, input.version, input.live, input.greenReach);
      if (input.type === 'platform-error') return retryOr(ctx, input.error, () => ctx.fail(input.error.message));
      return undefined;
    case 'staging':
      if (input.type === 'split-verified') return startVerifying(ctx.withSplit(input.split));
      if (input.type === 'platform-error') {
        return retryOr(ctx, input.error, () => ctx.fail(`could not make green reachable: ${input.error.message}; traffic untouched`));
      }
      return undefined;
    case 'verifying':
      return input.type === 'checks' ? onGreenChecks(ctx, input.results) : undefined;
    case 'awaiting_approval':
      return input.type === 'tick' ? onApprovalTick(ctx) : undefined;
    case 'switching':
      if (input.type === 'readiness') return onReadiness(ctx, input.ready, input.detail);
      if (input.type === 'split-verified') return startMonitoring(ctx.withSplit(input.split));
      if (input.type === 'platform-error') {
        // Refused outright with nothing moved: the release ends, traffic untouched (no rollback needed).
        if (input.error.nothingChanged) return ctx.fail(`${input.error.message}; traffic untouched`);
        return retryOr(ctx, input.error, () => ctx.startRollback(`the switch to green failed: ${input.error.message}`, SYSTEM_ACTOR));
      }
      return undefined;
    case 'monitoring':
      return input.type === 'checks' ? onMonitorSample(ctx, input.results, input.metrics, input.history) : undefined;
    case 'rolling_back':
      return onRollbackObservation(ctx, input);
    default:
      return undefined;
  }
}
