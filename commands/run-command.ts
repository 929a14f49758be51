import type { z } from 'zod';
import { KevinDeployError } from '../src/errors.ts';
import type { CommandContext, CommandDefinition } from './define-command.ts';

/** Any command of the table: every specific command (and a union of them) is one. */
export type AnyCommand = CommandDefinition<z.ZodType, unknown>;

/** What a command answers (the same object the API sends and the CLI prints with --json). */
export type ResultOf<C> = C extends CommandDefinition<infer _Args, infer Result> ? Result : never;

/**
 * Input a surface could not type — `unknown`, or a bag of fields such as an HTTP body, the words
 * of a chat line or a dialog's values: zod checks all of it and a mistake is a USAGE error. Any
 * other input must already have the command's argument types.
 */
type ArgsInput<C extends AnyCommand, A> = unknown extends A ? unknown : string extends keyof A ? unknown : z.input<Awaited<ReturnType<C['schema']>>>;

/**
 * Validates the arguments and runs the command; bad arguments become a USAGE error that quotes
 * the usage line. Generic over the command, so `runCommand(COMMANDS[name], …)` needs no cast and
 * answers that command's result type.
 */
export async function runCommand<C extends AnyCommand, A>(command: C, args: A & NoInfer<ArgsInput<C, A>>, ctx: CommandContext): Promise<ResultOf<C>> {
  const schema: z.ZodType = await command.schema();
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new KevinDeployError('USAGE', `${problems.join('; ')}. Usage: ${command.usage}`, {
      usage: command.usage,
      problems,
    });
  }
  // The schema and the handler come from the same declaration (defineCommand ties them), so the
  // parsed arguments are the handler's and its answer is the command's result.
  return (await command.run(ctx, parsed.data)) as ResultOf<C>;
}
