import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DEFAULT_DATABASE_URL } from '../adapters/store/default-database-url.ts';
import { KevinDeployError } from '../errors.ts';

/**
 * The sandbox's token record, as the CLI reads it: the sandbox bot's API token
 * (data/sandbox-api-token) and, while that bot runs, the URL it serves and its pid
 * (data/sandbox-bot.json). The token file alone cannot say whose token it is; with the record,
 * the CLI sends it only to the bot that wrote it.
 *
 * This is the CLI's knowledge of two file formats, not part of the sandbox: the sandbox (the
 * top-level folder beside src/) writes them through this module; the product never imports it.
 */
export interface SandboxTokenFiles {
  /** The directory of the sandbox's SQLite file, where every sandbox file lives. */
  dataDir: string;
  /** The bot's API token in the sandbox, so `npx kevin-deploy …` works without exporting one. */
  apiTokenFile: string;
  /**
   * Written by the running sandbox bot beside the token: the URL it serves and its pid. The CLI
   * uses the token file only for that URL while that process lives — never for another bot.
   */
  botInfoFile: string;
}

/** Where the token record is for this environment (DATABASE_URL) and working directory. */
export function sandboxTokenFiles(env: NodeJS.ProcessEnv, cwd: string): SandboxTokenFiles {
  const dataDir = dirname(sandboxDatabaseFile(env, cwd));
  return { dataDir, apiTokenFile: join(dataDir, 'sandbox-api-token'), botInfoFile: join(dataDir, 'sandbox-bot.json') };
}

/** The absolute path of the sandbox's SQLite file; the sandbox needs a file, not memory or a server. */
export function sandboxDatabaseFile(env: NodeJS.ProcessEnv, cwd: string): string {
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite::memory:') {
    throw new KevinDeployError('USAGE', 'the sandbox keeps its state in a SQLite file: set DATABASE_URL=sqlite:PATH (or leave it unset)');
  }
  return resolve(cwd, databaseUrl.slice('sqlite:'.length));
}

export interface SandboxBotInfo {
  url: string;
  pid: number;
  startedAt: string;
}

/**
 * Checked by hand, not with zod: every CLI call reads this record, and a remote verb should not
 * pay for loading a schema library to check three fields.
 */
function isBotInfo(value: unknown): value is SandboxBotInfo {
  if (typeof value !== 'object' || value === null) return false;
  const { url, pid, startedAt } = value as Record<string, unknown>;
  return typeof url === 'string' && Number.isInteger(pid) && typeof startedAt === 'string';
}

export function writeBotInfo(file: string, info: SandboxBotInfo): void {
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** The record, or undefined when it is absent or unreadable (then nobody vouches for the token). */
export function readBotInfo(file: string): SandboxBotInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isBotInfo(parsed) ? { url: parsed.url, pid: parsed.pid, startedAt: parsed.startedAt } : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record if this process wrote it (a newer sandbox may have replaced it). */
export function removeBotInfo(file: string, pid: number): void {
  if (readBotInfo(file)?.pid === pid) rmSync(file, { force: true });
}

/** Whether the process that wrote a record still lives (EPERM: it does, under another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A sandbox file as a person would type it: "./data/sandbox-api-token" under cwd, else the absolute path. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : file;
}
