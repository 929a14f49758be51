import type { FaultSpec } from './fault-injector.ts';
import type { InvocationRecord } from './invocation-log.ts';
import type { BehaviorSpec } from './sample-site.ts';
import type { DeploymentRecord, StandInStateSnapshot, VersionRecord } from './stand-in-state.ts';
import type { CustomDomainRecord, RoutingChange, RoutingMatch, WorkerRouteRecord, ZoneRecord } from './worker-routing.ts';

/**
 * The running stand-in as its users see it: tests, the sandbox launcher, and the HTTP control
 * surface (which is why it lives apart from the server that implements it).
 */

export interface NewVersionInput {
  tag?: string;
  message?: string;
  behavior?: BehaviorSpec;
  secretsChanged?: boolean;
  /** The version's bindings, as `GET …/versions/{id}` lists them under resources.bindings. */
  bindings?: Array<{ type: string; name: string }>;
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
  /**
   * A production hostname of a zone (StandInOptions.zones), e.g. 'http://127.0.0.1:R' for
   * kevinstamp.com: served by whichever script its custom domain or route points at now.
   */
  hostUrl(hostname: string): string;
  /** The hostnames that have an edge (hostUrl). */
  hostnames(): string[];
  zones(): ZoneRecord[];
  /** A zone's Workers routes, in creation order. */
  workerRoutes(zoneId: string): WorkerRouteRecord[];
  customDomains(): CustomDomainRecord[];
  /**
   * Every change of the Worker behind a route or a custom domain, oldest first: through the API
   * (source 'api') or set directly (setRouteScript, source 'seed'). An update naming the script a
   * route already had is not a change.
   */
  routingChanges(): RoutingChange[];
  /** What serves hostname + path now (a custom domain first, then the most specific route). */
  serving(hostname: string, path?: string): RoutingMatch | undefined;
  /** Points the route with this pattern at a script (or none), as a person in the dashboard would. */
  setRouteScript(pattern: string, script: string | null): void;
  /** script → requests to this hostname it answered. */
  servedByHost(hostname: string): Record<string, number>;
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

