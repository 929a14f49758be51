import { readFileSync } from 'node:fs';
// ajv is present through fastify; it is the reference validator for draft 2020-12.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_SCHEMA_ID, configJsonSchema } from '../../src/config/json-schema.ts';

const EXAMPLE = parse(readFileSync(new URL('../../kevin-deploy.example.yml', import.meta.url), 'utf8')) as unknown;

type Json = Record<string, unknown>;
const at = (schema: unknown, ...keys: string[]): Json =>
  keys.reduce<Json>((node, key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null) throw new Error(`no ${keys.join('.')} (stopped at ${key})`);
    return next as Json;
  }, schema as Json);

function compile() {
  // strict: unknown keywords or malformed schema parts throw instead of being ignored.
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  return ajv.compile(configJsonSchema());
}

describe('configJsonSchema', () => {
  it('is a draft 2020-12 schema with an id, a title and the file structure', () => {
    const schema = configJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
    expect(schema.$id).toBe('https://kevin-deploy.dev/schema/kevin-deploy.schema.json');
    expect(typeof schema.title).toBe('string');
    expect(schema.type).toBe('object');
    expect(Object.keys(at(schema, 'properties'))).toEqual(['version', 'server', 'apiTokens', 'slack', 'alerting', 'services']);
    expect(at(schema, 'properties', 'services').type).toBe('object');
    // Serialisable as is: `config schema` prints JSON.stringify of it.
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('marks strict objects with additionalProperties: false at every level', () => {
    const schema = configJsonSchema();
    const service = at(schema, 'properties', 'services', 'additionalProperties');
    expect(schema.additionalProperties).toBe(false);
    expect(at(schema, 'properties', 'server').additionalProperties).toBe(false);
    expect(service.additionalProperties).toBe(false);
    expect(at(service, 'properties', 'health').additionalProperties).toBe(false);
    expect(at(service, 'properties', 'monitor', 'properties', 'triggers').additionalProperties).toBe(false);
    const environment = at(service, 'properties', 'environments', 'additionalProperties');
    const environmentObject = (environment.anyOf as Json[]).find((branch) => branch.type === 'object')!;
    expect(environmentObject.additionalProperties).toBe(false);
  });

  it('describes durations as strings with a unit and carries descriptions and defaults', () => {
    const health = at(configJsonSchema(), 'properties', 'services', 'additionalProperties', 'properties', 'health');
    const interval = at(health, 'properties', 'interval');
    expect(interval).toMatchObject({ type: 'string', default: '10s' });
    expect(new RegExp(interval.pattern as string).test('10s')).toBe(true);
    expect(new RegExp(interval.pattern as string).test('10')).toBe(false);
    expect(at(health, 'properties', 'attempts')).toMatchObject({ type: 'integer', default: 30 });
    expect(typeof health.description).toBe('string');
  });

  it('compiles under a strict validator (no non-standard formats or keywords)', () => {
    expect(() => compile()).not.toThrow();
    expect(JSON.stringify(configJsonSchema())).not.toContain('starts_with');
  });

  it('accepts the example file', () => {
    const validate = compile();
    expect(validate(EXAMPLE), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an unknown key, a bare-number duration and a bad enum value', () => {
    const validate = compile();
    const withTypo = structuredClone(EXAMPLE) as { services: { kevinstamp: { health: Json } } };
    withTypo.services.kevinstamp.health.atempts = 3;
    expect(validate(withTypo)).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'atempts')).toBe(true);

    const bareNumber = structuredClone(EXAMPLE) as { services: { kevinstamp: { health: Json } } };
    bareNumber.services.kevinstamp.health.interval = 10;
    expect(validate(bareNumber)).toBe(false);

    const badMode = structuredClone(EXAMPLE) as { services: { kevinstamp: { approval: Json } } };
    badMode.services.kevinstamp.approval.mode = 'sometimes';
    expect(validate(badMode)).toBe(false);
  });

  it('accepts partial nested overrides, as the loader does (scriptName only per environment)', () => {
    const validate = compile();
    const config = {
      services: {
        kevinstamp: {
          platform: { accountId: 'acc' },
          environments: { staging: { platform: { scriptName: 'kevinstamp-staging' } }, production: null },
        },
      },
    };
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ services: {} })).toBe(false);
  });
});
