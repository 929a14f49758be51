import { z } from 'zod';

/**
 * The argument names a command's schema knows, in declaration order; for a union (rollback by
 * service or by id), those of every variant. The HTTP API allows exactly these as query
 * parameters of a GET route (minus the path's own), and tests check the grammar against them.
 */
export function argNamesOf(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodUnion) return [...new Set((schema.options as z.ZodType[]).flatMap((option) => argNamesOf(option)))];
  throw new Error('a command schema is an object or a union of objects');
}
