import type { CommunityStatus } from '../adapters/discord/discord-interactions.ts';
import { httpSiteCheck } from '../adapters/probe/site-check.ts';
import type { KevinDeployConfig, TargetSettings } from '../config/schema.ts';
import type { AlertOutbox } from '../ports/alert-outbox.ts';
import type { AvailabilityLog, LatestSiteChecks, SiteCheck } from '../ports/availability.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

const CACHE_MS = 30_000;

/**
 * What the community may know, for `/kevin status`: is KEVIN up (the live site answers), since
 * when the current release is live, whether a release is switching right now, and whether there
 * is an open community incident. Only protected environments count — staging is not the public's
 * business. Cached briefly, so a busy Discord cannot make the bot hammer the site. Whether the
 * site answers comes from the availability prober's latest check while it is recent; only
 * without one (just started, or the prober stalled) does this check the site itself.
 */
export function communityStatusSource(deps: {
  config: KevinDeployConfig;
  store: Store;
  outbox: AlertOutbox;
  clock: Clock;
  latest?: LatestSiteChecks | undefined;
  check?: SiteCheck | undefined;
}): () => Promise<CommunityStatus> {
  const check = deps.check ?? httpSiteCheck();
  let cached: { at: number; status: CommunityStatus } | undefined;
  return async () => {
    const now = deps.clock.now().getTime();
    if (cached && now - cached.at < CACHE_MS) return cached.status;
    const targets = publicTargets(deps.config);
    let up = targets.length > 0;
    let liveSince: string | undefined;
    let releasing = false;
    for (const target of targets) {
      up = (deps.latest?.latest(target) ?? (await check(target.productionUrl))) && up;
      const [last] = await deps.store.listDeployments({ service: target.service, environment: target.environment, stages: ['succeeded'], limit: 1 });
      const since = last?.stageTimes.succeeded;
      if (since && (!liveSince || since > liveSince)) liveSince = since;
      const active = await deps.store.listDeployments({ service: target.service, environment: target.environment, stages: ['switching', 'monitoring', 'rolling_back'], limit: 1 });
      releasing ||= active.length > 0;
    }
    const open = (await deps.outbox.list({ limit: 100 })).find((a) => a.kind === 'community-incident' && !a.resolvedAt);
    const status: CommunityStatus = {
      up,
      ...(liveSince ? { liveSince } : {}),
      ...(open ? { incident: { since: open.createdAt } } : {}),
      releasing,
    };
    cached = { at: now, status };
    return status;
  };
}

/** The community incidents opened since `since`, newest first: when each began and when it ended (null: ongoing). */
export async function communityIncidentsSince(outbox: AlertOutbox, since: string): Promise<Array<{ since: string; resolvedAt: string | null }>> {
  const alerts = await outbox.list({ limit: 500 });
  return alerts
    .filter((a) => a.kind === 'community-incident' && a.createdAt >= since)
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .map((a) => ({ since: a.createdAt, resolvedAt: a.resolvedAt }));
}

/**
 * Each public service's counted days since `sinceDay` (YYYY-MM-DD): its protected environments
 * added up day by day, so the public sees one service, never how it is deployed.
 */
export async function communityAvailabilitySince(
  log: AvailabilityLog,
  config: KevinDeployConfig,
  sinceDay: string,
): Promise<Array<{ service: string; days: Array<{ day: string; checks: number; failures: number }> }>> {
  const targets = publicTargets(config);
  const rows = await log.daysSince(targets, sinceDay);
  const services = [...new Set(targets.map((t) => t.service))];
  return services.map((service) => {
    const byDay = new Map<string, { day: string; checks: number; failures: number }>();
    for (const row of rows) {
      if (row.service !== service) continue;
      const day = byDay.get(row.day) ?? { day: row.day, checks: 0, failures: 0 };
      day.checks += row.checks;
      day.failures += row.failures;
      byDay.set(row.day, day);
    }
    return { service, days: [...byDay.values()] };
  });
}

/** The targets the public uses: only protected environments count, staging is not their business. */
function publicTargets(config: KevinDeployConfig): TargetSettings[] {
  return [...config.services.values()].flatMap((s) => [...s.environments.values()].filter((t) => t.protected));
}
