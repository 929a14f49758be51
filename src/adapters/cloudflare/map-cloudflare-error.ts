import {
  APIConnectionError,
  APIError,
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'cloudflare';
import { PlatformError } from '../../ports/traffic-platform.ts';

export interface CallContext {
  /** What we were doing, in words: "list versions of kevinstamp". */
  action: string;
  accountId: string;
  scriptName: string;
}

/** Cloudflare's code for "secrets changed since this version was uploaded; pass force". */
export const SECRETS_CHANGED_CODE = 10220;

/**
 * Turns what the SDK throws into a PlatformError that says exactly what to do. The token itself
 * never appears: only the account and script it was used on.
 */
export function mapCloudflareError(error: unknown, ctx: CallContext): PlatformError {
  if (error instanceof PlatformError) return error;
  if (error instanceof APIConnectionError) {
    return new PlatformError('CLOUDFLARE_UNAVAILABLE', `Cloudflare did not answer while trying to ${ctx.action} (${error.message})`, true);
  }
  if (!(error instanceof APIError)) {
    const message = error instanceof Error ? error.message : String(error);
    return new PlatformError('CLOUDFLARE_UNAVAILABLE', `unexpected failure while trying to ${ctx.action}: ${message}`, true);
  }
  const codes = (error.errors ?? []).map((e) => e.code);
  const said = (error.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ') || `HTTP ${error.status}`;
  if (codes.includes(SECRETS_CHANGED_CODE)) {
    return new PlatformError(
      'CLOUDFLARE_SECRETS_CHANGED',
      `Cloudflare refused to ${ctx.action}: secrets of ${ctx.scriptName} changed since that version was uploaded (error ${SECRETS_CHANGED_CODE}); ` +
        'it would run old code with the new secrets. If that is intended, deploy again with --force',
      false,
      true,
    );
  }
  if (error instanceof AuthenticationError) {
    return new PlatformError(
      'CLOUDFLARE_AUTH',
      `Cloudflare rejected the API token (401) while trying to ${ctx.action}: check CLOUDFLARE_API_TOKEN is an active API token`,
      false,
    );
  }
  if (error instanceof PermissionDeniedError) {
    return new PlatformError(
      'CLOUDFLARE_PERMISSION',
      `the Cloudflare token may not ${ctx.action} on account ${ctx.accountId} (403): give it "Workers Scripts: Edit" on that account ` +
        '(and check platform.accountId / CLOUDFLARE_ACCOUNT_ID)',
      false,
    );
  }
  if (error instanceof NotFoundError) {
    return new PlatformError(
      'CLOUDFLARE_SCRIPT_NOT_FOUND',
      `Cloudflare has no Worker "${ctx.scriptName}" on account ${ctx.accountId} (404 while trying to ${ctx.action}): check platform.scriptName`,
      false,
    );
  }
  if (error instanceof RateLimitError) {
    const retryAfter = error.headers?.get('retry-after');
    return new PlatformError(
      'CLOUDFLARE_RATE_LIMITED',
      `Cloudflare rate-limited the request to ${ctx.action}${retryAfter ? ` (retry after ${retryAfter} s)` : ''}`,
      true,
    );
  }
  const status = error.status ?? 0;
  if (status >= 500 || status === 408 || status === 409) {
    return new PlatformError('CLOUDFLARE_UNAVAILABLE', `Cloudflare failed to ${ctx.action} (HTTP ${status}: ${said})`, true);
  }
  return new PlatformError('CLOUDFLARE_REJECTED', `Cloudflare refused to ${ctx.action} (HTTP ${status}: ${said})`, false);
}
