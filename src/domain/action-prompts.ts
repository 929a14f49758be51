import { versionLabel, type Deployment } from './deployment.ts';
import { allowedActions, type ActionName } from './release-state.ts';

/** Asked before an action that cannot be taken back: what happens, in the words people click. */
export interface ActionConfirmation {
  title: string;
  text: string;
  go: string;
  deny: string;
}

/** One thing a person may do with a release now, as every surface offers it. */
export interface ActionPrompt {
  action: ActionName;
  /** Taken with --override: an approve or promote that switches although blue cannot be rolled back to. */
  override: boolean;
  label: string;
  style: 'primary' | 'danger' | undefined;
  confirm: ActionConfirmation | undefined;
}

/**
 * What allowedActions() offers now, with the labels and the confirmations people see: the Slack
 * card's buttons and the console's are both drawn from this, so a question is never asked on one
 * surface and skipped on the other.
 */
export function actionPromptsFor(d: Deployment): ActionPrompt[] {
  const green = d.version ? versionLabel(d.version) : d.versionRef;
  const blueVersion = d.kind === 'release' ? d.previousVersion : d.version;
  const blue = blueVersion ? versionLabel(blueVersion) : 'the live version';
  const notReadyDetail = d.progress.rollbackReady?.detail ?? '';
  const ask = (title: string, text: string, go: string): ActionConfirmation => ({ title, text, go, deny: 'Keep it' });
  return allowedActions(d)
    .filter((a) => a.offered)
    .map((a): ActionPrompt => {
      const prompt = (label: string, style: ActionPrompt['style'], confirm?: ActionConfirmation): ActionPrompt => ({
        action: a.action,
        override: a.needsOverride && (a.action === 'approve' || a.action === 'promote'),
        label,
        style,
        confirm,
      });
      switch (a.action) {
        case 'approve':
          return a.needsOverride
            ? prompt('Approve anyway', 'danger', ask('Switch without a safe rollback?', `A rollback to ${blue} would not be possible: ${notReadyDetail}`, 'Switch anyway'))
            : prompt('Approve', 'primary');
        case 'reject':
          return prompt('Reject', 'danger', ask('Reject this release?', `${green} will not get traffic.`, 'Reject'));
        case 'promote':
          return a.needsOverride
            ? prompt('Promote anyway', 'danger', ask('Go on without a safe rollback?', notReadyDetail, 'Promote'))
            : prompt(a.meaning === 'accept' ? 'Accept' : 'Promote', 'primary');
        case 'cancel':
          return prompt('Cancel', undefined, ask('Cancel this release?', `Traffic stays on ${blue}.`, 'Cancel release'));
        case 'rollback':
          return prompt(a.meaning === 'retry' ? 'Retry rollback' : 'Rollback', 'danger', ask('Roll back?', `All traffic goes back to ${blue}, then its health is verified.`, 'Roll back'));
      }
    });
}
