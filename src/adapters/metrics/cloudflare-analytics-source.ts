import Cloudflare, { APIConnectionError, APIConnectionTimeoutError, APIError, AuthenticationError, PermissionDeniedError } from 'cloudflare';
import { z } from 'zod';
import type { TargetSettings } from '../../config/schema.ts';
import type { Target } from '../../domain/deployment.ts';
import type { MetricReading } from '../../domain/metric-reading.ts';
import type { MetricSubject, MetricsSource } from '../../ports/metrics-source.ts';

export interface CloudflareAnalyticsSourceOptions {
  /** A target\'s settings by service and environment (the source reads its own section and the health timeout). */
  settingsOf: (target: Target) => TargetSettings;
  apiToken: string;
  /** e.g. https://api.cloudflare.com/client/v4 (the default), or a local stand-in. */
  baseUrl?: string | undefined;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
  /** SDK retries on connection errors, 408/409/429/5xx (the query is a read, so safe to repeat). Default 1. */
  maxRetries?: number | undefined;
}

/**
 * One version of one Worker over one window, from the `workersInvocationsAdaptive` dataset. The
 * query is written in the shape of Cloudflare's own tutorial ("Querying Workers Metrics with
 * GraphQL": `accounts(filter:{accountTag})`, `filter:{scriptName, datetime_geq, datetime_leq}`,
 * `sum{requests errors}`, `quantiles{cpuTimeP50}`); `scriptVersion` (filter and dimension) and
 * `wallTimeP50` come from public code that runs against the live API, not from the reference.
 */
export const VERSION_METRICS_QUERY = `query KevinDeployVersionMetrics($accountTag: string!, $scriptName: string!, $scriptVersion: string!, $since: Time!, $until: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      workersInvocationsAdaptive(
        limit: 100
        filter: { scriptName: $scriptName, scriptVersion: $scriptVersion, datetime_geq: $since, datetime_leq: $until }
      ) {
        sum { requests errors }
        quantiles { cpuTimeP50 wallTimeP50 }
        dimensions { scriptVersion }
      }
    }
  }
}`;

/**
 * The same without the script filter, for blue and green as two Workers (platform
 * cloudflare-workers-routes): a version id belongs to one Worker, so it alone picks the rows.
 */
export const VERSION_ONLY_METRICS_QUERY = VERSION_METRICS_QUERY.replace(', $scriptName: string!', '').replace('scriptName: $scriptName, ', '');

const rowSchema = z.object({
  sum: z.object({ requests: z.number(), errors: z.number() }),
  quantiles: z.object({ cpuTimeP50: z.number().nullish(), wallTimeP50: z.number().nullish() }).nullish(),
  dimensions: z.object({ scriptVersion: z.string().nullish() }).nullish(),
});

const graphqlErrorSchema = z.object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])).nullish() });

const answerSchema = z.object({
  data: z
    .object({
      viewer: z.object({
        accounts: z.array(z.object({ workersInvocationsAdaptive: z.array(rowSchema).nullish() })),
      }).nullish(),
    })
    .nullish(),
  errors: z.array(graphqlErrorSchema).nullish(),
});

export type AnalyticsWindow = { since: Date; until: Date };

/**
 * The window one sample reads: the monitoring interval that ended `lag` ago, because Cloudflare's
 * analytics arrive a minute or two late — [now − lag − interval, now − lag].
 */
export function analyticsWindow(settings: TargetSettings, now: Date): AnalyticsWindow {
  const metrics = settings.monitor.metrics;
  const lag = metrics.source === 'cloudflare-analytics' ? metrics.lag : 0;
  const until = new Date(now.getTime() - lag);
  return { since: new Date(until.getTime() - settings.monitor.interval), until };
}

/**
 * Live figures from Cloudflare's GraphQL Analytics API (`POST /client/v4/graphql`), per Worker
 * version: requests and errors of the window, and the median wall time.
 *
 * - errorRatePercent = 100 × errors / requests. Cloudflare's `errors` are invocations whose status
 *   is scriptThrewException, exceededResources or internalError — not HTTP 5xx responses the Worker
 *   returned itself. An app that answers its own 500s needs app-json or Prometheus to see them.
 * - avgResponseMs = `quantiles.wallTimeP50` / 1000: the median wall time (microseconds in the API,
 *   as every public client converts it), not a mean — the dataset has no verified average.
 *   With several rows it is the request-weighted mean of their medians.
 * - The data is sampled (adaptive bit rate), so sums are Cloudflare's estimates, and late.
 * - No rows → requests 0, figures null ("no data yet").
 *
 * GraphQL reports query errors in `errors` next to HTTP 200, which the SDK does not throw:
 * they are checked here and become the reading's problem. Never throws.
 */
export class CloudflareAnalyticsSource implements MetricsSource {
  private readonly cf: Cloudflare;
  private readonly hasToken: boolean;

  private readonly settingsOf: (target: Target) => TargetSettings;

  constructor(options: CloudflareAnalyticsSourceOptions) {
    this.settingsOf = options.settingsOf;
    this.hasToken = options.apiToken.trim() !== '';
    this.cf = new Cloudflare({
      // The SDK insists on some credential at construction; an empty token is reported per read instead.
      apiToken: this.hasToken ? options.apiToken : 'missing-token',
      // Only the token is used; keep the SDK from picking other credentials up from the environment.
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      baseURL: options.baseUrl ?? 'https://api.cloudflare.com/client/v4',
      maxRetries: options.maxRetries ?? 1,
      logLevel: 'off',
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  async read(target: Target, subject: MetricSubject, now: Date): Promise<MetricReading> {
    const settings = this.settingsOf(target);
    const source = 'cloudflare-analytics';
    const fail = (problem: string): MetricReading => ({ source, errorRatePercent: null, avgResponseMs: null, requests: null, problem });
    if (!this.hasToken) return fail('no Cloudflare API token to read analytics with');

    const { accountId } = settings.platform;
    const scriptName = settings.platform.type === 'cloudflare-workers' ? settings.platform.scriptName : undefined;
    const window = analyticsWindow(settings, now);
    let raw: unknown;
    try {
      raw = await this.cf.post('/graphql', {
        body: {
          query: scriptName === undefined ? VERSION_ONLY_METRICS_QUERY : VERSION_METRICS_QUERY,
          variables: {
            accountTag: accountId,
            ...(scriptName === undefined ? {} : { scriptName }),
            scriptVersion: subject.versionId,
            since: window.since.toISOString(),
            until: window.until.toISOString(),
          },
        },
        timeout: settings.health.timeout,
      });
    } catch (error) {
      return fail(describeError(error, accountId));
    }

    const answer = answerSchema.safeParse(raw);
    if (!answer.success) return fail('Cloudflare analytics answered something that is not a GraphQL response');
    const { data, errors } = answer.data;
    if (errors && errors.length > 0) return fail(`Cloudflare analytics refused the query: ${graphqlMessages(errors)}`);
    const account = data?.viewer?.accounts[0];
    if (!account) return fail(`Cloudflare analytics returned no account ${accountId} (check platform.accountId and the token's "Account Analytics: Read")`);

    const rows = (account.workersInvocationsAdaptive ?? []).filter(
      // Defensive: the filter already asks for this version only.
      (row) => row.dimensions?.scriptVersion === undefined || row.dimensions.scriptVersion === null || row.dimensions.scriptVersion === subject.versionId,
    );
    const requests = rows.reduce((n, row) => n + row.sum.requests, 0);
    const errorCount = rows.reduce((n, row) => n + row.sum.errors, 0);
    const windowText = `${window.since.toISOString()} – ${window.until.toISOString()}`;
    if (requests <= 0) {
      return { source, errorRatePercent: null, avgResponseMs: null, requests: 0, problem: `no data yet for version ${subject.versionId.slice(0, 8)} in ${windowText}` };
    }

    const timed = rows.filter((row) => typeof row.quantiles?.wallTimeP50 === 'number' && row.sum.requests > 0);
    const timedRequests = timed.reduce((n, row) => n + row.sum.requests, 0);
    const avgResponseMs =
      timedRequests > 0 ? timed.reduce((sum, row) => sum + (row.quantiles!.wallTimeP50 as number) * row.sum.requests, 0) / timedRequests / 1000 : null;

    const reading: MetricReading = {
      source,
      errorRatePercent: (100 * errorCount) / requests,
      avgResponseMs,
      requests,
    };
    if (avgResponseMs === null) reading.problem = 'Cloudflare reported no wall-time quantile for this version';
    return reading;
  }
}

function graphqlMessages(errors: Array<z.infer<typeof graphqlErrorSchema>>): string {
  return errors
    .slice(0, 3)
    .map((e) => (e.path && e.path.length > 0 ? `${e.message} (at ${e.path.join('.')})` : e.message))
    .join('; ');
}

function describeError(error: unknown, accountId: string): string {
  if (error instanceof APIConnectionTimeoutError) return 'Cloudflare analytics did not answer in time';
  if (error instanceof APIConnectionError) return `Cloudflare analytics unreachable (${error.message})`;
  if (error instanceof AuthenticationError) return 'Cloudflare rejected the API token (401) reading analytics: check CLOUDFLARE_API_TOKEN';
  if (error instanceof PermissionDeniedError) {
    return `the Cloudflare token may not read analytics of account ${accountId} (403): give it "Account Analytics: Read"`;
  }
  if (error instanceof APIError) {
    // GraphQL errors on a non-2xx answer (Cloudflare documents 400 for malformed queries) arrive in the body's errors.
    const messages = (error.errors ?? [])
      .map((e: unknown) => (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : undefined))
      .filter((m): m is string => m !== undefined);
    return `Cloudflare analytics failed (HTTP ${error.status ?? '?'})${messages.length > 0 ? `: ${messages.slice(0, 3).join('; ')}` : ''}`;
  }
  return `Cloudflare analytics failed: ${error instanceof Error ? error.message : String(error)}`;
}
