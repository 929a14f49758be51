import { existsSync, readFileSync } from 'node:fs';
import { sandboxPaths } from '../sandbox/sandbox-paths.ts';

/**
 * The sandbox's API token from ./data/sandbox-api-token, when the CLI talks to a bot on this
 * machine. Never used for a remote URL: a real bot's token only ever comes from the environment.
 */
export function sandboxTokenFor(baseUrl: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  let host: string;
  try {
    host = new URL(baseUrl).hostname;
  } catch {
    return undefined;
  }
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') return undefined;
  try {
    const file = sandboxPaths(env, cwd).apiTokenFile;
    return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}
