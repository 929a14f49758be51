import { describe, expect, it } from 'vitest';
import { formatProblem, formatProblems } from '../../src/config/format-problems.ts';
import { findIssueOrigin } from '../../src/config/issue-origin.ts';
import { knownKeysAt } from '../../src/config/known-keys.ts';
import { mergeSettings } from '../../src/config/merge-settings.ts';
import { configFileSchema, targetSettingsSchema } from '../../src/config/schema.ts';
import { discriminatorOf, schemaAt } from '../../src/config/schema-at.ts';
import { closestMatch } from '../../src/config/suggest.ts';

describe('knownKeysAt', () => {
  it('derives the keys of each level from the schema', () => {
    expect(knownKeysAt(configFileSchema, [])).toEqual(['version', 'server', 'apiTokens', 'slack', 'alerting', 'services']);
    expect(knownKeysAt(configFileSchema, ['services', 'kevinstamp', 'health'])).toEqual(['paths', 'timeout', 'attempts', 'interval']);
    expect(knownKeysAt(configFileSchema, ['services', 'kevinstamp'])).toContain('environments');
    expect(knownKeysAt(configFileSchema, ['services', 'kevinstamp', 'environments', 'production'])).not.toContain('environments');
    expect(knownKeysAt(configFileSchema, ['apiTokens', 0])).toEqual(['env', 'actor', 'roles']);
    // A discriminated union offers the keys of all its variants.
    expect(knownKeysAt(targetSettingsSchema, ['platform', 'reach'])).toEqual(['mode', 'urlTemplate']);
    expect(knownKeysAt(targetSettingsSchema, ['health', 'attempts'])).toEqual([]);
    expect(knownKeysAt(targetSettingsSchema, ['nonsense'])).toEqual([]);
  });
});

describe('closestMatch', () => {
  it('finds typos within two edits, counting a swap as one', () => {
    expect(closestMatch('atempts', ['paths', 'timeout', 'attempts'])).toBe('attempts');
    expect(closestMatch('helaht', ['health', 'approval'])).toBe('health');
    expect(closestMatch('Approval', ['approval'])).toBe('approval');
    expect(closestMatch('banana', ['paths', 'timeout'])).toBeUndefined();
    // Very short words are "close" to everything; no hint then.
    expect(closestMatch('x', ['a', 'b'])).toBeUndefined();
  });
});

describe('mergeSettings', () => {
  const discriminatorAt = (path: readonly (string | number)[]) => discriminatorOf(schemaAt(targetSettingsSchema, path));

  it('merges mappings, replaces lists and scalars, and keeps the inputs untouched', () => {
    const service = { health: { attempts: 30, interval: '10s' }, contentChecks: [{ path: '/', contains: 'KEVIN' }] };
    const environment = { health: { attempts: 5 }, contentChecks: [] };
    expect(mergeSettings(service, environment, discriminatorAt)).toEqual({
      health: { attempts: 5, interval: '10s' },
      contentChecks: [],
    });
    expect(service.health.attempts).toBe(30);
  });

  it('replaces a discriminated union when the variant changes, and merges it when it does not', () => {
    const service = { platform: { scriptName: 'k', reach: { mode: 'preview-url', urlTemplate: 'https://{versionId}.x' } } };
    expect(mergeSettings(service, { platform: { reach: { mode: 'version-override' } } }, discriminatorAt)).toEqual({
      platform: { scriptName: 'k', reach: { mode: 'version-override' } },
    });
    expect(mergeSettings(service, { platform: { reach: { urlTemplate: 'https://{versionPrefix}.y' } } }, discriminatorAt)).toEqual({
      platform: { scriptName: 'k', reach: { mode: 'preview-url', urlTemplate: 'https://{versionPrefix}.y' } },
    });
    // approval.mode is an ordinary key, not a discriminator: the rest of approval is kept.
    expect(
      mergeSettings({ approval: { mode: 'manual', required: 2 } }, { approval: { mode: 'auto' } }, discriminatorAt),
    ).toEqual({ approval: { mode: 'auto', required: 2 } });
  });

  it('keeps a "__proto__" key as a plain key instead of changing the prototype', () => {
    const environment = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const merged = mergeSettings({ a: 1 }, environment, () => undefined) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['a', '__proto__']);
  });
});

describe('findIssueOrigin', () => {
  const sources = [
    { yamlPath: ['services', 'k', 'environments', 'prod'], value: { health: { attempts: 5 }, contentChecks: [{ path: '/' }] } },
    { yamlPath: ['services', 'k'], value: { health: { interval: '1' }, contentChecks: [{ path: '/', contains: 'K' }] } },
  ];

  it('prefers the environment, then the service', () => {
    expect(findIssueOrigin(sources, ['health', 'attempts']).nodePath).toEqual(['services', 'k', 'environments', 'prod', 'health', 'attempts']);
    expect(findIssueOrigin(sources, ['health', 'interval']).nodePath).toEqual(['services', 'k', 'health', 'interval']);
  });

  it('stops at the nearest ancestor for a missing key, and does not look below a replaced list', () => {
    expect(findIssueOrigin(sources, ['health', 'timeout'])).toEqual({
      nodePath: ['services', 'k', 'environments', 'prod', 'health'],
      rest: ['timeout'],
      exact: false,
    });
    expect(findIssueOrigin(sources, ['health', 'timeout'], 'last').nodePath).toEqual(['services', 'k', 'health']);
    // The environment's list replaced the service's, so the service's `contains` is irrelevant.
    expect(findIssueOrigin(sources, ['contentChecks', 0, 'contains']).nodePath).toEqual([
      'services', 'k', 'environments', 'prod', 'contentChecks', 0,
    ]);
  });
});

describe('formatProblem', () => {
  it('prints file:line:column path: message', () => {
    expect(
      formatProblem({ file: 'kevin-deploy.yml', line: 12, column: 5, path: 'services.kevinstamp.health.atempts', message: 'unknown key "atempts"; did you mean "attempts"?' }),
    ).toBe('kevin-deploy.yml:12:5 services.kevinstamp.health.atempts: unknown key "atempts"; did you mean "attempts"?');
  });

  it('leaves out what is unknown and marks warnings', () => {
    expect(formatProblem({ file: 'k.yml', path: '', message: 'the file is empty' })).toBe('k.yml: the file is empty');
    expect(formatProblem({ file: 'k.yml', line: 3, path: '', message: 'YAML: bad' })).toBe('k.yml:3: YAML: bad');
    expect(formatProblem({ file: 'k.yml', line: 3, column: 1, path: 'apiTokens.0.env', message: 'X is not set' }, 'warning')).toBe(
      'k.yml:3:1 apiTokens.0.env: warning: X is not set',
    );
    expect(
      formatProblems([
        { file: 'a.yml', line: 1, column: 1, path: 'x', message: 'one' },
        { file: 'a.yml', line: 2, column: 1, path: 'y', message: 'two' },
      ]),
    ).toBe('a.yml:1:1 x: one\na.yml:2:1 y: two');
  });
});
