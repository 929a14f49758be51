import type { CommunityStatus } from '../adapters/discord/discord-interactions.ts';
import type { KevinDeployConfig } from '../config/schema.ts';
import type { AlertOutbox } from '../ports/alert-outbox.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

const CACHE_MS = 30_000;
const PROBE_TIMEOUT_MS = 3_000;

/**
 * What the community may know, for `/kevin status`: is KEVIN up (the live site answers), since
 * when the current release is live, whether a release is switching right now, and whether there
 * is an open community incident. Only protected environments count — staging is not the public's
 * business. Cached briefly, so a busy Discord cannot make the bot hammer the site.
 */
export function communityStatusSource(deps: { config: KevinDeployConfig; store: Store; outbox: AlertOutbox; clock: Clock; fetch?: typeof fetch }): () => Promise<CommunityStatus> {
  const fetchImpl = deps.fetch ?? fetch;
  let cached: { at: number; status: CommunityStatus } | undefined;
  return async () => {
    const now = deps.clock.now().getTime();
    if (cached && now - cached.at < CACHE_MS) return cached.status;
    const targets = [...deps.config.services.values()].flatMap((s) => [...s.environments.values()].filter((t) => t.protected));
    let up = targets.length > 0;
    let liveSince: string | undefined;
    let releasing = false;
    for (const target of targets) {
      up = (await siteAnswers(fetchImpl, target.productionUrl)) && up;
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

async function siteAnswers(fetchImpl: typeof fetch, url: string): Promise<boolean> {
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), headers: { 'user-agent': 'kevin-deploy-status' } });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
