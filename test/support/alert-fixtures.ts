import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import type { Database } from '../../src/adapters/store/database-schema.ts';
import { KyselyAlertOutbox, recordAlertIntents } from '../../src/adapters/store/kysely-alert-outbox.ts';
import { openDatabase } from '../../src/adapters/store/open-store.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import type { KevinDeployConfig } from '../../src/config/schema.ts';
import type { Alert, AlertChannelName, AlertFacts, AlertKind, AlertLevel } from '../../src/domain/alert.ts';
import type { AlertIntent } from '../../src/domain/alert-rules.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../src/ports/alert-channel.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { newTestSchema } from './postgres-schema.ts';

/**
 * Fixtures for the alert outbox and dispatcher tests: a real migrated database per test (a SQLite
 * file, or a Postgres schema of its own), a clock the test moves by hand, scripted channels that
 * record what they were given, and alerts built the way the router builds them.
 */

export const ALERT_T0 = new Date('2026-11-26T09:00:00.000Z');

/** ISO text of ALERT_T0 shifted by `ms`. */
export function alertIso(ms = 0): string {
  return new Date(ALERT_T0.getTime() + ms).toISOString();
}

/** A clock that only moves when the test says so. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date = ALERT_T0) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  set(at: string | Date): void {
    this.ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  }

  iso(): string {
    return this.now().toISOString();
  }
}

export const silentLogger: Logger = pino({ level: 'silent' });

// ── the database ────────────────────────────────────────────────────────────────────────────────

export type TempDialect = 'sqlite' | 'postgres';

export interface TempDatabase {
  dialect: TempDialect;
  /** The DATABASE_URL every `open()` opens: `sqlite:<file>`, or the test schema's postgres:// URL. */
  url: string;
  /** The temp directory holding the SQLite file (SQLite only; undefined on Postgres). */
  dir: string | undefined;
  /** The SQLite file itself (SQLite only; undefined on Postgres). */
  file: string | undefined;
  /**
   * Opens (and migrates) the database; every call opens the same file or schema, so a test can
   * open it twice to act as two replicas. Every connection is closed by `cleanup`.
   */
  open(): Promise<{ db: Kysely<Database>; outbox: KyselyAlertOutbox }>;
  /** Closes every connection, then removes the database (the temp directory, or the schema). */
  cleanup(): Promise<void>;
}

/**
 * A fresh database opened through openDatabase as the bot opens it: a SQLite file in a temp
 * directory, or (postgres) a schema of its own on the test server (see postgres-schema.ts).
 */
export function tempDatabase(dialect: TempDialect = 'sqlite'): TempDatabase {
  const connections: Array<Kysely<Database>> = [];
  const closeAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    while (connections.length > 0) {
      try {
        await connections.pop()!.destroy();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };
  const open = async (url: string) => {
    const opened = await openDatabase(url);
    connections.push(opened.db);
    return { db: opened.db, outbox: new KyselyAlertOutbox(opened.db, opened.dialect) };
  };

  if (dialect === 'postgres') {
    const schema = newTestSchema();
    return {
      dialect,
      url: schema.url,
      dir: undefined,
      file: undefined,
      open: () => open(schema.url),
      async cleanup() {
        try {
          await closeAll();
        } finally {
          await schema.drop();
        }
      },
    };
  }

  const dir = mkdtempSync(join(tmpdir(), 'kevin-alerts-'));
  const file = join(dir, 'alerts.db');
  const url = `sqlite:${file}`;
  return {
    dialect,
    url,
    dir,
    file,
    open: () => open(url),
    async cleanup() {
      try {
        await closeAll();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ── alerts ──────────────────────────────────────────────────────────────────────────────────────

export function facts(over: Partial<AlertFacts> = {}): AlertFacts {
  return {
    service: 'kevinstamp',
    environment: 'production',
    deploymentId: 'dep-0001',
    version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2' },
    previousVersion: { id: 'aaaaaaaa-1111-4111-8111-111111111111', tag: 'v1' },
    stage: 'monitoring',
    reason: 'watching',
    requestedBy: 'alice',
    ...over,
  };
}

export interface AlertSpec {
  /** Unique per test; becomes part of the id. */
  name: string;
  kind?: AlertKind;
  level?: AlertLevel;
  deploymentId?: string;
  environment?: string;
  /** The incident, without the deployment prefix (e.g. 'health-failures'). */
  incident?: string;
  createdAt?: string;
  title?: string;
}

/** An alert shaped as alertsFor() shapes it: id `<deployment>/<at>/<name>`, incident `<deployment>/<incident>`. */
export function alert(spec: AlertSpec): Alert {
  const deploymentId = spec.deploymentId ?? 'dep-0001';
  const createdAt = spec.createdAt ?? alertIso();
  return {
    id: `${deploymentId}/${createdAt}/${spec.name}`,
    kind: spec.kind ?? 'release-started',
    level: spec.level ?? 'info',
    title: spec.title ?? `alert ${spec.name}`,
    facts: facts({ deploymentId, environment: spec.environment ?? 'production' }),
    ...(spec.incident ? { incidentKey: `${deploymentId}/${spec.incident}` } : {}),
    createdAt,
  };
}

export function raise(a: Alert, channels: AlertChannelName[]): AlertIntent {
  return { type: 'raise', alert: a, channels };
}

export function resolveIntent(deploymentId: string, createdAt: string, environment = 'production'): AlertIntent {
  return {
    type: 'resolve',
    deploymentId,
    title: `kevinstamp in ${environment} is healthy again`,
    facts: facts({ deploymentId, environment, stage: 'rolled_back' }),
    createdAt,
  };
}

/** Records intents in their own transaction, as commitDecision does inside the status change's. */
export async function record(db: Kysely<Database>, intents: readonly AlertIntent[], now: string = alertIso()): Promise<void> {
  await db.transaction().execute((trx) => recordAlertIntents(trx, intents, now));
}

// ── channels ────────────────────────────────────────────────────────────────────────────────────

export interface ChannelCall {
  alertId: string;
  kind: AlertKind;
  level: AlertLevel;
  createdAt: string;
  /** The injected clock when the channel was called. */
  calledAt: string;
  context: DeliveryContext;
  outcome: DeliveryOutcome | 'threw';
}

export type Script = (alert: Alert, context: DeliveryContext, call: number) => DeliveryOutcome | Promise<DeliveryOutcome>;

/**
 * An AlertChannel that records every call and answers what its script says (delivered with a
 * ref `<channel>:<alert id>` unless told otherwise). A script may throw, like a buggy adapter.
 */
export class ScriptedChannel implements AlertChannel {
  readonly calls: ChannelCall[] = [];

  constructor(
    readonly name: AlertChannelName,
    private readonly clock: Clock,
    public script: Script = (a) => ({ status: 'delivered', ref: `${name}:${a.id}` }),
  ) {}

  async deliver(a: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    // The abort signal and the progress recorder are for the script (see the hung-channel and
    // progress tests), not part of what was asked.
    const { signal: _signal, recordProgress: _recordProgress, ...asked } = context;
    const call: ChannelCall = {
      alertId: a.id,
      kind: a.kind,
      level: a.level,
      createdAt: a.createdAt,
      calledAt: this.clock.now().toISOString(),
      context: { ...asked, incidentRefs: [...context.incidentRefs] },
      outcome: 'threw',
    };
    this.calls.push(call);
    const outcome = await this.script(a, context, this.calls.length);
    call.outcome = outcome;
    return outcome;
  }

  /** Alert ids of the calls that delivered, in call order. */
  delivered(): string[] {
    return this.calls.filter((c) => c.outcome !== 'threw' && c.outcome.status === 'delivered').map((c) => c.alertId);
  }
}

// ── configuration ───────────────────────────────────────────────────────────────────────────────

export interface AlertConfigOptions {
  /** alerts.* for kevinstamp/production (protected). */
  production?: Record<string, unknown>;
  /** alerts.* for kevinstamp/staging (not protected). */
  staging?: Record<string, unknown>;
  retry?: { initialBackoff?: string; maxBackoff?: string };
}

/** A whole configuration through the real loader: kevinstamp in production and staging. */
export function alertConfig(options: AlertConfigOptions = {}): KevinDeployConfig {
  const file = {
    version: 1,
    alerting: { retry: options.retry ?? {} },
    services: {
      kevinstamp: {
        platform: { type: 'cloudflare-workers', accountId: 'acc-test-0001', scriptName: 'kevinstamp' },
        productionUrl: 'https://kevinstamp.example',
        environments: {
          production: { alerts: options.production ?? {} },
          staging: { alerts: options.staging ?? {} },
        },
      },
    },
  };
  const result = loadConfig({ path: 'alert-fixture.yml', text: JSON.stringify(file, null, 2), env: {} });
  if (!result.ok) throw new Error(`alert fixture config does not load:\n${result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return result.config;
}
