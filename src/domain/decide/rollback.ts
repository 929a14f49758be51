import { rollbackTargetOf, versionLabel } from '../deployment.ts';
import type { CommandInput, Input } from '../inputs.ts';
import { describeSplit } from '../split.ts';
import { retryOr } from './platform-retry.ts';
import { failedChecks, refuse, type Decision, type Transition } from './transition.ts';

/** Rolling back: traffic to the rollback target first, then its health verified. */
export function onRollbackObservation(ctx: Transition, input: Exclude<Input, CommandInput>): Decision {
  const { d, settings } = ctx;
  const phase = d.progress.rollbackPhase ?? 'switch';
  const target = rollbackTargetOf(d);
  if (phase === 'switch' && input.type === 'split-verified') {
    return ctx.withSplit(input.split).stay(
      `${versionLabel(target)} has all traffic again; verifying its health`,
      { wakeAt: ctx.iso, progress: { ...d.progress, attempt: 0, rollbackPhase: 'verify' } },
      { action: 'rollback-switched', details: { split: input.split } },
    );
  }
  if (phase === 'switch' && input.type === 'platform-error') {
    return retryOr(ctx, input.error, () =>
      ctx.to(
        'needs_attention',
        `the switch back to ${versionLabel(target)} failed: ${input.error.message}. Traffic as last verified: ` +
          `${describeSplit(d.split, [d.version, d.previousVersion])}. Retry with \`kevin-deploy rollback ${d.service} --env ${d.environment}\` ` +
          'or set the split by hand on the platform',
        { progress: { ...d.progress, lastError: input.error.message } },
        { action: 'rollback-failed', details: { error: input.error } },
      ),
    );
  }
  if (phase === 'verify' && input.type === 'checks') {
    const attempt = d.progress.attempt + 1;
    const failed = failedChecks(input.results);
    const details = { attempt, checks: input.results };
    const cause = d.progress.rollbackCause ?? 'rollback requested';
    if (failed.length === 0) {
      return ctx.to(
        'rolled_back',
        `rolled back to ${versionLabel(target)} (${cause}); it is verified healthy`,
        { progress: { ...d.progress, attempt, lastChecks: input.results } },
        { action: 'rollback-verified', details },
      );
    }
    const summary = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
    if (attempt >= settings.rollback.verifyAttempts) {
      return ctx.to(
        'needs_attention',
        `traffic is 100 % on ${versionLabel(target)} but it fails its checks after ${attempt} attempts — ${summary}`,
        { progress: { ...d.progress, attempt, lastChecks: input.results } },
        { action: 'rollback-unhealthy', details },
      );
    }
    return ctx.stay(
      `${versionLabel(target)} has all traffic; not healthy yet (attempt ${attempt} of ${settings.rollback.verifyAttempts}): ${summary}`,
      {
        wakeAt: new Date(ctx.now + settings.rollback.verifyInterval).toISOString(),
        progress: { ...d.progress, attempt, lastChecks: input.results },
      },
      { action: 'rollback-verify-attempt-failed', details },
    );
  }
  return refuse('IGNORED_INPUT', `${input.type} means nothing to ${d.id} while it is rolling back (${phase})`);
}
