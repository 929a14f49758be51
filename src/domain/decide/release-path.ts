import { AUTO_APPROVER } from '../actors.ts';
import { versionLabel, type CheckResult, type Split, type VersionInfo } from '../deployment.ts';
import { formatDuration } from '../format-duration.ts';
import type { GreenReach, LiveTraffic } from '../inputs.ts';
import { describeSplit, soleVersion } from '../split.ts';
import { switchToStep } from './switching.ts';
import { failedChecks, stageReasonOf, type Decision, type Transition } from './transition.ts';

/**
 * The way to the approval: the version resolved and what is live read, green made reachable
 * without traffic (staging), verified, then approved by people or by policy.
 */

export function onResolved(ctx: Transition, version: VersionInfo, live: LiveTraffic, greenReach: GreenReach): Decision {
  const { d } = ctx;
  const liveId = soleVersion(live.split);
  const liveInfo = live.versions.find((v) => v.id === liveId) ?? (liveId ? { id: liveId, tag: null } : null);
  const withVersion = ctx.patch({ version, split: live.split });
  if (liveId === version.id) {
    return withVersion.fail(`${versionLabel(version)} is already live on ${d.service}/${d.environment}`);
  }

  if (d.kind === 'rollback') {
    // A rollback is an emergency measure: it goes ahead whatever the current split looks like.
    const replaced = liveInfo ?? biggestShare(live, version.id);
    const target: Split = { [version.id]: 100 };
    if (replaced) target[replaced.id] = 0;
    return withVersion
      .patch({ previousVersion: replaced })
      .to('rolling_back', `switching traffic back to ${versionLabel(version)}`, {
        wakeAt: ctx.iso,
        progress: { attempt: 0, targetSplit: target, rollbackPhase: 'switch', rollbackCause: stageReasonOf(d) },
      });
  }

  if (Object.keys(live.split).length === 0) {
    return withVersion.fail(
      `nothing is live on ${d.service}/${d.environment} yet, so there is no blue to fall back to${live.emptyAdvice ? `; ${live.emptyAdvice}` : ''}`,
    );
  }
  if (!liveInfo) {
    return withVersion.fail(
      `traffic is split (${describeSplit(live.split, live.versions)}); finish or roll back that rollout before starting another`,
    );
  }
  const staged = withVersion.patch({ previousVersion: liveInfo });
  if (greenReach === 'on-its-own') {
    // Green is reachable without being in the split: staging needs no traffic change. Record the
    // stage anyway so the timeline shows it, and say why nothing was done.
    const passed = staged.to('staging', 'green is reachable on its own; no split change needed', {}, {
      details: { skipped: 'split change', why: 'the platform reaches green without a split' },
    });
    return ctx.then(passed, (next) => startVerifying(next));
  }
  return staged.to('staging', `making ${versionLabel(version)} reachable with 0 % of traffic`, {
    wakeAt: ctx.iso,
    progress: { attempt: 0, targetSplit: { [liveInfo.id]: 100, [version.id]: 0 } },
  });
}

/** The version with the most traffic other than `except` (the one being rolled back to). */
function biggestShare(live: LiveTraffic, except: string): VersionInfo | null {
  const [id] = Object.entries(live.split).filter(([v]) => v !== except).sort(([, a], [, b]) => b - a)[0] ?? [];
  if (!id) return null;
  return live.versions.find((v) => v.id === id) ?? { id, tag: null };
}

export function startVerifying(ctx: Transition): Decision {
  return ctx.to('verifying', `checking green before any traffic (attempt 1 of ${ctx.settings.health.attempts})`, {
    wakeAt: ctx.iso,
    progress: { attempt: 0 },
  });
}

export function onGreenChecks(ctx: Transition, results: CheckResult[]): Decision {
  const { d, settings } = ctx;
  const attempt = d.progress.attempt + 1;
  const failed = failedChecks(results);
  const details = { attempt, checks: results };
  if (failed.length === 0) {
    const ready = ctx.patch({ progress: { ...d.progress, attempt, lastChecks: results } });
    const expiresAt = new Date(ctx.now + settings.approval.expiresAfter).toISOString();
    const awaiting = ready.to(
      'awaiting_approval',
      `green passed every check; waiting for ${settings.approval.required} approval(s) until ${expiresAt}`,
      { wakeAt: expiresAt, progress: { attempt: 0, lastChecks: results, approvalExpiresAt: expiresAt } },
      { action: 'verified', details },
    );
    if (settings.approval.mode !== 'auto') return awaiting;
    return ctx.then(awaiting, (next) => approveAndMaybeSwitch(next, AUTO_APPROVER, 'approved automatically by policy'));
  }
  const summary = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
  if (attempt >= settings.health.attempts) {
    return ctx.patch({ progress: { ...d.progress, attempt, lastChecks: results } }).fail(
      `green failed its checks ${attempt} times — ${summary}; traffic untouched (${versionLabel(d.previousVersion)} keeps 100 %)`,
      details,
    );
  }
  return ctx.stay(
    `green not healthy yet (attempt ${attempt} of ${settings.health.attempts}): ${summary}`,
    {
      wakeAt: new Date(ctx.now + settings.health.interval).toISOString(),
      progress: { ...d.progress, attempt, lastChecks: results },
    },
    { action: 'verify-attempt-failed', details },
  );
}

/** The approval window's deadline: nobody approved in time. */
export function onApprovalTick(ctx: Transition): Decision | undefined {
  const { d, settings } = ctx;
  if (ctx.now < Date.parse(d.progress.approvalExpiresAt ?? ctx.iso)) return undefined;
  return ctx.to('expired', `nobody approved within ${formatDuration(settings.approval.expiresAfter)}; traffic untouched`, {}, { action: 'approval-expired' });
}

export function approveAndMaybeSwitch(ctx: Transition, actor: string, words: string, override = false): Decision {
  const { d, settings } = ctx;
  const approvals = [...d.approvals, { actor, at: ctx.iso }];
  const withApproval = ctx.patch({ approvals });
  if (approvals.length < settings.approval.required) {
    return withApproval.stay(
      `${approvals.length} of ${settings.approval.required} approvals`,
      {},
      { action: 'approved', actor, details: { approvals: approvals.length } },
    );
  }
  if (!d.version || !d.previousVersion) return ctx.fail('internal: green or blue unknown at approval');
  return switchToStep(withApproval, 0, words, { action: 'approved', actor, ...(override ? { details: { override: true } } : {}) }, override);
}
