import { CF_CODES, CF_MESSAGES, type CloudflareMessage } from './cloudflare-envelope.ts';
import {
  DEPLOYABLE_VERSION_LIMIT,
  PERCENT_TOLERANCE,
  type DeploymentVersion,
  type StandInState,
} from './stand-in-state.ts';

/**
 * Cloudflare's rules for a percentage deployment, shared by the API (which answers 400 with the
 * real error codes) and by the sandbox's own seeding (which throws), so a test can never seed a
 * split the real platform would have refused.
 */

export type DeploymentCheck = { ok: true; versions: DeploymentVersion[] } | { ok: false; error: CloudflareMessage };

/** Secret names quoted in the 10220 message; the sandbox does not model individual secrets. */
const SANDBOX_CHANGED_SECRETS = ['SANDBOX_SECRET'];

function invalid(detail: string): DeploymentCheck {
  return { ok: false, error: { code: CF_CODES.invalidDeployment, message: `Invalid deployment: ${detail}` } };
}

export interface DeploymentCheckInput {
  strategy: unknown;
  versions: unknown;
  /** `?force=true`: deploy even though a listed version's secrets changed. */
  force: boolean;
}

export function checkDeployment(state: StandInState, script: string, input: DeploymentCheckInput): DeploymentCheck {
  if (input.strategy !== 'percentage') return invalid(`strategy must be "percentage", got ${JSON.stringify(input.strategy)}`);
  if (!Array.isArray(input.versions)) return invalid('"versions" must be an array of {version_id, percentage}');

  const versions: DeploymentVersion[] = [];
  for (const item of input.versions as unknown[]) {
    const candidate = (item ?? {}) as { version_id?: unknown; percentage?: unknown };
    if (typeof candidate.version_id !== 'string' || candidate.version_id === '') {
      return invalid('every entry of "versions" needs a "version_id" string');
    }
    if (typeof candidate.percentage !== 'number' || !Number.isFinite(candidate.percentage)) {
      return invalid(`percentage of version ${candidate.version_id} must be a number`);
    }
    if (candidate.percentage < 0 || candidate.percentage > 100) {
      return invalid(`percentage of version ${candidate.version_id} must be between 0 and 100`);
    }
    versions.push({ versionId: candidate.version_id, percentage: candidate.percentage });
  }

  if (versions.length === 0 || versions.length > 2) {
    return invalid(`a deployment must list 1 or 2 versions, got ${versions.length}`);
  }
  if (new Set(versions.map((v) => v.versionId)).size !== versions.length) {
    return invalid('a version may appear only once in a deployment');
  }
  for (const v of versions) {
    const record = state.version(v.versionId);
    if (!record || record.script !== script) return invalid(`Version not found: ${v.versionId}`);
    if (!state.isDeployable(script, v.versionId)) {
      return invalid(
        `Version ${v.versionId} can no longer be deployed: only the latest ${DEPLOYABLE_VERSION_LIMIT} versions of a Worker are deployable`,
      );
    }
  }
  const total = versions.reduce((sum, v) => sum + v.percentage, 0);
  if (Math.abs(total - 100) > PERCENT_TOLERANCE) {
    return invalid(`version percentages must sum to 100, got ${total}`);
  }
  if (!input.force && versions.some((v) => state.version(v.versionId)?.secretsChanged)) {
    return { ok: false, error: { code: CF_CODES.secretsChanged, message: CF_MESSAGES.secretsChanged(SANDBOX_CHANGED_SECRETS) } };
  }
  return { ok: true, versions };
}
