/**
 * Checks for log lines beyond what JSON.parse tells: JSON.parse silently keeps the last of two
 * equal keys, while log pipelines differ (Elasticsearch rejects the document, others keep the
 * first). A structured log line must therefore have each key once per object.
 */

/** The keys that occur more than once in one object of the JSON text, as dotted paths. Throws on invalid JSON. */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;

  const fail = (what: string): never => {
    throw new Error(`invalid JSON at ${i} (${what}): ${text.slice(Math.max(0, i - 20), i + 20)}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): string => {
    if (text[i] !== '"') fail('expected a string');
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    space();
    const c = text[i];
    if (c === '{') return object(path);
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail('expected , or ]');
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const literal = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!literal) fail('expected a value');
    i += literal![0].length;
  };
  const object = (path: string): void => {
    i++; // {
    const seen = new Set<string>();
    space();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      space();
      const key = string();
      const keyPath = path ? `${path}.${key}` : key;
      if (seen.has(key)) found.push(keyPath);
      seen.add(key);
      space();
      if (text[i] !== ':') fail('expected :');
      i++;
      value(keyPath);
      space();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return;
      } else fail('expected , or }');
    }
  };

  value('');
  space();
  if (i !== text.length) fail('trailing text');
  return found;
}
