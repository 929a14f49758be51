import type { PlatformFailure } from '../inputs.ts';
import { stageReasonOf, type Decision, type Transition } from './transition.ts';
import { backoffAfter } from '../backoff.ts';

/**
 * A platform call failed: try again later with exponential backoff while it can help (retryable,
 * attempts left), otherwise give up the way the stage says.
 */
export function retryOr(ctx: Transition, error: PlatformFailure, giveUp: () => Decision): Decision {
  const { d, settings } = ctx;
  const attempt = d.progress.attempt + 1;
  if (!error.retryable || attempt >= settings.switch.attempts) return giveUp();
  // Exponential backoff from the configured base, capped so a long outage is still retried often.
  const delay = backoffAfter(attempt, settings.switch.backoff, 60_000);
  return ctx.stay(
    `${stageReasonOf(d)} — ${error.message}; retrying (attempt ${attempt + 1} of ${settings.switch.attempts})`.slice(0, 500),
    {
      wakeAt: new Date(ctx.now + delay).toISOString(),
      progress: { ...d.progress, attempt, lastError: error.message, stageReason: stageReasonOf(d) },
    },
    { action: 'platform-retry', details: { error, attempt } },
  );
}
