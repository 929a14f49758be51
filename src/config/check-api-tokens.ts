import type { ProblemList } from './problem-list.ts';
import { isPlainObject } from './raw-value.ts';

export interface CheckApiTokensInput {
  /** `apiTokens` as written; its shape was already validated by the schema. */
  raw: unknown;
  env: Readonly<Record<string, string | undefined>>;
  problems: ProblemList;
  warnings: ProblemList;
}

/**
 * Cross-entry rules the schema cannot express. Actor names must be unique because approvals and
 * four-eyes compare actors; one variable for two actors would make one secret two people. An
 * unset variable is only a warning: that token cannot log in, but the bot still works.
 */
export function checkApiTokens({ raw, env, problems, warnings }: CheckApiTokensInput): void {
  if (!Array.isArray(raw)) return;
  const actorAt = new Map<string, number>();
  const variableAt = new Map<string, number>();
  raw.forEach((entry: unknown, index) => {
    if (!isPlainObject(entry)) return;
    const { actor, env: variable } = entry;
    if (typeof actor === 'string') {
      const earlier = actorAt.get(actor);
      if (earlier === undefined) actorAt.set(actor, index);
      else {
        problems.report({
          path: ['apiTokens', index, 'actor'],
          message: `actor "${actor}" is already used by apiTokens.${earlier}; give every token its own actor name`,
        });
      }
    }
    if (typeof variable !== 'string') return;
    const earlier = variableAt.get(variable);
    if (earlier === undefined) variableAt.set(variable, index);
    else {
      problems.report({
        path: ['apiTokens', index, 'env'],
        message: `${variable} is already used by apiTokens.${earlier}; one secret can only identify one actor`,
      });
    }
    if (!env[variable]) {
      warnings.report({
        path: ['apiTokens', index, 'env'],
        message:
          `${variable} is not set in the environment, so actor "${String(actor)}" cannot log in; ` +
          'set it where the bot runs, or remove this entry',
      });
    }
  });
}
