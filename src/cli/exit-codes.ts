/** The CLI's exit codes are part of the external contract: scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** Refused (permission, conflict, stale action) or failed (unreachable bot, release failed). */
  failed: 1,
  /** The command line or the configuration is wrong. */
  usage: 2,
} as const;

export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** The API's problem body, printed as-is with --json. */
    readonly body?: unknown,
    /** Print the message as it is (e.g. config problems in file:line:column form, which editors link). */
    readonly plain = false,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}
