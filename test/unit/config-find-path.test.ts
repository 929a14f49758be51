import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findConfigPath } from '../../src/config/find-config-path.ts';

describe('findConfigPath', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-config-'));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'other.yml'), 'services: {}\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses --config first, even when the variable and ./kevin-deploy.yml exist', () => {
    writeFileSync(join(dir, 'kevin-deploy.yml'), '');
    const result = findConfigPath({ explicit: 'conf/other.yml', env: { KEVIN_DEPLOY_CONFIG: 'kevin-deploy.yml' }, cwd: dir });
    expect(result).toEqual({ ok: true, path: join(dir, 'conf', 'other.yml'), displayPath: join('conf', 'other.yml'), source: '--config' });
  });

  it('uses $KEVIN_DEPLOY_CONFIG when there is no --config', () => {
    const result = findConfigPath({ env: { KEVIN_DEPLOY_CONFIG: join(dir, 'conf', 'other.yml') }, cwd: dir });
    expect(result).toMatchObject({ ok: true, path: join(dir, 'conf', 'other.yml'), source: 'KEVIN_DEPLOY_CONFIG' });
  });

  it('falls back to ./kevin-deploy.yml in the working directory', () => {
    writeFileSync(join(dir, 'kevin-deploy.yml'), '');
    expect(findConfigPath({ env: {}, cwd: dir })).toEqual({
      ok: true,
      path: join(dir, 'kevin-deploy.yml'),
      displayPath: 'kevin-deploy.yml',
      source: 'cwd',
    });
  });

  it('returns no path when there is no file anywhere', () => {
    expect(findConfigPath({ env: { KEVIN_DEPLOY_CONFIG: '' }, cwd: dir })).toEqual({
      ok: true,
      path: undefined,
      displayPath: undefined,
      source: undefined,
    });
  });

  it('refuses a --config path that does not exist instead of falling back', () => {
    writeFileSync(join(dir, 'kevin-deploy.yml'), '');
    const result = findConfigPath({ explicit: 'missing.yml', env: {}, cwd: dir });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.file).toBe('missing.yml');
    expect(result.problem.message).toContain('--config');
    expect(result.problem.message).toContain('does not exist');
  });

  it('refuses a $KEVIN_DEPLOY_CONFIG that does not exist or is a directory', () => {
    writeFileSync(join(dir, 'kevin-deploy.yml'), '');
    const missing = findConfigPath({ env: { KEVIN_DEPLOY_CONFIG: 'nope.yml' }, cwd: dir });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.problem.message).toContain('$KEVIN_DEPLOY_CONFIG');
    const directory = findConfigPath({ env: { KEVIN_DEPLOY_CONFIG: 'conf' }, cwd: dir });
    expect(directory.ok).toBe(false);
    if (!directory.ok) expect(directory.problem.message).toContain('not a file');
  });
});
