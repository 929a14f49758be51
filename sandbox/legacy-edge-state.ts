import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { KevinDeployError } from '../src/errors.ts';

/** What an edge of an earlier kevin-deploy left in the bot's database; either part may be missing. */
export interface LegacyEdgeState {
  /** The row 'edge': a CloudflareStandIn snapshot. */
  standIn: unknown;
  /** The row 'edge-credentials': the edge's local Cloudflare token. */
  apiToken: string | undefined;
}

const TABLE = 'sandbox_state';

/**
 * Before it had its own state file, the sandbox edge kept its state in the bot's database (table
 * sandbox_state, which the product's migration 0007 now drops). An edge that starts with no state
 * file reads it from there once — directly and read-only, the product's store knows nothing of it —
 * so a sandbox that ran before keeps its versions and where traffic goes. Undefined when the
 * database, the table or its rows are not there.
 */
export function readLegacyEdgeState(databaseFile: string): LegacyEdgeState | undefined {
  if (!existsSync(databaseFile)) return undefined;
  const db = new BetterSqlite3(databaseFile, { readonly: true, fileMustExist: true });
  try {
    if (!hasTable(db)) return undefined;
    const rows = db.prepare(`SELECT name, state_json FROM ${TABLE} WHERE name IN ('edge', 'edge-credentials')`).all() as Array<{ name: string; state_json: string }>;
    const parsed = new Map(rows.map((row) => [row.name, parseRow(row, databaseFile)]));
    const standIn = parsed.get('edge');
    if (standIn === undefined) return undefined;
    const apiToken = (parsed.get('edge-credentials') as { apiToken?: unknown } | undefined)?.apiToken;
    return { standIn, apiToken: typeof apiToken === 'string' && apiToken !== '' ? apiToken : undefined };
  } finally {
    db.close();
  }
}

/** `sandbox reset`: deletes those rows too, or the next start would import them again. The number deleted. */
export function forgetLegacyEdgeState(databaseFile: string): number {
  if (!existsSync(databaseFile)) return 0;
  const db = new BetterSqlite3(databaseFile, { fileMustExist: true, timeout: 5000 });
  try {
    if (!hasTable(db)) return 0;
    return db.prepare(`DELETE FROM ${TABLE}`).run().changes;
  } finally {
    db.close();
  }
}

function hasTable(db: BetterSqlite3.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(TABLE) !== undefined;
}

function parseRow(row: { name: string; state_json: string }, databaseFile: string): unknown {
  try {
    return JSON.parse(row.state_json);
  } catch {
    throw new KevinDeployError(
      'USAGE',
      `the sandbox state "${row.name}" in sqlite:${databaseFile} is corrupt (not JSON); start over with \`kevin-deploy sandbox reset\``,
    );
  }
}
