import type { TargetSettings } from '../config/schema.ts';
import type { VersionEndpoint } from './traffic-platform.ts';

/** One read of one version's live figures. A figure the source could not give is null, with the reason. */
export interface MetricReading {
  /** Which source answered, for explanations: "app-json /metrics", "prometheus", "cloudflare-analytics". */
  source: string;
  /** Error rate in percent of requests (0–100). */
  errorRatePercent: number | null;
  /** Average response time in milliseconds. */
  avgResponseMs: number | null;
  /** Requests the figures are based on (guards against judging on no traffic). */
  requests: number | null;
  /** Why figures are missing: "unreachable: ECONNREFUSED", "no data for this version yet"… */
  problem?: string;
}

/** Which version to read, and how to reach it (app-json reads it through the platform's routing). */
export interface MetricSubject {
  versionId: string;
  role: 'green' | 'blue';
  endpoint: VersionEndpoint;
}

/**
 * Where live error rates and latencies come from, chosen per service in `monitor.metrics`. Never
 * throws: a source that cannot answer returns a reading with null figures and a `problem`, which
 * the triggers treat as inconclusive — never as a pass.
 */
export interface MetricsSource {
  read(settings: TargetSettings, subject: MetricSubject, now: Date): Promise<MetricReading>;
}
