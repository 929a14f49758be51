import { z } from 'zod';
import type { TargetSettings } from '../../config/schema.ts';
import type { Target } from '../../domain/deployment.ts';
import type { MetricReading } from '../../domain/metric-reading.ts';
import type { MetricSubject, MetricsSource } from '../../ports/metrics-source.ts';

/** The header the sandbox's sample site (and any app that wants the check) answers with its version id. */
export const SERVED_VERSION_HEADER = 'x-kevin-version';

const DEFAULT_PATH = '/metrics';
const MAX_BODY_CHARS = 1_000_000;

/**
 * The seed's `/metrics` JSON: `errorRate` in percent and `avgResponseTime` in milliseconds, over a
 * window the app chooses. A request count is optional (`requests` or `requestCount`). Extra fields
 * (`windowSeconds`, …) are allowed.
 */
export const appMetricsSchema = z.object({
  errorRate: z.number().min(0).max(100),
  avgResponseTime: z.number().min(0),
  requests: z.number().min(0).optional(),
  requestCount: z.number().min(0).optional(),
  /** When the app reports its version in the body, it is checked like the header. */
  versionId: z.string().optional(),
});

export interface AppJsonSourceOptions {
  /** A target\'s settings by service and environment (the source reads its own section and the health timeout). */
  settingsOf: (target: Target) => TargetSettings;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
}

/**
 * Reads a version's own `/metrics` JSON through the platform's routing: the subject's endpoint
 * (the production URL plus the `Cloudflare-Workers-Version-Overrides` header, or a preview URL),
 * so green and blue are read apart even while green has no traffic.
 *
 * When the app does not report a request count, `requests` is null and the domain cannot apply
 * the minimum-traffic guard (`monitor.minRequests`) to that reading: its figures are judged as
 * they come. A reported count of 0 gives null figures ("no requests in the app's window"), so an
 * app that says "0 % errors" about no traffic is never taken for a pass.
 *
 * Never throws: unreachable, timeout, non-2xx, bad JSON, another version answering → null
 * figures with a `problem`.
 */
export class AppJsonSource implements MetricsSource {
  private readonly fetchImpl: typeof fetch;

  private readonly settingsOf: (target: Target) => TargetSettings;

  constructor(options: AppJsonSourceOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.settingsOf = options.settingsOf;
  }

  async read(target: Target, subject: MetricSubject, _now: Date): Promise<MetricReading> {
    const settings = this.settingsOf(target);
    const metrics = settings.monitor.metrics;
    const path = metrics.source === 'app-json' ? metrics.path : DEFAULT_PATH;
    const source = `app-json ${path}`;
    const fail = (problem: string): MetricReading => ({ source, errorRatePercent: null, avgResponseMs: null, requests: null, problem });
    const timeoutMs = settings.health.timeout;

    let status: number;
    let servedBy: string | null;
    let body: string;
    try {
      const response = await this.fetchImpl(joinUrl(subject.endpoint.baseUrl, path), {
        headers: { ...subject.endpoint.headers, accept: 'application/json', 'user-agent': 'kevin-deploy-metrics', 'cache-control': 'no-cache' },
        redirect: 'follow',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      servedBy = response.headers.get(SERVED_VERSION_HEADER);
      body = (await response.text()).slice(0, MAX_BODY_CHARS);
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return fail(timedOut ? `no answer from ${path} within ${timeoutMs} ms` : `unreachable: ${describeFetchError(error)}`);
    }

    if (servedBy !== null && servedBy !== subject.versionId) {
      return fail(`answered by another version (${shortId(servedBy)}, expected ${shortId(subject.versionId)}): the request did not reach ${subject.role}`);
    }
    if (status < 200 || status >= 300) return fail(`HTTP ${status} from ${path}`);

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return fail(`${path} did not answer JSON`);
    }
    const parsed = appMetricsSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'invalid';
      return fail(`unexpected shape from ${path} (${where}); expected {errorRate: percent, avgResponseTime: ms}`);
    }
    const value = parsed.data;
    if (value.versionId !== undefined && value.versionId !== subject.versionId) {
      return fail(`answered by another version (${shortId(value.versionId)}, expected ${shortId(subject.versionId)}): the request did not reach ${subject.role}`);
    }

    const requests = value.requests ?? value.requestCount ?? null;
    if (requests === 0) {
      return { source, errorRatePercent: null, avgResponseMs: null, requests: 0, problem: `no requests in the app's window yet` };
    }
    return { source, errorRatePercent: value.errorRate, avgResponseMs: value.avgResponseTime, requests };
  }
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
