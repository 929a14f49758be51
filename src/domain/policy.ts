import type { ReleaseSettings } from './release-settings.ts';

export const ROLES = ['deployer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Someone acting on kevin-deploy: an API token's actor, later a Slack or Discord user. */
export interface Actor {
  name: string;
  roles: readonly Role[];
  /** Where the request came from, for the audit trail: 'api', 'slack', 'cli'… */
  via: string;
  /** Other identities that principals may name: `slack:U…`, `slack-group:S…`. */
  principals?: readonly string[];
}

export type Permission = 'deploy' | 'approve' | 'rollback' | 'lock' | 'read';

export type Authorization = { allowed: true } | { allowed: false; message: string };

/** The principals allowed to do `permission` on a target, from its settings. */
export function principalsFor(permission: Permission, settings: ReleaseSettings): readonly string[] {
  switch (permission) {
    case 'deploy':
      return settings.access.deploy;
    case 'approve':
      return settings.approval.approvers;
    case 'rollback':
      return settings.access.rollback;
    case 'lock':
      return settings.access.lock;
    case 'read':
      return ['*'];
  }
}

export function matchesPrincipal(actor: Actor, principal: string): boolean {
  if (principal === '*') return true;
  if (principal.startsWith('role:')) return actor.roles.includes(principal.slice(5) as Role);
  return principal === actor.name || (actor.principals ?? []).includes(principal);
}

/**
 * May this actor do this on this target? Admins may do everything. A refusal names who may, so
 * the person refused knows whom to ask. `knownActors` lets the message list role holders by name.
 */
export function authorize(
  actor: Actor,
  permission: Permission,
  settings: ReleaseSettings,
  knownActors: ReadonlyArray<{ actor: string; roles: readonly Role[] }> = [],
): Authorization {
  if (actor.roles.includes('admin')) return { allowed: true };
  const principals = principalsFor(permission, settings);
  if (principals.some((p) => matchesPrincipal(actor, p))) return { allowed: true };
  return {
    allowed: false,
    message: `${actor.name} may not ${verb(permission)} ${settings.service}/${settings.environment}; allowed: ${describePrincipals(principals, knownActors)}`,
  };
}

function verb(permission: Permission): string {
  switch (permission) {
    case 'deploy':
      return 'deploy to';
    case 'approve':
      return 'approve or reject releases of';
    case 'rollback':
      return 'roll back or cancel releases of';
    case 'lock':
      return 'lock or unlock';
    case 'read':
      return 'read';
  }
}

export function describePrincipals(
  principals: readonly string[],
  knownActors: ReadonlyArray<{ actor: string; roles: readonly Role[] }>,
): string {
  // Admins are always listed at the end; a `role:admin` principal would name them twice.
  const parts = principals.filter((p) => p !== 'role:admin').map((p) => {
    if (p === '*') return 'everyone';
    if (!p.startsWith('role:')) return p;
    const role = p.slice(5) as Role;
    const holders = knownActors.filter((a) => a.roles.includes(role)).map((a) => a.actor);
    return holders.length > 0 ? `role ${role} (${holders.join(', ')})` : `role ${role}`;
  });
  const admins = knownActors.filter((a) => a.roles.includes('admin')).map((a) => a.actor);
  return [...parts, admins.length > 0 ? `admins (${admins.join(', ')})` : 'admins'].join(', ');
}
