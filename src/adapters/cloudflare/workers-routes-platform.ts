import type Cloudflare from 'cloudflare';
import { NotFoundError, PermissionDeniedError } from 'cloudflare';
import type { Split, Target, VersionInfo } from '../../domain/deployment.ts';
import type { GreenReach, LiveTraffic } from '../../domain/inputs.ts';
import { describeSplit, sameSplit, soleVersion } from '../../domain/split.ts';
import { PlatformError, type RoutingLine, type TrafficPlatform, type VersionEndpoint, type VersionSummary } from '../../ports/traffic-platform.ts';
import { createCloudflareClient, targetOfType, VERSION_OVERRIDES_HEADER, WorkersSubdomains, type CloudflareTarget, type CloudflareTargetOf, type Envelope, type RawDeployment, type RawVersion } from './cloudflare-client.ts';
import { mapCloudflareError, type CallContext } from './map-cloudflare-error.ts';
import { matchRef, toInfo } from './version-lookup.ts';

/**
 * Blue and green as two Workers (platform `cloudflare-workers-routes`), switched by pointing the
 * zone's Workers routes and custom domains at one or the other — for releases Cloudflare's
 * version rollback refuses (a Durable Object migration, removed bindings) or cannot reach (only
 * recent versions can be rolled back to).
 *
 * The model, in the port's words: a version id belongs to one of the two scripts (ids are unique
 * across scripts). The live version is the one the script behind the routes runs; the other
 * script is idle — it has no routes, so no users. A split is read as "share of the target's
 * routes × the script's deployment": all routes on blue running v1 is `{v1: 100}`, and a version
 * deployed at 100 % on the idle script is listed at 0 % (reachable at the idle script's own URL,
 * with no users). So the engine's steps mean:
 *
 * - staging `{blue: 100, green: 0}`: deploy green to 100 % of the idle script (no routes, no users);
 * - verifying: green at the idle script's URL (its staging URL or workers.dev), as today;
 * - switching `{green: 100, blue: 0}`: every route and custom domain of the target to green's script;
 * - rolling back `{blue: 100, green: 0}`: every one back to blue's script, which was never touched.
 *
 * Every step reads first and only writes what is not in place yet: a deployment is created only
 * on a script without routes, and only routes not already on the right script are moved, one PUT
 * each, sent without the SDK's retries. After a failure whose outcome is unknown (429, 5xx, no
 * answer) the adapter reads again and carries on if the change landed, else reports a retryable
 * failure — so a repeat (the engine's retry, a restarted bot) finishes a half-done move, and a
 * rollback undoes one. After the moves everything is read back and verified.
 */

export interface RoutesPlatformOptions {
  apiToken: string;
  /** A target's settings by service and environment; this adapter serves the `cloudflare-workers-routes` ones. */
  settingsOf: (target: Target) => CloudflareTarget;
  /** e.g. https://api.cloudflare.com/client/v4, or a local stand-in. */
  baseUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  /** Told of every API call as it ends (`/metrics` counts them per kind and outcome). */
  onCall?: ((call: RoutesCall, outcome: 'ok' | 'error') => void) | undefined;
}

/** The kinds of Cloudflare API call this adapter makes. */
export type RoutesCall =
  | 'list-deployable-versions'
  | 'list-recent-versions'
  | 'get-version'
  | 'read-deployment'
  | 'create-deployment'
  | 'read-subdomain'
  | 'list-routes'
  | 'update-route'
  | 'list-custom-domains'
  | 'update-custom-domain';

type RoutesTarget = CloudflareTargetOf<'cloudflare-workers-routes'>;

interface RawVersionDetail extends RawVersion {
  resources?: { bindings?: Array<{ name: string; type: string }> };
}

/** What a call was for, in words, and where: the zone's id too, for the routes' 403. */
interface RoutesContext extends CallContext {
  zoneId: string;
}

/** One thing that sends production traffic to a Worker: a route (by pattern) or a custom domain (by hostname). */
interface Entry {
  kind: 'route' | 'custom-domain';
  /** Pattern or hostname. */
  name: string;
  /** The route's id, or the domain's zone id (domains are PUT by hostname). */
  id: string;
  zoneId: string;
  script: string | null;
}

interface ScriptState {
  name: string;
  /** Newest first, the newest 100. */
  versions: RawVersion[];
  /** The current deployment (version id → percent); {} when none. */
  deployment: Split;
}

/** Everything a decision needs, read in one go. */
interface Picture {
  scripts: ScriptState[];
  entries: Entry[];
}

export class WorkersRoutesPlatform implements TrafficPlatform {
  private readonly cf: Cloudflare;
  private readonly settingsOf: (target: Target) => CloudflareTarget;
  private readonly onCall: RoutesPlatformOptions['onCall'];
  private readonly subdomains = new WorkersSubdomains();
  /** Version id → script: a version never moves between scripts, so this is never stale. */
  private readonly scriptOfVersion = new Map<string, string>();

  constructor(options: RoutesPlatformOptions) {
    this.settingsOf = options.settingsOf;
    this.onCall = options.onCall;
    this.cf = createCloudflareClient(options);
  }

  async resolveVersion(of: Target, ref: string): Promise<VersionInfo> {
    const target = this.routesTarget(of);
    const picture = await this.read(target, `look up version "${ref}" of ${scriptsOf(target)}`, { entries: true });
    return this.resolveIn(picture, target, ref);
  }

  async resolveWithTraffic(of: Target, ref: string): Promise<{ version: VersionInfo; live: LiveTraffic }> {
    const target = this.routesTarget(of);
    const picture = await this.read(target, `look up version "${ref}" of ${scriptsOf(target)} and read where the routes point`, { entries: true });
    return { version: this.resolveIn(picture, target, ref), live: this.liveTraffic(target, picture) };
  }

  async readTraffic(of: Target): Promise<LiveTraffic> {
    const target = this.routesTarget(of);
    return this.liveTraffic(target, await this.read(target, `read where the routes of ${target.platform.scripts.join(' and ')} point`, { entries: true }));
  }

  /** Green is deployed on the idle script, which counts as "in the split at 0 %" (see the class comment). */
  greenReach(_of: Target): GreenReach {
    return 'in-split';
  }

  async applySplit(of: Target, split: Split, options: { force: boolean; message: string }): Promise<Split> {
    const target = this.routesTarget(of);
    const action = `point the routes of ${of.service}/${of.environment} at ${describeSplit(split)}`;
    const picture = await this.read(target, action, { entries: true });
    if (sameSplit(observedSplit(picture, split), split)) return observedSplit(picture, split); // already in place

    const wanted = soleVersion(split);
    if (!wanted) {
      throw new PlatformError(
        'CLOUDFLARE_REJECTED',
        `routes move all traffic at once, so ${describeSplit(split)} cannot be set on ${scriptsOf(target)} (platform cloudflare-workers-routes has no percentages)`,
        false,
        true,
      );
    }
    const home = this.scriptHolding(picture, wanted);
    if (!home) throw this.unknownVersion(target, wanted);

    // 1. Each version of the split runs alone on its own script — deployed there only while that
    //    script has no routes, so no user ever sees a deployment change.
    for (const versionId of Object.keys(split)) {
      const script = versionId === wanted ? home : this.scriptHolding(picture, versionId);
      if (!script) throw this.unknownVersion(target, versionId);
      if (script.name === home.name && versionId !== wanted) {
        throw new PlatformError(
          'CLOUDFLARE_REJECTED',
          `${versionId.slice(0, 8)} and ${wanted.slice(0, 8)} are both versions of ${home.name}; blue and green must be on different Workers (${scriptsOf(target)})`,
          false,
          true,
        );
      }
      await this.runAlone(target, picture, script, versionId, options);
    }

    // 2. Every route and custom domain not on the wanted script moves to it, one call each.
    for (const entry of picture.entries) {
      if (entry.script === home.name) continue;
      await this.moveEntry(target, entry, home.name);
    }

    // 3. Read everything back.
    const after = await this.read(target, action, { entries: true });
    const verified = observedSplit(after, split);
    if (!sameSplit(verified, split)) {
      throw new PlatformError(
        'CLOUDFLARE_UNAVAILABLE',
        `Cloudflare accepted the changes but ${describeEntries(after)}; will check again`,
        true,
      );
    }
    return verified;
  }

  /** Green at its own Worker's address: the configured staging URL, else its workers.dev URL. */
  async reachVersion(of: Target, versionId: string): Promise<VersionEndpoint> {
    const target = this.routesTarget(of);
    const ctx = this.context(target, `work out which Worker runs version ${versionId.slice(0, 8)}`);
    let script = this.scriptOfVersion.get(versionId);
    if (!script) {
      const picture = await this.read(target, ctx.action, { entries: false });
      script = this.scriptHolding(picture, versionId)?.name;
    }
    if (!script) throw this.unknownVersion(target, versionId);
    const configured = target.platform.stagingUrls?.[script];
    const baseUrl = configured ?? `https://${script}.${await this.subdomain(target)}.workers.dev`;
    // The override makes the check exact should the script's deployment list another version too.
    return { baseUrl, headers: { [VERSION_OVERRIDES_HEADER]: `${script}="${versionId}"` } };
  }

  /**
   * A rollback moves the routes back to blue's script, so blue's script must still exist and still
   * run blue alone. Also compares the bindings: a binding blue has that green's version lacks is
   * something users lose at the switch (a KV namespace, a Durable Object, a service) — a warning
   * in the detail, not a refusal.
   */
  async checkRollbackReadiness(of: Target, versionId: string): Promise<{ ready: boolean; detail: string }> {
    const target = this.routesTarget(of);
    const label = versionId.slice(0, 8);
    let picture: Picture;
    try {
      picture = await this.read(target, `check that ${scriptsOf(target)} can still serve version ${label}`, { entries: false });
    } catch (error) {
      if (error instanceof PlatformError && error.code === 'CLOUDFLARE_SCRIPT_NOT_FOUND') return { ready: false, detail: error.message };
      throw error;
    }
    const blue = this.scriptHolding(picture, versionId);
    if (!blue) return { ready: false, detail: `${label} is no longer among the newest versions of ${scriptsOf(target)}, so no Worker can serve it` };
    if (!sameSplit(blue.deployment, { [versionId]: 100 })) {
      return {
        ready: false,
        detail: `${blue.name} no longer runs ${label} alone (its deployment is ${describeSplit(blue.deployment)}), so moving the routes back would not bring ${label} back`,
      };
    }
    const ready = `${blue.name} still runs ${label} at 100 %: moving the routes back restores it`;
    const other = picture.scripts.find((s) => s.name !== blue.name);
    const green = other ? topVersion(other.deployment) : undefined;
    if (!other || !green) return { ready: true, detail: ready };
    const missing = await this.bindingsMissing(target, blue.name, versionId, other.name, green).catch((error: unknown) =>
      error instanceof PlatformError ? `bindings not compared (${error.message})` : 'bindings not compared',
    );
    if (typeof missing === 'string') return { ready: true, detail: `${ready}; ${missing}` };
    if (missing.length === 0) return { ready: true, detail: `${ready}; ${other.name} has every binding ${blue.name} has` };
    return {
      ready: true,
      detail:
        `${ready}; WARNING: ${other.name} lacks bindings ${blue.name} has: ${missing.join(', ')} — ` +
        'users moved to green lose what those bindings give them (check green\'s wrangler configuration before approving)',
    };
  }

  /** Recent versions of both Workers, newest first; the message says which Worker each is on. */
  async listVersions(of: Target, limit: number): Promise<VersionSummary[]> {
    const target = this.routesTarget(of);
    const perPage = Math.min(Math.max(limit, 1), 100);
    const lists = await Promise.all(
      target.platform.scripts.map(async (script) => {
        const ctx = { ...this.context(target, `list versions of ${script}`), scriptName: script };
        const envelope = await this.raw(ctx, 'list-recent-versions', () =>
          this.cf.get<Envelope<{ items: RawVersion[] }>>(`${scriptPath(target, script)}/versions`, { query: { page: 1, per_page: perPage } }),
        );
        return envelope.result.items.map((v) => ({ v, script }));
      }),
    );
    return lists
      .flat()
      .sort((a, b) => (b.v.metadata?.created_on ?? '').localeCompare(a.v.metadata?.created_on ?? ''))
      .slice(0, limit)
      .map(({ v, script }) => ({
        ...toInfo(v),
        message: `${v.annotations?.['workers/message'] ?? '(no message)'} [${script}]`,
        author: v.metadata?.author_email ?? null,
        createdAt: v.metadata?.created_on ?? null,
      }));
  }

  /** Which Worker each route and custom domain of the target runs now, and that Worker's version. */
  async describeRouting(of: Target): Promise<RoutingLine[]> {
    const target = this.routesTarget(of);
    const picture = await this.read(target, `read where the routes of ${of.service}/${of.environment} point`, { entries: true });
    return picture.entries.map((entry) => {
      const script = picture.scripts.find((s) => s.name === entry.script);
      const running = script ? topVersion(script.deployment) : undefined;
      const known = running ? script?.versions.find((v) => v.id === running) : undefined;
      return {
        kind: entry.kind,
        name: entry.name,
        servedBy: entry.script,
        version: running ? (known ? toInfo(known) : { id: running, tag: null }) : null,
      };
    });
  }

  // ——— reading ———

  private async read(target: RoutesTarget, action: string, want: { entries: boolean }): Promise<Picture> {
    const [scripts, entries] = await Promise.all([
      Promise.all(target.platform.scripts.map((name) => this.readScript(target, name, action))),
      want.entries ? this.readEntries(target, action) : Promise.resolve([]),
    ]);
    for (const script of scripts) for (const v of script.versions) this.scriptOfVersion.set(v.id, script.name);
    return { scripts, entries };
  }

  private async readScript(target: RoutesTarget, name: string, action: string): Promise<ScriptState> {
    const ctx = { ...this.context(target, action), scriptName: name };
    const [versions, deployments] = await Promise.all([
      // One page only: with deployable=true the API ignores pagination (see workers-platform.ts).
      this.raw(ctx, 'list-deployable-versions', () =>
        this.cf.get<Envelope<{ items: RawVersion[] }>>(`${scriptPath(target, name)}/versions`, { query: { deployable: true } }),
      ),
      this.raw(ctx, 'read-deployment', () => this.cf.get<Envelope<{ deployments: RawDeployment[] }>>(`${scriptPath(target, name)}/deployments`)),
    ]);
    const current = deployments.result?.deployments?.[0];
    return {
      name,
      versions: versions.result?.items ?? [],
      deployment: current ? Object.fromEntries(current.versions.map((v) => [v.version_id, v.percentage])) : {},
    };
  }

  /** The target's routes and custom domains, in the configured order; one that does not exist is a mistake to fix by hand. */
  private async readEntries(target: RoutesTarget, action: string): Promise<Entry[]> {
    const { zoneId, accountId, routes, customDomains } = target.platform;
    const ctx = this.context(target, action);
    const [zoneRoutes, domains] = await Promise.all([
      routes.length === 0
        ? Promise.resolve([])
        : this.typed(ctx, 'list-routes', async () => {
            const all = [];
            for await (const route of this.cf.workers.routes.list({ zone_id: zoneId })) all.push(route);
            return all;
          }),
      customDomains.length === 0
        ? Promise.resolve([])
        : this.typed(ctx, 'list-custom-domains', async () => {
            const all = [];
            for await (const domain of this.cf.workers.domains.list({ account_id: accountId, zone_id: zoneId })) all.push(domain);
            return all;
          }),
    ]);
    const entries: Entry[] = [];
    for (const pattern of routes) {
      const route = zoneRoutes.find((r) => r.pattern === pattern);
      if (!route) {
        throw new PlatformError(
          'CLOUDFLARE_REJECTED',
          `zone ${zoneId} has no Workers route ${pattern}: create it (pointing at the Worker that serves users now), or fix platform.routes`,
          false,
          true,
        );
      }
      entries.push({ kind: 'route', name: pattern, id: route.id, zoneId, script: route.script ?? null });
    }
    for (const hostname of customDomains) {
      const domain = domains.find((d) => d.hostname === hostname);
      if (!domain) {
        throw new PlatformError(
          'CLOUDFLARE_REJECTED',
          `no Workers custom domain ${hostname} in zone ${zoneId}: attach it to the Worker that serves users now, or fix platform.customDomains`,
          false,
          true,
        );
      }
      entries.push({ kind: 'custom-domain', name: hostname, id: domain.id, zoneId: domain.zone_id || zoneId, script: domain.service ?? null });
    }
    return entries;
  }

  private liveTraffic(target: RoutesTarget, picture: Picture): LiveTraffic {
    const foreign = picture.entries.filter((e) => !target.platform.scripts.includes(e.script ?? ''));
    if (foreign.length > 0) {
      throw new PlatformError(
        'CLOUDFLARE_REJECTED',
        `${foreign.map((e) => `${e.kind} ${e.name} ${e.script ? `runs ${e.script}` : 'runs no Worker'}`).join(', ')}, which is neither of ${scriptsOf(target)}: ` +
          'point it back at the Worker that serves users, or fix the configuration',
        false,
      );
    }
    const split = observedSplit(picture);
    const versions = Object.keys(split).map((id) => {
      const known = picture.scripts.flatMap((s) => s.versions).find((v) => v.id === id);
      return known ? toInfo(known) : { id, tag: null };
    });
    return {
      split,
      versions,
      emptyAdvice: `deploy a first version of ${target.platform.scripts[0]} with \`wrangler deploy\` and point the routes at it`,
    };
  }

  private resolveIn(picture: Picture, target: RoutesTarget, ref: string): VersionInfo {
    const wanted = ref.trim();
    const live = liveScript(picture);
    // The idle script first: CI uploads the next release there.
    const ordered = [...picture.scripts].sort((a, b) => Number(a.name === live?.name) - Number(b.name === live?.name));
    for (const script of ordered) {
      const found = matchRef(script.versions, wanted, script.name);
      if (!found) continue;
      const runsAlone = sameSplit(script.deployment, { [found.id]: 100 });
      if (script.name === live?.name && !runsAlone) {
        const idle = ordered[0]!.name;
        throw new PlatformError(
          'VERSION_NOT_DEPLOYABLE',
          `version ${found.id.slice(0, 8)} was uploaded to ${script.name}, which serves the routes now; ` +
            `upload the release to ${idle}, the Worker without users (wrangler versions upload --name ${idle})`,
          false,
        );
      }
      return toInfo(found);
    }
    throw new PlatformError(
      'VERSION_NOT_FOUND',
      `no version of ${scriptsOf(target)} matches "${wanted}" (looked for an id, an 8-character id prefix, a workers/tag and a message among the newest 100 versions of each)`,
      false,
    );
  }

  private unknownVersion(target: RoutesTarget, versionId: string): PlatformError {
    return new PlatformError(
      'VERSION_NOT_FOUND',
      `version ${versionId.slice(0, 8)} is not among the newest 100 versions of ${scriptsOf(target)}, nor deployed on either`,
      false,
      true,
    );
  }

  private scriptHolding(picture: Picture, versionId: string): ScriptState | undefined {
    return picture.scripts.find((s) => s.versions.some((v) => v.id === versionId) || versionId in s.deployment);
  }

  // ——— writing ———

  /** Makes the script run the version alone, unless it does; refuses to touch a script that serves users. */
  private async runAlone(target: RoutesTarget, picture: Picture, script: ScriptState, versionId: string, options: { force: boolean; message: string }): Promise<void> {
    const alone = { [versionId]: 100 };
    if (sameSplit(script.deployment, alone)) return;
    const users = picture.entries.filter((e) => e.script === script.name);
    if (users.length > 0) {
      throw new PlatformError(
        'CLOUDFLARE_REJECTED',
        `${script.name} serves ${users.map((e) => e.name).join(', ')} and runs ${describeSplit(script.deployment)}, not ${versionId.slice(0, 8)}; ` +
          'kevin-deploy only deploys to the Worker without routes, so users never see a deployment change',
        false,
      );
    }
    const ctx = { ...this.context(target, `deploy ${versionId.slice(0, 8)} to ${script.name}, the Worker without routes`), scriptName: script.name };
    try {
      await this.raw(ctx, 'create-deployment', () =>
        this.cf.post<Envelope<RawDeployment>>(`${scriptPath(target, script.name)}/deployments`, {
          query: options.force ? { force: true } : {},
          body: {
            strategy: 'percentage',
            versions: [{ version_id: versionId, percentage: 100 }],
            annotations: { 'workers/message': options.message.slice(0, 100) },
          },
          // No idempotency key: never resent blindly. After a failure the deployment is read again.
          maxRetries: 0,
        }),
      );
    } catch (error) {
      if (!(error instanceof PlatformError) || !error.retryable) throw error;
      const again = await this.readScript(target, script.name, ctx.action);
      if (sameSplit(again.deployment, alone)) return;
      throw error;
    }
  }

  /** Points one route or custom domain at the script; after an unknown outcome, reads before reporting. */
  private async moveEntry(target: RoutesTarget, entry: Entry, script: string): Promise<void> {
    const ctx = { ...this.context(target, `point ${entry.kind === 'route' ? 'route' : 'custom domain'} ${entry.name} at ${script}`), scriptName: script };
    try {
      if (entry.kind === 'route') {
        await this.typed(ctx, 'update-route', () =>
          this.cf.workers.routes.update(entry.id, { zone_id: entry.zoneId, pattern: entry.name, script }, { maxRetries: 0 }),
        );
      } else {
        await this.typed(ctx, 'update-custom-domain', () =>
          this.cf.workers.domains.update({ account_id: target.platform.accountId, hostname: entry.name, service: script, zone_id: entry.zoneId }, { maxRetries: 0 }),
        );
      }
    } catch (error) {
      if (!(error instanceof PlatformError) || !error.retryable) throw error;
      // The answer was lost or refused for now: the change may still have been made.
      const now = await this.readEntries(target, ctx.action);
      if (now.find((e) => e.kind === entry.kind && e.name === entry.name)?.script === script) return;
      throw error;
    }
  }

  private async bindingsMissing(target: RoutesTarget, blueScript: string, blue: string, greenScript: string, green: string): Promise<string[]> {
    const [blueBindings, greenBindings] = await Promise.all([
      this.bindingsOf(target, blueScript, blue),
      this.bindingsOf(target, greenScript, green),
    ]);
    const has = new Set(greenBindings.map((b) => `${b.type}:${b.name}`));
    return blueBindings.filter((b) => !has.has(`${b.type}:${b.name}`)).map((b) => `${b.name} (${b.type})`);
  }

  private async bindingsOf(target: RoutesTarget, script: string, versionId: string): Promise<Array<{ name: string; type: string }>> {
    const ctx = { ...this.context(target, `read the bindings of ${script} version ${versionId.slice(0, 8)}`), scriptName: script };
    const envelope = await this.raw(ctx, 'get-version', () => this.cf.get<Envelope<RawVersionDetail>>(`${scriptPath(target, script)}/versions/${versionId}`));
    // Secrets are per Worker, not per version, and their values never show: they are not compared.
    return (envelope.result?.resources?.bindings ?? []).filter((b) => b.type !== 'secret_text');
  }

  private subdomain(target: RoutesTarget): Promise<string> {
    const ctx = this.context(target, 'read the workers.dev subdomain');
    return this.subdomains.of(target.platform.accountId, (path) => this.raw(ctx, 'read-subdomain', () => this.cf.get<Envelope<{ subdomain: string }>>(path)));
  }

  // ——— calls and errors ———

  /** Raw calls return the whole envelope, and a 2xx with success:false is not thrown by the SDK. */
  private async raw<T extends { success: boolean; errors: Array<{ code: number; message: string }> }>(
    ctx: RoutesContext,
    kind: RoutesCall,
    request: () => PromiseLike<T>,
  ): Promise<T> {
    const envelope = await this.typed(ctx, kind, request);
    if (!envelope.success) {
      const said = envelope.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
      throw new PlatformError('CLOUDFLARE_REJECTED', `Cloudflare refused to ${ctx.action}: ${said}`, false);
    }
    return envelope;
  }

  private async typed<T>(ctx: RoutesContext, kind: RoutesCall, request: () => PromiseLike<T>): Promise<T> {
    try {
      const result = await request();
      this.onCall?.(kind, 'ok');
      return result;
    } catch (error) {
      this.onCall?.(kind, 'error');
      throw mapRoutingError(error, ctx, kind);
    }
  }

  /** The target's settings; a target of another platform type is a wiring mistake, refused in words. */
  private routesTarget(of: Target): RoutesTarget {
    return targetOfType(of, this.settingsOf(of), 'cloudflare-workers-routes', 'route-switching');
  }

  private context(target: RoutesTarget, action: string): RoutesContext {
    return { action, accountId: target.platform.accountId, scriptName: target.platform.scripts.join(' / '), zoneId: target.platform.zoneId };
  }
}

/**
 * What the SDK throws, in words for this adapter: route calls need "Workers Routes: Edit" on the
 * zone, and a 404 on a route means the route is gone, not the Worker.
 */
function mapRoutingError(error: unknown, ctx: RoutesContext, kind: RoutesCall): PlatformError {
  const isRoutes = kind === 'list-routes' || kind === 'update-route';
  if (isRoutes && error instanceof PermissionDeniedError) {
    return new PlatformError(
      'CLOUDFLARE_PERMISSION',
      `the Cloudflare token may not ${ctx.action} (403 on zone ${ctx.zoneId}): give it "Workers Routes: Edit" on that zone (and check platform.zoneId)`,
      false,
    );
  }
  if (kind === 'update-route' && error instanceof NotFoundError) {
    return new PlatformError('CLOUDFLARE_REJECTED', `Cloudflare no longer has that route (404 while trying to ${ctx.action}): check the zone's Workers routes`, false);
  }
  return mapCloudflareError(error, ctx);
}

function scriptPath(target: RoutesTarget, script: string): string {
  return `/accounts/${target.platform.accountId}/workers/scripts/${script}`;
}

function scriptsOf(target: RoutesTarget): string {
  return target.platform.scripts.join(' and ');
}

/** The version with the most traffic in a deployment. */
function topVersion(deployment: Split): string | undefined {
  return Object.entries(deployment).sort(([, a], [, b]) => b - a)[0]?.[0];
}

/** The script most of the target's routes point at (blue, when the routes are all in one place). */
function liveScript(picture: Picture): ScriptState | undefined {
  const counts = picture.scripts.map((s) => ({ s, n: picture.entries.filter((e) => e.script === s.name).length }));
  const best = counts.sort((a, b) => b.n - a.n)[0];
  return best && best.n > 0 ? best.s : undefined;
}

/**
 * Traffic as the engine counts it: each script's deployment weighted by its share of the target's
 * routes, and the version an idle script runs alone listed at 0 % (reachable, no users). `like`
 * adds the versions a requested split names at 0 % when they run alone on a script without
 * routes, so a request and what is there compare like for like.
 */
function observedSplit(picture: Picture, like: Split = {}): Split {
  const total = picture.entries.length;
  const split: Split = {};
  if (total > 0) {
    for (const script of picture.scripts) {
      const share = picture.entries.filter((e) => e.script === script.name).length / total;
      if (share === 0) continue;
      for (const [id, percent] of Object.entries(script.deployment)) {
        split[id] = Math.round(((split[id] ?? 0) + percent * share) * 100) / 100;
      }
    }
  }
  for (const script of picture.scripts) {
    if (picture.entries.some((e) => e.script === script.name)) continue;
    const alone = soleVersion(script.deployment);
    if (alone && !(alone in split) && (Object.keys(like).length === 0 || alone in like)) split[alone] = 0;
  }
  return split;
}

function describeEntries(picture: Picture): string {
  return picture.entries.map((e) => `${e.name} runs ${e.script ?? 'no Worker'}`).join(', ');
}
