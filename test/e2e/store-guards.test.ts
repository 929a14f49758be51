import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, freePort } from '../support/bot-process.ts';
import { startE2e, type CliResult, type E2eBot } from '../support/e2e-fixtures.ts';

/**
 * The store refuses, at start and before writing anything, what it cannot serve safely: a second
 * process on the same SQLite file, a file it cannot write, a schema from a newer version, a file
 * damaged in the middle. Each with exit code 2 and the words that say what to do. Real
 * `kevin-deploy serve` processes throughout.
 */

let e: E2eBot | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

/**
 * Runs `serve` on the same store and waits for it to exit. A refusal exits within seconds; one
 * that starts serving instead (the bug) is stopped after a while and reported as still running.
 */
async function serveAgain(bot: E2eBot): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', bot.configPath], {
    cwd: join(BIN, '..', '..'),
    env: { ...bot.env, PATH: process.env.PATH ?? '', HOME: '/tmp', PORT: String(await freePort()), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const stillRunning = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(stillRunning);
  return { code: signal === 'SIGKILL' ? null : code, stdout, stderr: signal === 'SIGKILL' ? `still serving after 25 s\n${stderr}` : stderr };
}

/**
 * Makes a file unwritable even for root (who may write anything chmod forbids): the immutable
 * attribute, as a read-only mount would; for any other user a read-only mode is enough.
 */
function makeUnwritable(file: string): { undo(): void } {
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o444);
    return { undo: () => chmodSync(file, 0o644) };
  }
  execFileSync('chattr', ['+i', file]);
  return { undo: () => execFileSync('chattr', ['-i', file]) };
}

function describeRun(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-2000)}`;
}

describe('one process per SQLite file', () => {
  it('refuses a second serve on the same file naming the first; after the first is SIGKILLed the next one starts', async () => {
    e = await startE2e();
    const pid = e.bot.child.pid!;

    const second = await serveAgain(e);
    expect(second.code, describeRun(second)).toBe(2);
    expect(second.stderr).toContain('is in use by kevin-deploy process');
    expect(second.stderr).toContain(`process ${pid} `);
    expect(second.stderr).toContain(`serving ${e.bot.url}`);
    expect(second.stderr).toContain('SQLite is for one process');
    // The first one is untouched and still serving.
    expect((await fetch(`${e.bot.url}/readyz`)).status).toBe(200);

    // The lock belongs to the process: the kernel drops it with the process, SIGKILL included.
    await e.bot.stop('SIGKILL');
    await e.bot.restart();
    expect((await fetch(`${e.bot.url}/readyz`)).status).toBe(200);
  });

  it('a write that meets another connection holding the write lock waits its turn instead of answering "database is locked"', async () => {
    e = await startE2e();
    // Another writer (an operator's sqlite3, a maintenance script) holds the write lock and commits
    // a change while the bot's request is waiting: a deferred transaction that read first would
    // then fail at once with SQLITE_BUSY, whatever busy_timeout says.
    const other = new BetterSqlite3(join(e.dir, 'kd.db'));
    other.pragma('busy_timeout = 5000');
    other.exec('BEGIN IMMEDIATE');
    other
      .prepare("INSERT INTO locks (service, environment, holder, reason, since) VALUES ('retired-site', 'production', 'ops', 'archived', '2026-12-02T00:00:00.000Z')")
      .run();
    const pending = e.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: 'maintenance' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    other.exec('COMMIT');
    other.close();
    const answered = await pending;
    expect(answered.status, JSON.stringify(answered.body)).toBe(201);
    expect(answered.body).toMatchObject({ service: 'kevinstamp', environment: 'production', reason: 'maintenance' });
  });
});

describe('a store the bot must not start on', () => {
  it('a database migrated by a newer version: refused, nothing changed', async () => {
    e = await startE2e();
    await e.bot.stop('SIGTERM');
    const db = new BetterSqlite3(join(e.dir, 'kd.db'));
    db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('0099-from-the-future', new Date().toISOString());
    const before = db.prepare('SELECT name FROM kysely_migration ORDER BY name').all();
    db.close();

    const refused = await serveAgain(e);
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toContain('was migrated by a newer kevin-deploy');
    expect(refused.stderr).toContain('0099-from-the-future');
    expect(refused.stderr).toContain('docs/runbook.md');

    const after = new BetterSqlite3(join(e.dir, 'kd.db'), { readonly: true });
    expect(after.prepare('SELECT name FROM kysely_migration ORDER BY name').all()).toEqual(before);
    after.close();
  });

  it('a database damaged in the middle of the file: refused at start with the recovery step', async () => {
    e = await startE2e();
    // Enough rows for several pages of deployments and events.
    for (let i = 0; i < 40; i++) {
      const locked = await e.api('POST', '/api/v1/locks', { service: 'kevinstamp', environment: 'production', reason: `note ${i} ${'x'.repeat(400)}` });
      expect(locked.status).toBe(201);
      expect((await e.api('DELETE', '/api/v1/locks/kevinstamp/production')).status).toBe(200);
    }
    await e.bot.stop('SIGTERM');
    const file = join(e.dir, 'kd.db');
    const db = new BetterSqlite3(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    // A page that belongs to a table or index (not page 1, which SQLite reads on open).
    const pages = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'deployment_events' OR name = 'locks'").all() as Array<{ rootpage: number }>;
    db.close();
    const pageCount = Math.floor(statSync(file).size / pageSize);
    expect(pageCount).toBeGreaterThan(4);
    const fd = openSync(file, 'r+');
    for (const { rootpage } of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);

    const refused = await serveAgain(e);
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toContain('is damaged (quick_check:');
    expect(refused.stderr).toContain('.recover');
    expect(refused.stderr).toContain('docs/runbook.md');
  });

  it('a database this user cannot write: refused at start instead of reporting ready', async () => {
    e = await startE2e();
    await e.bot.stop('SIGTERM');
    const file = join(e.dir, 'kd.db');
    const unwritable = makeUnwritable(file);
    let refused: CliResult;
    try {
      refused = await serveAgain(e);
    } finally {
      unwritable.undo();
    }
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toContain('cannot be written');
    expect(refused.stderr).toContain('does not start on a store it cannot write');
  });
});
