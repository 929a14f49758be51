import Cloudflare from 'cloudflare';
import type { TargetSettings } from '../../config/schema.ts';
import type { Target } from '../../domain/deployment.ts';
import { PlatformError } from '../../ports/traffic-platform.ts';

/**
 * What both Cloudflare adapters (version split and route switching) share: how the SDK client is
 * built, the API's shapes, and the workers.dev subdomain. Kept in one place so the two adapters
 * cannot drift apart on credentials, retries or timeouts.
 */

/** What the Cloudflare adapters read of a target's settings: its Worker(s) and how green is reached. */
export type CloudflareTarget = Pick<TargetSettings, 'platform' | 'productionUrl'>;

type PlatformType = TargetSettings['platform']['type'];

/** A target whose platform is of one type. */
export type CloudflareTargetOf<T extends PlatformType> = CloudflareTarget & { platform: Extract<TargetSettings['platform'], { type: T }> };

export interface CloudflareClientOptions {
  apiToken: string;
  /** e.g. https://api.cloudflare.com/client/v4, or a local stand-in. */
  baseUrl?: string | undefined;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
}

export function createCloudflareClient(options: CloudflareClientOptions): Cloudflare {
  return new Cloudflare({
    apiToken: options.apiToken,
    // Only the token is used; keep the SDK from picking other credentials up from the environment.
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: options.baseUrl ?? 'https://api.cloudflare.com/client/v4',
    maxRetries: 2,
    timeout: options.timeoutMs ?? 30_000,
    logLevel: 'off',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export interface RawVersion {
  id: string;
  number?: number;
  metadata?: { created_on?: string; author_email?: string };
  annotations?: Record<string, string | undefined>;
}

export interface RawDeployment {
  id: string;
  versions: Array<{ version_id: string; percentage: number }>;
}

export interface Envelope<T> {
  success: boolean;
  errors: Array<{ code: number; message: string }>;
  result: T;
}

export const VERSION_OVERRIDES_HEADER = 'Cloudflare-Workers-Version-Overrides';

/**
 * The target's settings when its platform is of the adapter's type; a target of another type is a
 * wiring mistake, refused in words. `adapter` names the adapter in that refusal.
 */
export function targetOfType<T extends PlatformType>(of: Target, target: CloudflareTarget, type: T, adapter: string): CloudflareTargetOf<T> {
  if (target.platform.type !== type) {
    throw new PlatformError(
      'CLOUDFLARE_REJECTED',
      `${of.service}/${of.environment} uses platform ${target.platform.type}, which the ${adapter} adapter does not switch`,
      false,
    );
  }
  return target as CloudflareTargetOf<T>;
}

/** An account's workers.dev subdomain, read once per account: it does not change while we run. */
export class WorkersSubdomains {
  private readonly byAccount = new Map<string, string>();

  /** `read` fetches the path through the adapter's own call wrapper (metrics, error mapping). */
  async of(accountId: string, read: (path: string) => PromiseLike<Envelope<{ subdomain: string }>>): Promise<string> {
    const cached = this.byAccount.get(accountId);
    if (cached) return cached;
    const envelope = await read(`/accounts/${accountId}/workers/subdomain`);
    this.byAccount.set(accountId, envelope.result.subdomain);
    return envelope.result.subdomain;
  }
}
