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
