import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, KevinDeployError, toProblem, type ErrorCode } from '../../src/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const code = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'commands'))]
  .filter((f) => !f.endsWith('errors.ts'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
const apiDocs = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');

describe('the error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

  it.each(codes)('%s is raised by an error or a refusal and documented in docs/api.md with its status', (c) => {
    // Raised: given to an error's constructor or a refusal, or set as a problem's code — a mention
    // in a type, a comment or a test does not count.
    expect(code).toMatch(new RegExp(`(?:Error|refuse)\\(\\s*'${c}'|code: '${c}'`));
    expect(apiDocs).toMatch(new RegExp(`\\| \`${c}\` \\| ${ERROR_CATALOGUE[c].status} \\|`));
  });

  it('documents no code that does not exist', () => {
    const documented = [...apiDocs.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...codes].sort());
  });

  it('turns an error into an RFC 9457 problem with a stable type and code', () => {
    const problem = toProblem(new KevinDeployError('TARGET_BUSY', 'busy', { active: 'kd-1' }));
    expect(problem).toEqual({
      type: 'https://kevin-deploy.dev/problems/target-busy',
      title: 'Another release is active',
      status: 409,
      detail: 'busy',
      code: 'TARGET_BUSY',
      active: 'kd-1',
    });
  });

  it('never lets extra fields overwrite the problem fields', () => {
    const problem = toProblem(new KevinDeployError('USAGE', 'bad', { status: 200, code: 'X', detail: 'y' }));
    expect(problem).toMatchObject({ status: 400, code: 'USAGE', detail: 'bad' });
  });
});
