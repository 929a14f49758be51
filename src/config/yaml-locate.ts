import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PathSegment } from './schema-at.ts';

export interface YamlPosition {
  line: number;
  column: number;
}

/** 'key': the line that names the setting; 'value': the value itself when it is a scalar. */
export type PointAt = 'key' | 'value';

interface FoundNode {
  key?: Node;
  value?: Node;
}

/**
 * The 1-based position of the setting at `path` in the parsed document, or undefined when the
 * path does not exist. Block mappings and lists are reported at their key, because the first
 * line of their body is some other setting and would mislead.
 */
export function locateYaml(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
  pointAt: PointAt,
): YamlPosition | undefined {
  const found = findNode(doc, path);
  if (!found) return undefined;
  const valueIsPointable = isScalar(found.value) && (found.value.source ?? String(found.value.value)) !== '';
  const node = pointAt === 'value' && valueIsPointable ? found.value : (found.key ?? found.value);
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function findNode(doc: Document, path: readonly PathSegment[]): FoundNode | undefined {
  let found: FoundNode = { value: resolve(doc, doc.contents) };
  for (const segment of path) {
    const parent = found.value;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return undefined;
      found = { key: pair.key as Node, value: resolve(doc, pair.value) };
    } else if (isSeq(parent)) {
      const item = parent.items[Number(segment)];
      if (item === undefined) return undefined;
      found = { value: resolve(doc, item) };
    } else {
      return undefined;
    }
  }
  return found;
}

function resolve(doc: Document, node: unknown): Node | undefined {
  // An alias has no body of its own; report where the anchored value is written.
  if (isAlias(node)) return node.resolve(doc) as Node | undefined;
  return (node ?? undefined) as Node | undefined;
}
