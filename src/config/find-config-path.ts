import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ConfigProblem } from './config-problem.ts';

export const DEFAULT_CONFIG_FILE = 'kevin-deploy.yml';
export const CONFIG_ENV_VAR = 'KEVIN_DEPLOY_CONFIG';

export interface FindConfigPathOptions {
  /** The value of `--config`, if given. */
  explicit?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export type ConfigPathSource = '--config' | typeof CONFIG_ENV_VAR | 'cwd';

export type FindConfigPathResult =
  | {
      ok: true;
      /** Absolute path of the file, or undefined when there is none anywhere (sandbox defaults). */
      path: string | undefined;
      /** The same file named for people: relative to cwd when inside it. */
      displayPath: string | undefined;
      source: ConfigPathSource | undefined;
    }
  | { ok: false; problem: ConfigProblem };

/**
 * Where the configuration is: `--config`, else $KEVIN_DEPLOY_CONFIG, else ./kevin-deploy.yml.
 * A path someone named that does not exist is an error, never a quiet fallback to the next place:
 * running with another file (or none) than the one asked for is how the wrong settings ship.
 */
export function findConfigPath({ explicit, env, cwd }: FindConfigPathOptions): FindConfigPathResult {
  if (explicit !== undefined && explicit !== '') return named(explicit, '--config', cwd);
  const fromEnv = env[CONFIG_ENV_VAR];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return named(fromEnv, CONFIG_ENV_VAR, cwd);
  const candidate = resolve(cwd, DEFAULT_CONFIG_FILE);
  if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
    return { ok: true, path: candidate, displayPath: display(candidate, cwd), source: 'cwd' };
  }
  return { ok: true, path: undefined, displayPath: undefined, source: undefined };
}

function named(given: string, source: ConfigPathSource, cwd: string): FindConfigPathResult {
  const absolute = resolve(cwd, given);
  const stats = statSync(absolute, { throwIfNoEntry: false });
  const origin = source === '--config' ? 'given with --config' : `named by $${CONFIG_ENV_VAR}`;
  if (!stats) {
    return { ok: false, problem: { file: given, path: '', message: `the configuration file ${origin} does not exist (looked at ${absolute})` } };
  }
  if (!stats.isFile()) {
    return { ok: false, problem: { file: given, path: '', message: `the configuration path ${origin} is not a file (${absolute})` } };
  }
  return { ok: true, path: absolute, displayPath: display(absolute, cwd), source };
}

function display(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : absolute;
}
