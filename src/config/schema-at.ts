import type { z } from 'zod';

export type PathSegment = string | number;
type AnySchema = z.core.$ZodType;

/** The parts of zod's internal definitions we walk; zod 4 keeps them on `_zod.def`. */
interface LooseDef {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  getter?: () => AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: readonly AnySchema[];
  discriminator?: string;
  format?: string;
}

function defOf(schema: AnySchema): LooseDef {
  return schema._zod.def as unknown as LooseDef;
}

/**
 * Strips wrappers that don't change what may be written at a place (optional, default, …).
 * Pipes are followed on their input side because the config file holds inputs ("10s"), not the
 * parsed milliseconds.
 */
export function unwrapSchema(schema: AnySchema): AnySchema {
  let current = schema;
  for (let guard = 0; guard < 64; guard++) {
    const def = defOf(current);
    const next =
      def.type === 'pipe' ? def.in : def.type === 'lazy' ? def.getter?.() : isWrapper(def.type) ? def.innerType : undefined;
    if (!next) return current;
    current = next;
  }
  return current;
}

function isWrapper(type: string): boolean {
  return ['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch'].includes(type);
}

/** True when `schema` is `target` or wraps it (e.g. `duration.prefault('5s')` wraps `duration`). */
export function wrapsSchema(schema: AnySchema | undefined, target: AnySchema): boolean {
  let current = schema;
  for (let guard = 0; current && guard < 64; guard++) {
    if (current === target) return true;
    const def = defOf(current);
    current = def.type === 'pipe' ? def.in : isWrapper(def.type) ? def.innerType : undefined;
  }
  return false;
}

/** The object options of a schema: itself if it is an object, each object option of a union. */
export function objectShapes(schema: AnySchema): Record<string, AnySchema>[] {
  const def = defOf(unwrapSchema(schema));
  if (def.type === 'object' && def.shape) return [def.shape];
  if (def.type === 'union' && def.options) return def.options.flatMap(objectShapes);
  return [];
}

/** The discriminator key when the schema is a discriminated union (`mode` for platform.reach). */
export function discriminatorOf(schema: AnySchema | undefined): string | undefined {
  return schema ? defOf(unwrapSchema(schema)).discriminator : undefined;
}

/**
 * The schema that governs the value at `path` below `root`, or undefined when nothing may be
 * written there. The returned schema keeps its wrappers so callers can recognise it.
 */
export function schemaAt(root: AnySchema, path: readonly PathSegment[]): AnySchema | undefined {
  let current: AnySchema | undefined = root;
  for (const segment of path) {
    if (!current) return undefined;
    current = childSchema(current, segment);
  }
  return current;
}

function childSchema(schema: AnySchema, segment: PathSegment): AnySchema | undefined {
  const def = defOf(unwrapSchema(schema));
  switch (def.type) {
    case 'object':
      return typeof segment === 'string' && def.shape && Object.hasOwn(def.shape, segment) ? def.shape[segment] : undefined;
    case 'record':
      return def.valueType;
    case 'array':
      return typeof segment === 'number' ? def.element : undefined;
    case 'union':
      for (const option of def.options ?? []) {
        const found = childSchema(option, segment);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** True for z.int() and friends, whose type errors should say "whole number", not "number". */
export function isIntegerSchema(schema: AnySchema | undefined): boolean {
  if (!schema) return false;
  const def = defOf(unwrapSchema(schema));
  return def.type === 'number' && ['safeint', 'int32', 'uint32'].includes(def.format ?? '');
}
