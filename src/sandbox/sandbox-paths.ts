import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DEFAULT_DATABASE_URL } from '../adapters/store/open-store.ts';
import { KevinDeployError } from '../errors.ts';

/** Where the sandbox keeps its files and which ports it uses; all overridable for tests. */
export interface SandboxPaths {
  databaseUrl: string;
  dataDir: string;
  /** Written by the running edge: how to reach it (URLs, its local Cloudflare token, its pid). */
  edgeInfoFile: string;
  /** The bot's API token in the sandbox, so `npx kevin-deploy …` works without exporting one. */
  apiTokenFile: string;
  /**
   * Written by the running sandbox bot beside the token: the URL it serves and its pid. The CLI
   * uses the token file only for that URL while that process lives — never for another bot.
   */
  botInfoFile: string;
  edgeLogFile: string;
  apiPort: number;
  trafficPort: number;
  /** Synthetic requests per second through the edge. */
  trafficRate: number;
}

export const DEFAULT_SANDBOX_API_PORT = 8787;
export const DEFAULT_SANDBOX_EDGE_PORT = 8788;

export function sandboxPaths(env: NodeJS.ProcessEnv, cwd: string): SandboxPaths {
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite::memory:') {
    throw new KevinDeployError('USAGE', 'the sandbox keeps its state in a SQLite file: set DATABASE_URL=sqlite:PATH (or leave it unset)');
  }
  const dataDir = dirname(resolve(cwd, databaseUrl.slice('sqlite:'.length)));
  return {
    databaseUrl: `sqlite:${resolve(cwd, databaseUrl.slice('sqlite:'.length))}`,
    dataDir,
    edgeInfoFile: join(dataDir, 'sandbox-edge.json'),
    apiTokenFile: join(dataDir, 'sandbox-api-token'),
    botInfoFile: join(dataDir, 'sandbox-bot.json'),
    edgeLogFile: join(dataDir, 'sandbox-edge.log'),
    apiPort: port(env.KEVIN_DEPLOY_SANDBOX_API_PORT, DEFAULT_SANDBOX_API_PORT, 'KEVIN_DEPLOY_SANDBOX_API_PORT'),
    trafficPort: port(env.KEVIN_DEPLOY_SANDBOX_EDGE_PORT, DEFAULT_SANDBOX_EDGE_PORT, 'KEVIN_DEPLOY_SANDBOX_EDGE_PORT'),
    trafficRate: rate(env.KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS),
  };
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new KevinDeployError('USAGE', `${name} must be a port number (1-65535); got "${value}"`);
  return n;
}

function rate(value: string | undefined): number {
  if (value === undefined || value === '') return 4;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 200) {
    throw new KevinDeployError('USAGE', `KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS must be a number from 0 to 200; got "${value}"`);
  }
  return n;
}

/** A sandbox file as a person would type it: "./data/sandbox-api-token" under cwd, else the absolute path. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : file;
}
