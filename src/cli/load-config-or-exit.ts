import { findConfigPath } from '../config/find-config-path.ts';
import { formatProblem, formatProblems } from '../config/format-problems.ts';
import { loadConfig } from '../config/load-config.ts';
import type { KevinDeployConfig } from '../config/schema.ts';
import { CliFailure, EXIT } from './exit-codes.ts';

export interface LoadedConfig {
  config: KevinDeployConfig;
  warnings: string[];
}

/**
 * Finds and loads the configuration for a CLI verb, or fails with exit code 2 and every problem
 * located (file:line:column path: message). Returns undefined when no file exists anywhere.
 */
export function loadConfigOrExit(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): LoadedConfig | undefined {
  const found = findConfigPath({ explicit, env, cwd });
  if (!found.ok) throw new CliFailure(EXIT.usage, formatProblem(found.problem), { problems: [found.problem] }, true);
  if (!found.path) return undefined;
  const result = loadConfig({ path: found.path, displayPath: found.displayPath, env });
  if (!result.ok) {
    const text = [formatProblems(result.problems), result.warnings.length > 0 ? formatProblems(result.warnings, 'warning') : '']
      .filter(Boolean)
      .join('\n');
    throw new CliFailure(EXIT.usage, text, { problems: result.problems, warnings: result.warnings }, true);
  }
  return { config: result.config, warnings: result.warnings.map((w) => formatProblem(w, 'warning')) };
}
