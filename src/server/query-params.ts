import { closestMatch } from '../config/suggest.ts';
import { KevinDeployError } from '../errors.ts';

/**
 * Refuses query parameters a route does not know, and known ones given twice. A typo such as
 * `?servce=kevinstamp` would otherwise be dropped silently and answer for every service — the
 * query's counterpart of the strict request bodies.
 */
export function checkQueryParams(query: unknown, known: readonly string[], route: string): void {
  if (typeof query !== 'object' || query === null) return;
  for (const [name, value] of Object.entries(query)) {
    if (!known.includes(name)) {
      const suggestion = closestMatch(name, known);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : '.';
      const list = known.length > 0 ? ` ${route} takes ${known.map((k) => `"${k}"`).join(', ')}.` : ` ${route} takes no query parameters.`;
      throw new KevinDeployError('USAGE', `unknown query parameter ${JSON.stringify(name)}${hint}${list}`, {
        parameter: name,
        knownParameters: [...known],
      });
    }
    if (Array.isArray(value)) {
      throw new KevinDeployError('USAGE', `query parameter "${name}" is given ${value.length} times; give it once`, { parameter: name });
    }
  }
}
