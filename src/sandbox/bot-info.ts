import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What a running sandbox bot says about itself beside its API token (data/sandbox-bot.json): the
 * URL it serves and its pid. The token file alone cannot say whose token it is; with this, the
 * CLI sends it only to the bot that wrote it.
 */
const botInfoSchema = z.object({
  url: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
});

export type SandboxBotInfo = z.infer<typeof botInfoSchema>;

export function writeBotInfo(file: string, info: SandboxBotInfo): void {
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** The record, or undefined when it is absent or unreadable (then nobody vouches for the token). */
export function readBotInfo(file: string): SandboxBotInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = botInfoSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record if this process wrote it (a newer sandbox may have replaced it). */
export function removeBotInfo(file: string, pid: number): void {
  if (readBotInfo(file)?.pid === pid) rmSync(file, { force: true });
}
