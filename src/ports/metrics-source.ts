import type { Target } from '../domain/deployment.ts';
import type { MetricReading } from '../domain/metric-reading.ts';
import type { VersionEndpoint } from './traffic-platform.ts';


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
  /** The target is named; the source knows its own settings for it (path, queries, lag, timeout). */
  read(target: Target, subject: MetricSubject, now: Date): Promise<MetricReading>;
}
