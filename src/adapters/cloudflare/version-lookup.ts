import type { VersionInfo } from '../../domain/deployment.ts';
import { PlatformError } from '../../ports/traffic-platform.ts';
import type { RawVersion } from './cloudflare-client.ts';

/**
 * How a ref names a Worker version, shared by both Cloudflare adapters so that `release <ref>`
 * means the same whichever platform a target is on.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PREFIX = /^[0-9a-f]{8}$/i;

/** A full version id (a UUID), as opposed to a prefix, tag or message. */
export function isVersionId(ref: string): boolean {
  return UUID.test(ref);
}

/**
 * A version by full id, 8-character id prefix, workers/tag or message, among `versions` (newest
 * first, so when a tag was uploaded twice the newest is the one meant). An 8-hex ref is first an
 * id prefix, but CI often tags uploads with a short git SHA that looks the same, so tags and then
 * messages are tried whenever no id starts with it. A prefix that several ids share is refused.
 */
export function matchRef(versions: RawVersion[], wanted: string, script: string): RawVersion | undefined {
  if (UUID.test(wanted)) return versions.find((v) => v.id.toLowerCase() === wanted.toLowerCase());
  const byPrefix = PREFIX.test(wanted) ? versions.filter((v) => v.id.toLowerCase().startsWith(wanted.toLowerCase())) : [];
  if (byPrefix.length > 1) {
    throw new PlatformError('VERSION_NOT_FOUND', `"${wanted}" matches ${byPrefix.length} versions of ${script}; use the full id`, false);
  }
  const byTag = versions.filter((v) => v.annotations?.['workers/tag'] === wanted);
  const byMessage = versions.filter((v) => v.annotations?.['workers/message'] === wanted);
  return [byPrefix, byTag, byMessage].find((list) => list.length > 0)?.[0];
}

export function toInfo(v: RawVersion): VersionInfo {
  return { id: v.id, tag: v.annotations?.['workers/tag'] ?? null };
}
