import { WorkersPlatform } from '../adapters/cloudflare/workers-platform.ts';
import { WorkersRoutesPlatform } from '../adapters/cloudflare/workers-routes-platform.ts';
import type { TargetSettings } from '../config/schema.ts';
import type { Split, Target } from '../domain/deployment.ts';
import type { RoutingLine, TrafficPlatform } from '../ports/traffic-platform.ts';

/**
 * One TrafficPlatform for the engine, many underneath: each call goes to the platform the target
 * is configured with. The engine and the surfaces keep a single port; which adapter serves a
 * target is decided here, per call, from the target alone.
 */
export class PlatformPerTarget implements TrafficPlatform {
  constructor(private readonly platformOf: (target: Target) => TrafficPlatform) {}

  resolveVersion(target: Target, ref: string) {
    return this.platformOf(target).resolveVersion(target, ref);
  }

  readTraffic(target: Target) {
    return this.platformOf(target).readTraffic(target);
  }

  resolveWithTraffic(target: Target, ref: string) {
    return this.platformOf(target).resolveWithTraffic(target, ref);
  }

  applySplit(target: Target, split: Split, options: { force: boolean; message: string }) {
    return this.platformOf(target).applySplit(target, split, options);
  }

  greenReach(target: Target) {
    return this.platformOf(target).greenReach(target);
  }

  reachVersion(target: Target, versionId: string) {
    return this.platformOf(target).reachVersion(target, versionId);
  }

  checkRollbackReadiness(target: Target, versionId: string) {
    return this.platformOf(target).checkRollbackReadiness(target, versionId);
  }

  listVersions(target: Target, limit: number) {
    return this.platformOf(target).listVersions(target, limit);
  }

  async describeRouting(target: Target): Promise<RoutingLine[] | undefined> {
    const platform = this.platformOf(target);
    return platform.describeRouting ? platform.describeRouting(target) : undefined;
  }
}

export interface CloudflarePlatformOptions {
  apiToken: string;
  baseUrl?: string | undefined;
  settingsOf: (target: Target) => TargetSettings;
  onCall?: ((call: string, outcome: 'ok' | 'error') => void) | undefined;
}

/**
 * Cloudflare, by `platform.type`: `cloudflare-workers` (one Worker, versions split by
 * percentage) or `cloudflare-workers-routes` (blue and green as two Workers, switched by route).
 * Each adapter is built the first time a target needs it.
 */
export function cloudflarePlatform(options: CloudflarePlatformOptions): TrafficPlatform {
  const common = { apiToken: options.apiToken, baseUrl: options.baseUrl, settingsOf: options.settingsOf, onCall: options.onCall };
  let versionSplit: WorkersPlatform | undefined;
  let routeSwitch: WorkersRoutesPlatform | undefined;
  return new PlatformPerTarget((target) => {
    switch (options.settingsOf(target).platform.type) {
      case 'cloudflare-workers':
        return (versionSplit ??= new WorkersPlatform(common));
      case 'cloudflare-workers-routes':
        return (routeSwitch ??= new WorkersRoutesPlatform(common));
    }
  });
}
