import { z } from 'zod';
import type { TargetSettings } from '../../config/schema.ts';
import type { Target } from '../../domain/deployment.ts';
import type { MetricReading } from '../../domain/metric-reading.ts';
import type { MetricSubject, MetricsSource } from '../../ports/metrics-source.ts';

const MAX_BODY_CHARS = 2_000_000;

/**
 * The Prometheus HTTP API envelope (`GET /api/v1/query`): `status` "success" or "error"; on error
 * `errorType` and `error` (400 bad parameters/query, 422 cannot execute, 503 timeout/abort); on
 * success `data: {resultType, result}`. A vector is `[{metric: {…}, value: [<unix seconds>, "<value>"]}]`,
 * a scalar `[<unix seconds>, "<value>"]`; sample values are strings ("NaN", "+Inf" included).
 */
const sampleSchema = z.tuple([z.number(), z.string()]);
const envelopeSchema = z.object({
  status: z.enum(['success', 'error']),
  data: z
    .object({
      resultType: z.string(),
      result: z.unknown(),
    })
    .optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});
const vectorSchema = z.array(z.object({ metric: z.record(z.string(), z.string()).optional(), value: sampleSchema }));

type Signal = 'errorRate' | 'avgResponseTime' | 'requests';

/** One query's outcome: its value, or null with why. */
type Figure = { value: number } | { value: null; problem: string };

export interface PrometheusSourceOptions {
  /** A target\'s settings by service and environment (the source reads its own section and the health timeout). */
  settingsOf: (target: Target) => TargetSettings;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
}

/**
 * Live figures from Prometheus: three instant queries (`monitor.metrics.errorRate`,
 * `avgResponseTime`, `requests`), evaluated at the sample's time, with `{version}` replaced by the
 * version id (and `{script}` by the Worker's script name). Each query must return one number: an
 * instant vector with one series, or a scalar. The queries carry the units: error rate in percent,
 * response time in milliseconds, requests as a count over whatever range the query chooses.
 *
 * An empty vector is "no data" for that figure; NaN (e.g. 0/0 with no traffic) and ±Inf too. A
 * vector with several series is ambiguous and not guessed at (aggregate it in the query). Each
 * query has `health.timeout`. Never throws.
 */
export class PrometheusSource implements MetricsSource {
  private readonly fetchImpl: typeof fetch;

  private readonly settingsOf: (target: Target) => TargetSettings;

  constructor(options: PrometheusSourceOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.settingsOf = options.settingsOf;
  }

  async read(target: Target, subject: MetricSubject, now: Date): Promise<MetricReading> {
    const settings = this.settingsOf(target);
    const source = 'prometheus';
    const metrics = settings.monitor.metrics;
    if (metrics.source !== 'prometheus') {
      return { source, errorRatePercent: null, avgResponseMs: null, requests: null, problem: `monitor.metrics.source is ${metrics.source}, not prometheus` };
    }
    // With blue and green as two Workers (cloudflare-workers-routes) there is no one script: the
    // configuration refuses {script} there, {version} alone picks the series.
    const script = settings.platform.type === 'cloudflare-workers' ? settings.platform.scriptName : '';
    const substitute = (query: string): string =>
      query.replaceAll('{version}', promqlEscape(subject.versionId)).replaceAll('{script}', promqlEscape(script));
    const ask = (signal: Signal, query: string) => this.query(metrics.url, substitute(query), now, settings.health.timeout, signal);

    const [errorRate, avgResponseTime, requests] = await Promise.all([
      ask('errorRate', metrics.errorRate),
      ask('avgResponseTime', metrics.avgResponseTime),
      ask('requests', metrics.requests),
    ]);
    const checked = {
      errorRate: inRange(errorRate, 0, 100, 'an error rate in percent'),
      avgResponseTime: inRange(avgResponseTime, 0, Number.POSITIVE_INFINITY, 'a response time in ms'),
      requests: inRange(requests, 0, Number.POSITIVE_INFINITY, 'a request count'),
    };

    const reading: MetricReading = {
      source,
      errorRatePercent: checked.errorRate.value,
      avgResponseMs: checked.avgResponseTime.value,
      requests: checked.requests.value,
    };
    const missing = (Object.entries(checked) as Array<[Signal, Figure]>).flatMap(([signal, figure]) =>
      figure.value === null ? [{ signal, problem: figure.problem }] : [],
    );
    // Prometheus down says the same thing three times: say it once.
    const problems = (missing.length === 3 && sameCause(missing.map((m) => m.problem))) || missing.map((m) => `${m.signal}: ${m.problem}`);
    if (reading.requests === 0) {
      // Figures about no traffic mean nothing, whatever the queries made of them.
      reading.errorRatePercent = null;
      reading.avgResponseMs = null;
      problems.push('no requests for this version in the queried range');
    }
    if (problems.length > 0) reading.problem = problems.join('; ');
    return reading;
  }

  private async query(baseUrl: string, promql: string, now: Date, timeoutMs: number, signal: Signal): Promise<Figure> {
    const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    url.searchParams.set('query', promql);
    url.searchParams.set('time', (now.getTime() / 1000).toFixed(3));

    let status: number;
    let text: string;
    try {
      const response = await this.fetchImpl(url, {
        headers: { accept: 'application/json', 'user-agent': 'kevin-deploy-metrics' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = (await response.text()).slice(0, MAX_BODY_CHARS);
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { value: null, problem: timedOut ? `Prometheus did not answer within ${timeoutMs} ms` : `Prometheus unreachable: ${describeFetchError(error)}` };
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { value: null, problem: status >= 200 && status < 300 ? 'Prometheus did not answer JSON' : `HTTP ${status} from Prometheus` };
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) return { value: null, problem: `HTTP ${status}: not a Prometheus API answer` };
    const answer = envelope.data;
    if (answer.status === 'error') {
      return { value: null, problem: `Prometheus error (${answer.errorType ?? `HTTP ${status}`}): ${answer.error ?? 'no message'}` };
    }
    if (status < 200 || status >= 300) return { value: null, problem: `HTTP ${status} from Prometheus` };
    if (!answer.data) return { value: null, problem: 'Prometheus answered success without data' };

    const { resultType, result } = answer.data;
    if (resultType === 'scalar') {
      const sample = sampleSchema.safeParse(result);
      if (!sample.success) return { value: null, problem: 'malformed scalar result' };
      return sampleValue(sample.data[1]);
    }
    if (resultType !== 'vector') {
      return { value: null, problem: `the ${signal} query returned a ${resultType}; it must return an instant vector or a scalar` };
    }
    const vector = vectorSchema.safeParse(result);
    if (!vector.success) return { value: null, problem: 'malformed vector result' };
    if (vector.data.length === 0) return { value: null, problem: 'no data for this version' };
    if (vector.data.length > 1) {
      return { value: null, problem: `the query returned ${vector.data.length} series; aggregate it (e.g. sum(…)) so it returns one` };
    }
    return sampleValue(vector.data[0]!.value[1]);
  }
}

/**
 * When every query failed the same way, one problem says it — unreachable counts as one way even
 * with different codes ("ECONNREFUSED", "UND_ERR_SOCKET" from a reused connection).
 */
function sameCause(problems: string[]): string[] | undefined {
  const split = problems.map((p) => {
    const at = p.indexOf(': ');
    return at < 0 ? { cause: p, detail: '' } : { cause: p.slice(0, at), detail: p.slice(at + 2) };
  });
  const cause = split[0]!.cause;
  if (!split.every((s) => s.cause === cause)) return undefined;
  const details = [...new Set(split.map((s) => s.detail).filter((d) => d !== ''))];
  // Different messages of the same kind stay attributed to their query, unless the server is simply unreachable.
  if (details.length > 1 && cause !== 'Prometheus unreachable') return undefined;
  return [details.length > 0 ? `${cause}: ${details.join(', ')}` : cause];
}

function sampleValue(raw: string): Figure {
  const value = Number(raw);
  if (raw.trim() === '' || Number.isNaN(value)) return { value: null, problem: 'no data (NaN)' };
  if (!Number.isFinite(value)) return { value: null, problem: `no usable value (${raw})` };
  return { value };
}

function inRange(figure: Figure, min: number, max: number, what: string): Figure {
  if (figure.value === null) return figure;
  if (figure.value < min || figure.value > max) {
    return { value: null, problem: `${figure.value} is not ${what}${max === 100 ? ' (0–100; a ratio must be multiplied by 100)' : ''}` };
  }
  return figure;
}

/** Escapes a value for use inside a double-quoted PromQL string (version ids are UUIDs; this is belt and braces). */
function promqlEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
