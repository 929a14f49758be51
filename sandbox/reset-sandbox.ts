import { rmSync } from 'node:fs';
import { KevinDeployError } from '../src/errors.ts';
import { findRunningEdge } from './edge-info.ts';
import { EdgeStateFile } from './edge-state-file.ts';
import { forgetLegacyEdgeState } from './legacy-edge-state.ts';
import type { SandboxPaths } from './sandbox-paths.ts';

/**
 * `kevin-deploy sandbox reset`: forgets the edge's state (its state file, and what an earlier
 * kevin-deploy kept in the bot's database, which the next start would import again) so the next
 * start deploys a fresh v1; with `all`, also the bot database, the API token and its record.
 * Says what it did.
 */
export async function resetSandbox(paths: SandboxPaths, options: { all?: boolean | undefined }): Promise<string> {
  if (await findRunningEdge(paths.edgeInfoFile)) {
    throw new KevinDeployError('USAGE', 'the sandbox edge is running; stop `npm start` (Ctrl-C) first');
  }
  rmSync(paths.edgeInfoFile, { force: true });
  const stateFile = new EdgeStateFile(paths.edgeStateFile);
  const databaseFile = paths.databaseUrl.slice('sqlite:'.length);
  if (options.all) {
    stateFile.remove();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${databaseFile}${suffix}`, { force: true });
    rmSync(paths.apiTokenFile, { force: true });
    rmSync(paths.botInfoFile, { force: true });
    return `removed the sandbox and its database in ${paths.dataDir}`;
  }
  // The file holds the two records the database used to: the stand-in's state and its credentials.
  const removed = (stateFile.remove() ? 2 : 0) + forgetLegacyEdgeState(databaseFile);
  return `forgot the sandbox edge state (${removed} record(s)); the next start deploys a fresh v1`;
}
