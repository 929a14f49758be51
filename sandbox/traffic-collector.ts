/**
 * Steady synthetic traffic through the sandbox edge: a few GETs per second, evenly spaced, so
 * the error rates and latencies the bot reads from each version's `/metrics` are measured on
 * real requests rather than invented. The collector also keeps its own tally — who answered
 * (the `x-kevin-version` header) and what failed — for `GET /__stand-in/traffic` and the CLI.
 */

export interface TrafficCollectorOptions {
  /** Base URL of the edge, e.g. 'http://127.0.0.1:Q' (a path prefix such as a preview path is kept). */
  url: string;
  /** Requests started per second; above 0, at most MAX_RATE_PER_SECOND. */
  ratePerSecond: number;
  /** Appended to `url`; default '/' (a page request, which /metrics counts). */
  path?: string;
  /** Per request, headers and body; default 5000. A request that takes longer is a failure. */
  timeoutMs?: number;
  /** Stamps failures and `since`; default () => new Date(). */
  clock?: () => Date;
  /** Requests allowed in flight at once (a tick finding this many is skipped); default 4. */
  maxInFlight?: number;
}

export interface TrafficFailure {
  /** When the failure was observed (the collector's clock). */
  at: string;
  /** The HTTP status (>= 500), or 'error' when there was no complete answer (refused, reset, timeout). */
  status: number | 'error';
  /** The `x-kevin-version` that answered, when an answer arrived with one. */
  version: string | null;
  detail: string;
}

export interface TrafficStats {
  /** Completed requests since `since`: always ok + failed. */
  sent: number;
  ok: number;
  /** Status >= 500 or no complete answer. */
  failed: number;
  /** Keyed by `x-kevin-version`; answers without one count under NO_VERSION. Sums to `sent`. */
  byVersion: Record<string, { ok: number; failed: number }>;
  /** The last MAX_RECENT_FAILURES failures, oldest first. */
  lastFailures: TrafficFailure[];
  /** When counting started (start or last reset), ISO 8601. */
  since: string;
  /** Requests started but not yet answered (not part of `sent`). */
  inFlight: number;
  /** Ticks skipped because maxInFlight requests were still pending (a sign the site is slower than the rate). */
  skipped: number;
}

export interface TrafficCollector {
  stats(): TrafficStats;
  /** Starts counting afresh; answers to requests sent before the reset are not counted. */
  reset(): void;
  /** Sends no more requests and resolves once the ones in flight have finished (and been counted). */
  stop(): Promise<void>;
}

/** The byVersion key for answers that named no version (e.g. the edge's 503 before any deployment, a refused connection). */
export const NO_VERSION = 'none';
export const MAX_RECENT_FAILURES = 20;
export const MAX_RATE_PER_SECOND = 100;
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_IN_FLIGHT = 4;
const DETAIL_CHARS = 200;
const VERSION_HEADER = 'x-kevin-version';

interface Tally {
  ok: number;
  failed: number;
  byVersion: Map<string, { ok: number; failed: number }>;
  lastFailures: TrafficFailure[];
  since: string;
  skipped: number;
}

function freshTally(now: Date): Tally {
  return { ok: 0, failed: 0, byVersion: new Map(), lastFailures: [], since: now.toISOString(), skipped: 0 };
}

function joinUrl(base: string, path: string): string {
  const parsed = new URL(base); // throws on a malformed base: better at start than on every tick
  const prefix = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = `${prefix}${path.startsWith('/') ? path : `/${path}`}`;
  return parsed.toString();
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return `${error.message} (${code})`;
    if (cause instanceof Error) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > DETAIL_CHARS ? `${flat.slice(0, DETAIL_CHARS)}…` : flat;
}

export function startTrafficCollector(options: TrafficCollectorOptions): TrafficCollector {
  const rate = options.ratePerSecond;
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE_PER_SECOND) {
    throw new Error(`ratePerSecond must be above 0 and at most ${MAX_RATE_PER_SECOND}, got ${rate}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive number, got ${timeoutMs}`);
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const target = joinUrl(options.url, options.path ?? '/');
  const clock = options.clock ?? (() => new Date());

  let tally = freshTally(clock());
  let generation = 0;
  let stopped: Promise<void> | undefined;
  const pending = new Set<Promise<void>>();

  const record = (gen: number, version: string | null, failure: Omit<TrafficFailure, 'at' | 'version'> | undefined) => {
    if (gen !== generation) return; // sent before a reset
    const key = version ?? NO_VERSION;
    let entry = tally.byVersion.get(key);
    if (!entry) {
      entry = { ok: 0, failed: 0 };
      tally.byVersion.set(key, entry);
    }
    if (failure === undefined) {
      tally.ok += 1;
      entry.ok += 1;
      return;
    }
    tally.failed += 1;
    entry.failed += 1;
    tally.lastFailures.push({ at: clock().toISOString(), version, ...failure });
    if (tally.lastFailures.length > MAX_RECENT_FAILURES) tally.lastFailures.shift();
  };

  const sendOne = async (gen: number): Promise<void> => {
    let version: string | null = null;
    try {
      const response = await fetch(target, {
        headers: { 'user-agent': 'kevin-deploy-traffic-collector' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      version = response.headers.get(VERSION_HEADER);
      const body = await response.text(); // read fully (same deadline) so the socket is reused
      if (response.status >= 500) {
        record(gen, version, { status: response.status, detail: `HTTP ${response.status}: ${snippet(body)}` });
      } else {
        record(gen, version, undefined);
      }
    } catch (error) {
      record(gen, version, { status: 'error', detail: describeError(error, timeoutMs) });
    }
  };

  const tick = () => {
    if (stopped) return;
    if (pending.size >= maxInFlight) {
      tally.skipped += 1;
      return;
    }
    const request: Promise<void> = sendOne(generation).finally(() => pending.delete(request));
    pending.add(request);
  };

  const timer = setInterval(tick, 1000 / rate);
  timer.unref(); // synthetic traffic alone must not keep a process alive
  tick();

  return {
    stats() {
      const byVersion: TrafficStats['byVersion'] = {};
      for (const [key, value] of tally.byVersion) byVersion[key] = { ...value };
      return {
        sent: tally.ok + tally.failed,
        ok: tally.ok,
        failed: tally.failed,
        byVersion,
        lastFailures: tally.lastFailures.map((f) => ({ ...f })),
        since: tally.since,
        inFlight: pending.size,
        skipped: tally.skipped,
      };
    },
    reset() {
      generation += 1;
      tally = freshTally(clock());
    },
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await Promise.allSettled([...pending]);
      })();
      return stopped;
    },
  };
}
