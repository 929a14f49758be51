import type { z } from 'zod';
import { objectShapes, schemaAt, type PathSegment } from './schema-at.ts';

/**
 * The keys that may be written in the object at `path` below `root`, in schema order. Derived
 * from the schema itself so "did you mean …?" never drifts from what the loader accepts. For a
 * discriminated union (platform.reach) it is every key of every option.
 */
export function knownKeysAt(root: z.core.$ZodType, path: readonly PathSegment[]): string[] {
  const schema = schemaAt(root, path);
  if (!schema) return [];
  return [...new Set(objectShapes(schema).flatMap((shape) => Object.keys(shape)))];
}
