import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { runSandboxEdge, type RunningEdge } from '../../sandbox/edge-process.ts';
import { EDGE_STATE_FORMAT, EdgeStateFile } from '../../sandbox/edge-state-file.ts';
import { freePort } from '../../sandbox/free-port.ts';
import { resetSandbox } from '../../sandbox/reset-sandbox.ts';
import { SANDBOX_ACCOUNT_ID, SANDBOX_SCRIPT } from '../../sandbox/sandbox-config.ts';
import { sandboxPaths, type SandboxPaths } from '../../sandbox/sandbox-paths.ts';
import { capturedLogger } from '../support/captured-logger.ts';

/**
 * The edge's own state file (data/sandbox-edge-state.json), and the one-time import of the state
 * an earlier kevin-deploy kept in the bot's database (table sandbox_state), through the edge
 * process's own entry (runSandboxEdge), in-process on free ports.
 */

let dir: string;
let paths: SandboxPaths;
let edge: RunningEdge | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-edge-state-'));
  mkdirSync(join(dir, 'data'));
  paths = sandboxPaths(
    {
      DATABASE_URL: 'sqlite:./data/kd.db',
      KEVIN_DEPLOY_SANDBOX_API_PORT: String(await freePort()),
      KEVIN_DEPLOY_SANDBOX_EDGE_PORT: String(await freePort()),
      KEVIN_DEPLOY_SANDBOX_TRAFFIC_RPS: '1',
    },
    dir,
  );
});

afterEach(async () => {
  await edge?.close();
  edge = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const databaseFile = () => join(dir, 'data', 'kd.db');

async function startEdge(): Promise<{ edge: RunningEdge; logs: string[] }> {
  const { logger, logs } = capturedLogger();
  edge = await runSandboxEdge(paths, logger);
  return { edge, logs };
}

async function stopEdge(): Promise<void> {
  await edge?.close();
  edge = undefined;
}

/** The bot's database as a kevin-deploy from before the state file left it: the edge's rows in sandbox_state. */
function legacyDatabase(rows: Record<string, string>): void {
  const db = new BetterSqlite3(databaseFile());
  db.exec('CREATE TABLE sandbox_state (name varchar(64) PRIMARY KEY, state_json text NOT NULL, updated_at varchar(32) NOT NULL)');
  for (const [name, json] of Object.entries(rows)) db.prepare('INSERT INTO sandbox_state VALUES (?, ?, ?)').run(name, json, '2026-11-26T09:00:00.000Z');
  db.close();
}

function legacyRowCount(): number {
  const db = new BetterSqlite3(databaseFile(), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM sandbox_state').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('EdgeStateFile', () => {
  it('saves atomically (no temp file left, owner-only) and loads what it saved', () => {
    const file = new EdgeStateFile(join(dir, 'data', 'state.json'));
    expect(file.load()).toBeUndefined();
    file.save({ apiToken: 'tok-1', standIn: { a: 1 } }, new Date('2026-11-26T09:00:00Z'));
    file.save({ apiToken: 'tok-2', standIn: { a: 2 } }, new Date('2026-11-26T09:00:01Z'));
    expect(file.load()).toEqual({ apiToken: 'tok-2', standIn: { a: 2 } });
    expect(JSON.parse(readFileSync(file.file, 'utf8'))).toMatchObject({ format: EDGE_STATE_FORMAT, savedAt: '2026-11-26T09:00:01.000Z' });
    expect(readdirSync(join(dir, 'data'))).toEqual(['state.json']);
    expect(readFileSync(file.file).length).toBeGreaterThan(0);
    expect(file.remove()).toBe(true);
    expect(file.remove()).toBe(false);
  });

  it('refuses a file that is not JSON, or not its format, with a message that names `sandbox reset`', () => {
    const file = new EdgeStateFile(join(dir, 'state.json'));
    writeFileSync(file.file, '{"format":');
    expect(() => file.load()).toThrow(/is corrupt \(not JSON\); start over with `kevin-deploy sandbox reset`/);
    writeFileSync(file.file, '{"format":"something-else"}');
    expect(() => file.load()).toThrow(/is unreadable .*`kevin-deploy sandbox reset`/);
  });
});

describe('the sandbox edge state', () => {
  it('lives in its own file: a fresh edge seeds v1 there and never creates the bot database', async () => {
    const { edge: first } = await startEdge();
    const [v1] = first.standIn.versions(SANDBOX_SCRIPT);
    expect(existsSync(paths.edgeStateFile)).toBe(true);
    expect(existsSync(databaseFile())).toBe(false);

    const v2 = first.standIn.addVersion(SANDBOX_SCRIPT, { tag: 'v2' });
    first.standIn.deploy(SANDBOX_SCRIPT, { [v1!.id]: 90, [v2.id]: 10 });
    await stopEdge();

    const { edge: second } = await startEdge();
    expect(second.info.apiToken).toBe(first.info.apiToken);
    expect(second.standIn.versions(SANDBOX_SCRIPT).map((v) => v.tag)).toEqual(['v2', 'v1']);
    expect(second.standIn.activeSplit(SANDBOX_SCRIPT)).toEqual({ [v1!.id]: 90, [v2.id]: 10 });
  });

  it('imports, once and read-only, what an earlier kevin-deploy kept in the bot database', async () => {
    // What an earlier edge saved: two versions, traffic on v2, and its Cloudflare token.
    const earlier = await startCloudflareStandIn({ apiToken: 'legacy-token', accountId: SANDBOX_ACCOUNT_ID, scripts: [SANDBOX_SCRIPT] });
    const v1 = earlier.addVersion(SANDBOX_SCRIPT, { tag: 'v1' });
    const v2 = earlier.addVersion(SANDBOX_SCRIPT, { tag: 'v2', behavior: { errorPercent: 5 } });
    earlier.deploy(SANDBOX_SCRIPT, { [v2.id]: 100 });
    const snapshot = earlier.snapshot();
    await earlier.close();
    legacyDatabase({ edge: JSON.stringify(snapshot), 'edge-credentials': JSON.stringify({ apiToken: 'legacy-token' }) });

    const { edge: first, logs } = await startEdge();
    expect(first.info.apiToken).toBe('legacy-token');
    expect(first.standIn.versions(SANDBOX_SCRIPT).map((v) => v.id)).toEqual([v2.id, v1.id]);
    expect(first.standIn.activeSplit(SANDBOX_SCRIPT)).toEqual({ [v2.id]: 100 });
    expect(logs.some((line) => line.includes('moved the sandbox edge state from the bot database to its own file'))).toBe(true);
    expect(new EdgeStateFile(paths.edgeStateFile).load()).toMatchObject({ apiToken: 'legacy-token' });
    expect(legacyRowCount()).toBe(2); // read, never written: the bot's migration 0007 drops the table
    const v3 = first.standIn.addVersion(SANDBOX_SCRIPT, { tag: 'v3' });
    await stopEdge();

    // The next start reads its own file, not the table again.
    const { edge: second, logs: secondLogs } = await startEdge();
    expect(second.standIn.versions(SANDBOX_SCRIPT).map((v) => v.id)).toEqual([v3.id, v2.id, v1.id]);
    expect(secondLogs.some((line) => line.includes('moved the sandbox edge state'))).toBe(false);
  });

  it('refuses a corrupt row of the earlier table like a corrupt file, naming `sandbox reset`; reset forgets both', async () => {
    legacyDatabase({ edge: '{"format":', 'edge-credentials': '{"apiToken":"t"}' });
    await expect(startEdge()).rejects.toThrow(/the sandbox state "edge" in sqlite:.* is corrupt \(not JSON\); start over with `kevin-deploy sandbox reset`/);

    expect(await resetSandbox(paths, {})).toBe('forgot the sandbox edge state (2 record(s)); the next start deploys a fresh v1');
    expect(legacyRowCount()).toBe(0);
    const { edge: fresh } = await startEdge();
    expect(fresh.standIn.versions(SANDBOX_SCRIPT).map((v) => v.tag)).toEqual(['v1']);
    await stopEdge();
    expect(await resetSandbox(paths, {})).toBe('forgot the sandbox edge state (2 record(s)); the next start deploys a fresh v1');
    expect(existsSync(paths.edgeStateFile)).toBe(false);
  });
});
