import { z } from 'zod';
import { CF_CODES, CF_MESSAGES, failure, type ApiResult } from './cloudflare-envelope.ts';

/**
 * Scripted API failures: the ways Cloudflare (or the network in front of it) lets a release bot
 * down. 'drop-after-apply' is the one that matters most — the change is made and the answer is
 * lost, so the SDK retries a POST that already happened (design principle 3: idempotent switches).
 */

export type FaultKind = 'status' | 'latency' | 'drop-after-apply' | 'drop-before-apply';

export interface FaultSpec {
  /** HTTP method to match (case-insensitive); any method when omitted. */
  method?: string;
  /** Matched against the request path (no query string): as a substring, or else as a RegExp source. */
  path?: string;
  kind: FaultKind;
  /** For 'status': 429, 500, 502, 503 (any 4xx/5xx is accepted). */
  status?: number;
  /** For 'status' 429: the retry-after header, in seconds. */
  retryAfterSeconds?: number;
  /** For 'latency': delay before handling normally. */
  latencyMs?: number;
  /** How many matching requests this fault applies to; default 1, −1 for every one. */
  times?: number;
}

export const faultSpecSchema = z
  .object({
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    kind: z.enum(['status', 'latency', 'drop-after-apply', 'drop-before-apply']),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().min(0).optional(),
    latencyMs: z.number().min(0).max(600_000).optional(),
    times: z.union([z.literal(-1), z.number().int().min(1)]).optional(),
  })
  .strict()
  .refine((f) => f.kind !== 'status' || f.status !== undefined, { message: "a 'status' fault needs a status" })
  .refine((f) => f.kind !== 'latency' || f.latencyMs !== undefined, { message: "a 'latency' fault needs latencyMs" });

interface ArmedFault {
  spec: FaultSpec;
  remaining: number;
  pathPattern: RegExp | undefined;
}

function compilePath(path: string | undefined): RegExp | undefined {
  if (path === undefined) return undefined;
  try {
    return new RegExp(path);
  } catch {
    return undefined; // not a valid RegExp: it can still match as a plain substring
  }
}

export class FaultInjector {
  readonly #armed: ArmedFault[] = [];

  inject(spec: FaultSpec): void {
    const parsed = faultSpecSchema.parse(spec);
    const times = parsed.times ?? 1;
    this.#armed.push({
      spec: parsed,
      remaining: times === -1 ? Number.POSITIVE_INFINITY : times,
      pathPattern: compilePath(parsed.path),
    });
  }

  clear(): void {
    this.#armed.length = 0;
  }

  pending(): FaultSpec[] {
    return this.#armed.map((f) => ({ ...f.spec, times: Number.isFinite(f.remaining) ? f.remaining : -1 }));
  }

  /** The first armed fault (in injection order) matching the request, consuming one of its `times`. */
  take(method: string, path: string): FaultSpec | undefined {
    const index = this.#armed.findIndex((f) => matches(f, method, path));
    if (index < 0) return undefined;
    const fault = this.#armed[index] as ArmedFault;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#armed.splice(index, 1);
    return fault.spec;
  }
}

function matches(fault: ArmedFault, method: string, path: string): boolean {
  if (fault.spec.method !== undefined && fault.spec.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.spec.path === undefined) return true;
  return path.includes(fault.spec.path) || (fault.pathPattern?.test(path) ?? false);
}

/** The Cloudflare-shaped answer to a 'status' fault. Nothing is applied. */
export function faultResponse(spec: FaultSpec): ApiResult {
  const status = spec.status ?? 500;
  const headers: Record<string, string> = {};
  if (status === 429 || spec.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(spec.retryAfterSeconds ?? 1);
  }
  if (status === 429) return failure(429, CF_CODES.rateLimited, CF_MESSAGES.rateLimited, headers);
  if (status === 401 || status === 403) {
    return failure(status, CF_CODES.authentication, CF_MESSAGES.authentication, headers);
  }
  return failure(status, CF_CODES.unknown, CF_MESSAGES.unknown, headers);
}
