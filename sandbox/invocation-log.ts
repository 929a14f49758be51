/**
 * Every invocation the edge routed to a version and the sample site answered, stamped with the
 * stand-in's (injectable) clock: what the GraphQL Analytics endpoint (analytics-graphql.ts) counts.
 */

export type InvocationStatus = 'success' | 'scriptThrewException';

export interface InvocationRecord {
  script: string;
  versionId: string;
  /** When the invocation started, by the stand-in's clock (ISO 8601). */
  datetime: string;
  status: InvocationStatus;
  /** The HTTP status the Worker answered. */
  httpStatus: number;
  wallTimeUs: number;
  cpuTimeUs: number;
}

export interface LoggedInvocation extends Omit<InvocationRecord, 'datetime'> {
  atMs: number;
}

/** Invocations served by the edge, oldest first, bounded (the oldest are forgotten first). */
export class InvocationLog {
  readonly #records: LoggedInvocation[] = [];

  constructor(readonly capacity = 200_000) {}

  record(invocation: LoggedInvocation): void {
    this.#records.push(invocation);
    if (this.#records.length > this.capacity) this.#records.splice(0, this.#records.length - this.capacity);
  }

  /** Every logged invocation of the script (or all scripts), oldest first. */
  list(script?: string): InvocationRecord[] {
    return this.#records.filter((r) => script === undefined || r.script === script).map(toRecord);
  }

  /** @internal the raw entries, for the query executor. */
  entries(): readonly LoggedInvocation[] {
    return this.#records;
  }
}

function toRecord(r: LoggedInvocation): InvocationRecord {
  const { atMs, ...rest } = r;
  return { ...rest, datetime: new Date(atMs).toISOString() };
}
