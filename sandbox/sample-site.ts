import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/**
 * The KEVINSTAMP sample site that every sandbox Worker version serves. Each version carries a
 * BehaviorSpec so tests (and the demo) can stage a healthy, erroring, slow or off-brand release
 * and watch the bot react to what the site really answers, not to a mocked verdict.
 */

export type HealthState = 'healthy' | 'degraded' | 'unhealthy';

export interface BaseBehavior {
  /** Default healthy; unhealthy → /health 503. */
  health?: HealthState;
  /** Default true; false → /ready 503. */
  ready?: boolean;
  /** Default true; false → the home page lacks "KEVIN" and cultural.kevinBrandingPresent=false. */
  kevin?: boolean;
  /** 0..100 of page requests answered 500, deterministically (never random). */
  errorPercent?: number;
  /** Extra delay on every request. */
  latencyMs?: number;
  /** Default true: /health and /health/detailed include "versionId". */
  reportsVersion?: boolean;
}

export interface BehaviorSpec extends BaseBehavior {
  /** Overlay applied once the version has had > 0 % of traffic in any deployment. */
  afterTraffic?: BaseBehavior;
}

const baseBehaviorSchema = z
  .object({
    health: z.enum(['healthy', 'degraded', 'unhealthy']).optional(),
    ready: z.boolean().optional(),
    kevin: z.boolean().optional(),
    errorPercent: z.number().min(0).max(100).optional(),
    latencyMs: z.number().min(0).max(600_000).optional(),
    reportsVersion: z.boolean().optional(),
  })
  .strict();

/** Validates a BehaviorSpec arriving as JSON (control surface, persisted state). */
export const behaviorSchema = baseBehaviorSchema.extend({ afterTraffic: baseBehaviorSchema.optional() }).strict();

export interface ResolvedBehavior {
  health: HealthState;
  ready: boolean;
  kevin: boolean;
  errorPercent: number;
  latencyMs: number;
  reportsVersion: boolean;
}

/** Applies defaults, and the afterTraffic overlay once the version has had traffic. */
export function resolveBehavior(spec: BehaviorSpec, hadTraffic: boolean): ResolvedBehavior {
  const { afterTraffic, ...base } = spec;
  const merged: BaseBehavior = hadTraffic && afterTraffic ? { ...base, ...afterTraffic } : base;
  return {
    health: merged.health ?? 'healthy',
    ready: merged.ready ?? true,
    kevin: merged.kevin ?? true,
    errorPercent: merged.errorPercent ?? 0,
    latencyMs: merged.latencyMs ?? 0,
    reportsVersion: merged.reportsVersion ?? true,
  };
}

export const BEHAVIOR_PRESETS = [
  'healthy',
  'degraded',
  'erroring:<percent>',
  'slow:<ms>',
  'no-kevin',
  'health-failing',
  'fails-after-traffic',
  'fails-after-traffic:<preset>',
] as const;

/**
 * Parses a behaviour preset such as `erroring:20` or `fails-after-traffic:erroring:20` — the
 * short form people type in the demo and in cross-process tests.
 */
export function parseBehavior(text: string): BehaviorSpec {
  const preset = text.trim();
  const fail = (why: string): never => {
    throw new Error(`Unknown sample-site behaviour "${text}" (${why}). Allowed presets: ${BEHAVIOR_PRESETS.join(', ')}`);
  };
  const numberAfter = (prefix: string, max: number): number => {
    const raw = preset.slice(prefix.length);
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value) || value < 0 || value > max) fail(`"${raw}" is not a number from 0 to ${max}`);
    return value;
  };

  if (preset === 'healthy') return {};
  if (preset === 'degraded') return { health: 'degraded' };
  if (preset === 'no-kevin') return { kevin: false };
  if (preset === 'health-failing') return { health: 'unhealthy', ready: false };
  if (preset === 'fails-after-traffic') return { afterTraffic: { health: 'unhealthy', errorPercent: 100 } };
  if (preset.startsWith('erroring:')) return { errorPercent: numberAfter('erroring:', 100) };
  if (preset.startsWith('slow:')) return { latencyMs: numberAfter('slow:', 600_000) };
  if (preset.startsWith('fails-after-traffic:')) {
    const inner = preset.slice('fails-after-traffic:'.length);
    if (inner.startsWith('fails-after-traffic')) fail('fails-after-traffic cannot be nested');
    const { afterTraffic: _ignored, ...overlay } = parseBehavior(inner);
    return { afterTraffic: overlay };
  }
  return fail('not a preset');
}

export interface SiteVersion {
  id: string;
  tag?: string | undefined;
  number: number;
  behavior: BehaviorSpec;
  /** Whether the version has ever had > 0 % of traffic (switches the afterTraffic overlay on). */
  hadTraffic: boolean;
}

export interface SiteRequest {
  method: string;
  /** Path without the query string, after any preview prefix was stripped. */
  path: string;
}

export interface SiteResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface VersionMetrics {
  /** Percent (0..100) of page requests answered 5xx in the window. */
  errorRate: number;
  /** Milliseconds. */
  avgResponseTime: number;
  requests: number;
  windowSeconds: number;
}

interface ServedPage {
  at: number;
  ms: number;
  error: boolean;
}

interface VersionLedger {
  /** Page requests ever served; drives the deterministic error pattern. */
  pageCount: number;
  window: ServedPage[];
}

const METRICS_WINDOW_SECONDS = 60;
const NON_PAGE_PATHS = new Set(['/ready', '/alive', '/metrics']);

function isPagePath(path: string): boolean {
  return !(path === '/health' || path.startsWith('/health/') || NON_PAGE_PATHS.has(path));
}

/**
 * Request n (1-based) is an error when floor(n·p/100) moved past floor((n−1)·p/100): exactly
 * p % of every run of requests fails, spread evenly, so tests can assert exact rates.
 */
export function isErrorRequest(n: number, percent: number): boolean {
  return Math.floor((n * percent) / 100) > Math.floor(((n - 1) * percent) / 100);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface SampleSiteOptions {
  clock?: () => Date;
}

export class SampleSite {
  readonly #clock: () => Date;
  readonly #ledgers = new Map<string, VersionLedger>();
  readonly #closing = new AbortController();

  constructor(options: SampleSiteOptions = {}) {
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Answers one request as the given version would. Rejects only when the site is closed mid-delay. */
  async respond(version: SiteVersion, request: SiteRequest): Promise<SiteResponse> {
    const started = performance.now();
    const behavior = resolveBehavior(version.behavior, version.hadTraffic);
    if (behavior.latencyMs > 0) await sleep(behavior.latencyMs, undefined, { signal: this.#closing.signal });

    const path = request.path === '' ? '/' : request.path;
    const page = isPagePath(path);
    let response: SiteResponse;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response = this.#text(405, 'method not allowed');
    } else if (page) {
      const ledger = this.#ledger(version.id);
      ledger.pageCount += 1;
      if (isErrorRequest(ledger.pageCount, behavior.errorPercent)) {
        response = this.#html(500, this.#errorPage());
      } else if (path === '/') {
        response = this.#html(200, this.#homePage(version, behavior));
      } else {
        response = this.#html(404, this.#notFoundPage(behavior));
      }
    } else {
      response = this.#probe(path, version, behavior);
    }

    if (page && response.status !== 405) {
      this.#record(version.id, performance.now() - started, response.status >= 500);
    }
    response.headers['x-kevin-version'] = version.id;
    if (request.method === 'HEAD') response.body = '';
    return response;
  }

  /** Page requests this version served in the last 60 s of the injected clock. */
  metrics(versionId: string): VersionMetrics {
    const window = this.#prune(this.#ledger(versionId));
    const requests = window.length;
    const errors = window.filter((p) => p.error).length;
    const totalMs = window.reduce((sum, p) => sum + p.ms, 0);
    return {
      errorRate: requests === 0 ? 0 : round((errors * 100) / requests, 3),
      avgResponseTime: requests === 0 ? 0 : round(totalMs / requests, 1),
      requests,
      windowSeconds: METRICS_WINDOW_SECONDS,
    };
  }

  /** Aborts pending artificial delays so a closing server does not wait for a `slow:` version. */
  close(): void {
    this.#closing.abort();
  }

  #ledger(versionId: string): VersionLedger {
    let ledger = this.#ledgers.get(versionId);
    if (!ledger) {
      ledger = { pageCount: 0, window: [] };
      this.#ledgers.set(versionId, ledger);
    }
    return ledger;
  }

  #record(versionId: string, ms: number, error: boolean): void {
    const ledger = this.#ledger(versionId);
    ledger.window.push({ at: this.#clock().getTime(), ms, error });
    this.#prune(ledger);
  }

  #prune(ledger: VersionLedger): ServedPage[] {
    const cutoff = this.#clock().getTime() - METRICS_WINDOW_SECONDS * 1000;
    // Entries are appended in clock order, so the stale ones are a prefix.
    let stale = 0;
    while (stale < ledger.window.length && (ledger.window[stale] as ServedPage).at <= cutoff) stale += 1;
    if (stale > 0) ledger.window.splice(0, stale);
    return ledger.window;
  }

  #probe(path: string, version: SiteVersion, behavior: ResolvedBehavior): SiteResponse {
    const timestamp = this.#clock().toISOString();
    const versionField = behavior.reportsVersion ? { versionId: version.id } : {};
    switch (path) {
      case '/health':
        return this.#json(behavior.health === 'unhealthy' ? 503 : 200, {
          status: behavior.health,
          timestamp,
          ...versionField,
        });
      case '/health/detailed':
        return this.#json(behavior.health === 'unhealthy' ? 503 : 200, this.#detailed(version, behavior, timestamp));
      case '/ready':
        return this.#json(behavior.ready ? 200 : 503, { ready: behavior.ready });
      case '/alive':
        return this.#json(200, { alive: true });
      case '/metrics':
        return this.#json(200, this.metrics(version.id));
      default:
        // Unknown /health/… sub-paths are not pages: a 404 there must not skew the error rate.
        return this.#text(404, 'not found');
    }
  }

  #detailed(version: SiteVersion, behavior: ResolvedBehavior, timestamp: string): Record<string, unknown> {
    const unhealthy = behavior.health === 'unhealthy';
    const degraded = behavior.health === 'degraded';
    const recent = this.metrics(version.id);
    return {
      status: behavior.health,
      checks: {
        database: !unhealthy,
        // A degraded site keeps serving but has lost its cache; the bot must still refuse it.
        cache: !unhealthy && !degraded,
        email: true,
        staticAssets: !unhealthy,
        kevinContent: behavior.kevin,
      },
      performance: {
        responseTime: recent.requests > 0 ? recent.avgResponseTime : behavior.latencyMs,
        memoryUsage: unhealthy ? 93.5 : 41.2,
        cpuUsage: unhealthy ? 88.0 : 12.4,
      },
      cultural: {
        kevinBrandingPresent: behavior.kevin,
        inquirySystemFunctional: !unhealthy,
        communityDataAccurate: !unhealthy,
      },
      ...(behavior.reportsVersion ? { versionId: version.id } : {}),
      timestamp,
    };
  }

  #homePage(version: SiteVersion, behavior: ResolvedBehavior): string {
    const tag = escapeHtml(version.tag ?? `#${version.number}`);
    if (!behavior.kevin) {
      // The off-brand release: nothing on the page may mention the mascot, in any case.
      return `<!doctype html><html><head><title>Bitcoin Stamps</title></head><body><h1>Bitcoin Stamps</h1><p>Collect on-chain art.</p><footer>release ${tag}</footer></body></html>`;
    }
    return `<!doctype html><html><head><title>KEVIN — Bitcoin Stamps</title></head><body><h1>KEVIN</h1><p>KEVIN is the Bitcoin Stamps mascot: the first stamp of the community, preserved on-chain forever.</p><footer>release ${tag}</footer></body></html>`;
  }

  #notFoundPage(behavior: ResolvedBehavior): string {
    const title = behavior.kevin ? 'KEVIN could not find that page' : 'Page not found';
    return `<!doctype html><html><head><title>404</title></head><body><h1>${title}</h1></body></html>`;
  }

  #errorPage(): string {
    return '<!doctype html><html><head><title>500</title></head><body><h1>Internal Server Error</h1></body></html>';
  }

  #html(status: number, body: string): SiteResponse {
    return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
  }

  #json(status: number, value: unknown): SiteResponse {
    return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
  }

  #text(status: number, body: string): SiteResponse {
    return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
  }
}
