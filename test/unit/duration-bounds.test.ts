import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { COMMANDS } from '../../commands/index.ts';
import { duration, parseDuration } from '../../src/config/duration.ts';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { configFileSchema } from '../../src/config/schema.ts';

type AnySchema = z.core.$ZodType;
interface LooseDef {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: readonly AnySchema[];
}

/**
 * Every place below `root` where a duration is read, by path, with the schema that reads it
 * (the bounded wrapper when there is one). Found by walking the schema itself, so a duration
 * key added later is checked without anyone remembering to list it here.
 */
function durationsIn(root: AnySchema): Array<{ path: string; schema: AnySchema }> {
  const found: Array<{ path: string; schema: AnySchema }> = [];
  const walk = (schema: AnySchema, path: string, reader: AnySchema): void => {
    if (schema === duration) {
      found.push({ path, schema: reader });
      return;
    }
    const def = schema._zod.def as unknown as LooseDef;
    // The reader is the outermost wrapper (default, optional, bound…) around the duration.
    const next = (child: AnySchema, childPath: string, keepReader: boolean) => walk(child, childPath, keepReader ? reader : child);
    if (def.shape) for (const [key, child] of Object.entries(def.shape)) next(child, path ? `${path}.${key}` : key, false);
    if (def.valueType) next(def.valueType, `${path}.*`, false);
    if (def.element) next(def.element, `${path}[]`, false);
    for (const option of def.options ?? []) next(option, path, false);
    if (def.innerType) next(def.innerType, path, true);
    if (def.in) next(def.in, path, true);
    if (def.out) next(def.out, path, true);
  };
  walk(root, '', root);
  return found;
}

const YEAR_MS = 365 * 24 * 3_600_000;

describe('duration bounds', () => {
  const found = durationsIn(configFileSchema);

  it('finds the durations of the file (the walk works)', () => {
    const paths = found.map((f) => f.path);
    for (const path of ['services.*.approval.expiresAfter', 'services.*.health.timeout', 'services.*.monitor.window', 'slack.minUpdateInterval']) {
      expect(paths).toContain(path);
    }
  });

  it('bounds every duration of the configuration file by a year at most', () => {
    const unbounded = found.filter(({ schema }) => (schema as z.ZodType).safeParse('8761h').success).map((f) => f.path);
    expect(unbounded).toEqual([]);
  });

  it('bounds a lock (API expiresAfter, CLI and chat --for) by a year', async () => {
    const lockArgs = await COMMANDS.lock.schema();
    const base = { service: 'kevinstamp', reason: 'freeze' };
    expect(lockArgs.safeParse({ ...base, expiresAfter: '8760h' }).success).toBe(true);
    const refused = lockArgs.safeParse({ ...base, expiresAfter: '8761h' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]).toMatchObject({ path: ['expiresAfter'], message: 'must be at most 8760h (365 days)' });
    expect(lockArgs.safeParse({ ...base, expiresAfter: `${'9'.repeat(400)}h` }).success).toBe(false);
  });

  it('parses what it accepts into milliseconds well inside what a Date can hold', () => {
    expect(parseDuration('8760h')).toBe(YEAR_MS);
    expect(new Date(Date.now() + YEAR_MS).toISOString()).toMatch(/^\d{4}-/);
  });

  it('says each bound in the JSON Schema, where editors show it', () => {
    const service = (configJsonSchema().properties as any).services.additionalProperties.properties;
    expect(service.health.properties.timeout.description).toBe('Timeout of one health request (duration). At most 5m.');
    expect(service.approval.properties.expiresAfter.description).toBe('An unanswered approval request expires after this duration. At most 168h (7 days).');
    expect(service.monitor.properties.metrics.anyOf.find((v: any) => v.properties.lag).properties.lag.description).toBe('A duration. At most 1h.');
    expect(JSON.stringify(configJsonSchema())).not.toContain('x-kevin-deploy');
  });
});
