import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/config/format-problems.ts';
import { loadConfig, type LoadResult } from '../../src/config/load-config.ts';
import { expectOk, expectProblems, targetOf } from '../support/config-results.ts';

const EXAMPLE_PATH = fileURLToPath(new URL('../../kevin-deploy.example.yml', import.meta.url));
const EXAMPLE = readFileSync(EXAMPLE_PATH, 'utf8');
const ENV = { CLOUDFLARE_ACCOUNT_ID: 'acc-123', KEVIN_DEPLOY_API_TOKEN: 'secret-ops', KEVIN_DEPLOY_CI_TOKEN: 'secret-ci' };

function load(text: string, env: Record<string, string> = ENV): LoadResult {
  return loadConfig({ path: 'kevin-deploy.yml', text, env });
}

/** 1-based line and column of the n-th occurrence of `needle`, so tests state positions without counting by hand. */
function positionOf(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not in text`);
  }
  const before = text.slice(0, index);
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') };
}

/** A small valid file with two environments; tests change one thing in it. */
const BASE = `
services:
  kevinstamp:
    platform:
      scriptName: kevinstamp
    health:
      attempts: 30
      interval: 10s
      timeout: 5s
    environments:
      staging:
        productionUrl: https://staging.kevinstamp.com
      production:
        productionUrl: https://kevinstamp.com
`;

describe('loadConfig: the example file', () => {
  it('loads with no problems and no warnings when the account id and tokens are in the environment', () => {
    const result = load(EXAMPLE);
    const config = expectOk(result);
    expect(result.warnings).toEqual([]);
    expect(config.source).toBe('kevin-deploy.yml');
    expect([...config.services.keys()]).toEqual(['kevinstamp']);
    const service = config.services.get('kevinstamp')!;
    expect(service.defaultEnvironment).toBe('staging');
    expect([...service.environments.keys()]).toEqual(['staging', 'production']);
  });

  it('resolves the seed defaults, per-environment overrides and the account id from the environment', () => {
    const config = expectOk(load(EXAMPLE));
    const staging = targetOf(config, 'kevinstamp', 'staging');
    const production = targetOf(config, 'kevinstamp', 'production');

    expect(staging.platform).toEqual({
      type: 'cloudflare-workers',
      accountId: 'acc-123',
      scriptName: 'kevinstamp-staging',
      reach: { mode: 'version-override' },
    });
    expect(production.platform).toMatchObject({ scriptName: 'kevinstamp' });
    expect(production.productionUrl).toBe('https://kevinstamp.com');
    expect(staging.productionUrl).toBe('https://staging.kevinstamp.com');

    expect(production.health).toEqual({
      paths: { health: '/health', detailed: '/health/detailed', ready: '/ready' },
      timeout: 5_000,
      attempts: 30,
      interval: 10_000,
    });
    expect(production.contentChecks).toEqual([{ path: '/', contains: 'KEVIN' }]);
    expect(production.monitor).toEqual({
      window: 300_000,
      interval: 30_000,
      mode: 'enforce',
      metrics: { source: 'app-json', path: '/metrics' },
      minRequests: 10,
      onInconclusive: 'pause',
      triggers: {
        errorRate: { thresholdPercent: 5, sustainedFor: 120_000 },
        responseTime: { thresholdMs: 5_000, sustainedFor: 60_000 },
        healthFailures: { consecutive: 3 },
        content: { enabled: true },
      },
    });

    expect(staging.protected).toBe(false);
    expect(staging.approval).toMatchObject({ mode: 'auto', fourEyes: false, approvers: ['role:approver'], expiresAfter: 3_600_000 });
    expect(production.protected).toBe(true);
    expect(production.approval).toMatchObject({ mode: 'manual', fourEyes: true, required: 1, approvers: ['role:approver'] });

    expect(config.apiTokens).toEqual([
      { env: 'KEVIN_DEPLOY_API_TOKEN', actor: 'ops', roles: ['deployer', 'approver', 'admin'] },
      { env: 'KEVIN_DEPLOY_CI_TOKEN', actor: 'ci', roles: ['deployer'] },
    ]);
  });

  it('reads the file from disk when no text is given, naming it by displayPath', () => {
    const result = loadConfig({ path: EXAMPLE_PATH, displayPath: 'kevin-deploy.example.yml', env: ENV });
    expect(expectOk(result).source).toBe('kevin-deploy.example.yml');
  });

  it('warns, without failing, about a token variable that is not set', () => {
    const result = load(EXAMPLE, { CLOUDFLARE_ACCOUNT_ID: 'acc-123', KEVIN_DEPLOY_API_TOKEN: 'secret' });
    expectOk(result);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({
      path: 'apiTokens.1.env',
      line: positionOf(EXAMPLE, 'KEVIN_DEPLOY_CI_TOKEN').line,
    });
    expect(result.warnings[0]!.message).toContain('KEVIN_DEPLOY_CI_TOKEN is not set');
    expect(result.warnings[0]!.message).toContain('"ci" cannot log in');
  });

  it('fails without CLOUDFLARE_ACCOUNT_ID when the file has no platform.accountId, and says how to fix it', () => {
    const problems = expectProblems(load(EXAMPLE, { KEVIN_DEPLOY_API_TOKEN: 'a', KEVIN_DEPLOY_CI_TOKEN: 'b' }));
    // staging writes a platform mapping of its own, but one account serves the whole service:
    // the problem is reported once, at the service's platform mapping.
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['services.kevinstamp.platform.accountId', positionOf(EXAMPLE, '    platform:').line],
    ]);
    for (const problem of problems) {
      expect(problem.message).toContain('CLOUDFLARE_ACCOUNT_ID');
      expect(problem.message).toContain('accountId');
    }
  });
});

describe('loadConfig: inheritance', () => {
  it('lets an environment override one nested key and keeps the rest of the service mapping', () => {
    const text = BASE.replace(
      '        productionUrl: https://kevinstamp.com\n',
      '        productionUrl: https://kevinstamp.com\n        health:\n          attempts: 5\n',
    );
    const config = expectOk(load(text));
    expect(targetOf(config, 'kevinstamp', 'production').health).toMatchObject({ attempts: 5, interval: 10_000, timeout: 5_000 });
    expect(targetOf(config, 'kevinstamp', 'staging').health).toMatchObject({ attempts: 30, interval: 10_000 });
    // Deeper defaults the file never mentions still apply.
    expect(targetOf(config, 'kevinstamp', 'production').health.paths.ready).toBe('/ready');
  });

  it('replaces lists instead of merging them', () => {
    const text = `
services:
  kevinstamp:
    platform: { scriptName: kevinstamp }
    contentChecks: [{ path: /, contains: KEVIN }, { path: /about, contains: KEVIN }]
    environments:
      staging:
        productionUrl: https://staging.kevinstamp.com
        contentChecks: [{ path: /, contains: STAGING }]
      production:
        productionUrl: https://kevinstamp.com
`;
    const config = expectOk(load(text));
    expect(targetOf(config, 'kevinstamp', 'staging').contentChecks).toEqual([{ path: '/', contains: 'STAGING' }]);
    expect(targetOf(config, 'kevinstamp', 'production').contentChecks).toHaveLength(2);
  });

  it('treats an environment with no body as "no overrides"', () => {
    const text = `
services:
  kevinstamp:
    platform: { scriptName: kevinstamp }
    productionUrl: https://kevinstamp.com
    environments:
      production:
`;
    const config = expectOk(load(text));
    expect(targetOf(config, 'kevinstamp', 'production').productionUrl).toBe('https://kevinstamp.com');
  });

  it('completes a partial nested mapping from the other layer (platform.scriptName only per environment)', () => {
    const text = `
services:
  kevinstamp:
    platform: { accountId: from-file }
    environments:
      staging: { productionUrl: "https://staging.kevinstamp.com", platform: { scriptName: kevinstamp-staging } }
      production: { productionUrl: "https://kevinstamp.com", platform: { scriptName: kevinstamp } }
`;
    const config = expectOk(load(text, {}));
    expect(targetOf(config, 'kevinstamp', 'staging').platform).toMatchObject({ accountId: 'from-file', scriptName: 'kevinstamp-staging' });
  });

  it('replaces a discriminated mapping when the environment picks another variant', () => {
    const text = `
services:
  kevinstamp:
    platform:
      scriptName: kevinstamp
      reach: { mode: preview-url, urlTemplate: "https://{versionPrefix}-kevinstamp.kevin.workers.dev" }
    environments:
      staging: { productionUrl: "https://staging.kevinstamp.com" }
      production:
        productionUrl: https://kevinstamp.com
        platform: { reach: { mode: version-override } }
`;
    const config = expectOk(load(text));
    expect(targetOf(config, 'kevinstamp', 'production').platform).toMatchObject({ reach: { mode: 'version-override' } });
    expect(targetOf(config, 'kevinstamp', 'staging').platform).toMatchObject({ reach: { mode: 'preview-url' } });
  });

  it('defaults protected from the name and four-eyes from protected, and respects explicit values', () => {
    const text = `
services:
  kevinstamp:
    platform: { scriptName: kevinstamp }
    environments:
      staging: { productionUrl: "https://staging.kevinstamp.com" }
      prod: { productionUrl: "https://kevinstamp.com" }
      live: { productionUrl: "https://live.kevinstamp.com", protected: true, approval: { fourEyes: false } }
      production: { productionUrl: "https://p.kevinstamp.com", protected: false }
`;
    const config = expectOk(load(text));
    const flags = (env: string) => {
      const t = targetOf(config, 'kevinstamp', env);
      return [t.protected, t.approval.fourEyes];
    };
    expect(flags('staging')).toEqual([false, false]);
    expect(flags('prod')).toEqual([true, true]);
    expect(flags('live')).toEqual([true, false]);
    expect(flags('production')).toEqual([false, false]);
  });
});

describe('loadConfig: unknown keys', () => {
  it('names a service-level typo, its exact line and column, and suggests the key, once for all environments', () => {
    const text = BASE.replace('      attempts: 30', '      atempts: 30');
    const problems = expectProblems(load(text));
    expect(problems).toHaveLength(1);
    const { line, column } = positionOf(text, 'atempts');
    expect(problems[0]).toEqual({
      file: 'kevin-deploy.yml',
      line,
      column,
      path: 'services.kevinstamp.health.atempts',
      message: 'unknown key "atempts"; did you mean "attempts"?',
    });
    expect(formatProblem(problems[0]!)).toBe(
      `kevin-deploy.yml:${line}:${column} services.kevinstamp.health.atempts: unknown key "atempts"; did you mean "attempts"?`,
    );
  });

  it('names an environment-level typo at its own line', () => {
    const text = BASE.replace(
      '        productionUrl: https://kevinstamp.com\n',
      '        productionUrl: https://kevinstamp.com\n        aproval:\n          mode: manual\n',
    );
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        ...positionOf(text, 'aproval'),
        path: 'services.kevinstamp.environments.production.aproval',
        message: 'unknown key "aproval"; did you mean "approval"?',
      },
    ]);
  });

  it('suggests keys that only exist at service level (defaultEnvironment) and at the top level', () => {
    const text = `${BASE.replace('  kevinstamp:\n', '  kevinstamp:\n    defaultEnviroment: staging\n')}servr: {}\n`;
    const problems = expectProblems(load(text));
    expect(problems.map((p) => [p.path, p.message, p.line])).toEqual([
      ['services.kevinstamp.defaultEnviroment', 'unknown key "defaultEnviroment"; did you mean "defaultEnvironment"?', positionOf(text, 'defaultEnviroment').line],
      ['servr', 'unknown key "servr"; did you mean "server"?', positionOf(text, 'servr').line],
    ]);
  });

  it('lists the allowed keys when nothing is close', () => {
    const problems = expectProblems(load(BASE.replace('      attempts: 30', '      banana: 30')));
    expect(problems[0]!.message).toBe('unknown key "banana"; the keys allowed here are paths, timeout, attempts, interval');
  });

  it('reports two typos as two problems', () => {
    const text = BASE.replace('      attempts: 30', '      atempts: 30').replace('      interval: 10s', '      intervall: 10s');
    const problems = expectProblems(load(text));
    expect(problems.map((p) => p.path)).toEqual(['services.kevinstamp.health.atempts', 'services.kevinstamp.health.intervall']);
  });
});

describe('loadConfig: wrong values', () => {
  it('says expected X, got Y for a wrong type, at the value', () => {
    const text = BASE.replace('      attempts: 30', '      attempts: "thirty"');
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        ...positionOf(text, '"thirty"'),
        path: 'services.kevinstamp.health.attempts',
        message: 'expected a whole number, got "thirty"',
      },
    ]);
  });

  it('explains a duration without a unit', () => {
    const text = BASE.replace('      interval: 10s', '      interval: 10');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({ path: 'services.kevinstamp.health.interval', line: positionOf(text, 'interval: 10').line });
    expect(problem!.message).toContain('got the bare number 10');
    expect(problem!.message).toContain('"10s"');
  });

  it('explains a malformed duration', () => {
    const text = BASE.replace('      timeout: 5s', '      timeout: five seconds');
    const [problem] = expectProblems(load(text));
    expect(problem!.path).toBe('services.kevinstamp.health.timeout');
    expect(problem!.message).toBe('expected a duration such as "250ms", "10s", "5m" or "1h", got "five seconds"');
  });

  it('lists the allowed values of an enum and suggests the closest', () => {
    const text = BASE.replace('    health:\n', '    approval:\n      mode: manul\n    health:\n');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({
      path: 'services.kevinstamp.approval.mode',
      ...positionOf(text, 'manul'),
      message: 'expected one of "manual", "auto", got "manul"; did you mean "manual"?',
    });
  });

  it('lists the allowed values of a discriminator', () => {
    const text = BASE.replace('      scriptName: kevinstamp\n', '      scriptName: kevinstamp\n      reach: { mode: preview }\n');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({
      path: 'services.kevinstamp.platform.reach.mode',
      line: positionOf(text, 'preview').line,
      message: 'expected one of "version-override", "preview-url", got "preview"',
    });
  });

  it('names the literal expected for platform.type and version', () => {
    const text = `version: 2\n${BASE.replace('      scriptName: kevinstamp\n', '      type: aws-lambda\n      scriptName: kevinstamp\n')}`;
    const problems = expectProblems(load(text));
    expect(problems.map((p) => p.message)).toEqual(['expected 1, got 2', 'expected one of "cloudflare-workers", "cloudflare-workers-routes", got "aws-lambda"']);
  });

  it('accepts a canary strategy and checks its steps', () => {
    const good = BASE.replace('    health:\n', '    strategy:\n      type: canary\n      steps: [10, 50, 100]\n      bakeTime: 2m\n      manualGate: true\n    health:\n');
    const result = load(good);
    expect(result.ok).toBe(true);
    const falling = BASE.replace('    health:\n', '    strategy:\n      type: canary\n      steps: [50, 10]\n    health:\n');
    const problems = expectProblems(load(falling));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'services.kevinstamp.strategy.steps' });
    expect(problems[0]!.message).toContain('steps must rise');
    const missing = BASE.replace('    health:\n', '    strategy:\n      type: canary\n    health:\n');
    expect(expectProblems(load(missing))[0]!.path).toBe('services.kevinstamp.strategy.steps');
  });

  it('reports a service-level mistake once although every environment inherits it', () => {
    const text = BASE.replace('      attempts: 30', '      attempts: 0').replace(
      '      production:\n',
      '      qa:\n        productionUrl: https://qa.kevinstamp.com\n      production:\n',
    );
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        ...positionOf(text, '0\n'),
        path: 'services.kevinstamp.health.attempts',
        message: 'must be at least 1, got 0',
      },
    ]);
  });

  it('reports a mistake in one environment at that environment only', () => {
    const text = BASE.replace('        productionUrl: https://kevinstamp.com', '        productionUrl: kevinstamp.com');
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        line: positionOf(text, ': kevinstamp.com').line,
        column: positionOf(text, ': kevinstamp.com').column + 2,
        path: 'services.kevinstamp.environments.production.productionUrl',
        message: 'expected an http(s) URL such as https://kevinstamp.com, got "kevinstamp.com"',
      },
    ]);
  });
});

describe('loadConfig: missing keys', () => {
  it('points a missing productionUrl at the environment that lacks it', () => {
    const text = BASE.replace('        productionUrl: https://staging.kevinstamp.com\n', '        protected: false\n');
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        ...positionOf(text, 'staging:'),
        path: 'services.kevinstamp.environments.staging.productionUrl',
        message: 'missing required key "productionUrl": expected an http(s) URL such as https://kevinstamp.com',
      },
    ]);
  });

  it('points a key missing in every environment at the service, once', () => {
    const text = BASE.replace(/ {8}productionUrl: .*\n/g, '        protected: false\n');
    const problems = expectProblems(load(text));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      ...positionOf(text, 'kevinstamp:'),
      path: 'services.kevinstamp.productionUrl',
    });
  });

  it('points a missing nested key at the mapping that lacks it', () => {
    const text = BASE.replace('      scriptName: kevinstamp\n', '      type: cloudflare-workers\n');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({
      ...positionOf(text, 'platform:'),
      path: 'services.kevinstamp.platform.scriptName',
    });
    expect(problem!.message).toMatch(/^missing required key "scriptName"/);
  });
});

describe('loadConfig: YAML itself', () => {
  it('reports a syntax error with its line', () => {
    const misindented = 'services:\n  kevinstamp:\n    platform:\n      scriptName: k\n     environments: {}\n';
    expect(expectProblems(load(misindented))).toEqual([
      { file: 'kevin-deploy.yml', line: 5, column: 1, path: '', message: 'YAML: All mapping items must start at the same column' },
    ]);
    const tabs = 'services:\n  kevinstamp:\n    platform:\n\tscriptName: k\n';
    expect(expectProblems(load(tabs))).toEqual([
      { file: 'kevin-deploy.yml', line: 4, column: 1, path: '', message: 'YAML: Tabs are not allowed as indentation' },
    ]);
  });

  it('refuses a duplicate key at the line of the second one, naming the key', () => {
    const text = BASE.replace('      attempts: 30\n', '      attempts: 30\n      attempts: 5\n');
    const problems = expectProblems(load(text));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ ...positionOf(text, 'attempts', 2) });
    expect(problems[0]!.message).toContain('duplicate key "attempts"');
  });

  it('says so when the file is empty or only comments', () => {
    for (const text of ['', '# nothing yet\n']) {
      const [problem] = expectProblems(load(text));
      expect(problem!.message).toContain('empty');
    }
  });

  it('refuses a top level that is not a mapping', () => {
    const [problem] = expectProblems(load('- services\n'));
    expect(problem!.message).toContain('must be a mapping');
  });

  it('reports a file that cannot be read instead of throwing', () => {
    const [problem] = expectProblems(loadConfig({ path: '/nonexistent/kevin-deploy.yml', env: {} }));
    expect(problem!.message).toContain('does not exist');
  });
});

describe('loadConfig: defaultEnvironment', () => {
  it('must name an existing environment, with a suggestion', () => {
    const text = BASE.replace('  kevinstamp:\n', '  kevinstamp:\n    defaultEnvironment: stagin\n');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({ path: 'services.kevinstamp.defaultEnvironment', ...positionOf(text, 'stagin\n') });
    expect(problem!.message).toContain('did you mean "staging"?');
  });

  it('must not be protected, by name or by flag', () => {
    const byName = BASE.replace('  kevinstamp:\n', '  kevinstamp:\n    defaultEnvironment: production\n');
    expect(expectProblems(load(byName))[0]!.message).toContain('protected environment must always be named explicitly');

    const byFlag = BASE.replace('  kevinstamp:\n', '  kevinstamp:\n    defaultEnvironment: staging\n').replace(
      '        productionUrl: https://staging.kevinstamp.com\n',
      '        productionUrl: https://staging.kevinstamp.com\n        protected: true\n',
    );
    expect(expectProblems(load(byFlag))[0]!.path).toBe('services.kevinstamp.defaultEnvironment');
  });

  it('is kept when valid', () => {
    const text = BASE.replace('  kevinstamp:\n', '  kevinstamp:\n    defaultEnvironment: staging\n');
    expect(expectOk(load(text)).services.get('kevinstamp')!.defaultEnvironment).toBe('staging');
  });
});

describe('loadConfig: apiTokens and URLs', () => {
  it('refuses two tokens with the same actor', () => {
    const text = `apiTokens:\n  - { env: A_TOKEN, actor: ops, roles: [admin] }\n  - { env: B_TOKEN, actor: ops, roles: [deployer] }\n${BASE}`;
    const problems = expectProblems(load(text, { ...ENV, A_TOKEN: 'a', B_TOKEN: 'b' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'apiTokens.1.actor', line: 3 });
    expect(problems[0]!.message).toContain('actor "ops" is already used');
  });

  it('warns when two environments share a productionUrl', () => {
    const text = BASE.replace('https://staging.kevinstamp.com', 'https://kevinstamp.com');
    const result = load(text);
    expectOk(result);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({
      path: 'services.kevinstamp.environments.production.productionUrl',
      line: positionOf(text, 'https://kevinstamp.com', 2).line,
    });
    expect(result.warnings[0]!.message).toContain('"staging", "production" share productionUrl');
  });
});

describe('loadConfig: duration bounds', () => {
  it('refuses a duration beyond its bound at its key and line, naming the maximum (formatted as config check prints it)', () => {
    const text = BASE.replace('    health:\n', '    approval:\n      expiresAfter: 99999999999h\n    health:\n');
    const problems = expectProblems(load(text));
    expect(problems).toEqual([
      {
        file: 'kevin-deploy.yml',
        ...positionOf(text, '99999999999h'),
        path: 'services.kevinstamp.approval.expiresAfter',
        message: 'must be at most 168h (7 days), got "99999999999h"',
      },
    ]);
    const { line, column } = positionOf(text, '99999999999h');
    expect(formatProblem(problems[0]!)).toBe(
      `kevin-deploy.yml:${line}:${column} services.kevinstamp.approval.expiresAfter: must be at most 168h (7 days), got "99999999999h"`,
    );
  });

  it('gives each kind of duration its own maximum, reported where it is written, and accepts the maximum itself', () => {
    const text = `
services:
  kevinstamp:
    platform:
      scriptName: kevinstamp
    health:
      timeout: 301s
    monitor:
      window: 169h
      interval: 61m
    environments:
      staging:
        productionUrl: https://staging.kevinstamp.com
        switch:
          backoff: 2h
      production:
        productionUrl: https://kevinstamp.com
`;
    const problems = expectProblems(load(text));
    expect(problems.map((p) => [p.path, p.line, p.message])).toEqual([
      ['services.kevinstamp.health.timeout', positionOf(text, '301s').line, 'must be at most 5m, got "301s"'],
      ['services.kevinstamp.monitor.window', positionOf(text, '169h').line, 'must be at most 168h (7 days), got "169h"'],
      ['services.kevinstamp.monitor.interval', positionOf(text, '61m').line, 'must be at most 1h, got "61m"'],
      ['services.kevinstamp.environments.staging.switch.backoff', positionOf(text, '2h').line, 'must be at most 1h, got "2h"'],
    ]);

    const atTheBounds = text.replace('301s', '5m').replace('169h', '168h').replace('61m', '1h').replace('backoff: 2h', 'backoff: 1h');
    const staging = targetOf(expectOk(load(atTheBounds)), 'kevinstamp', 'staging');
    expect(staging.health.timeout).toBe(5 * 60_000);
    expect(staging.monitor.window).toBe(168 * 3_600_000);
    expect(staging.monitor.interval).toBe(3_600_000);
    expect(staging.switch.backoff).toBe(3_600_000);
  });

  it('refuses a zero timeout or pause (every check would fail at once, a wait would become a busy loop), at its key', () => {
    const text = BASE.replace('      interval: 10s', '      interval: 0s');
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({ path: 'services.kevinstamp.health.interval', line: positionOf(text, '0s').line, message: 'must be longer than 0, got "0s"' });
  });

  it('refuses a duration too long for a number at all, instead of letting it become Infinity', () => {
    const text = BASE.replace('      interval: 10s', `      interval: ${'9'.repeat(400)}h`);
    const [problem] = expectProblems(load(text));
    expect(problem).toMatchObject({ path: 'services.kevinstamp.health.interval', message: expect.stringMatching(/^must be at most 1h, got "9{400}h"$/) });
  });
});
