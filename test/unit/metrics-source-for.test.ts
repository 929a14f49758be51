import { describe, expect, it } from 'vitest';
import { AppJsonSource } from '../../src/adapters/metrics/app-json-source.ts';
import { CloudflareAnalyticsSource } from '../../src/adapters/metrics/cloudflare-analytics-source.ts';
import { metricsSourceFor, type MetricsSourceDeps } from '../../src/adapters/metrics/metrics-source-for.ts';
import { PrometheusSource } from '../../src/adapters/metrics/prometheus-source.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import { settingsCarriedByTarget, workersTarget } from '../support/workers-target.ts';

const base = workersTarget({ productionUrl: 'https://kevinstamp.example' });

function withMetrics(metrics: TargetSettings['monitor']['metrics']): TargetSettings {
  return { ...base, monitor: { ...base.monitor, metrics } };
}

const prometheus = withMetrics({
  source: 'prometheus',
  url: 'http://prometheus.example:9090',
  errorRate: 'e{v="{version}"}',
  avgResponseTime: 'l{v="{version}"}',
  requests: 'r{v="{version}"}',
});

describe('metricsSourceFor', () => {
  it('picks the source monitor.metrics names, none for "none"', () => {
    const deps: MetricsSourceDeps = { cloudflare: { apiToken: 't', baseUrl: 'http://127.0.0.1:1/client/v4' }, settingsOf: settingsCarriedByTarget };
    expect(base.monitor.metrics.source).toBe('app-json');
    expect(metricsSourceFor(base, deps)).toBeInstanceOf(AppJsonSource);
    expect(metricsSourceFor(prometheus, deps)).toBeInstanceOf(PrometheusSource);
    expect(metricsSourceFor(withMetrics({ source: 'cloudflare-analytics', lag: 120_000 }), deps)).toBeInstanceOf(CloudflareAnalyticsSource);
    expect(metricsSourceFor(withMetrics({ source: 'none' }), deps)).toBeUndefined();
  });

  it('keeps one source per kind per deps object', () => {
    const deps: MetricsSourceDeps = { cloudflare: { apiToken: 't' }, settingsOf: settingsCarriedByTarget };
    const other: MetricsSourceDeps = { cloudflare: { apiToken: 'u' }, settingsOf: settingsCarriedByTarget };
    const cf = withMetrics({ source: 'cloudflare-analytics', lag: 60_000 });
    expect(metricsSourceFor(cf, deps)).toBe(metricsSourceFor(withMetrics({ source: 'cloudflare-analytics', lag: 1_000 }), deps));
    expect(metricsSourceFor(cf, deps)).not.toBe(metricsSourceFor(cf, other));
    expect(metricsSourceFor(base, deps)).toBe(metricsSourceFor(base, deps));
  });

  it('a source handed settings of another kind says so instead of guessing', async () => {
    const source = metricsSourceFor(prometheus, { cloudflare: { apiToken: 't' }, settingsOf: settingsCarriedByTarget })!;
    const reading = await source.read(base, { versionId: 'v', role: 'green', endpoint: { baseUrl: 'http://x.invalid', headers: {} } }, new Date());
    expect(reading).toEqual({
      source: 'prometheus',
      errorRatePercent: null,
      avgResponseMs: null,
      requests: null,
      problem: 'monitor.metrics.source is app-json, not prometheus',
    });
  });

  it('a Cloudflare analytics source without a token says so at read time', async () => {
    const source = metricsSourceFor(withMetrics({ source: 'cloudflare-analytics', lag: 120_000 }), { cloudflare: { apiToken: '' }, settingsOf: settingsCarriedByTarget })!;
    const reading = await source.read(base, { versionId: 'v', role: 'green', endpoint: { baseUrl: 'http://x.invalid', headers: {} } }, new Date());
    expect(reading.problem).toBe('no Cloudflare API token to read analytics with');
    expect(reading.requests).toBeNull();
  });
});
