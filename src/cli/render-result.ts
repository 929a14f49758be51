import type { CommandName } from '../../commands/index.ts';
import type { DeploymentView, LockView } from '../domain/deployment-view.ts';
import { renderDeployment, renderHistory, renderLock, renderStatus, type TargetStatusView } from './render.ts';

/**
 * A command's answer as the CLI prints it for people (--json prints the answer itself). The
 * answer is the API's JSON for that command, the object its handler returns.
 */
export function renderResult(name: CommandName, result: unknown): string {
  switch (name) {
    case 'deploy':
    case 'approve':
    case 'reject':
    case 'cancel':
    case 'promote':
    case 'rollback':
    case 'show':
      return renderDeployment(result as DeploymentView);
    case 'status':
      return renderStatus((result as { targets: TargetStatusView[] }).targets);
    case 'history':
      return renderHistory((result as { deployments: DeploymentView[] }).deployments);
    case 'lock':
      return renderLock(result as LockView, 'locked');
    case 'unlock':
      return renderLock((result as { unlocked: LockView }).unlocked, 'unlocked');
    case 'help':
      throw new Error('help has no CLI verb: the CLI has --help');
  }
}
