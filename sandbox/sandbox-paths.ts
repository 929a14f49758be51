import { join } from 'node:path';
import { sandboxDatabaseFile, sandboxTokenFiles, type SandboxTokenFiles } from '../src/cli/sandbox-token-record.ts';
import { KevinDeployError } from '../src/errors.ts';

/**
 * Where the sandbox keeps its files and which ports it uses; all overridable for tests. The token
 * record (apiTokenFile, botInfoFile) is the CLI's format: its paths come from the CLI's module.
 */
export interface SandboxPaths extends SandboxTokenFiles {
  /** The bot's database (sqlite:ABSOLUTE-PATH); the edge reads it only to import a pre-file state once. */
  databaseUrl: string;
  /** Written by the running edge: how to reach it (URLs, its local Cloudflare token, its pid). */
  edgeInfoFile: string;
  /** The edge's own state (versions, deployments, its Cloudflare token): never in the bot's database. */
  edgeStateFile: string;
  edgeLogFile: string;
  apiPort: number;
  trafficPort: number;
  /** Synthetic requests per second through the edge. */
  trafficRate: number;
  /**
   * KEVIN_DEPLOY_SANDBOX_PLATFORM: `workers` (default) — one Worker, versions split by percentage;
   * `routes` — blue and green as two Workers, the zone's routes switched between them.
   */
  platform: SandboxPlatform;
}

export type SandboxPlatform = 'workers' | 'routes';

export const DEFAULT_SANDBOX_API_PORT = 8787;
export const DEFAULT_SANDBOX_EDGE_PORT = 8788;

export function sandboxPaths(env: NodeJS.ProcessEnv, cwd: string): SandboxPaths {
  const tokenFiles = sandboxTokenFiles(env, cwd);
  const { dataDir } = tokenFiles;
  return {
    ...tokenFiles,
    databaseUrl: `sqlite:${sandboxDatabaseFile(env, cwd)}`,
    edgeInfoFile: join(dataDir, 'sandbox-edge.json'),
    edgeStateFile: join(dataDir, 'sandbox-edge-state.json'),
    edgeLogFile: join(dataDir, 'sandbox-edge.log'),
    apiPort: port(env.KEVIN_DEPLOY_SANDBOX_API_PORT, DEFAULT_SANDBOX_API_PORT, 'KEVIN_DEPLOY_SANDBOX_API_PORT'),
    trafficPort: port(env.KEVIN_DEPLOY_SANDBOX_EDGE_PORT, DEFAULT_SANDBOX_EDGE_PORT, 'KEVIN_DEPLOY_SANDBOX_EDGE_PORT'),
    trafficRate: rate(env.KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS),
    platform: platform(env.KEVIN_DEPLOY_SANDBOX_PLATFORM),
  };
}

function platform(value: string | undefined): SandboxPlatform {
  if (value === undefined || value === '' || value === 'workers') return 'workers';
  if (value === 'routes') return 'routes';
  throw new KevinDeployError('USAGE', `KEVIN_DEPLOY_SANDBOX_PLATFORM must be workers (one Worker, split by version) or routes (blue and green as two Workers); got "${value}"`);
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
