import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GRAPHQL_PATH,
  handleAnalyticsGraphql,
  InvocationLog,
  RecordingSampleSite,
  type AnalyticsGraphqlResult,
  type InvocationRecord,
} from './analytics-graphql.ts';
import { API_PREFIX, handleCloudflareApi, type CloudflareApiConfig } from './cloudflare-api.ts';
import type { ApiResult } from './cloudflare-envelope.ts';
import { checkDeployment } from './deployment-rules.ts';
import { EdgeRouter } from './edge-router.ts';
import { FaultInjector, faultResponse, type FaultSpec } from './fault-injector.ts';
import { behaviorSchema, type BehaviorSpec } from './sample-site.ts';
import { CONTROL_PREFIX, handleControl } from './stand-in-control.ts';
import {
  StandInState,
  type DeploymentRecord,
  type NewVersion,
  type StandInStateSnapshot,
  type VersionRecord,
} from './stand-in-state.ts';
import { isMultipart, readMultipartBody, type MultipartBody } from './version-upload.ts';

/**
 * A loopback stand-in for the part of Cloudflare the Workers adapter uses — the v4 API, plus an
 * edge per script that serves real traffic split by the active deployment — so blue-green
 * releases run end to end offline (tests, the demo, `npm start` with no accounts).
 */

export type { BehaviorSpec } from './sample-site.ts';
export type { FaultSpec } from './fault-injector.ts';
export type { InvocationRecord, InvocationStatus } from './analytics-graphql.ts';
export type { DeploymentRecord, VersionRecord, StandInStateSnapshot, VersionBinding, VersionUpload } from './stand-in-state.ts';
export { BEHAVIOR_BINDING } from './version-upload.ts';

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
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default () => new Date(). */
  clock?: () => Date;
  /** Start from a persisted StandInState (toJSON output) instead of empty scripts. */
  state?: StandInStateSnapshot;
}

export interface NewVersionInput {
  tag?: string;
  message?: string;
  behavior?: BehaviorSpec;
  secretsChanged?: boolean;
}

export interface ApiRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status answered; 0 when the connection was dropped by a fault. */
  status: number;
}

export interface CloudflareStandIn {
  /** e.g. 'http://127.0.0.1:P/client/v4' */
  apiBaseUrl: string;
  /** e.g. 'http://127.0.0.1:Q' */
  trafficUrl(script: string): string;
  /** e.g. 'http://127.0.0.1:Q/__preview/{versionPrefix}' */
  previewUrlTemplate(script: string): string;
  addVersion(script: string, v: NewVersionInput): VersionRecord;
  setBehavior(versionId: string, behavior: BehaviorSpec): void;
  /** Sets the active deployment directly (seeding); validated like the API, secrets check aside. */
  deploy(script: string, split: Record<string, number>): void;
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /**
   * Observes API calls (not /__stand-in/ control calls). Called once the request body has been
   * read and before it is applied, so a test that SIGKILLs the bot on the switch POST still gets
   * the switch applied — the "crashed after sending" case.
   */
  onRequest(listener: (req: { method: string; path: string }) => void): () => void;
  /** versionId → percent of the newest deployment ({} when none). */
  activeSplit(script: string): Record<string, number>;
  /** Newest first. */
  deployments(script: string): DeploymentRecord[];
  /** Splits of deployments that changed the split vs the one before, oldest first (seeded ones count). */
  effectiveSwitches(script: string): Array<Record<string, number>>;
  /** Highest percentage the version ever had; 0 if only ever at 0 %, −1 if never deployed. */
  maxPercentSeen(script: string, versionId: string): number;
  apiRequests(): ApiRequestRecord[];
  /** versionId → edge requests answered (previews and overrides included). */
  servedBy(script: string): Record<string, number>;
  /**
   * Every invocation the edge routed to a version of the script, oldest first, stamped with the
   * stand-in's clock: what `POST /client/v4/graphql` (workersInvocationsAdaptive) counts.
   */
  invocations(script: string): InvocationRecord[];
  close(): Promise<void>;

  // Beyond the brief: what the HTTP control surface and persistence need.
  /** Script names. */
  scripts(): string[];
  /** Newest first. */
  versions(script: string): VersionRecord[];
  pendingFaults(): FaultSpec[];
  /** The state to persist; feed it back through StandInOptions.state. */
  snapshot(): StandInStateSnapshot;

  /**
   * Calls the listener synchronously after every change to the persisted state — a version added
   * (API upload, addVersion, control route), a deployment created (API, deploy(), control route),
   * a behaviour set — so a host can write `snapshot()` after each one. Reads, edge traffic, faults
   * and refused requests do not call it. A throwing listener is ignored. Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void;
  /**
   * Serves `provider()` as JSON on `GET /__stand-in/traffic` (404 while nothing is attached), e.g.
   * a traffic collector's stats(). Attaching again replaces the provider; the returned function
   * detaches it (if it is still the attached one).
   */
  attachTrafficStats(provider: () => unknown): () => void;
}

/** Cloudflare's compressed Worker size limit on paid plans; big enough for any real upload. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startCloudflareStandIn(options: StandInOptions): Promise<CloudflareStandIn> {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? (() => new Date());
  const state = options.state ? StandInState.fromJSON(options.state) : new StandInState();
  for (const script of options.scripts) state.addScript(script);

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
  const apiServer = createServer();
  try {
    for (const script of state.scriptNames()) {
      edges.set(script, await EdgeRouter.start({ script, state, site, host, port: options.trafficPorts?.[script] ?? 0 }));
    }
    await listen(apiServer, options.apiPort ?? 0, host);
  } catch (error) {
    await Promise.all([...edges.values()].map((edge) => edge.close()));
    site.close();
    throw error;
  }

  const apiAddress = apiServer.address() as AddressInfo;
  const apiHost = apiAddress.family === 'IPv6' ? `[${apiAddress.address}]` : apiAddress.address;

  const edgeFor = (script: string): EdgeRouter => {
    const edge = edges.get(script);
    if (!edge) throw new Error(`no script "${script}" in the stand-in`);
    return edge;
  };
  const knownScript = (script: string): string => {
    if (!state.hasScript(script)) throw new Error(`no script "${script}" in the stand-in`);
    return script;
  };

  let closed: Promise<void> | undefined;
  const standIn: CloudflareStandIn = {
    apiBaseUrl: `http://${apiHost}:${apiAddress.port}${API_PREFIX}`,
    trafficUrl: (script) => edgeFor(script).url,
    previewUrlTemplate: (script) => `${edgeFor(script).url}/__preview/{versionPrefix}`,
    addVersion(script, v) {
      const input: NewVersion = {
        tag: v.tag,
        message: v.message,
        behavior: v.behavior === undefined ? undefined : behaviorSchema.parse(v.behavior),
        secretsChanged: v.secretsChanged,
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
        await Promise.all([
          ...[...edges.values()].map((edge) => edge.close()),
          new Promise<void>((resolve) => {
            apiServer.close(() => resolve());
            apiServer.closeAllConnections();
          }),
        ]);
      })();
      return closed;
    },
  };

  apiServer.on('request', (req, res) => void onApiRequest(req, res));

  async function onApiRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      req.socket.destroy();
      return;
    }
    const rawBody = body.toString('utf8');

    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      const answer = handleControl(standIn, method, url.pathname, rawBody, { trafficStats });
      send(res, answer.status, answer.body, {});
      return;
    }

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
    if (fault?.kind === 'drop-before-apply') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'latency') {
      try {
        await sleep(fault.latencyMs ?? 0, undefined, { signal: closing.signal });
      } catch {
        req.socket.destroy();
        return;
      }
    }

    const contentType = req.headers['content-type'];
    let multipart: MultipartBody | undefined;
    if (fault?.kind !== 'status' && method === 'POST' && contentType !== undefined && isMultipart(contentType)) {
      multipart = await readMultipartBody(contentType, body);
    }

    const isGraphql = method === 'POST' && url.pathname === `${API_PREFIX}${GRAPHQL_PATH}`;
    const answer: ApiResult | AnalyticsGraphqlResult =
      fault?.kind === 'status'
        ? faultResponse(fault)
        : isGraphql
          ? handleAnalyticsGraphql({ ...apiConfig, log: invocationLog }, { authorization: req.headers.authorization, rawBody })
          : handleCloudflareApi(apiConfig, {
              method,
              pathname: url.pathname,
              query: url.searchParams,
              authorization: req.headers.authorization,
              rawBody,
              multipart,
              userAgent: req.headers['user-agent'],
            });

    if (fault?.kind === 'drop-after-apply') {
      // Applied above; now lose the answer so the client cannot know whether it happened.
      req.socket.destroy();
      return;
    }
    record.status = answer.status;
    send(res, answer.status, answer.body, answer.headers ?? {});
  }

  return standIn;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
