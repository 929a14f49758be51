import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { GRAPHQL_PATH, handleAnalyticsGraphql } from './analytics-graphql.ts';
import { API_PREFIX, API_ROUTES, answerApi, answerUnrouted, type ApiRequest, type CloudflareApiConfig } from './cloudflare-api.ts';
import { CF_CODES, CF_MESSAGES, failure, type ApiResult } from './cloudflare-envelope.ts';
import { checkDeployment } from './deployment-rules.ts';
import { EdgeRouter } from './edge-router.ts';
import { HostEdge } from './host-edge.ts';
import { FaultInjector, faultResponse } from './fault-injector.ts';
import { InvocationLog } from './invocation-log.ts';
import { RecordingSampleSite } from './recording-sample-site.ts';
import { behaviorSchema } from './sample-site.ts';
import { CONTROL_PREFIX, registerControlRoutes, unknownControlRoute } from './stand-in-control.ts';
import {
  StandInState,
  type NewVersion,
  type StandInStateSnapshot,
} from './stand-in-state.ts';
import type { ApiRequestRecord, CloudflareStandIn } from './stand-in-handle.ts';
import { isMultipart, readMultipartBody } from './version-upload.ts';
import type { SeedZone } from './worker-routing.ts';

/**
 * A loopback stand-in for the part of Cloudflare the Workers adapter uses — the v4 API, plus an
 * edge per script that serves real traffic split by the active deployment — so blue-green
 * releases run end to end offline (tests, the demo, `npm start` with no accounts).
 */

export type { BehaviorSpec } from './sample-site.ts';
export type { FaultSpec } from './fault-injector.ts';
export type { InvocationRecord, InvocationStatus } from './invocation-log.ts';
export type { DeploymentRecord, VersionRecord, StandInStateSnapshot, VersionBinding, VersionUpload } from './stand-in-state.ts';
export { BEHAVIOR_BINDING } from './version-upload.ts';
export type { ApiRequestRecord, CloudflareStandIn, NewVersionInput } from './stand-in-handle.ts';
export type { CustomDomainRecord, RoutingChange, RoutingMatch, SeedZone, WorkerRouteRecord, ZoneRecord } from './worker-routing.ts';

export interface StandInOptions {
  /** The only accepted bearer token. */
  apiToken: string;
  /** Tokens accepted for GET but answered 403 on writes (the "missing permission" case). */
  readOnlyTokens?: string[];
  /** The only account that exists. */
  accountId: string;
  /** Default 'kevin-sandbox'. */
  subdomain?: string;
  /** Script names that exist, e.g. ['kevinstamp']. */
  scripts: string[];
  /** Default 0 (ephemeral). */
  apiPort?: number;
  /** Per script; default 0. */
  trafficPorts?: Record<string, number>;
  /**
   * Zones with their Workers routes and custom domains (`pattern` → script, `hostname` → script).
   * Each hostname they name gets an edge of its own (`hostUrl`) that serves whichever script the
   * route or domain points at. A zone already in `state` keeps the routing it had.
   */
  zones?: SeedZone[];
  /** Per production hostname; default 0. */
  hostPorts?: Record<string, number>;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default () => new Date(). */
  clock?: () => Date;
  /** Start from a persisted StandInState (toJSON output) instead of empty scripts. */
  state?: StandInStateSnapshot;
}

/** Cloudflare's compressed Worker size limit on paid plans; big enough for any real upload. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startCloudflareStandIn(options: StandInOptions): Promise<CloudflareStandIn> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? (() => new Date());
  const state = options.state ? StandInState.fromJSON(options.state) : new StandInState();
  for (const script of options.scripts) state.addScript(script);
  for (const zone of options.zones ?? []) state.routing.seedZone(zone, clock());

  const invocationLog = new InvocationLog();
  const site = new RecordingSampleSite({ clock, log: invocationLog, scriptOf: (versionId) => state.version(versionId)?.script });
  const faults = new FaultInjector();
  const listeners = new Set<(req: { method: string; path: string }) => void>();
  let trafficStats: (() => unknown) | undefined;
  const requests: ApiRequestRecord[] = [];
  const closing = new AbortController();
  const apiConfig: CloudflareApiConfig = {
    apiToken: options.apiToken,
    readOnlyTokens: new Set(options.readOnlyTokens ?? []),
    accountId: options.accountId,
    subdomain: options.subdomain ?? 'kevin-sandbox',
    state,
    clock,
  };

  const edges = new Map<string, EdgeRouter>();
  const hostEdges = new Map<string, HostEdge>();
  const closeEdges = () => Promise.all([...[...edges.values()].map((edge) => edge.close()), ...[...hostEdges.values()].map((edge) => edge.close())]);
  try {
    for (const script of state.scriptNames()) {
      edges.set(script, await EdgeRouter.start({ script, state, site, host, port: options.trafficPorts?.[script] ?? 0 }));
    }
    for (const hostname of state.routing.hostnames()) {
      hostEdges.set(
        hostname,
        await HostEdge.start({ hostname, routing: state.routing, edgeOf: (script) => edges.get(script), host, port: options.hostPorts?.[hostname] ?? 0 }),
      );
    }
  } catch (error) {
    await closeEdges();
    site.close();
    throw error;
  }
  let apiBaseUrl = '';

  const edgeFor = (script: string): EdgeRouter => {
    const edge = edges.get(script);
    if (!edge) throw new Error(`no script "${script}" in the stand-in`);
    return edge;
  };
  const hostEdgeFor = (hostname: string): HostEdge => {
    const edge = hostEdges.get(hostname.toLowerCase());
    if (!edge) throw new Error(`no route or custom domain names "${hostname}" in the stand-in`);
    return edge;
  };
  const knownScript = (script: string): string => {
    if (!state.hasScript(script)) throw new Error(`no script "${script}" in the stand-in`);
    return script;
  };

  let closed: Promise<void> | undefined;
  const standIn: CloudflareStandIn = {
    get apiBaseUrl() {
      return apiBaseUrl;
    },
    trafficUrl: (script) => edgeFor(script).url,
    hostUrl: (hostname) => hostEdgeFor(hostname).url,
    hostnames: () => [...hostEdges.keys()],
    zones: () => state.routing.zones(),
    workerRoutes: (zoneId) => state.routing.routes(zoneId),
    customDomains: () => state.routing.customDomains(),
    routingChanges: () => state.routing.changes(),
    serving: (hostname, path = '/') => state.routing.match(hostname, path),
    setRouteScript(pattern, script) {
      if (script !== null) knownScript(script);
      state.routing.setRouteScript(pattern, script, clock());
    },
    servedByHost: (hostname) => hostEdgeFor(hostname).servedBy(),
    previewUrlTemplate: (script) => `${edgeFor(script).url}/__preview/{versionPrefix}`,
    addVersion(script, v) {
      const input: NewVersion = {
        tag: v.tag,
        message: v.message,
        behavior: v.behavior === undefined ? undefined : behaviorSchema.parse(v.behavior),
        secretsChanged: v.secretsChanged,
        // Bindings stand for what a real upload's metadata declares (a KV namespace, a Durable Object…).
        upload: v.bindings === undefined ? undefined : { mainModule: 'index.js', modules: ['index.js'], etag: '', bindings: v.bindings.map((b) => ({ ...b })) },
      };
      return state.addVersion(knownScript(script), input, clock());
    },
    setBehavior(versionId, behavior) {
      state.setBehavior(versionId, behaviorSchema.parse(behavior));
    },
    deploy(script, split) {
      const check = checkDeployment(state, knownScript(script), {
        strategy: 'percentage',
        versions: Object.entries(split).map(([version_id, percentage]) => ({ version_id, percentage })),
        force: true,
      });
      if (!check.ok) throw new Error(`cannot seed deployment of ${script}: ${check.error.message}`);
      // Seeding stands for a CI `wrangler versions deploy`, hence the source.
      state.addDeployment(script, { versions: check.versions, source: 'wrangler' }, clock());
    },
    injectFault: (fault) => faults.inject(fault),
    clearFaults: () => faults.clear(),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    activeSplit: (script) => state.activeSplit(knownScript(script)),
    deployments: (script) => state.deployments(knownScript(script)),
    effectiveSwitches: (script) => state.effectiveSwitches(knownScript(script)),
    maxPercentSeen: (script, versionId) => state.maxPercentSeen(knownScript(script), versionId),
    apiRequests: () => requests.map((r) => ({ ...r })),
    servedBy: (script) => edgeFor(script).servedBy(),
    invocations: (script) => invocationLog.list(knownScript(script)),
    scripts: () => state.scriptNames(),
    versions: (script) => state.versions(knownScript(script)),
    pendingFaults: () => faults.pending(),
    snapshot: () => state.toJSON(),
    onChange: (listener) => state.onChange(listener),
    attachTrafficStats(provider) {
      trafficStats = provider;
      return () => {
        if (trafficStats === provider) trafficStats = undefined;
      };
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        site.close();
        await Promise.all([closeEdges(), api.close()]);
      })();
      return closed;
    },
  };

  // The API and the control surface, routed by fastify. Every body reaches the handlers as bytes:
  // the API answers malformed JSON itself (6007) and parses multipart uploads itself.
  const api = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    // Cloudflare's routes are exact: no HEAD twin of each GET route.
    exposeHeadRoutes: false,
    // Close drops keep-alive connections and requests held by a latency fault.
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 1024 },
    // A path fastify cannot route (one that cannot be %-decoded) routes nowhere: Cloudflare's 7003.
    frameworkErrors: (_error, request, reply) => void serveApi(request, reply, (r) => answerUnrouted(apiConfig, r)),
  });
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  api.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    // A body over the limit is dropped unanswered, as a proxy in front of the API would.
    if (error.statusCode === 413) return drop(request, reply);
    return send(reply, failure(500, CF_CODES.unknown, CF_MESSAGES.unknown));
  });

  registerControlRoutes(api, standIn, () => ({ trafficStats }));
  for (const route of API_ROUTES) {
    api.route({ method: route.method, url: `${API_PREFIX}${route.url}`, handler: (request, reply) => serveApi(request, reply, (r) => answerApi(apiConfig, route, r)) });
  }
  api.post(`${API_PREFIX}${GRAPHQL_PATH}`, (request, reply) =>
    serveApi(request, reply, (r) => handleAnalyticsGraphql({ ...apiConfig, log: invocationLog }, { authorization: r.authorization, rawBody: r.rawBody })),
  );
  api.setNotFoundHandler((request, reply) => {
    const { pathname } = new URL(request.url, 'http://stand-in.invalid');
    if (pathname.startsWith(CONTROL_PREFIX)) {
      const answer = unknownControlRoute(request.method, pathname);
      return reply.code(answer.status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(answer.body)));
    }
    return serveApi(request, reply, (r) => answerUnrouted(apiConfig, r));
  });

  /** Every API call, routed or not: recorded, observed, subject to the armed faults, then answered. */
  async function serveApi(request: FastifyRequest, reply: FastifyReply, answer: (request: ApiRequest) => Answer): Promise<FastifyReply> {
    const url = new URL(request.url, 'http://stand-in.invalid');
    const method = request.method.toUpperCase();
    const record: ApiRequestRecord = { method, path: url.pathname, status: 0 };
    requests.push(record);
    for (const listener of listeners) {
      try {
        listener({ method, path: url.pathname });
      } catch {
        // an observer's bug must not change what the API answers
      }
    }

    const fault = faults.take(method, url.pathname);
    if (fault?.kind === 'drop-before-apply') return drop(request, reply);
    if (fault?.kind === 'latency') {
      try {
        await sleep(fault.latencyMs ?? 0, undefined, { signal: closing.signal });
      } catch {
        return drop(request, reply);
      }
    }

    let result: Answer;
    if (fault?.kind === 'status') {
      result = faultResponse(fault);
    } else {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const contentType = request.headers['content-type'];
      const multipart = method === 'POST' && contentType !== undefined && isMultipart(contentType) ? await readMultipartBody(contentType, body) : undefined;
      const userAgent = request.headers['user-agent'];
      result = answer({
        method,
        pathname: url.pathname,
        params: request.params as ApiRequest['params'],
        query: url.searchParams,
        authorization: request.headers.authorization,
        rawBody: body.toString('utf8'),
        multipart,
        userAgent,
      });
    }

    if (fault?.kind === 'drop-after-apply') {
      // Applied above; now lose the answer so the client cannot know whether it happened.
      return drop(request, reply);
    }
    record.status = result.status;
    return send(reply, result);
  }

  try {
    await api.listen({ port: options.apiPort ?? 0, host });
  } catch (error) {
    await closeEdges();
    site.close();
    await api.close().catch(() => undefined);
    throw error;
  }
  const apiAddress = api.server.address() as AddressInfo;
  const apiHost = apiAddress.family === 'IPv6' ? `[${apiAddress.address}]` : apiAddress.address;
  apiBaseUrl = `http://${apiHost}:${apiAddress.port}${API_PREFIX}`;
  return standIn;
}

/** What the API answers: a v4 envelope (ApiResult) or a GraphQL one. */
type Answer = Pick<ApiResult, 'status' | 'headers'> & { body: unknown };

/** Bytes, so the content type stays exactly `application/json` as Cloudflare sends it (fastify adds a charset to strings). */
function send(reply: FastifyReply, result: Answer): FastifyReply {
  return reply
    .code(result.status)
    .headers(result.headers ?? {})
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(result.body)));
}

/** Loses the request: no answer, the connection closed. */
function drop(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  request.raw.socket.destroy();
  return reply;
}
