import { z } from 'zod';
import type { Actor, Permission } from '../src/domain/policy.ts';
import type { ReleaseService } from '../src/engine/release-service.ts';
import { KevinDeployError } from '../src/errors.ts';

/** What every command handler gets, whichever surface (CLI via API, HTTP, Slack, Discord) invoked it. */
export interface CommandContext {
  actor: Actor;
  releases: ReleaseService;
}

/**
 * A chat-ops command, free of any platform: its arguments (zod), how to use it, who may run it,
 * and what it does. Surfaces only translate their input into `args` and the result into replies.
 */
export interface CommandDefinition<Args extends z.ZodType = z.ZodType, Result = unknown> {
  name: string;
  summary: string;
  /** One line, as the CLI spells it. */
  usage: string;
  /** One line, as chat spells it (`/deploy status [SERVICE]`); absent when chat uses buttons instead. */
  chatUsage?: string;
  /** Checked per target by the release service; listed here so help can say who may. */
  permission: Permission;
  args: Args;
  run(ctx: CommandContext, args: z.output<Args>): Promise<Result>;
}

export function defineCommand<Args extends z.ZodType, Result>(
  definition: CommandDefinition<Args, Result>,
): CommandDefinition<Args, Result> {
  return definition;
}

/** Validates raw arguments and runs the command; bad arguments become a USAGE error that quotes the usage line. */
export async function runCommand<Args extends z.ZodType, Result>(
  command: CommandDefinition<Args, Result>,
  rawArgs: unknown,
  ctx: CommandContext,
): Promise<Result> {
  const parsed = command.args.safeParse(rawArgs);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new KevinDeployError('USAGE', `${problems.join('; ')}. Usage: ${command.usage}`, {
      usage: command.usage,
      problems,
    });
  }
  return command.run(ctx, parsed.data);
}

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
