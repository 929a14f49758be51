import { ROLES } from '../domain/policy.ts';
import type { RoleHolder } from '../ports/target-catalog.ts';
import type { KevinDeployConfig } from './schema.ts';

/**
 * Everyone the configuration gives a role, for refusals that say who may: the API tokens' actors,
 * and Slack users and user groups from `slack.roles` — a Slack user mapped to an actor in
 * `slack.users` is that actor (one person, listed once); a user group (S…) is named as a group.
 */
export function roleHoldersOf(config: KevinDeployConfig): RoleHolder[] {
  const known: RoleHolder[] = config.apiTokens.map((t) => ({ actor: t.actor, roles: [...t.roles] }));
  for (const role of ROLES) {
    for (const id of config.slack.roles[role]) {
      const actor = id.startsWith('S') ? `slack-group:${id}` : (config.slack.users[id] ?? `slack:${id}`);
      const entry = known.find((k) => k.actor === actor);
      if (entry) entry.roles.push(role);
      else known.push({ actor, roles: [role] });
    }
  }
  return known;
}
