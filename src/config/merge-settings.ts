import { isPlainObject, type PlainObject } from './raw-value.ts';
import type { PathSegment } from './schema-at.ts';

/**
 * Lays an environment's raw settings over its service's: mappings merge key by key, lists and
 * scalars replace. The exception is a discriminated union (platform.reach by `mode`, strategy by
 * `type`): when the environment picks a different variant, it replaces the service's object,
 * because the service's variant-specific keys (urlTemplate, steps) would be invalid in the new one.
 *
 * `discriminatorAt` says which key discriminates the object at a path, if any.
 */
export function mergeSettings(
  service: unknown,
  environment: unknown,
  discriminatorAt: (path: readonly PathSegment[]) => string | undefined,
  path: readonly PathSegment[] = [],
): unknown {
  if (environment === undefined) return service;
  if (!isPlainObject(service) || !isPlainObject(environment)) return environment;
  const discriminator = discriminatorAt(path);
  if (
    discriminator !== undefined &&
    environment[discriminator] !== undefined &&
    environment[discriminator] !== service[discriminator]
  ) {
    return environment;
  }
  const merged: PlainObject = { ...service };
  for (const [key, value] of Object.entries(environment)) {
    // defineProperty, not assignment: a key written as "__proto__" must stay a plain (unknown) key.
    Object.defineProperty(merged, key, {
      value: mergeSettings(Object.hasOwn(service, key) ? service[key] : undefined, value, discriminatorAt, [...path, key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return merged;
}
