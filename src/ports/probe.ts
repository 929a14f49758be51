import type { CheckResult } from '../domain/deployment.ts';

export interface ProbeRequest {
  baseUrl: string;
  headers: Record<string, string>;
  paths: { health: string; detailed: string | null; ready: string | null };
  contentChecks: ReadonlyArray<{ path: string; contains: string }>;
  timeoutMs: number;
  /** When the app reports the version it runs, it must be this one. */
  expectVersion: string | null;
}

/** Runs the health, readiness, version and content checks against one base URL. Never throws: failures are results. */
export interface Probe {
  run(request: ProbeRequest): Promise<CheckResult[]>;
}
