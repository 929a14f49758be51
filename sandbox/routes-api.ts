import { CF_CODES, CF_MESSAGES, failure, success, type ApiResult } from './cloudflare-envelope.ts';
import { patternHostname, type CustomDomainRecord, type WorkerRouteRecord, type WorkerRouting } from './worker-routing.ts';

/**
 * The stand-in's Workers routes and custom domains endpoints, as pure functions of the routing
 * state (cloudflare-api.ts routes requests here after Cloudflare's access checks):
 *
 *   GET /zones/{zone_id}/workers/routes             → [{id, pattern, script}]
 *   GET /zones/{zone_id}/workers/routes/{route_id}  → {id, pattern, script}
 *   PUT /zones/{zone_id}/workers/routes/{route_id}  {pattern, script?} → {id, pattern, script}
 *   GET /accounts/{account_id}/workers/domains      ?hostname&service&zone_id&zone_name → [domain]
 *   PUT /accounts/{account_id}/workers/domains      {hostname, service, zone_id?, zone_name?} → domain
 *
 * A PUT replaces the route (pattern and script): a body without `script` leaves the route
 * without a Worker, as Cloudflare does. Attaching a hostname that is attached already moves it
 * to the named Worker (the domain keeps its id).
 */

export interface RoutingRequest {
  params: Partial<Record<'zone' | 'routeId', string>>;
  query: URLSearchParams;
  rawBody: string;
}

export interface RoutingContext {
  routing: WorkerRouting;
  hasScript: (script: string) => boolean;
  now: Date;
}

/** A route as Cloudflare sends it: `script` absent when no Worker runs on it. */
export function routeWire(route: WorkerRouteRecord): Record<string, unknown> {
  return { id: route.id, pattern: route.pattern, ...(route.script !== null ? { script: route.script } : {}) };
}

export function domainWire(domain: CustomDomainRecord): Record<string, unknown> {
  return {
    id: domain.id,
    cert_id: domain.certId,
    environment: domain.environment,
    hostname: domain.hostname,
    service: domain.service,
    zone_id: domain.zoneId,
    zone_name: domain.zoneName,
  };
}

export function listRoutes(ctx: RoutingContext, request: RoutingRequest): ApiResult {
  return success(ctx.routing.routes(request.params.zone ?? '').map(routeWire));
}

export function getRoute(ctx: RoutingContext, request: RoutingRequest): ApiResult {
  const route = ctx.routing.route(request.params.zone ?? '', request.params.routeId ?? '');
  if (!route) return failure(404, CF_CODES.routeNotFound, CF_MESSAGES.routeNotFound);
  return success(routeWire(route));
}

export function updateRoute(ctx: RoutingContext, request: RoutingRequest): ApiResult {
  const zoneId = request.params.zone ?? '';
  const routeId = request.params.routeId ?? '';
  const body = parseObject(request.rawBody);
  if ('error' in body) return body.error;
  const current = ctx.routing.route(zoneId, routeId);
  if (!current) return failure(404, CF_CODES.routeNotFound, CF_MESSAGES.routeNotFound);
  const zone = ctx.routing.zone(zoneId)!;
  const { pattern, script } = body.value as { pattern?: unknown; script?: unknown };
  if (typeof pattern !== 'string' || pattern.trim() === '' || !belongsTo(patternHostname(pattern), zone.name)) {
    return failure(400, CF_CODES.routePatternInvalid, CF_MESSAGES.routePatternInvalid(zone.name));
  }
  if (script !== undefined && script !== null && (typeof script !== 'string' || !ctx.hasScript(script))) {
    return failure(400, CF_CODES.routeScriptNotFound, CF_MESSAGES.routeScriptNotFound);
  }
  if (ctx.routing.routes(zoneId).some((r) => r.id !== routeId && r.pattern === pattern)) {
    return failure(400, CF_CODES.routePatternTaken, CF_MESSAGES.routePatternTaken);
  }
  const updated = ctx.routing.updateRoute(zoneId, routeId, { pattern, script: typeof script === 'string' ? script : null }, ctx.now);
  return success(routeWire(updated));
}

export function listDomains(ctx: RoutingContext, request: RoutingRequest): ApiResult {
  const filters: Array<[string, keyof CustomDomainRecord]> = [
    ['hostname', 'hostname'],
    ['service', 'service'],
    ['zone_id', 'zoneId'],
    ['zone_name', 'zoneName'],
  ];
  const domains = ctx.routing.customDomains().filter((d) =>
    filters.every(([param, field]) => {
      const wanted = request.query.get(param);
      return wanted === null || wanted === '' || d[field] === wanted;
    }),
  );
  return success(domains.map(domainWire));
}

export function attachDomain(ctx: RoutingContext, request: RoutingRequest): ApiResult {
  const body = parseObject(request.rawBody);
  if ('error' in body) return body.error;
  const { hostname, service, zone_id: zoneId, zone_name: zoneName } = body.value as Record<string, unknown>;
  if (typeof hostname !== 'string' || hostname === '' || typeof service !== 'string' || service === '') {
    return failure(400, CF_CODES.malformedJson, 'Invalid request: "hostname" and "service" are required strings');
  }
  if (!ctx.hasScript(service)) return failure(404, CF_CODES.workerNotFound, CF_MESSAGES.workerNotFound);
  const zone =
    typeof zoneId === 'string' && zoneId !== ''
      ? ctx.routing.zone(zoneId)
      : typeof zoneName === 'string' && zoneName !== ''
        ? ctx.routing.zones().find((z) => z.name === zoneName)
        : ctx.routing.zoneOfHostname(hostname);
  // A zone the token cannot see, or a hostname outside it, is the same 403 as an unknown account.
  if (!zone || !belongsTo(hostname.toLowerCase(), zone.name)) return failure(403, CF_CODES.authentication, CF_MESSAGES.authentication);
  return success(domainWire(ctx.routing.putCustomDomain({ hostname, service, zoneId: zone.id }, ctx.now)));
}

function belongsTo(hostname: string, zoneName: string): boolean {
  return hostname === zoneName || hostname.endsWith(`.${zoneName}`);
}

function parseObject(rawBody: string): { value: Record<string, unknown> } | { error: ApiResult } {
  let body: unknown;
  try {
    body = rawBody.trim() === '' ? undefined : JSON.parse(rawBody);
  } catch {
    return { error: failure(400, CF_CODES.malformedJson, CF_MESSAGES.malformedJson) };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: failure(400, CF_CODES.malformedJson, 'Invalid request: the body must be a JSON object') };
  }
  return { value: body as Record<string, unknown> };
}
