import { formatProblem } from '../../src/config/format-problems.ts';
import type { ConfigProblem, LoadResult } from '../../src/config/load-config.ts';
import type { KevinDeployConfig, TargetSettings } from '../../src/config/schema.ts';

/**
 * Unwrapping loadConfig's result in the config tests (config-load, config-routes-platform), shared
 * so that each test file keeps only its own YAML and environment.
 */

/** The loaded config; throws with the formatted problems when it did not load. */
export function expectOk(result: LoadResult): KevinDeployConfig {
  if (!result.ok) throw new Error(`expected the config to load, got:\n${result.problems.map((p) => formatProblem(p)).join('\n')}`);
  return result.config;
}

/** The problems; throws when the config loaded. */
export function expectProblems(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, but the config loaded');
  return result.problems;
}

/** The settings of `service`/`environment`; throws when there are none. */
export function targetOf(config: KevinDeployConfig, service: string, environment: string): TargetSettings {
  const found = config.services.get(service)?.environments.get(environment);
  if (!found) throw new Error(`no ${service}/${environment}`);
  return found;
}
