import { KevinDeployError } from '../errors.ts';
import { findRepeatedJsonKey } from './repeated-json-key.ts';

/**
 * A request body as the API reads it: empty means "no arguments" (curl -X POST -H
 * 'content-type: application/json'), anything else must be JSON — and JSON whose objects name
 * each key once, since parsers disagree about which of two equal keys wins.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KevinDeployError('INVALID_JSON', 'the request body is not valid JSON');
  }
  const repeated = typeof parsed === 'object' && parsed !== null ? findRepeatedJsonKey(text) : undefined;
  if (repeated !== undefined) {
    throw new KevinDeployError('DUPLICATE_JSON_KEY', `the key ${JSON.stringify(repeated)} appears more than once in the request body; send it once`, {
      key: repeated,
    });
  }
  return parsed;
}
