import type { webApi } from '@slack/bolt';
import type { KevinDeployConfig } from '../../config/schema.ts';
import { ROLES, type Role } from '../../domain/policy.ts';
import type { Actor } from '../../domain/policy.ts';
import type { Clock } from '../../ports/clock.ts';

const GROUP_CACHE_MS = 5 * 60_000;

/**
 * Who a Slack user is to kevin-deploy: an actor name (their mapped name, else `slack:U…`),
 * roles from `slack.roles`, and the principals per-environment lists may name (`slack:U…`,
 * `slack-group:S…`). User-group membership is read from Slack (usergroups.users.list) and cached
 * for five minutes; when Slack cannot answer, group-based rights are simply not granted.
 */
export class SlackActors {
  private readonly groups = new Map<string, { members: Set<string>; at: number }>();
  private readonly referencedGroups: string[];

  constructor(
    private readonly config: KevinDeployConfig,
    private readonly client: webApi.WebClient,
    private readonly clock: Clock,
    private readonly onError: (error: unknown, group: string) => void = () => undefined,
  ) {
    this.referencedGroups = [...collectGroups(config)];
  }

  async resolve(userId: string): Promise<Actor> {
    const memberOf: string[] = [];
    for (const group of this.referencedGroups) if ((await this.members(group)).has(userId)) memberOf.push(group);
    const ids = new Set([userId, ...memberOf]);
    const roles: Role[] = ROLES.filter((role) => this.config.slack.roles[role].some((id) => ids.has(id)));
    return {
      name: this.config.slack.users[userId] ?? `slack:${userId}`,
      roles,
      via: 'slack',
      principals: [`slack:${userId}`, ...memberOf.map((g) => `slack-group:${g}`)],
    };
  }

  private async members(group: string): Promise<Set<string>> {
    const now = this.clock.now().getTime();
    const cached = this.groups.get(group);
    if (cached && now - cached.at < GROUP_CACHE_MS) return cached.members;
    try {
      const result = await this.client.usergroups.users.list({ usergroup: group });
      const members = new Set(result.users ?? []);
      this.groups.set(group, { members, at: now });
      return members;
    } catch (error) {
      this.onError(error, group);
      return cached?.members ?? new Set();
    }
  }
}

/** Every user group the configuration mentions, in roles or in per-environment principals. */
function collectGroups(config: KevinDeployConfig): Set<string> {
  const groups = new Set<string>();
  for (const role of ROLES) for (const id of config.slack.roles[role]) if (id.startsWith('S')) groups.add(id);
  for (const service of config.services.values()) {
    for (const settings of service.environments.values()) {
      const lists = [settings.access.deploy, settings.access.rollback, settings.access.lock, settings.approval.approvers];
      for (const list of lists) for (const p of list) if (p.startsWith('slack-group:')) groups.add(p.slice('slack-group:'.length));
    }
  }
  return groups;
}
