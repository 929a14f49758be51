import { performance } from 'node:perf_hooks';
import type { InvocationLog } from './invocation-log.ts';
import { resolveBehavior, SampleSite, type SampleSiteOptions, type SiteRequest, type SiteResponse, type SiteVersion } from './sample-site.ts';

export interface RecordingSampleSiteOptions extends SampleSiteOptions {
  log: InvocationLog;
  /** The script a version belongs to (version ids are unique across scripts). */
  scriptOf: (versionId: string) => string | undefined;
}

/**
 * The sample site, logging each invocation it answers for the analytics endpoint. Its 500 pages
 * stand for an uncaught exception (Cloudflare's 1101 → `scriptThrewException`); `cpuTime` is the
 * measured wall time minus the behaviour's artificial delay (the sandbox cannot measure CPU per
 * request); times are in microseconds, as Cloudflare reports them.
 */
export class RecordingSampleSite extends SampleSite {
  readonly #log: InvocationLog;
  readonly #scriptOf: (versionId: string) => string | undefined;
  readonly #now: () => Date;

  constructor(options: RecordingSampleSiteOptions) {
    super(options.clock ? { clock: options.clock } : {});
    this.#log = options.log;
    this.#scriptOf = options.scriptOf;
    this.#now = options.clock ?? (() => new Date());
  }

  override async respond(version: SiteVersion, request: SiteRequest): Promise<SiteResponse> {
    const atMs = this.#now().getTime();
    const started = performance.now();
    const response = await super.respond(version, request);
    const wallMs = performance.now() - started;
    const script = this.#scriptOf(version.id);
    if (script !== undefined) {
      const delayMs = resolveBehavior(version.behavior, version.hadTraffic).latencyMs;
      this.#log.record({
        script,
        versionId: version.id,
        atMs,
        status: response.status === 500 ? 'scriptThrewException' : 'success',
        httpStatus: response.status,
        wallTimeUs: round(wallMs * 1000),
        cpuTimeUs: round(Math.max(0, wallMs - delayMs) * 1000),
      });
    }
    return response;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
