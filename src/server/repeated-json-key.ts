import { isMap, isPair, isScalar, isSeq, parseDocument, visit, type Node } from 'yaml';

/**
 * The first key that appears twice in one object of a JSON text, as a path ("service",
 * "options.note", "steps[1].percent"); undefined when every key is unique. Call it only on text
 * that JSON.parse accepted: what is valid JSON stays JSON's call. JSON.parse keeps the last of
 * two equal keys silently, and other parsers keep the first, so a request that says
 * `"service":"a","service":"b"` means different things to different readers — it is refused.
 *
 * JSON is YAML 1.2 flow syntax, and the `yaml` package (already the config loader's parser)
 * reports repeated keys itself with `uniqueKeys`, comparing the decoded keys ("a" equals "\u0061").
 */
export function findRepeatedJsonKey(text: string): string | undefined {
  let doc;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  } catch {
    // Deeper nesting than the YAML parser handles; the command schemas are flat and refuse it anyway.
    return undefined;
  }
  const repeated = doc.errors.find((error) => error.code === 'DUPLICATE_KEY');
  if (!repeated) return undefined;
  let path: string | undefined;
  visit(doc, {
    Pair(_key, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== repeated.pos[0]) return undefined;
      path = pathOf([...ancestors, pair] as readonly unknown[], String(pair.key.value));
      return visit.BREAK;
    },
  });
  return path ?? 'a key';
}

/** "options.note" from the ancestors of a pair: each enclosing pair's key, each enclosing list's index. */
function pathOf(ancestors: readonly unknown[], key: string): string {
  let path = '';
  for (let i = 0; i < ancestors.length - 1; i++) {
    const node = ancestors[i];
    const child = ancestors[i + 1];
    if (isPair(node) && isScalar(node.key) && (isMap(child) || isSeq(child))) path += `${path ? '.' : ''}${String(node.key.value)}`;
    if (isSeq(node)) path += `[${node.items.indexOf(child as Node)}]`;
  }
  return path ? `${path}.${key}` : key;
}
