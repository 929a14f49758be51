import { z } from 'zod';

// Shared argument shapes: strict about what can reach a log line, a chat message or a URL.
export const serviceArg = z
  .string({ error: 'SERVICE is required' })
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'SERVICE is a configured service name such as kevinstamp');
export const environmentArg = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'ENV is a configured environment name such as production');
export const versionArg = z
  .string({ error: 'VERSION is required' })
  .trim()
  .min(1, 'VERSION is required')
  .max(128, 'VERSION is at most 128 characters')
  .regex(/^[^\s\u0000-\u001f]+$/, 'VERSION is a version id, 8-character id prefix or tag, without spaces');
export const deploymentIdArg = z
  .string({ error: 'ID is required' })
  .regex(/^[A-Za-z0-9_-]{3,64}$/, 'ID is a deployment id such as kd-abcd234xyz');
export const textArg = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} must not be empty`)
    .max(500, `${what} is at most 500 characters`)
    .regex(/^[^\u0000-\u0008\u000b-\u001f]*$/, `${what} must not contain control characters`);
