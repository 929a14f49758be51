/**
 * Parses `Cloudflare-Workers-Version-Overrides`, an RFC 8941 Dictionary such as
 * `kevinstamp="0b0f8a5e-…"`. Returns script → version id for members whose value is a string.
 * Like Cloudflare, anything unparseable is ignored silently: the header is a hint, never an error.
 * Deliberate leniencies: spaces around "=" and upper-case letters in keys are accepted.
 */
export function parseVersionOverrides(value: string | undefined): Map<string, string> {
  const overrides = new Map<string, string>();
  if (value === undefined) return overrides;
  try {
    for (const [key, item] of parseDictionary(value)) {
      if (typeof item === 'string') overrides.set(key, item);
      else overrides.delete(key); // a later non-string member replaces an earlier one (RFC 8941 §4.2.2)
    }
  } catch {
    return new Map();
  }
  return overrides;
}

class ParseError extends Error {}

type BareItem = string | number | boolean | Token | Uint8Array;
type Member = BareItem | BareItem[];

class Token {
  constructor(readonly value: string) {}
}

const KEY_START = /[a-zA-Z*]/;
const KEY_CHAR = /[a-zA-Z0-9_\-.*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;

function parseDictionary(input: string): Array<[string, Member]> {
  const members: Array<[string, Member]> = [];
  let pos = 0;
  const peek = () => input[pos];
  const skip = (pattern: RegExp) => {
    while (pos < input.length && pattern.test(input[pos] as string)) pos += 1;
  };

  const parseKey = (): string => {
    if (!KEY_START.test(peek() ?? '')) throw new ParseError('key');
    const start = pos;
    pos += 1;
    while (pos < input.length && KEY_CHAR.test(input[pos] as string)) pos += 1;
    return input.slice(start, pos);
  };

  const parseString = (): string => {
    pos += 1; // opening quote
    let out = '';
    while (pos < input.length) {
      const c = input[pos] as string;
      pos += 1;
      if (c === '\\') {
        const next = input[pos];
        if (next !== '"' && next !== '\\') throw new ParseError('escape');
        out += next;
        pos += 1;
      } else if (c === '"') {
        return out;
      } else {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) throw new ParseError('string char');
        out += c;
      }
    }
    throw new ParseError('unterminated string');
  };

  const parseBareItem = (): BareItem => {
    const c = peek() ?? '';
    if (c === '"') return parseString();
    if (c === '-' || /[0-9]/.test(c)) {
      const match = /^-?[0-9]{1,15}(\.[0-9]{1,3})?/.exec(input.slice(pos));
      if (!match) throw new ParseError('number');
      pos += match[0].length;
      return Number(match[0]);
    }
    if (c === '?') {
      const flag = input[pos + 1];
      if (flag !== '0' && flag !== '1') throw new ParseError('boolean');
      pos += 2;
      return flag === '1';
    }
    if (c === ':') {
      const end = input.indexOf(':', pos + 1);
      if (end < 0) throw new ParseError('byte sequence');
      const encoded = input.slice(pos + 1, end);
      if (!/^[A-Za-z0-9+/=]*$/.test(encoded)) throw new ParseError('byte sequence');
      pos = end + 1;
      return Uint8Array.from(Buffer.from(encoded, 'base64'));
    }
    if (/[A-Za-z*]/.test(c)) {
      const start = pos;
      pos += 1;
      while (pos < input.length && TOKEN_CHAR.test(input[pos] as string)) pos += 1;
      return new Token(input.slice(start, pos));
    }
    throw new ParseError('item');
  };

  const parseParameters = (): void => {
    // Parameters are parsed for correctness and then discarded: Cloudflare defines none here.
    while (peek() === ';') {
      pos += 1;
      skip(/ /);
      parseKey();
      if (peek() === '=') {
        pos += 1;
        parseBareItem();
      }
    }
  };

  const parseInnerList = (): BareItem[] => {
    pos += 1; // "("
    const items: BareItem[] = [];
    while (pos < input.length) {
      skip(/ /);
      if (peek() === ')') {
        pos += 1;
        parseParameters();
        return items;
      }
      items.push(parseBareItem());
      parseParameters();
      if (peek() !== ' ' && peek() !== ')') throw new ParseError('inner list');
    }
    throw new ParseError('unterminated inner list');
  };

  skip(/ /);
  const trimmedEnd = input.replace(/ +$/, '').length;
  if (trimmedEnd === 0) return members;
  input = input.slice(0, trimmedEnd);

  while (pos < input.length) {
    const key = parseKey();
    skip(/[ \t]/);
    let member: Member = true;
    if (peek() === '=') {
      pos += 1;
      skip(/[ \t]/);
      member = peek() === '(' ? parseInnerList() : parseBareItem();
    }
    parseParameters();
    members.push([key, member]);
    skip(/[ \t]/);
    if (pos >= input.length) return members;
    if (peek() !== ',') throw new ParseError('expected comma');
    pos += 1;
    skip(/[ \t]/);
    if (pos >= input.length) throw new ParseError('trailing comma');
  }
  return members;
}
