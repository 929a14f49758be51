import type { Role } from '../domain/policy.ts';
import type { ReleaseSettings } from '../domain/release-settings.ts';

/**
 * The configured targets, as the engine sees them: domain settings by service and environment.
 * The configuration file implements it (src/config/target-catalog.ts); the engine never reads the
 * file's types.
 */
export interface TargetCatalog {
  /**
   * A target's settings. Without an environment, the service's default one — never a protected
   * environment. Unknown names are a coded error that lists what exists.
   */
  lookup(service: string, environment?: string | null): ReleaseSettings;
  /** A stored deployment's target, or undefined when the configuration no longer has it. */
  find(service: string, environment: string): ReleaseSettings | undefined;
  hasService(service: string): boolean;
  /** Every target, service by service. */
  all(): ReleaseSettings[];
}

/** Someone who holds roles, for refusals that say who may do something instead. */
export interface RoleHolder {
  actor: string;
  roles: Role[];
}
