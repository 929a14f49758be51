import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export type QuickCheckResult =
  | { status: 'ok'; ms: number }
  /** SQLite's own words for each problem (at most a handful). */
  | { status: 'corrupt'; problems: string[] }
  /** Not finished within the time allowed (a very large file); the start goes on and says so. */
  | { status: 'timed-out'; ms: number };

const MAX_PROBLEMS = 5;

// Runs in a worker thread: better-sqlite3 is synchronous, and a worker is the one way to give
// `PRAGMA quick_check` a deadline without blocking the bot's event loop for as long as it takes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  const rows = db.pragma('quick_check(${MAX_PROBLEMS})', { simple: false });
  const problems = rows.map((row) => String(Object.values(row)[0])).filter((line) => line !== 'ok');
  parentPort.postMessage({ problems });
} catch (error) {
  parentPort.postMessage({ problems: [error && error.message ? error.message : String(error)], code: error && error.code });
} finally {
  if (db) db.close();
}
`;

/**
 * SQLite's `quick_check` of a database file, bounded in time. Damage in the middle of a file goes
 * unnoticed until a query happens to read that page; checking at start turns "5 of 14 views answer
 * 500" into one clear refusal with the recovery step. quick_check reads every page but skips the
 * index-content cross-checks of integrity_check: seconds for a large store, milliseconds for ours.
 */
export async function quickCheck(file: string, timeoutMs: number): Promise<QuickCheckResult> {
  const started = Date.now();
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
  try {
    const answer = await new Promise<{ problems: string[] } | 'timed-out'>((resolve, reject) => {
      const timer = setTimeout(() => resolve('timed-out'), timeoutMs);
      worker.once('message', (message: { problems: string[] }) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if (answer === 'timed-out') return { status: 'timed-out', ms: Date.now() - started };
    return answer.problems.length === 0 ? { status: 'ok', ms: Date.now() - started } : { status: 'corrupt', problems: answer.problems };
  } finally {
    await worker.terminate();
  }
}
