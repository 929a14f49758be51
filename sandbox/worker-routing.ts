import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The zone side of the stand-in: zones, their Workers routes (`pattern` → script) and the
 * account's Workers custom domains (`hostname` → service). Which script serves a production URL
 * follows from these, as it does on Cloudflare: a custom domain first, then the most specific
 * route whose pattern matches. Every change of the script behind a route or a domain is kept in
 * `changes()` — the witness the tests count "effective route changes" with.
 */

export interface ZoneRecord {
  id: string;
  /** The zone's apex, e.g. kevinstamp.com. */
  name: string;
  /**
   * The Workers this zone's routes switch between (blue and green), if said: their own
   * addresses (workers.dev) reach no user, so for them "had traffic" means "a route led to it".
   */
  scripts?: string[] | undefined;
}

export interface WorkerRouteRecord {
  id: string;
  zoneId: string;
  /** e.g. `kevinstamp.com/*`, `*.kevinstamp.com/api/*`. */
  pattern: string;
  /** null: the route is there but runs no Worker (requests go to the origin). */
  script: string | null;
}

export interface CustomDomainRecord {
  id: string;
  zoneId: string;
  zoneName: string;
  hostname: string;
  /** The Worker the hostname runs. */
  service: string;
  environment: string;
  certId: string;
}

/** A change of the Worker behind a route or a custom domain (an update that names the same script is not one). */
export interface RoutingChange {
  at: string;
  kind: 'route' | 'custom-domain';
  /** The route's pattern or the domain's hostname. */
  name: string;
  from: string | null;
  to: string | null;
  /** 'api' through the v4 API; 'seed' when a test or the sandbox set it up directly. */
  source: 'api' | 'seed';
}

/** What serves a request: the Worker (null for a route without one) and what matched. */
export interface RoutingMatch {
  script: string | null;
  via: 'route' | 'custom-domain';
  /** The matching pattern or hostname. */
  name: string;
}

export interface SeedZone {
  id: string;
  name: string;
  /** Blue and green: see ZoneRecord.scripts. */
  scripts?: string[] | undefined;
  routes?: Array<{ pattern: string; script: string | null }> | undefined;
  customDomains?: Array<{ hostname: string; service: string }> | undefined;
}

export const routingSnapshotSchema = z.object({
  zones: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().min(1),
      scripts: z.array(z.string()).optional(),
      routes: z.array(z.object({ id: z.string().min(1), pattern: z.string().min(1), script: z.string().nullable() })),
    }),
  ),
  customDomains: z.array(
    z.object({
      id: z.string().min(1),
      zoneId: z.string().min(1),
      zoneName: z.string().min(1),
      hostname: z.string().min(1),
      service: z.string().min(1),
      environment: z.string(),
      certId: z.string(),
    }),
  ),
  changes: z.array(
    z.object({
      at: z.string(),
      kind: z.enum(['route', 'custom-domain']),
      name: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      source: z.enum(['api', 'seed']),
    }),
  ),
});

export type RoutingSnapshot = z.infer<typeof routingSnapshotSchema>;

function copyZone(zone: ZoneRecord): ZoneRecord {
  return { ...zone, ...(zone.scripts ? { scripts: [...zone.scripts] } : {}) };
}

/** Cloudflare's identifiers are 32 hex characters. */
export function cloudflareId(): string {
  return randomUUID().replaceAll('-', '');
}

/** The hostname part of a route pattern, without a scheme or a leading wildcard: `*.kevinstamp.com/*` → kevinstamp.com. */
export function patternHostname(pattern: string): string {
  const withoutScheme = pattern.replace(/^[a-z]+:\/\//i, '');
  const host = withoutScheme.split('/')[0] ?? '';
  return host.replace(/^\*\.?/, '').toLowerCase();
}

/** Whether a route pattern matches a request to hostname + path (Cloudflare's rules: a leading `*` in the host, a trailing `*` in the path). */
export function patternMatches(pattern: string, hostname: string, path: string): boolean {
  const withoutScheme = pattern.replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const hostPart = (slash < 0 ? withoutScheme : withoutScheme.slice(0, slash)).toLowerCase();
  const pathPart = slash < 0 ? '/' : withoutScheme.slice(slash);
  const host = hostname.toLowerCase();
  const hostOk = hostPart.startsWith('*') ? host.endsWith(hostPart.slice(1)) || host === hostPart.replace(/^\*\.?/, '') : host === hostPart;
  if (!hostOk) return false;
  return pathPart.endsWith('*') ? path.startsWith(pathPart.slice(0, -1)) : path === pathPart;
}

export class WorkerRouting {
  readonly #zones = new Map<string, { zone: ZoneRecord; routes: WorkerRouteRecord[] }>();
  readonly #domains: CustomDomainRecord[] = [];
  readonly #changes: RoutingChange[] = [];
  readonly #changed: () => void;
  readonly #pointed: (script: string) => void;

  /** `pointed` hears of every route or domain now pointing at a script: users reach that script's deployment. */
  constructor(changed: () => void, pointed: (script: string) => void = () => undefined) {
    this.#changed = changed;
    this.#pointed = pointed;
  }

  /** Whether the script is reached through routes: a zone switches between it and another, or a route or domain names it. */
  isRouted(script: string): boolean {
    return [...this.#zones.values()].some(({ zone }) => zone.scripts?.includes(script)) || this.servesUsers(script);
  }

  /** Whether any route or custom domain points at the script, i.e. it has users. */
  servesUsers(script: string): boolean {
    return [...this.#zones.values()].some(({ routes }) => routes.some((r) => r.script === script)) || this.#domains.some((d) => d.service === script);
  }

  /** Adds a zone with its routes and domains unless it exists (a restored state keeps its routing). */
  seedZone(seed: SeedZone, now: Date): void {
    if (this.#zones.has(seed.id)) return;
    this.#zones.set(seed.id, { zone: { id: seed.id, name: seed.name, ...(seed.scripts ? { scripts: [...seed.scripts] } : {}) }, routes: [] });
    for (const route of seed.routes ?? []) this.#addRoute(seed.id, route.pattern, route.script);
    for (const domain of seed.customDomains ?? []) this.#putDomain({ hostname: domain.hostname, service: domain.service, zoneId: seed.id }, now, 'seed');
    this.#changed();
  }

  hasZone(id: string): boolean {
    return this.#zones.has(id);
  }

  zone(id: string): ZoneRecord | undefined {
    const entry = this.#zones.get(id);
    return entry ? copyZone(entry.zone) : undefined;
  }

  zones(): ZoneRecord[] {
    return [...this.#zones.values()].map((z) => copyZone(z.zone));
  }

  /** In creation order, as Cloudflare lists them. */
  routes(zoneId: string): WorkerRouteRecord[] {
    return (this.#zones.get(zoneId)?.routes ?? []).map((r) => ({ ...r }));
  }

  route(zoneId: string, routeId: string): WorkerRouteRecord | undefined {
    const found = this.#zones.get(zoneId)?.routes.find((r) => r.id === routeId);
    return found ? { ...found } : undefined;
  }

  /** Replaces a route's pattern and script (validation is the API's job); a change of script is recorded. */
  updateRoute(zoneId: string, routeId: string, next: { pattern: string; script: string | null }, now: Date, source: RoutingChange['source'] = 'api'): WorkerRouteRecord {
    const route = this.#zones.get(zoneId)?.routes.find((r) => r.id === routeId);
    if (!route) throw new Error(`no route ${routeId} in zone ${zoneId}`);
    const from = route.script;
    route.pattern = next.pattern;
    route.script = next.script;
    if (from !== next.script) this.#changes.push({ at: now.toISOString(), kind: 'route', name: route.pattern, from, to: next.script, source });
    if (next.script !== null) this.#pointed(next.script);
    this.#changed();
    return { ...route };
  }

  /** Points the route with this pattern at a script directly (a person in the dashboard, or a test). */
  setRouteScript(pattern: string, script: string | null, now: Date): WorkerRouteRecord {
    for (const { zone, routes } of this.#zones.values()) {
      const route = routes.find((r) => r.pattern === pattern);
      if (route) return this.updateRoute(zone.id, route.id, { pattern, script }, now, 'seed');
    }
    throw new Error(`no route with pattern ${pattern} in the stand-in`);
  }

  customDomains(): CustomDomainRecord[] {
    return this.#domains.map((d) => ({ ...d }));
  }

  /** Attaches a hostname to a Worker: a new domain, or the existing one moved to that Worker. */
  putCustomDomain(input: { hostname: string; service: string; zoneId: string }, now: Date, source: RoutingChange['source'] = 'api'): CustomDomainRecord {
    const record = this.#putDomain(input, now, source);
    this.#pointed(record.service);
    this.#changed();
    return record;
  }

  /** The zone a hostname belongs to (its apex or a subdomain of it). */
  zoneOfHostname(hostname: string): ZoneRecord | undefined {
    const host = hostname.toLowerCase();
    const zone = [...this.#zones.values()].find(({ zone: z }) => host === z.name || host.endsWith(`.${z.name}`));
    return zone ? copyZone(zone.zone) : undefined;
  }

  /** What serves hostname + path: a custom domain first, then the most specific matching route. */
  match(hostname: string, path: string): RoutingMatch | undefined {
    const host = hostname.toLowerCase();
    const domain = this.#domains.find((d) => d.hostname === host);
    if (domain) return { script: domain.service, via: 'custom-domain', name: domain.hostname };
    const candidates = [...this.#zones.values()]
      .flatMap(({ routes }) => routes)
      .filter((r) => patternMatches(r.pattern, host, path))
      // The most specific pattern wins; the longer one is the more specific here.
      .sort((a, b) => b.pattern.length - a.pattern.length);
    const best = candidates[0];
    return best ? { script: best.script, via: 'route', name: best.pattern } : undefined;
  }

  /** Every hostname a route or custom domain names, each once, in order of appearance. */
  hostnames(): string[] {
    const names = [...this.#zones.values()].flatMap(({ routes }) => routes.map((r) => patternHostname(r.pattern)));
    names.push(...this.#domains.map((d) => d.hostname));
    return [...new Set(names)];
  }

  /** Oldest first. */
  changes(): RoutingChange[] {
    return this.#changes.map((c) => ({ ...c }));
  }

  toJSON(): RoutingSnapshot {
    return {
      zones: [...this.#zones.values()].map(({ zone, routes }) => ({
        id: zone.id,
        name: zone.name,
        ...(zone.scripts ? { scripts: [...zone.scripts] } : {}),
        routes: routes.map(({ id, pattern, script }) => ({ id, pattern, script })),
      })),
      customDomains: this.customDomains(),
      changes: this.changes(),
    };
  }

  restore(snapshot: RoutingSnapshot): void {
    for (const zone of snapshot.zones) {
      this.#zones.set(zone.id, {
        zone: { id: zone.id, name: zone.name, ...(zone.scripts ? { scripts: [...zone.scripts] } : {}) },
        routes: zone.routes.map((r) => ({ ...r, zoneId: zone.id })),
      });
    }
    this.#domains.push(...snapshot.customDomains.map((d) => ({ ...d })));
    this.#changes.push(...snapshot.changes.map((c) => ({ ...c })));
  }

  #addRoute(zoneId: string, pattern: string, script: string | null): void {
    this.#zones.get(zoneId)?.routes.push({ id: cloudflareId(), zoneId, pattern, script });
  }

  #putDomain(input: { hostname: string; service: string; zoneId: string }, now: Date, source: RoutingChange['source']): CustomDomainRecord {
    const zone = this.#zones.get(input.zoneId)?.zone;
    if (!zone) throw new Error(`no zone ${input.zoneId} in the stand-in`);
    const hostname = input.hostname.toLowerCase();
    const existing = this.#domains.find((d) => d.hostname === hostname);
    if (existing) {
      const from = existing.service;
      existing.service = input.service;
      if (from !== input.service) this.#changes.push({ at: now.toISOString(), kind: 'custom-domain', name: hostname, from, to: input.service, source });
      return { ...existing };
    }
    const record: CustomDomainRecord = {
      id: cloudflareId(),
      zoneId: zone.id,
      zoneName: zone.name,
      hostname,
      service: input.service,
      environment: 'production',
      certId: cloudflareId(),
    };
    this.#domains.push(record);
    // A domain seeded with its zone is where things start, not a change.
    if (source === 'api') this.#changes.push({ at: now.toISOString(), kind: 'custom-domain', name: hostname, from: null, to: input.service, source });
    return { ...record };
  }
}
