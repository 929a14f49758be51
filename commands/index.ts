import { approveCommand } from './approve.ts';
import { cancelCommand } from './cancel.ts';
import { deployCommand } from './deploy.ts';
import { helpCommand } from './help.ts';
import { historyCommand } from './history.ts';
import { lockCommand } from './lock.ts';
import { promoteCommand } from './promote.ts';
import { rejectCommand } from './reject.ts';
import { rollbackCommand } from './rollback.ts';
import { showCommand } from './show.ts';
import { statusCommand } from './status.ts';
import { unlockCommand } from './unlock.ts';

/** Every command, by name: what the surfaces (API, Slack, Discord) dispatch into. */
export const COMMANDS = {
  deploy: deployCommand,
  approve: approveCommand,
  promote: promoteCommand,
  reject: rejectCommand,
  cancel: cancelCommand,
  rollback: rollbackCommand,
  show: showCommand,
  status: statusCommand,
  history: historyCommand,
  lock: lockCommand,
  unlock: unlockCommand,
  help: helpCommand,
} as const;

export type CommandName = keyof typeof COMMANDS;
export { runCommand, type CommandContext } from './define-command.ts';
