import type Cloudflare from 'cloudflare';
import type { Split, Target, VersionInfo } from '../../domain/deployment.ts';
import type { GreenReach, LiveTraffic } from '../../domain/inputs.ts';
import { describeSplit, sameSplit } from '../../domain/split.ts';
import { PlatformError, type TrafficPlatform, type VersionEndpoint, type VersionSummary } from '../../ports/traffic-platform.ts';
import { createCloudflareClient, targetOfType, VERSION_OVERRIDES_HEADER, WorkersSubdomains, type CloudflareTarget, type CloudflareTargetOf, type Envelope, type RawDeployment, type RawVersion } from './cloudflare-client.ts';
import { mapCloudflareError, type CallContext } from './map-cloudflare-error.ts';
import { isVersionId, matchRef, toInfo } from './version-lookup.ts';

export type { CloudflareTarget } from './cloudflare-client.ts';

/** A target on the version-split platform (`type: cloudflare-workers`): one Worker. */
type WorkersTarget = CloudflareTargetOf<'cloudflare-workers'>;

export interface WorkersPlatformOptions {
  apiToken: string;
  /**
   * A target's Cloudflare settings, by service and environment: the engine names targets, this
   * adapter knows what Cloudflare calls them (account, script, how green is reached).
   */
  settingsOf: (target: Target) => CloudflareTarget;
  /** e.g. https://api.cloudflare.com/client/v4, or a local stand-in. */
  baseUrl?: string | undefined;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  /** Told of every API call as it ends (`/metrics` counts them per kind and outcome). */
  onCall?: ((call: CloudflareCall, outcome: 'ok' | 'error') => void) | undefined;
}

/** The kinds of Cloudflare API call this adapter makes; a switch is read, create, read. */
export type CloudflareCall = 'list-deployable-versions' | 'list-recent-versions' | 'get-version' | 'read-deployment' | 'create-deployment' | 'read-subdomain';

/**
 * Cloudflare Workers as a traffic platform: versions are uploaded by CI (`wrangler versions
 * upload --tag`), and a deployment splits traffic between at most two of them by percentage.
 *
 * Raw client calls are used where the SDK 7.3 is wrong (deployments list reads the wrong key),
 * and the deployment POST is sent without the SDK's automatic retries: it has no idempotency key,
 * so after any failure we read the current deployment and only try again if the change is not
 * already there. That makes a switch happen exactly once even when an answer is lost.
 */
export class WorkersPlatform implements TrafficPlatform {
  private readonly cf: Cloudflare;
  private readonly subdomains = new WorkersSubdomains();
  private readonly settingsOf: (target: Target) => CloudflareTarget;
  private readonly onCall: WorkersPlatformOptions['onCall'];

  constructor(options: WorkersPlatformOptions) {
    this.settingsOf = options.settingsOf;
    this.onCall = options.onCall;
    this.cf = createCloudflareClient(options);
  }

  async resolveVersion(of: Target, ref: string): Promise<VersionInfo> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `look up version "${ref}" of ${target.platform.scriptName}`);
    return this.resolveIn(await this.deployableVersions(target, ctx), target, ctx, ref);
  }

  async resolveWithTraffic(of: Target, ref: string): Promise<{ version: VersionInfo; live: LiveTraffic }> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `look up version "${ref}" of ${target.platform.scriptName} and read its deployment`);
    const deployable = await this.deployableVersions(target, ctx);
    const version = await this.resolveIn(deployable, target, ctx, ref);
    return { version, live: this.liveTraffic(target, await this.currentSplit(target, ctx), deployable) };
  }

  private async resolveIn(deployable: RawVersion[], target: WorkersTarget, ctx: CallContext, ref: string): Promise<VersionInfo> {
    const wanted = ref.trim();
    const found = matchRef(deployable, wanted, target.platform.scriptName);
    if (found) return toInfo(found);
    if (isVersionId(wanted)) {
      // A full id not among the deployable versions: older than the newest 100, or no version at all.
      const exists = await this.call(ctx, 'get-version', () => this.cf.get<Envelope<RawVersion>>(`${this.scriptPath(target)}/versions/${wanted}`)).catch(
        (error: PlatformError) => {
          if (error.code === 'CLOUDFLARE_SCRIPT_NOT_FOUND') return undefined;
          throw error;
        },
      );
      if (!exists) throw notFound(target, wanted);
      throw new PlatformError(
        'VERSION_NOT_DEPLOYABLE',
        `version ${wanted.slice(0, 8)} of ${target.platform.scriptName} is older than the newest 100 versions, which are the only ones Cloudflare can deploy; upload it again (wrangler versions upload)`,
        false,
      );
    }
    throw notFound(target, wanted);
  }

  async readTraffic(of: Target): Promise<LiveTraffic> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `read the deployment of ${target.platform.scriptName}`);
    const split = await this.currentSplit(target, ctx);
    return this.liveTraffic(target, split, await this.deployableVersions(target, ctx));
  }

  private liveTraffic(target: WorkersTarget, split: Split, deployable: RawVersion[]): LiveTraffic {
    const versions = Object.keys(split).map((id) => {
      const known = deployable.find((v) => v.id === id);
      return known ? toInfo(known) : { id, tag: null };
    });
    return { split, versions, emptyAdvice: `deploy a first version of ${target.platform.scriptName} with \`wrangler deploy\`` };
  }

  /** With version overrides green joins the deployment at 0 %; a preview URL reaches it without. */
  greenReach(of: Target): GreenReach {
    const target = this.workersTarget(of);
    return target.platform.reach.mode === 'preview-url' ? 'on-its-own' : 'in-split';
  }

  async applySplit(of: Target, split: Split, options: { force: boolean; message: string }): Promise<Split> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `set the traffic split of ${target.platform.scriptName} to ${describeSplit(split)}`);
    const before = await this.currentSplit(target, ctx);
    if (sameSplit(before, split)) return before; // already applied (a repeat after a crash or a lost answer)
    try {
      await this.call(ctx, 'create-deployment', () =>
        this.cf.post<Envelope<RawDeployment>>(`${this.scriptPath(target)}/deployments`, {
          query: options.force ? { force: true } : {},
          body: {
            strategy: 'percentage',
            versions: Object.entries(split).map(([version_id, percentage]) => ({ version_id, percentage })),
            annotations: { 'workers/message': options.message.slice(0, 100) },
          },
          maxRetries: 0,
        }),
      );
    } catch (error) {
      if (!(error instanceof PlatformError) || !error.retryable) throw error;
      // The answer was lost or refused for now: the change may still have been applied.
      const after = await this.currentSplit(target, ctx);
      if (sameSplit(after, split)) return after;
      throw error;
    }
    const after = await this.currentSplit(target, ctx);
    if (!sameSplit(after, split)) {
      throw new PlatformError(
        'CLOUDFLARE_UNAVAILABLE',
        `Cloudflare accepted the new split but serves ${describeSplit(after)}; will check again`,
        true,
      );
    }
    return after;
  }

  async reachVersion(of: Target, versionId: string): Promise<VersionEndpoint> {
    const target = this.workersTarget(of);
    const reach = target.platform.reach;
    if (reach.mode === 'version-override') {
      return {
        baseUrl: target.productionUrl,
        headers: { [VERSION_OVERRIDES_HEADER]: `${target.platform.scriptName}="${versionId}"` },
      };
    }
    const ctx = this.context(target, 'read the workers.dev subdomain for preview URLs');
    const subdomain = reach.urlTemplate.includes('{subdomain}') ? await this.subdomain(target, ctx) : '';
    const baseUrl = reach.urlTemplate
      .replaceAll('{versionPrefix}', versionId.slice(0, 8))
      .replaceAll('{versionId}', versionId)
      .replaceAll('{scriptName}', target.platform.scriptName)
      .replaceAll('{subdomain}', subdomain);
    return { baseUrl, headers: {} };
  }

  /**
   * Cloudflare deploys only the newest 100 versions of a script, so blue can fall out of reach
   * while green is released. (A secrets change since blue's upload — error 10220 — shows when a
   * deployment including blue is posted; staging does that, see decide().)
   */
  async checkRollbackReadiness(of: Target, versionId: string): Promise<{ ready: boolean; detail: string }> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `check that version ${versionId.slice(0, 8)} can still be deployed`);
    const deployable = await this.deployableVersions(target, ctx);
    return deployable.some((v) => v.id === versionId)
      ? { ready: true, detail: `${versionId.slice(0, 8)} is among the newest 100 versions` }
      : { ready: false, detail: `${versionId.slice(0, 8)} is older than the newest 100 versions, which are the only ones Cloudflare can deploy` };
  }

  async listVersions(of: Target, limit: number): Promise<VersionSummary[]> {
    const target = this.workersTarget(of);
    const ctx = this.context(target, `list versions of ${target.platform.scriptName}`);
    const envelope = await this.call(ctx, 'list-recent-versions', () =>
      this.cf.get<Envelope<{ items: RawVersion[] }>>(`${this.scriptPath(target)}/versions`, {
        query: { page: 1, per_page: Math.min(Math.max(limit, 1), 100) },
      }),
    );
    return envelope.result.items.slice(0, limit).map((v) => ({
      ...toInfo(v),
      message: v.annotations?.['workers/message'] ?? null,
      author: v.metadata?.author_email ?? null,
      createdAt: v.metadata?.created_on ?? null,
    }));
  }

  private async deployableVersions(target: WorkersTarget, ctx: CallContext): Promise<RawVersion[]> {
    // One page only: with deployable=true the API ignores pagination, and the SDK's iterator would loop forever.
    const envelope = await this.call(ctx, 'list-deployable-versions', () =>
      this.cf.get<Envelope<{ items: RawVersion[] }>>(`${this.scriptPath(target)}/versions`, { query: { deployable: true } }),
    );
    return envelope.result?.items ?? [];
  }

  private async currentSplit(target: WorkersTarget, ctx: CallContext): Promise<Split> {
    const envelope = await this.call(ctx, 'read-deployment', () =>
      this.cf.get<Envelope<{ deployments: RawDeployment[] }>>(`${this.scriptPath(target)}/deployments`),
    );
    const current = envelope.result?.deployments?.[0];
    if (!current) return {};
    return Object.fromEntries(current.versions.map((v) => [v.version_id, v.percentage]));
  }

  private subdomain(target: WorkersTarget, ctx: CallContext): Promise<string> {
    return this.subdomains.of(target.platform.accountId, (path) => this.call(ctx, 'read-subdomain', () => this.cf.get<Envelope<{ subdomain: string }>>(path)));
  }

  /** Raw calls return the whole envelope, and a 2xx with success:false is not thrown by the SDK. */
  private async call<T extends { success: boolean; errors: Array<{ code: number; message: string }> }>(
    ctx: CallContext,
    kind: CloudflareCall,
    request: () => PromiseLike<T>,
  ): Promise<T> {
    let envelope: T;
    try {
      envelope = await request();
    } catch (error) {
      this.onCall?.(kind, 'error');
      throw mapCloudflareError(error, ctx);
    }
    this.onCall?.(kind, envelope.success ? 'ok' : 'error');
    if (!envelope.success) {
      const said = envelope.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
      throw new PlatformError('CLOUDFLARE_REJECTED', `Cloudflare refused to ${ctx.action}: ${said}`, false);
    }
    return envelope;
  }

  /** The target's settings; a target of another platform type is a wiring mistake, refused in words. */
  private workersTarget(of: Target): WorkersTarget {
    return targetOfType(of, this.settingsOf(of), 'cloudflare-workers', 'version-split');
  }

  private scriptPath(target: WorkersTarget): string {
    return `/accounts/${target.platform.accountId}/workers/scripts/${target.platform.scriptName}`;
  }

  private context(target: WorkersTarget, action: string): CallContext {
    return { action, accountId: target.platform.accountId, scriptName: target.platform.scriptName };
  }
}

function notFound(target: WorkersTarget, ref: string): PlatformError {
  return new PlatformError(
    'VERSION_NOT_FOUND',
    `no version of ${target.platform.scriptName} matches "${ref}" (looked for an id, an 8-character id prefix, a workers/tag and a message among the newest 100 versions)`,
    false,
  );
}
