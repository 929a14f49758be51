import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { behaviorSchema, type BehaviorSpec } from './sample-site.ts';
import { routingSnapshotSchema, WorkerRouting } from './worker-routing.ts';

/**
 * The in-memory model behind the Cloudflare stand-in: scripts, their versions and their
 * deployments. It knows nothing about HTTP so the API, the edge and a future persistence layer
 * (toJSON/fromJSON) all share one truth.
 */

export interface VersionRecord {
  id: string;
  script: string;
  /** Increases by one per upload, per script, like Cloudflare's version number. */
  number: number;
  tag?: string;
  message?: string;
  createdOn: string;
  /** Deploying this version needs `?force=true` (Cloudflare error 10220) — see deployment-rules.ts. */
  secretsChanged: boolean;
  behavior: BehaviorSpec;
  /** Who uploaded it, as Cloudflare reports it in metadata.source; absent means 'wrangler' (CI). */
  source?: string;
  /** What a multipart upload carried; absent for versions made with addVersion or the control surface. */
  upload?: VersionUpload;
}

/** A binding as Cloudflare lists it under resources.bindings (secret values are never kept). */
export interface VersionBinding {
  type: string;
  name: string;
  /** plain_text bindings only. */
  text?: string;
}

/** The script side of a multipart version upload. */
export interface VersionUpload {
  mainModule: string;
  /** Part names of every uploaded module, main module included, in upload order. */
  modules: string[];
  /** sha256 over the uploaded modules, hex. */
  etag: string;
  compatibilityDate?: string;
  bindings: VersionBinding[];
}

export interface DeploymentVersion {
  versionId: string;
  percentage: number;
}

export interface DeploymentRecord {
  id: string;
  script: string;
  createdOn: string;
  /** 'api' for deployments created through the API, 'wrangler' for ones seeded by the sandbox. */
  source: string;
  strategy: 'percentage';
  authorEmail: string;
  message?: string;
  versions: DeploymentVersion[];
}

export interface NewVersion {
  tag?: string | undefined;
  message?: string | undefined;
  behavior?: BehaviorSpec | undefined;
  secretsChanged?: boolean | undefined;
  source?: string | undefined;
  upload?: VersionUpload | undefined;
}

export interface NewDeployment {
  versions: DeploymentVersion[];
  message?: string | undefined;
  source: string;
}

/** versionId → percent. */
export type Split = Record<string, number>;

/** Cloudflare only lets the newest 100 versions of a script be deployed. */
export const DEPLOYABLE_VERSION_LIMIT = 100;

/** Percentages are compared with this tolerance everywhere (float splits such as 33.3/66.7). */
export const PERCENT_TOLERANCE = 0.01;

export const SANDBOX_AUTHOR_EMAIL = 'ci@kevin-sandbox.invalid';

interface ScriptEntry {
  name: string;
  /** Newest first, like every Cloudflare listing. */
  versions: VersionRecord[];
  /** Newest first; index 0 is the one serving traffic. */
  deployments: DeploymentRecord[];
}

const versionUploadSchema = z.object({
  mainModule: z.string().min(1),
  modules: z.array(z.string()),
  etag: z.string(),
  compatibilityDate: z.string().optional(),
  bindings: z.array(z.object({ type: z.string(), name: z.string(), text: z.string().optional() })),
});

const versionRecordSchema = z.object({
  id: z.string().min(1),
  script: z.string().min(1),
  number: z.number().int().positive(),
  tag: z.string().optional(),
  message: z.string().optional(),
  createdOn: z.string(),
  secretsChanged: z.boolean(),
  behavior: behaviorSchema,
  source: z.string().optional(),
  upload: versionUploadSchema.optional(),
});

const deploymentRecordSchema = z.object({
  id: z.string().min(1),
  script: z.string().min(1),
  createdOn: z.string(),
  source: z.string(),
  strategy: z.literal('percentage'),
  authorEmail: z.string(),
  message: z.string().optional(),
  versions: z.array(z.object({ versionId: z.string(), percentage: z.number() })),
});

export const STATE_FORMAT = 'kevin-deploy/stand-in-state@1';

const snapshotSchema = z.object({
  format: z.literal(STATE_FORMAT),
  scripts: z.array(
    z.object({
      name: z.string().min(1),
      versions: z.array(versionRecordSchema),
      deployments: z.array(deploymentRecordSchema),
    }),
  ),
  /** Zones, Workers routes and custom domains; absent in a state saved before the stand-in had them. */
  routing: routingSnapshotSchema.optional(),
  /** With zones: the versions that ran behind a route or custom domain (see hadTraffic). */
  versionsWithUsers: z.array(z.string()).optional(),
});

export type StandInStateSnapshot = z.infer<typeof snapshotSchema>;

function copyVersion(v: VersionRecord): VersionRecord {
  const copy: VersionRecord = { ...v, behavior: structuredClone(v.behavior) };
  if (v.upload) copy.upload = structuredClone(v.upload);
  return copy;
}

function copyDeployment(d: DeploymentRecord): DeploymentRecord {
  return { ...d, versions: d.versions.map((v) => ({ ...v })) };
}

function splitOf(deployment: DeploymentRecord): Split {
  return Object.fromEntries(deployment.versions.map((v) => [v.versionId, v.percentage]));
}

function sameSplit(a: Split, b: Split): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => k in b && Math.abs((a[k] as number) - (b[k] as number)) < PERCENT_TOLERANCE);
}

export class StandInState {
  readonly #scripts = new Map<string, ScriptEntry>();
  readonly #versionsById = new Map<string, VersionRecord>();
  readonly #changeListeners = new Set<() => void>();
  /** Versions that ran behind a route or custom domain: with zones, what "had traffic" means. */
  readonly #versionsWithUsers = new Set<string>();
  /** Zones, their Workers routes and the account's custom domains (worker-routing.ts). */
  readonly routing = new WorkerRouting(
    () => this.#changed(),
    (script) => this.#usersReach(script),
  );

  /**
   * Calls the listener synchronously after every change to what toJSON() returns (a script,
   * version or deployment added, a behaviour set), so a host can persist a snapshot each time.
   * A throwing listener is ignored: observers must not change what the stand-in does.
   */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => {
      this.#changeListeners.delete(listener);
    };
  }

  addScript(name: string): void {
    if (this.#scripts.has(name)) return;
    this.#scripts.set(name, { name, versions: [], deployments: [] });
    this.#changed();
  }

  hasScript(name: string): boolean {
    return this.#scripts.has(name);
  }

  scriptNames(): string[] {
    return [...this.#scripts.keys()];
  }

  addVersion(script: string, input: NewVersion, now: Date): VersionRecord {
    const entry = this.#entry(script);
    const record: VersionRecord = {
      id: randomUUID(),
      script,
      number: (entry.versions[0]?.number ?? 0) + 1,
      createdOn: now.toISOString(),
      secretsChanged: input.secretsChanged ?? false,
      behavior: structuredClone(input.behavior ?? {}),
    };
    if (input.tag !== undefined) record.tag = input.tag;
    if (input.message !== undefined) record.message = input.message;
    if (input.source !== undefined) record.source = input.source;
    if (input.upload !== undefined) record.upload = structuredClone(input.upload);
    entry.versions.unshift(record);
    this.#versionsById.set(record.id, record);
    this.#changed();
    return copyVersion(record);
  }

  /** Newest first. The records are copies: mutate through the methods, not the results. */
  versions(script: string): VersionRecord[] {
    return this.#entry(script).versions.map(copyVersion);
  }

  /** Looks a version up across all scripts (ids are UUIDs, so they are unique). */
  version(id: string): VersionRecord | undefined {
    const record = this.#versionsById.get(id);
    return record ? copyVersion(record) : undefined;
  }

  /** Versions of a script whose id starts with the prefix, newest first (preview URLs use 8 chars). */
  versionsByPrefix(script: string, prefix: string): VersionRecord[] {
    const lower = prefix.toLowerCase();
    return this.#entry(script).versions.filter((v) => v.id.startsWith(lower)).map(copyVersion);
  }

  /** Only the newest DEPLOYABLE_VERSION_LIMIT versions of a script can be deployed. */
  isDeployable(script: string, versionId: string): boolean {
    const index = this.#entry(script).versions.findIndex((v) => v.id === versionId);
    return index >= 0 && index < DEPLOYABLE_VERSION_LIMIT;
  }

  setBehavior(versionId: string, behavior: BehaviorSpec): void {
    const record = this.#versionsById.get(versionId);
    if (!record) throw new Error(`no version ${versionId} in the stand-in`);
    record.behavior = structuredClone(behavior);
    this.#changed();
  }

  /** Records a deployment as given; validation is deployment-rules.ts's job. */
  addDeployment(script: string, input: NewDeployment, now: Date): DeploymentRecord {
    const entry = this.#entry(script);
    const record: DeploymentRecord = {
      id: randomUUID(),
      script,
      createdOn: now.toISOString(),
      source: input.source,
      strategy: 'percentage',
      authorEmail: SANDBOX_AUTHOR_EMAIL,
      versions: input.versions.map((v) => ({ versionId: v.versionId, percentage: v.percentage })),
    };
    if (input.message !== undefined) record.message = input.message;
    entry.deployments.unshift(record);
    if (this.routing.servesUsers(script)) this.#usersReach(script);
    this.#changed();
    return copyDeployment(record);
  }

  /** Newest first. */
  deployments(script: string): DeploymentRecord[] {
    return this.#entry(script).deployments.map(copyDeployment);
  }

  activeDeployment(script: string): DeploymentRecord | undefined {
    const active = this.#entry(script).deployments[0];
    return active ? copyDeployment(active) : undefined;
  }

  activeSplit(script: string): Split {
    const active = this.#entry(script).deployments[0];
    return active ? splitOf(active) : {};
  }

  /**
   * Splits of the deployments that changed the split compared with the deployment before them,
   * oldest first. A retried POST that re-creates the same split is a deployment, but not a switch.
   * The very first deployment counts (it changed "nothing" into something), seeded ones included.
   */
  effectiveSwitches(script: string): Split[] {
    const switches: Split[] = [];
    let previous: Split | undefined;
    for (const deployment of [...this.#entry(script).deployments].reverse()) {
      const split = splitOf(deployment);
      if (!previous || !sameSplit(previous, split)) switches.push(split);
      previous = split;
    }
    return switches;
  }

  /** Highest percentage the version ever had; 0 if only ever at 0 %, −1 if never in a deployment. */
  maxPercentSeen(script: string, versionId: string): number {
    let max = -1;
    for (const deployment of this.#entry(script).deployments) {
      for (const v of deployment.versions) if (v.versionId === versionId) max = Math.max(max, v.percentage);
    }
    return max;
  }

  /**
   * Whether a version has had users, which switches a sample-site version's `afterTraffic`
   * behaviour on. For a script whose own address is production: it had more than 0 % of the
   * deployment. For a script reached through routes (blue and green as two Workers: green runs
   * at 100 % on a Worker without routes) its deployment alone reaches no user, so it counts once
   * a route or custom domain led to it.
   */
  hadTraffic(script: string, versionId: string): boolean {
    if (!this.routing.isRouted(script)) return this.maxPercentSeen(script, versionId) > 0;
    return this.#versionsWithUsers.has(versionId);
  }

  #usersReach(script: string): void {
    const active = this.#scripts.get(script)?.deployments[0];
    for (const v of active?.versions ?? []) if (v.percentage > 0) this.#versionsWithUsers.add(v.versionId);
  }

  toJSON(): StandInStateSnapshot {
    return {
      format: STATE_FORMAT,
      scripts: [...this.#scripts.values()].map((entry) => ({
        name: entry.name,
        versions: entry.versions.map(copyVersion),
        deployments: entry.deployments.map(copyDeployment),
      })),
      routing: this.routing.toJSON(),
      versionsWithUsers: [...this.#versionsWithUsers],
    };
  }

  static fromJSON(snapshot: unknown): StandInState {
    const parsed = snapshotSchema.parse(snapshot);
    const state = new StandInState();
    for (const script of parsed.scripts) {
      state.addScript(script.name);
      const entry = state.#entry(script.name);
      for (const v of script.versions) {
        const record = copyVersion(v);
        entry.versions.push(record);
        state.#versionsById.set(record.id, record);
      }
      entry.deployments.push(...script.deployments.map((d) => copyDeployment(d)));
    }
    if (parsed.routing) state.routing.restore(parsed.routing);
    for (const id of parsed.versionsWithUsers ?? []) state.#versionsWithUsers.add(id);
    return state;
  }

  #changed(): void {
    for (const listener of [...this.#changeListeners]) {
      try {
        listener();
      } catch {
        // an observer's bug must not undo or block the change
      }
    }
  }

  #entry(script: string): ScriptEntry {
    const entry = this.#scripts.get(script);
    if (!entry) throw new Error(`no script "${script}" in the stand-in`);
    return entry;
  }
}
