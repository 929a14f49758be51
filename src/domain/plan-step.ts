import type { ReleaseSettings } from './release-settings.ts';
import { rollbackTargetOf, type Deployment, type Split, type VersionInfo } from './deployment.ts';
import { stateOf, waitsForPromotion } from './release-state.ts';
import { isTerminal } from './stages.ts';

/** Which version a probe run looks at, and how it reaches it. */
export type ProbeSubject =
  /** Green before it has traffic: through the version-override header or its preview URL. */
  | { kind: 'version'; versionId: string }
  /** The production URL as users see it; `expectVersion` is checked if the app reports its version. */
  | { kind: 'live'; expectVersion: string | null };

/**
 * The one piece of work a deployment needs next. It is a pure function of the persisted status,
 * so the step the runner executes after a restart is exactly the one it was doing before: every
 * step is idempotent (reads before it writes), so repeating one is safe.
 */
export type Step =
  | { type: 'none' }
  /** Nothing to do before `until` (or until a person or the target lock acts, when null). */
  | { type: 'wait'; until: string | null }
  /** A deadline passed; feed `tick` into decide(). */
  | { type: 'tick' }
  /** `version`: already resolved when the request was admitted; then only the live traffic is read. */
  | { type: 'resolve'; ref: string; version: VersionInfo | null }
  | { type: 'apply-split'; split: Split }
  /** Before each switch: can traffic still go back to this version? */
  | { type: 'check-readiness'; versionId: string }
  | {
      type: 'probe';
      subject: ProbeSubject;
      purpose: 'verify-green' | 'monitor' | 'verify-rollback';
      /** While monitoring: read these versions' figures from the metrics source too. */
      metrics?: { green: string; blue?: string | undefined } | undefined;
    };

export function planStep(d: Deployment, now: Date, settings: ReleaseSettings): Step {
  if (isTerminal(d.stage)) return { type: 'none' };
  const due = d.wakeAt === null || Date.parse(d.wakeAt) <= now.getTime();
  const waitUntil: Step = { type: 'wait', until: d.wakeAt };
  switch (d.stage) {
    case 'requested':
    case 'needs_attention':
      return { type: 'wait', until: null };
    case 'resolving':
      return due ? { type: 'resolve', ref: d.versionRef, version: d.version } : waitUntil;
    case 'staging':
      if (!d.progress.targetSplit) return { type: 'wait', until: null };
      return due ? { type: 'apply-split', split: d.progress.targetSplit } : waitUntil;
    case 'switching': {
      if (!d.progress.targetSplit) return { type: 'wait', until: null };
      if (!due) return waitUntil;
      // Rollback readiness first, once per switch; then the split.
      const state = stateOf(d);
      if (state.stage === 'switching' && state.phase === 'checking-rollback-readiness') return { type: 'check-readiness', versionId: d.previousVersion!.id };
      return { type: 'apply-split', split: d.progress.targetSplit };
    }
    case 'verifying':
      if (!due) return waitUntil;
      return d.version
        ? { type: 'probe', subject: { kind: 'version', versionId: d.version.id }, purpose: 'verify-green' }
        : { type: 'wait', until: null };
    case 'awaiting_approval':
      return due ? { type: 'tick' } : waitUntil;
    case 'monitoring': {
      // A canary gate or a paused window waits for a person.
      if (waitsForPromotion(stateOf(d))) return { type: 'wait', until: null };
      if (!d.version) return { type: 'wait', until: null };
      if (!due) return waitUntil;
      const blue = d.previousVersion;
      // Blue's figures are only needed to compare with while blue still serves users.
      const compare = Boolean(settings.monitor.triggers.relativeErrorRate) && blue && (d.split[blue.id] ?? 0) > 0;
      return {
        type: 'probe',
        // Green itself, whatever the split: during a canary step the production URL mostly reaches blue.
        subject: { kind: 'version', versionId: d.version.id },
        purpose: 'monitor',
        ...(settings.monitor.metrics.source !== 'none' ? { metrics: { green: d.version.id, ...(compare ? { blue: blue!.id } : {}) } } : {}),
      };
    }
    case 'rolling_back': {
      if (!due) return waitUntil;
      const state = stateOf(d);
      if (state.stage === 'rolling_back' && state.phase === 'switching-back' && d.progress.targetSplit) {
        return { type: 'apply-split', split: d.progress.targetSplit };
      }
      const target = rollbackTargetOf(d);
      return { type: 'probe', subject: { kind: 'live', expectVersion: target?.id ?? null }, purpose: 'verify-rollback' };
    }
    default:
      return { type: 'none' };
  }
}
