import { COMMANDS, type CommandName } from './index.ts';
import type { AnyCommand } from './run-command.ts';

/** What a click on a card button runs: a command, with the arguments the click gives. */
export interface ButtonClick {
  command: AnyCommand;
  args: Record<string, unknown>;
}

interface ButtonTarget {
  name: CommandName;
  /** The boolean argument the override variant sets. */
  override: string | undefined;
}

/** Every action id the table declares, with the command it runs. */
const BY_ACTION_ID: ReadonlyMap<string, ButtonTarget> = new Map(
  Object.values(COMMANDS).flatMap((command): Array<[string, ButtonTarget]> => {
    const button = command.button;
    if (!button) return [];
    const name = command.name as CommandName;
    const plain: [string, ButtonTarget] = [button.actionId, { name, override: undefined }];
    return button.override ? [plain, [button.override.actionId, { name, override: button.override.arg }]] : [plain];
  }),
);

/** The action ids of every card button, for the chat surface to listen to. */
export const BUTTON_ACTION_IDS: readonly string[] = [...BY_ACTION_ID.keys()];

/**
 * A click on a card button as the command it runs: the button's value is the deployment id, and
 * the override variant also sets its argument. Undefined for an action id the table does not declare.
 */
export function buttonClick(actionId: string, deploymentId: string): ButtonClick | undefined {
  const target = BY_ACTION_ID.get(actionId);
  if (!target) return undefined;
  return { command: COMMANDS[target.name], args: target.override ? { id: deploymentId, [target.override]: true } : { id: deploymentId } };
}

/** The action id of a command's button, or of its override variant; a command without one is a programming error. */
export function buttonActionId(name: CommandName, override = false): string {
  const button = COMMANDS[name].button;
  const actionId = override ? button?.override?.actionId : button?.actionId;
  if (!actionId) throw new Error(`the command ${name} declares no ${override ? 'override ' : ''}button`);
  return actionId;
}
