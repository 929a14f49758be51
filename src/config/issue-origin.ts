import { isPlainObject, valueAt } from './raw-value.ts';
import type { PathSegment } from './schema-at.ts';

/** One layer of raw settings and where it is written in the file, highest priority first. */
export interface SettingsSource {
  yamlPath: readonly PathSegment[];
  value: unknown;
}

export interface IssueOrigin {
  /** The deepest node written in the file that the issue is about (or that lacks the key). */
  nodePath: PathSegment[];
  /** The rest of the issue's path below that node: empty when the setting itself exists. */
  rest: PathSegment[];
  exact: boolean;
}

/**
 * Maps a path in the merged settings back to the layer that supplied it: the environment's node
 * if it wrote that path, else the service's, else the nearest ancestor that exists, so a missing
 * key points at the mapping that lacks it. Follows the merge rule: once a layer supplies a list
 * or scalar on the way down, lower layers no longer contribute below it.
 *
 * `tieBreak: 'last'` prefers the lowest layer when several hold the nearest ancestor; the loader
 * uses it for a key missing in every environment, so it is reported once, at the service.
 */
export function findIssueOrigin(
  sources: readonly SettingsSource[],
  path: readonly PathSegment[],
  tieBreak: 'first' | 'last' = 'first',
): IssueOrigin {
  let alive = sources.map((source) => ({ source, value: source.value }));
  let depth = 0;
  for (const segment of path) {
    let next = alive
      .map((layer) => ({ source: layer.source, value: childOf(layer.value, segment) }))
      .filter((layer) => layer.value !== undefined);
    if (next.length === 0) break;
    const top = next[0]!;
    next = isPlainObject(top.value) ? next.filter((layer) => isPlainObject(layer.value)) : [top];
    alive = next;
    depth++;
  }
  const chosen = tieBreak === 'last' ? alive.at(-1) : alive[0];
  const yamlPath = chosen?.source.yamlPath ?? [];
  return {
    nodePath: [...yamlPath, ...path.slice(0, depth)],
    rest: path.slice(depth),
    exact: depth === path.length,
  };
}

function childOf(value: unknown, segment: PathSegment): unknown {
  return valueAt(value, [segment]);
}
