import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The production image holds what the Dockerfile's final stage copies — package.json,
 * node_modules, bin, dist/src and dist/commands — and no dist/sandbox. Laid out the same way in a
 * temp directory from the compiled dist/ (run `npm run build` first), the CLI must say that the
 * sandbox is not there (exit 2) instead of crashing on a module it cannot find.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('a build without the sandbox (the production image)', () => {
  let app: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'kevin-deploy-image-'));
    for (const part of ['package.json', 'bin', 'dist/src', 'dist/commands']) cpSync(join(REPO, part), join(app, part), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'), 'dir');
    mkdirSync(join(app, 'work'));
  });

  afterAll(() => {
    rmSync(app, { recursive: true, force: true });
  });

  const run = (args: string[]) => {
    const result = spawnSync(process.execPath, [join(app, 'bin', 'kevin-deploy.js'), ...args], {
      cwd: join(app, 'work'),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: `sqlite:${join(app, 'data', 'kd.db')}` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('`serve` with no kevin-deploy.yml, and `serve --sandbox`, say the sandbox is not there and what to give instead (exit 2)', () => {
    for (const args of [['serve'], ['serve', '--sandbox']]) {
      const r = run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('the sandbox is not part of this image; give a kevin-deploy.yml');
      expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/);
    }
  });

  it('the sandbox verbs say so too; `sandbox --help` still answers', () => {
    const upload = run(['sandbox', 'upload', '--tag', 'v2']);
    expect(upload.code, upload.stderr).toBe(2);
    expect(upload.stderr).toContain('the sandbox is not part of this image');
    const help = run(['sandbox', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('upload');
  });
});
