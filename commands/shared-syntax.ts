import type { Flag, Positional } from './define-command.ts';

// Grammar pieces several commands share; a command spreads one and overrides its description
// where its help says more (`{ ...envFlag, description: '…' }`).

/** `--env ENV`: the environment, by its CLI name; usage lines say ENV as chat does. */
export const envFlag = { arg: 'environment', flag: 'env', value: 'environment', placeholder: 'ENV', description: 'environment' } as const satisfies Flag<'environment'>;

/** The deployment acted on, by its id. */
export const idPositional = { arg: 'id', description: 'deployment id, e.g. kd-abcd234xyz' } as const satisfies Positional<'id'>;

/** The target's service. */
export const servicePositional = { arg: 'service', description: 'a service' } as const satisfies Positional<'service'>;

/** `--override` of approve and promote. */
export const overrideFlag = {
  arg: 'override',
  flag: 'override',
  description: 'go on although a rollback to blue would not be possible',
} as const satisfies Flag<'override'>;
