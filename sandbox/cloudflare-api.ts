import { createHash } from 'node:crypto';
import { CF_CODES, CF_MESSAGES, failure, success, type ApiResult } from './cloudflare-envelope.ts';
import { checkDeployment } from './deployment-rules.ts';
import { SANDBOX_AUTHOR_EMAIL, type DeploymentRecord, type StandInState, type VersionRecord } from './stand-in-state.ts';
import { interpretVersionUpload, type MultipartBody } from './version-upload.ts';
import { attachDomain, getRoute, listDomains, listRoutes, updateRoute, type RoutingContext } from './routes-api.ts';

/**
 * The subset of the Cloudflare v4 API that the Workers adapter uses, as pure functions of the
 * stand-in state: no sockets here, so faults, recording and transport live in one place
 * (cloudflare-stand-in.ts, where fastify routes requests to API_ROUTES) and this module only
 * decides what Cloudflare would answer.
 */

export const API_PREFIX = '/client/v4';

export interface ApiRequest {
  method: string;
  /** Path without query string, including the /client/v4 prefix, as sent (still %-encoded). */
  pathname: string;
  /** The route's path parameters, decoded (account, script, versionId; zone, routeId). */
  params: Partial<Record<'account' | 'script' | 'versionId' | 'zone' | 'routeId', string>>;
  query: URLSearchParams;
  authorization: string | undefined;
  rawBody: string;
  /**
   * The multipart/form-data body, already parsed by the transport (readMultipartBody is async;
   * this module stays synchronous). Undefined when the request was not multipart.
   */
  multipart?: MultipartBody | undefined;
  /** The User-Agent header: uploads from wrangler are recorded with source 'wrangler', others 'api'. */
  userAgent?: string | undefined;
}

export interface CloudflareApiConfig {
  apiToken: string;
  readOnlyTokens: ReadonlySet<string>;
  accountId: string;
  subdomain: string;
  state: StandInState;
  clock: () => Date;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT';
  /** Under API_PREFIX, with fastify's :params. */
  url: string;
  handle(config: CloudflareApiConfig, request: ApiRequest, script: string): ApiResult;
}

const DEFAULT_PER_PAGE = 10;
const MAX_PER_PAGE = 100;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A stable, made-up Cloudflare user id for the sandbox author.
const SANDBOX_AUTHOR_ID = createHash('sha256').update(SANDBOX_AUTHOR_EMAIL).digest('hex').slice(0, 32);

const SCRIPT = '/accounts/:account/workers/scripts/:script';
const ZONE_ROUTES = '/zones/:zone/workers/routes';

function routingContext(config: CloudflareApiConfig): RoutingContext {
  return { routing: config.state.routing, hasScript: (script) => config.state.hasScript(script), now: config.clock() };
}

/** The endpoints; answerApi runs Cloudflare's access checks before each one. */
export const API_ROUTES: ApiRoute[] = [
  { method: 'GET', url: '/accounts/:account/workers/subdomain', handle: (config) => success({ subdomain: config.subdomain }) },
  { method: 'GET', url: `${SCRIPT}/versions`, handle: (config, request, script) => listVersions(config.state, script, request.query) },
  { method: 'POST', url: `${SCRIPT}/versions`, handle: createVersion },
  {
    method: 'GET',
    url: `${SCRIPT}/versions/:versionId`,
    handle: (config, request, script) => getVersion(config.state, script, request.params.versionId ?? ''),
  },
  {
    method: 'GET',
    url: `${SCRIPT}/deployments`,
    handle: (config, _request, script) => success({ deployments: config.state.deployments(script).map(deploymentWire) }),
  },
  { method: 'POST', url: `${SCRIPT}/deployments`, handle: createDeployment },
  // Workers routes of a zone, and the account's custom domains (routes-api.ts).
  { method: 'GET', url: ZONE_ROUTES, handle: (config, request) => listRoutes(routingContext(config), request) },
  { method: 'GET', url: `${ZONE_ROUTES}/:routeId`, handle: (config, request) => getRoute(routingContext(config), request) },
  { method: 'PUT', url: `${ZONE_ROUTES}/:routeId`, handle: (config, request) => updateRoute(routingContext(config), request) },
  { method: 'GET', url: '/accounts/:account/workers/domains', handle: (config, request) => listDomains(routingContext(config), request) },
  { method: 'PUT', url: '/accounts/:account/workers/domains', handle: (config, request) => attachDomain(routingContext(config), request) },
];

/** A routed request: Cloudflare's checks in its order — the token, its permission, the account or zone, the script — then the endpoint. */
export function answerApi(config: CloudflareApiConfig, route: ApiRoute, request: ApiRequest): ApiResult {
  const token = bearerToken(request.authorization);
  const readOnly = token !== undefined && config.readOnlyTokens.has(token);
  if (token === undefined || (token !== config.apiToken && !readOnly)) {
    return failure(401, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  // Cloudflare answers a token lacking "Workers Scripts:Edit", and an account the token cannot
  // see, with the same 403/10000 — the adapter has to explain both to a person.
  if (readOnly && request.method !== 'GET' && request.method !== 'HEAD') {
    return failure(403, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  if (request.params.account !== undefined && request.params.account !== config.accountId) {
    return failure(403, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  // A zone the token cannot see is answered like an account it cannot see.
  if (request.params.zone !== undefined && !config.state.routing.hasZone(request.params.zone)) {
    return failure(403, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  const script = request.params.script;
  if (script !== undefined && !config.state.hasScript(script)) {
    return failure(404, CF_CODES.workerNotFound, CF_MESSAGES.workerNotFound);
  }
  return route.handle(config, request, script ?? '');
}

/** A request no route matched: 7000 outside /client/v4; under it, 401 for a bad token, else 7003. */
export function answerUnrouted(config: CloudflareApiConfig, request: ApiRequest): ApiResult {
  const { pathname } = request;
  if (pathname !== API_PREFIX && !pathname.startsWith(`${API_PREFIX}/`)) {
    return failure(404, CF_CODES.noRoute, CF_MESSAGES.noRoute);
  }
  const token = bearerToken(request.authorization);
  if (token === undefined || (token !== config.apiToken && !config.readOnlyTokens.has(token))) {
    return failure(401, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  return failure(404, CF_CODES.couldNotRoute, CF_MESSAGES.couldNotRoute(pathname.slice(API_PREFIX.length) || '/'));
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function positiveInt(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 ? value : fallback;
}

function versionSummary(v: VersionRecord): Record<string, unknown> {
  const annotations: Record<string, string> = {};
  if (v.tag !== undefined) annotations['workers/tag'] = v.tag;
  if (v.message !== undefined) annotations['workers/message'] = v.message;
  annotations['workers/triggered_by'] = 'upload';
  return {
    id: v.id,
    number: v.number,
    metadata: {
      author_email: SANDBOX_AUTHOR_EMAIL,
      author_id: SANDBOX_AUTHOR_ID,
      created_on: v.createdOn,
      modified_on: v.createdOn,
      source: v.source ?? 'wrangler',
      hasPreview: true,
    },
    annotations,
  };
}

const DEFAULT_COMPATIBILITY_DATE = '2026-01-01';

function versionDetail(v: VersionRecord): Record<string, unknown> {
  return {
    ...versionSummary(v),
    resources: {
      bindings: (v.upload?.bindings ?? []).map((b) => ({ ...b })),
      script: { etag: v.upload?.etag || createHash('sha256').update(v.id).digest('hex'), handlers: ['fetch'] },
      script_runtime: { compatibility_date: v.upload?.compatibilityDate ?? DEFAULT_COMPATIBILITY_DATE, usage_model: 'standard' },
    },
  };
}

/**
 * The answer to a version upload: the version detail plus what wrangler reads from it
 * (`startup_time_ms`, and `metadata.has_preview` in snake case next to the documented `hasPreview`).
 */
function versionCreated(v: VersionRecord): Record<string, unknown> {
  const detail = versionDetail(v);
  return {
    ...detail,
    metadata: { ...(detail['metadata'] as Record<string, unknown>), has_preview: true },
    startup_time_ms: 0,
  };
}

/** A deployment in Cloudflare's wire shape. */
export function deploymentWire(d: DeploymentRecord): Record<string, unknown> {
  const annotations: Record<string, string> = {};
  if (d.message !== undefined) annotations['workers/message'] = d.message;
  annotations['workers/triggered_by'] = 'deployment';
  return {
    id: d.id,
    created_on: d.createdOn,
    source: d.source,
    strategy: d.strategy,
    author_email: d.authorEmail,
    annotations,
    versions: d.versions.map((v) => ({ version_id: v.versionId, percentage: v.percentage })),
  };
}

function listVersions(state: StandInState, script: string, query: URLSearchParams): ApiResult {
  const all = state.versions(script);
  if (query.get('deployable') === 'true') {
    // The real API ignores page/per_page here; an SDK auto-paginator therefore never ends.
    const items = all.slice(0, MAX_PER_PAGE);
    return success(
      { items: items.map(versionSummary) },
      { page: 1, per_page: MAX_PER_PAGE, count: items.length, total_count: items.length, total_pages: 1 },
    );
  }
  const page = positiveInt(query.get('page'), 1);
  const perPage = Math.min(positiveInt(query.get('per_page'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const items = all.slice((page - 1) * perPage, page * perPage);
  return success(
    { items: items.map(versionSummary) },
    {
      page,
      per_page: perPage,
      count: items.length,
      total_count: all.length,
      total_pages: Math.max(1, Math.ceil(all.length / perPage)),
    },
  );
}

function getVersion(state: StandInState, script: string, versionId: string): ApiResult {
  if (!UUID_PATTERN.test(versionId)) {
    return failure(400, CF_CODES.versionIdMalformed, CF_MESSAGES.versionIdMalformed);
  }
  const record = state.version(versionId.toLowerCase());
  if (!record || record.script !== script) return failure(404, CF_CODES.versionNotFound, CF_MESSAGES.versionNotFound);
  return success(versionDetail(record));
}

function createVersion(config: CloudflareApiConfig, request: ApiRequest, script: string): ApiResult {
  const source = /^wrangler\//i.test(request.userAgent ?? '') ? 'wrangler' : 'api';
  const check = interpretVersionUpload(request.multipart, source);
  if (!check.ok) return failure(400, check.error.code, check.error.message);
  // Cloudflare accepts any number of uploads with the same tag: each one is a new version.
  const created = config.state.addVersion(script, check.version, config.clock());
  return success(versionCreated(created));
}

function createDeployment(config: CloudflareApiConfig, request: ApiRequest, script: string): ApiResult {
  let body: unknown;
  try {
    body = request.rawBody.trim() === '' ? undefined : JSON.parse(request.rawBody);
  } catch {
    return failure(400, CF_CODES.malformedJson, CF_MESSAGES.malformedJson);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return failure(400, CF_CODES.invalidDeployment, 'Invalid deployment: the request body must be a JSON object');
  }
  const { strategy, versions, annotations } = body as { strategy?: unknown; versions?: unknown; annotations?: unknown };
  const check = checkDeployment(config.state, script, {
    strategy,
    versions,
    force: request.query.get('force') === 'true',
  });
  if (!check.ok) return failure(400, check.error.code, check.error.message);

  const message = (annotations as Record<string, unknown> | undefined)?.['workers/message'];
  const created = config.state.addDeployment(
    script,
    { versions: check.versions, message: typeof message === 'string' ? message : undefined, source: 'api' },
    config.clock(),
  );
  return success(deploymentWire(created));
}
