import { loadConfig } from '../../src/config/load-config.ts';
import type { TargetSettings, TargetSettingsInput } from '../../src/config/schema.ts';
import type { CheckResult, Deployment, Split, VersionInfo } from '../../src/domain/deployment.ts';
import { decide, type Decision } from '../../src/domain/decide/index.ts';
import { metricHistoryWanted } from '../../src/domain/monitor-evaluation.ts';
import { planStep, type Step } from '../../src/domain/plan-step.ts';
import type { ReleaseSettings } from '../../src/domain/release-settings.ts';
import type { Input } from '../../src/domain/inputs.ts';
import type { MetricSample } from '../../src/domain/metric-triggers.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { MetricReading } from '../../src/domain/metric-reading.ts';

/**
 * Fixtures for the pure domain tests: target settings produced by the real config loader (so
 * defaults, protection and four-eyes resolve exactly as in production) and deployments in any
 * stage with the state that stage really carries.
 */

/** Blue: the live version, the rollback target of a release. */
export const BLUE: VersionInfo = { id: 'aaaaaaaa-1111-4111-8111-111111111111', tag: 'v1' };
/** Green: the version being released. */
export const GREEN: VersionInfo = { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2' };
/** A third version, for splits and rollback deployments. */
export const OTHER: VersionInfo = { id: 'cccccccc-3333-4333-8333-333333333333', tag: 'v0' };

/** The instant every fixture deployment entered its current stage. */
export const T0 = new Date('2025-06-01T12:00:00.000Z');

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** T0 shifted by `ms`. */
export function at(ms = 0): Date {
  return new Date(T0.getTime() + ms);
}

/** ISO text of T0 shifted by `ms`. */
export function iso(ms = 0): string {
  return at(ms).toISOString();
}

const BASE_SETTINGS = {
  platform: {
    type: 'cloudflare-workers',
    accountId: 'acc-test-0001',
    scriptName: 'kevinstamp',
    reach: { mode: 'version-override' },
  },
  productionUrl: 'https://kevinstamp.example',
  health: { attempts: 3, interval: '10s', timeout: '2s' },
  contentChecks: [{ path: '/', contains: 'KEVIN' }],
  approval: { mode: 'manual', approvers: ['role:approver'], required: 1, expiresAfter: '1h' },
  monitor: {
    window: '5m',
    interval: '30s',
    // Health and content triggers only; metric triggers are tested with their own settings.
    metrics: { source: 'none' },
    triggers: { healthFailures: { consecutive: 3 }, content: { enabled: true } },
  },
  switch: { attempts: 4, backoff: '2s' },
  rollback: { verifyAttempts: 3, verifyInterval: '3s' },
  access: {
    deploy: ['role:deployer'],
    rollback: ['role:deployer', 'role:approver'],
    lock: ['role:admin'],
  },
} satisfies TargetSettingsInput;

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export type SettingsOverrides = DeepPartial<TargetSettingsInput>;

export interface SettingsOptions {
  service?: string;
  /** 'production' (the default) is protected, so four-eyes is on unless overridden. */
  environment?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}

/**
 * Settings of kevinstamp/production as the real loader resolves them. `overrides` are written as
 * in kevin-deploy.yml (durations as strings) and deep-merged over the fixture's settings.
 */
export function settings(overrides: SettingsOverrides = {}, options: SettingsOptions = {}): TargetSettings {
  const service = options.service ?? 'kevinstamp';
  const environment = options.environment ?? 'production';
  const merged = deepMerge(BASE_SETTINGS, overrides);
  const file = { version: 1, services: { [service]: { ...(merged as object), environments: { [environment]: {} } } } };
  // JSON is YAML: the loader parses exactly what a person could have written.
  const result = loadConfig({ path: 'fixture.yml', text: JSON.stringify(file, null, 2), env: {} });
  if (!result.ok) {
    throw new Error(`fixture settings do not load:\n${result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  }
  const target = result.config.services.get(service)?.environments.get(environment);
  if (!target) throw new Error(`fixture settings: no ${service}/${environment}`);
  return target;
}

/** A release of GREEN over BLUE, requested by alice, fresh in `requested`. */
export function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'dep-0001',
    service: 'kevinstamp',
    environment: 'production',
    kind: 'release',
    stage: 'requested',
    versionRef: 'v2',
    version: GREEN,
    previousVersion: BLUE,
    strategy: 'blue-green',
    split: { [BLUE.id]: 100 },
    requestedBy: 'alice',
    note: null,
    force: false,
    approvals: [],
    reason: 'requested by alice',
    stageTimes: { requested: iso() },
    progress: { attempt: 0 },
    wakeAt: null,
    revision: 1,
    createdAt: iso(),
    updatedAt: iso(),
    ...overrides,
  };
}

export const HEALTHY_CHECKS: CheckResult[] = [
  { name: 'health', ok: true, detail: '200 healthy' },
  { name: 'detailed', ok: true, detail: '200 healthy; every check and cultural flag true' },
  { name: 'ready', ok: true, detail: '200 from /ready' },
  { name: 'content /', ok: true, detail: '"KEVIN" present' },
];

/** HEALTHY_CHECKS with the named checks failing (detail replaced when given). */
export function checksFailing(...failures: Array<string | { name: string; detail: string }>): CheckResult[] {
  const wanted = new Map(failures.map((f) => (typeof f === 'string' ? [f, undefined] : [f.name, f.detail])));
  const known = HEALTHY_CHECKS.map((c) =>
    wanted.has(c.name) ? { name: c.name, ok: false, detail: wanted.get(c.name) ?? `${c.name} failing` } : c,
  );
  for (const [name, detail] of wanted) {
    if (!known.some((c) => c.name === name)) known.push({ name, ok: false, detail: detail ?? `${name} failing` });
  }
  return known;
}

const SWITCHED: Split = { [GREEN.id]: 100, [BLUE.id]: 0 };
const STAGED: Split = { [BLUE.id]: 100, [GREEN.id]: 0 };

/**
 * A release of GREEN over BLUE that entered `stage` at T0, carrying what that stage carries when
 * decide() put it there (split, progress, wakeAt). Overrides win; `progress` replaces as a whole.
 */
export function inStage(stage: Stage, overrides: Partial<Deployment> = {}): Deployment {
  const base = deployment({ stage, stageTimes: { requested: iso(-10 * MINUTE), [stage]: iso() }, reason: `in ${stage}` });
  const perStage: Partial<Deployment> = (() => {
    switch (stage) {
      case 'requested':
        return { version: null, previousVersion: null, split: {}, wakeAt: null, reason: 'requested by alice' };
      case 'resolving':
        return { version: null, previousVersion: null, split: {}, wakeAt: iso(), reason: 'resolving the requested version' };
      case 'staging':
        return { progress: { attempt: 0, targetSplit: STAGED }, wakeAt: iso() };
      case 'verifying':
        return { split: STAGED, progress: { attempt: 0 }, wakeAt: iso() };
      case 'awaiting_approval':
        return {
          split: STAGED,
          progress: { attempt: 0, lastChecks: HEALTHY_CHECKS, approvalExpiresAt: iso(HOUR) },
          wakeAt: iso(HOUR),
        };
      case 'switching':
        return {
          split: STAGED,
          approvals: [{ actor: 'bob', at: iso() }],
          progress: { attempt: 0, targetSplit: SWITCHED },
          wakeAt: iso(),
        };
      case 'monitoring':
        return {
          split: SWITCHED,
          approvals: [{ actor: 'bob', at: iso(-MINUTE) }],
          progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: iso(5 * MINUTE) },
          wakeAt: iso(),
        };
      case 'rolling_back':
        return {
          split: SWITCHED,
          approvals: [{ actor: 'bob', at: iso(-MINUTE) }],
          progress: { attempt: 0, targetSplit: STAGED, rollbackPhase: 'switch', rollbackCause: 'manual rollback by bob' },
          wakeAt: iso(),
        };
      case 'needs_attention':
        return { split: SWITCHED, wakeAt: null, progress: { attempt: 0, rollbackCause: 'manual rollback by bob' } };
      default:
        // Terminal stages: nothing left to wait for.
        return { wakeAt: null };
    }
  })();
  return { ...base, ...perStage, ...overrides };
}

/** A decision together with the step the runner would plan next from the new status. */
export type PlannedDecision = Extract<Decision, { ok: false }> | (Extract<Decision, { ok: true }> & { intents: Step[] });

/**
 * The metric samples recorded with each status a test obtained from decideAndPlan: the part the
 * store plays for the runner (samples live in their own record, beside the status). A status made
 * by hand, or reloaded from JSON, has none — as after a restart whose store lost them.
 */
const recordedSamples = new WeakMap<Deployment, readonly MetricSample[]>();

/** The metric history recorded beside a status that decideAndPlan returned. */
export function recordedHistoryOf(d: Deployment): readonly MetricSample[] {
  return recordedSamples.get(d) ?? [];
}

/**
 * decide(), plus what the runner would do next: planStep() on the new status at the same instant
 * and with the same settings — so a test of a rule also says which step the release takes next.
 * Like the runner, a monitoring sample is handed the window's recorded metric history (unless the
 * input brings its own), and the sample the decision records is kept beside the new status.
 */
export function decideAndPlan(d: Deployment, input: Input, now: Date, s: ReleaseSettings): PlannedDecision {
  const wanted = metricHistoryWanted(d.progress, s);
  const withHistory =
    input.type === 'checks' && d.stage === 'monitoring' && input.history === undefined && wanted
      ? { ...input, history: recordedHistoryOf(d).filter((x) => x.at >= wanted.since).slice(-wanted.limit) }
      : input;
  const r = decide(d, withHistory, now, s);
  if (!r.ok) return r;
  const before = withHistory.type === 'checks' ? (withHistory.history ?? []) : recordedHistoryOf(d);
  recordedSamples.set(r.deployment, r.metricSample ? [...before, r.metricSample] : before);
  return { ...r, intents: [planStep(r.deployment, now, s)] };
}

/** The successful branch of a decision; fails the test with the refusal otherwise. */
export function accepted<T extends Decision>(decision: T): Extract<T, { ok: true }> {
  if (!decision.ok) throw new Error(`expected the input to be accepted, got ${decision.refusal.code}: ${decision.refusal.message}`);
  return decision as Extract<T, { ok: true }>;
}

/** The refusal of a decision; fails the test when the input was accepted. */
export function refused(decision: Decision): Extract<Decision, { ok: false }>['refusal'] {
  if (decision.ok) {
    throw new Error(`expected a refusal, got stage ${decision.deployment.stage}: ${decision.deployment.reason}`);
  }
  return decision.refusal;
}

/** Freezes an object graph so any mutation by the code under test throws (ES modules are strict). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

// ── metric readings and series ────────────────────────────────────────────────────────────────

/** What the app-json source calls itself in readings (and so in every explanation). */
export const APP_JSON = 'app-json /metrics';

/** A reading as a metrics source gives it: 1 % errors, 120 ms, 100 requests unless overridden. */
export function reading(over: Partial<MetricReading> = {}): MetricReading {
  return { source: APP_JSON, errorRatePercent: 1, avgResponseMs: 120, requests: 100, ...over };
}

/** A reading the source could not give: null figures and the problem, as the adapters return it. */
export function unreachable(problem = 'unreachable: ECONNREFUSED', source = APP_JSON): MetricReading {
  return { source, errorRatePercent: null, avgResponseMs: null, requests: null, problem };
}

/** No traffic in the app's window: the app-json source's answer to a request count of 0. */
export function noTraffic(source = APP_JSON): MetricReading {
  return { source, errorRatePercent: null, avgResponseMs: null, requests: 0, problem: "no requests in the app's window yet" };
}

/** One entry of a series: a number is green's error rate; otherwise green's (and blue's) readings, optionally at a given time. */
export type SampleSpec =
  | number
  | { atMs?: number; green?: Partial<MetricReading> | MetricReading; blue?: Partial<MetricReading> | MetricReading };

/**
 * Metric samples spaced `intervalMs` (30 s, the fixture's monitor.interval) apart starting at
 * `startMs` after T0. An entry with `atMs` is placed there, and the following ones continue from it.
 */
export function metricSeries(specs: SampleSpec[], options: { startMs?: number; intervalMs?: number } = {}): MetricSample[] {
  const interval = options.intervalMs ?? 30 * SECOND;
  let next = options.startMs ?? 0;
  return specs.map((spec) => {
    const entry = typeof spec === 'number' ? { green: { errorRatePercent: spec } } : spec;
    const atMs = entry.atMs ?? next;
    next = atMs + interval;
    return {
      at: iso(atMs),
      green: reading(entry.green ?? {}),
      ...(entry.blue ? { blue: reading(entry.blue) } : {}),
    };
  });
}

/** A monitoring sample as the runner feeds it to decide(): green's checks plus the figures read. */
export function sampled(
  green: Partial<MetricReading> | MetricReading = {},
  options: { checks?: CheckResult[]; blue?: Partial<MetricReading> | MetricReading; history?: readonly MetricSample[] } = {},
): Input {
  return {
    type: 'checks',
    results: options.checks ?? HEALTHY_CHECKS,
    metrics: { green: reading(green), ...(options.blue ? { blue: reading(options.blue) } : {}) },
    ...(options.history ? { history: options.history } : {}),
  };
}
