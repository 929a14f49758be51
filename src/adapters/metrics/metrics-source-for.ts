import type { TargetSettings } from '../../config/schema.ts';
import type { Target } from '../../domain/deployment.ts';
import type { ReleaseSettings } from '../../domain/release-settings.ts';
import type { MetricsSource } from '../../ports/metrics-source.ts';
import { AppJsonSource } from './app-json-source.ts';
import { CloudflareAnalyticsSource } from './cloudflare-analytics-source.ts';
import { PrometheusSource } from './prometheus-source.ts';

export interface MetricsSourceDeps {
  /** Injected for tests and proxies (app-json, Prometheus and the Cloudflare SDK); defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
  /** The same credentials as the Workers adapter; baseUrl is e.g. $CLOUDFLARE_BASE_URL (default the public API). */
  cloudflare: { apiToken: string; baseUrl?: string | undefined };
  /** Each target's settings by service and environment: sources read their own section at each read. */
  settingsOf: (target: Target) => TargetSettings;
}

/**
 * The metrics source a target's `monitor.metrics.source` names, or undefined for `none`.
 *
 * Sources take their settings at each read (path, queries, lag, timeout), so one instance per kind
 * serves every target; instances are cached per `deps` object, so the Cloudflare SDK client is
 * built once. Pass the same deps object to share the cache.
 */
export function metricsSourceFor(settings: Pick<ReleaseSettings, 'monitor'>, deps: MetricsSourceDeps): MetricsSource | undefined {
  const kind = settings.monitor.metrics.source as SourceKind | 'none';
  if (kind === 'none') return undefined;
  let cache = CACHE.get(deps);
  if (!cache) {
    cache = new Map();
    CACHE.set(deps, cache);
  }
  const cached = cache.get(kind);
  if (cached) return cached;
  const created = create(kind, deps);
  cache.set(kind, created);
  return created;
}

type SourceKind = Exclude<TargetSettings['monitor']['metrics']['source'], 'none'>;

const CACHE = new WeakMap<MetricsSourceDeps, Map<SourceKind, MetricsSource>>();

function create(kind: SourceKind, deps: MetricsSourceDeps): MetricsSource {
  switch (kind) {
    case 'app-json':
      return new AppJsonSource({ fetch: deps.fetch, settingsOf: deps.settingsOf });
    case 'prometheus':
      return new PrometheusSource({ fetch: deps.fetch, settingsOf: deps.settingsOf });
    case 'cloudflare-analytics':
      return new CloudflareAnalyticsSource({ apiToken: deps.cloudflare.apiToken, baseUrl: deps.cloudflare.baseUrl, fetch: deps.fetch, settingsOf: deps.settingsOf });
  }
}
