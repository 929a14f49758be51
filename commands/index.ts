import { approveCommand } from './approve.ts';
import { cancelCommand } from './cancel.ts';
import { deployCommand } from './deploy.ts';
import { helpCommandOver } from './help.ts';
import { historyCommand } from './history.ts';
import { lockCommand } from './lock.ts';
import { promoteCommand } from './promote.ts';
import { rejectCommand } from './reject.ts';
import { rollbackCommand } from './rollback.ts';
import { showCommand } from './show.ts';
import { statusCommand } from './status.ts';
import { unlockCommand } from './unlock.ts';

const ACTING_COMMANDS = {
  deploy: deployCommand,
  approve: approveCommand,
  reject: rejectCommand,
  cancel: cancelCommand,
  promote: promoteCommand,
  rollback: rollbackCommand,
  status: statusCommand,
  show: showCommand,
  history: historyCommand,
  lock: lockCommand,
  unlock: unlockCommand,
} as const;

/** Help lists the table, itself included (last, as in `kevin-deploy --help`). */
const helpCommand: ReturnType<typeof helpCommandOver> = helpCommandOver(() => [...Object.values(ACTING_COMMANDS), helpCommand]);

/**
 * The command table: every command by name. The surfaces derive from it — the CLI's verbs (in
 * this order, which is the order of `kevin-deploy --help`), the API's routes, the chat grammar
 * and help, and the card buttons.
 */
export const COMMANDS = { ...ACTING_COMMANDS, help: helpCommand } as const;

export type CommandName = keyof typeof COMMANDS;
export type { CommandContext } from './define-command.ts';
export { runCommand, type AnyCommand, type ResultOf } from './run-command.ts';
