import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { KevinDeployError } from '../src/errors.ts';

/** What the edge keeps across its restarts: the stand-in's state and its local Cloudflare token. */
export interface EdgeState {
  /** The token the bot uses on the edge's Cloudflare API; kept, so a restarted edge still accepts it. */
  apiToken: string;
  /** A CloudflareStandIn snapshot (versions, deployments): where traffic goes. */
  standIn: unknown;
}

export const EDGE_STATE_FORMAT = 'kevin-deploy/sandbox-edge-state@1';

const documentSchema = z.object({
  format: z.literal(EDGE_STATE_FORMAT),
  savedAt: z.string(),
  apiToken: z.string().min(1),
  standIn: z.unknown(),
});

/**
 * The sandbox edge's own state file (data/sandbox-edge-state.json) — never the bot's database, so
 * a production store carries nothing of the sandbox. One small JSON document with one writer (the
 * edge), written whole after each change: a temp file, fsync, then rename over the old one, so a
 * crash leaves either the previous state or the new one, never half of it.
 */
export class EdgeStateFile {
  constructor(readonly file: string) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  /** The saved state; undefined when there is none; a clear error when it cannot be read. */
  load(): EdgeState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.#unreadable(error instanceof Error ? error.message : String(error));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KevinDeployError('USAGE', `the sandbox edge state in ${this.file} is corrupt (not JSON); start over with \`kevin-deploy sandbox reset\``);
    }
    const parsed = documentSchema.safeParse(json);
    if (!parsed.success) throw this.#unreadable(`not a ${EDGE_STATE_FORMAT} document`);
    return { apiToken: parsed.data.apiToken, standIn: parsed.data.standIn };
  }

  /** Replaces the file atomically (synchronously, so saves land in the order they were made). */
  save(state: EdgeState, now: Date): void {
    const text = `${JSON.stringify({ format: EDGE_STATE_FORMAT, savedAt: now.toISOString(), ...state }, null, 2)}\n`;
    const temp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.tmp`);
    const fd = openSync(temp, 'w', 0o600); // the token only opens the local stand-in; still, keep it to the owner
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }

  /** Forgets the state; true when there was one. */
  remove(): boolean {
    const existed = this.exists();
    rmSync(this.file, { force: true });
    return existed;
  }

  #unreadable(why: string): KevinDeployError {
    return new KevinDeployError('USAGE', `the sandbox edge state in ${this.file} is unreadable (${why}); start over with \`kevin-deploy sandbox reset\``);
  }
}
