import type { z } from 'zod';
import { describeIssue } from './describe-issue.ts';
import { duration } from './duration.ts';
import { findIssueOrigin, type SettingsSource } from './issue-origin.ts';
import { knownKeysAt } from './known-keys.ts';
import type { ProblemList } from './problem-list.ts';
import { isPlainObject, valueAt } from './raw-value.ts';
import { configFileSchema } from './schema.ts';
import { isIntegerSchema, schemaAt, wrapsSchema, type PathSegment } from './schema-at.ts';
import { closestMatch } from './suggest.ts';

export interface IssueContext {
  problems: ProblemList;
  /** The layers the validated object was merged from; one layer for the file as a whole. */
  sources: readonly SettingsSource[];
  /** The object that was validated, to read the value an issue is about. */
  input: unknown;
  /** For a missing key: report it at the lowest layer that could hold it (see findIssueOrigin). */
  tieBreak?: 'first' | 'last';
}

export function issuePath(issue: z.core.$ZodIssue): PathSegment[] {
  return issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

/** The issue is about a key that is absent from a mapping that exists. */
export function isMissingKey(issue: z.core.$ZodIssue, input: unknown): boolean {
  const path = issuePath(issue);
  return (
    issue.code !== 'unrecognized_keys' &&
    path.length > 0 &&
    valueAt(input, path) === undefined &&
    isPlainObject(valueAt(input, path.slice(0, -1)))
  );
}

/**
 * Turns one zod issue into problems located in the file. Paths shown to people are paths in the
 * file (where to edit), not in the merged settings the issue was found in.
 */
export function reportIssue(issue: z.core.$ZodIssue, context: IssueContext): void {
  const path = issuePath(issue);
  if (issue.code === 'unrecognized_keys') {
    // One problem per key, each at the key's own line: two typos are two edits.
    for (const key of issue.keys) {
      const origin = findIssueOrigin(context.sources, [...path, key]);
      const known = knownKeysAt(configFileSchema, origin.nodePath.slice(0, -1));
      context.problems.report({
        path: [...origin.nodePath, ...origin.rest],
        nodePath: origin.nodePath,
        pointAt: 'key',
        message: unknownKeyMessage(key, known),
      });
    }
    return;
  }
  const missing = isMissingKey(issue, context.input);
  const origin = findIssueOrigin(context.sources, path, missing ? (context.tieBreak ?? 'first') : 'first');
  const filePath = [...origin.nodePath, ...origin.rest];
  const schema = schemaAt(configFileSchema, filePath);
  const message = describeIssue(issue, {
    value: valueAt(context.input, path),
    missing,
    isDuration: wrapsSchema(schema, duration),
    isInteger: isIntegerSchema(schema),
  });
  context.problems.report({
    path: filePath,
    nodePath: origin.nodePath,
    // A bad record key is shown at the key; a missing key at the key of the mapping lacking it.
    pointAt: origin.exact && issue.code !== 'invalid_key' ? 'value' : 'key',
    message,
  });
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = closestMatch(key, known);
  if (suggestion) return `unknown key "${key}"; did you mean "${suggestion}"?`;
  return known.length > 0 ? `unknown key "${key}"; the keys allowed here are ${known.join(', ')}` : `unknown key "${key}"`;
}
