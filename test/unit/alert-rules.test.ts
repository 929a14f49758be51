import { describe, expect, it } from 'vitest';
import type { TargetSettings } from '../../src/config/schema.ts';
import type { AlertChannelName, AlertKind, AlertLevel } from '../../src/domain/alert.ts';
import { alertsFor, type AlertIntent } from '../../src/domain/alert-rules.ts';
import { SYSTEM_ACTOR } from '../../src/domain/actors.ts';
import type { Deployment, DeploymentEvent } from '../../src/domain/deployment.ts';
import type { Input } from '../../src/domain/inputs.ts';
import type { Stage } from '../../src/domain/stages.ts';
import {
  BLUE,
  GREEN,
  HEALTHY_CHECKS,
  MINUTE,
  SECOND,
  accepted,
  at,
  checksFailing,
  decideAndPlan,
  deepFreeze,
  inStage,
  iso,
  sampled,
  settings,
  type SettingsOverrides,
} from '../support/domain-fixtures.ts';

/**
 * The alert router: from a committed status change (the deployment after it, and the audit events
 * that explain it) to the alerts it raises and the channels each goes to. kevinstamp/production is
 * protected; kevinstamp/staging is not.
 */

const PROD = settings();
const STAGING = settings({}, { environment: 'staging' });
const prod = (overrides: SettingsOverrides): TargetSettings => settings(overrides);
const staging = (overrides: SettingsOverrides): TargetSettings => settings(overrides, { environment: 'staging' });

const DEP = 'dep-0001';
const AT = iso(7 * SECOND);

function event(action: string, over: Partial<DeploymentEvent> = {}): DeploymentEvent {
  return { deploymentId: DEP, at: AT, actor: SYSTEM_ACTOR, action, fromStage: null, toStage: null, details: {}, ...over };
}

/** The deployment after the change, in the environment of the settings used. */
function after(stage: Stage, target: TargetSettings, over: Partial<Deployment> = {}): Deployment {
  return inStage(stage, { environment: target.environment, ...over });
}

/** What a test compares: each raise as kind/level/channels/incident, each resolve as such. */
type Summary =
  | { kind: AlertKind; level: AlertLevel; channels: AlertChannelName[]; incident: string | null }
  | { resolve: string };

function summary(intents: AlertIntent[]): Summary[] {
  return intents.map((i) =>
    i.type === 'raise'
      ? { kind: i.alert.kind, level: i.alert.level, channels: i.channels, incident: i.alert.incidentKey ?? null }
      : { resolve: i.deploymentId },
  );
}

function raises(intents: AlertIntent[]): Array<Extract<AlertIntent, { type: 'raise' }>> {
  return intents.filter((i): i is Extract<AlertIntent, { type: 'raise' }> => i.type === 'raise');
}

const INTERNAL_WARNING: AlertChannelName[] = ['slack', 'email'];
const INTERNAL_CRITICAL: AlertChannelName[] = ['slack', 'email', 'pagerduty'];
/** The seed's emergency tier adds SMS (the community hears on its own, in its own words). */
const INTERNAL_EMERGENCY: AlertChannelName[] = [...INTERNAL_CRITICAL, 'sms'];
const COMMUNITY_INCIDENT: Summary = { kind: 'community-incident', level: 'emergency', channels: ['discord'], incident: `${DEP}/community` };

interface Row {
  name: string;
  stage: Stage;
  event: DeploymentEvent;
  target: TargetSettings;
  deployment?: Partial<Deployment>;
  expected: Summary[];
}

const rollbackStarted = (over: Partial<DeploymentEvent> = {}, details: Record<string, unknown> = {}): DeploymentEvent =>
  event('rollback-started', {
    fromStage: 'monitoring',
    toStage: 'rolling_back',
    details: { cause: 'health-failures trigger (critical): 3 consecutive health-check failures', trigger: 'health-failures', level: 'critical', ...details },
    ...over,
  });

const contentMissing = (): DeploymentEvent =>
  rollbackStarted({}, { cause: 'content trigger (emergency): content check failed', trigger: 'content', level: 'emergency' });

const ROWS: Row[] = [
  // ── info ──
  {
    name: 'a release requested on a free target starts: info to slack',
    stage: 'resolving',
    event: event('requested', { actor: 'alice', toStage: 'resolving' }),
    target: PROD,
    deployment: { version: null, previousVersion: null },
    expected: [{ kind: 'release-started', level: 'info', channels: ['slack'], incident: null }],
  },
  {
    name: 'a queued release is dequeued: info to slack',
    stage: 'resolving',
    event: event('dequeued', { fromStage: 'requested', toStage: 'resolving' }),
    target: PROD,
    deployment: { version: null, previousVersion: null },
    expected: [{ kind: 'release-started', level: 'info', channels: ['slack'], incident: null }],
  },
  {
    name: 'a request that joins the queue says nothing yet',
    stage: 'requested',
    event: event('queued', { actor: 'alice', toStage: 'requested' }),
    target: PROD,
    expected: [],
  },
  // ── warning ──
  {
    name: 'green unhealthy (failed from verifying): warning to slack + email',
    stage: 'failed',
    event: event('failed', { fromStage: 'verifying', toStage: 'failed' }),
    target: PROD,
    expected: [{ kind: 'green-unhealthy', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/green-unhealthy` }],
  },
  {
    name: 'an approval expired: warning to slack + email',
    stage: 'expired',
    event: event('approval-expired', { fromStage: 'awaiting_approval', toStage: 'expired' }),
    target: PROD,
    expected: [{ kind: 'approval-expired', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/approval-expired` }],
  },
  {
    name: 'a failure while resolving: warning to slack + email',
    stage: 'failed',
    event: event('failed', { fromStage: 'resolving', toStage: 'failed' }),
    target: PROD,
    expected: [{ kind: 'release-failed', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/failed` }],
  },
  {
    name: 'a failure while staging (not protected): warning to slack + email',
    stage: 'failed',
    event: event('failed', { fromStage: 'staging', toStage: 'failed' }),
    target: STAGING,
    expected: [{ kind: 'release-failed', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/failed` }],
  },
  // ── critical ──
  {
    name: 'an automatic rollback of a release with traffic: critical to slack + email + pagerduty, and the community hears of it',
    stage: 'rolling_back',
    event: rollbackStarted(),
    target: PROD,
    expected: [
      { kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/health-failures` },
      COMMUNITY_INCIDENT,
    ],
  },
  {
    name: 'an automatic rollback after a failed switch: critical, named by its (absent) trigger',
    stage: 'rolling_back',
    event: event('rollback-started', { fromStage: 'switching', toStage: 'rolling_back', details: { cause: 'the switch to green failed: 503' } }),
    target: PROD,
    expected: [{ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/rollback` }, COMMUNITY_INCIDENT],
  },
  {
    name: 'an automatic rollback in a non-protected environment: critical, no community',
    stage: 'rolling_back',
    event: rollbackStarted(),
    target: STAGING,
    expected: [{ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/health-failures` }],
  },
  {
    name: 'an automatic rollback with announceRollbacks off: critical, no community',
    stage: 'rolling_back',
    event: rollbackStarted(),
    target: prod({ alerts: { community: { announceRollbacks: false } } }),
    expected: [{ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/health-failures` }],
  },
  {
    name: 'a manual rollback (a person started it) raises nothing',
    stage: 'rolling_back',
    event: rollbackStarted({ actor: 'bob' }),
    target: PROD,
    expected: [],
  },
  {
    name: "a manual rollback as decide() records it ('rollback-requested' by a person) raises nothing",
    stage: 'rolling_back',
    event: event('rollback-requested', { actor: 'bob', fromStage: 'monitoring', toStage: 'rolling_back', details: { cause: 'manual rollback by bob' } }),
    target: PROD,
    expected: [],
  },
  // ── emergency ──
  {
    name: 'KEVIN content missing in a protected environment: emergency content-missing + one community incident',
    stage: 'rolling_back',
    event: contentMissing(),
    target: PROD,
    expected: [{ kind: 'content-missing', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/content` }, COMMUNITY_INCIDENT],
  },
  {
    name: 'KEVIN content missing in a non-protected environment: a critical rollback, no community',
    stage: 'rolling_back',
    event: contentMissing(),
    target: STAGING,
    expected: [{ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/content` }],
  },
  {
    name: 'a failed rollback in a protected environment: emergency + one community incident',
    stage: 'needs_attention',
    event: event('rollback-failed', { fromStage: 'rolling_back', toStage: 'needs_attention' }),
    target: PROD,
    expected: [{ kind: 'rollback-failed', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/rollback-failed` }, COMMUNITY_INCIDENT],
  },
  {
    name: 'an unhealthy rollback in a protected environment: emergency + one community incident',
    stage: 'needs_attention',
    event: event('rollback-unhealthy', { fromStage: 'rolling_back', toStage: 'needs_attention' }),
    target: PROD,
    expected: [{ kind: 'rollback-failed', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/rollback-failed` }, COMMUNITY_INCIDENT],
  },
  {
    name: 'a failed rollback in a non-protected environment: emergency, no community',
    stage: 'needs_attention',
    event: event('rollback-failed', { fromStage: 'rolling_back', toStage: 'needs_attention' }),
    target: STAGING,
    expected: [{ kind: 'rollback-failed', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/rollback-failed` }],
  },
  // ── deploy markers ──
  {
    name: 'a switch that took effect in production: a deploy marker to pagerduty only',
    stage: 'monitoring',
    event: event('stage-changed', { fromStage: 'switching', toStage: 'monitoring' }),
    target: PROD,
    expected: [{ kind: 'deploy-marker', level: 'info', channels: ['pagerduty'], incident: null }],
  },
  {
    name: 'a switch that took effect in a non-protected environment: no marker',
    stage: 'monitoring',
    event: event('stage-changed', { fromStage: 'switching', toStage: 'monitoring' }),
    target: STAGING,
    expected: [],
  },
  {
    name: 'traffic back on blue (rollback-switched) in production: a deploy marker',
    stage: 'rolling_back',
    event: event('rollback-switched', { fromStage: 'rolling_back', toStage: 'rolling_back' }),
    target: PROD,
    expected: [{ kind: 'deploy-marker', level: 'info', channels: ['pagerduty'], incident: null }],
  },
  {
    name: 'rollback-switched in a non-protected environment: no marker',
    stage: 'rolling_back',
    event: event('rollback-switched', { fromStage: 'rolling_back', toStage: 'rolling_back' }),
    target: STAGING,
    expected: [],
  },
  // ── resolution ──
  {
    name: 'a verified rollback resolves the deployment’s incidents',
    stage: 'rolled_back',
    event: event('rollback-verified', { fromStage: 'rolling_back', toStage: 'rolled_back' }),
    target: PROD,
    expected: [{ resolve: DEP }],
  },
  // ── success and the community ──
  {
    name: 'monitoring passed → succeeded in production: info to slack + community-released',
    stage: 'succeeded',
    event: event('monitoring-passed', { fromStage: 'monitoring', toStage: 'succeeded' }),
    target: PROD,
    expected: [
      { kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null },
      { kind: 'community-released', level: 'info', channels: ['discord'], incident: null },
    ],
  },
  {
    name: 'monitoring passed in production with announceReleased off: no community',
    stage: 'succeeded',
    event: event('monitoring-passed', { fromStage: 'monitoring', toStage: 'succeeded' }),
    target: prod({ alerts: { community: { announceReleased: false } } }),
    expected: [{ kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null }],
  },
  {
    name: 'monitoring passed in a non-protected environment: no community',
    stage: 'succeeded',
    event: event('monitoring-passed', { fromStage: 'monitoring', toStage: 'succeeded' }),
    target: STAGING,
    expected: [{ kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null }],
  },
  {
    name: 'a paused window accepted by a person (promoted → succeeded): succeeded',
    stage: 'succeeded',
    event: event('promoted', { actor: 'carol', fromStage: 'monitoring', toStage: 'succeeded' }),
    target: PROD,
    expected: [
      { kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null },
      { kind: 'community-released', level: 'info', channels: ['discord'], incident: null },
    ],
  },
  {
    name: 'a canary step passed (still switching): nothing',
    stage: 'switching',
    event: event('step-passed', { fromStage: 'monitoring', toStage: 'switching' }),
    target: PROD,
    expected: [],
  },
  {
    name: 'approved in production with announceUpcoming: community-upcoming',
    stage: 'switching',
    event: event('approved', { actor: 'bob', fromStage: 'awaiting_approval', toStage: 'switching' }),
    target: prod({ alerts: { community: { announceUpcoming: true } } }),
    expected: [{ kind: 'community-upcoming', level: 'info', channels: ['discord'], incident: null }],
  },
  {
    name: 'approved in production without announceUpcoming (the default): nothing',
    stage: 'switching',
    event: event('approved', { actor: 'bob', fromStage: 'awaiting_approval', toStage: 'switching' }),
    target: PROD,
    expected: [],
  },
  {
    name: 'approved in a non-protected environment with announceUpcoming: nothing',
    stage: 'switching',
    event: event('approved', { actor: 'bob', fromStage: 'awaiting_approval', toStage: 'switching' }),
    target: staging({ alerts: { community: { announceUpcoming: true } } }),
    expected: [],
  },
  // ── the rest of the trail is silent ──
  ...(['verify-attempt-failed', 'monitor-sample', 'platform-error', 'rollback-readiness', 'window-extended', 'cancelled', 'rejected'] as const).map(
    (action): Row => ({
      name: `${action} raises nothing`,
      stage: 'monitoring',
      event: event(action, { fromStage: 'monitoring', toStage: 'monitoring' }),
      target: PROD,
      expected: [],
    }),
  ),
];

describe('alertsFor: each event maps to its level and channels', () => {
  it.each(ROWS)('$name', (row) => {
    const d = deepFreeze(after(row.stage, row.target, row.deployment));
    const intents = alertsFor(d, [deepFreeze(row.event)], row.target);
    expect(summary(intents)).toEqual(row.expected);
    // Every alert is stamped with the time of the event that caused it.
    for (const r of raises(intents)) expect(r.alert.createdAt).toBe(AT);
  });

  it('a commit whose events raise several emergencies still tells the community only once', () => {
    const d = after('needs_attention', PROD);
    const intents = alertsFor(
      d,
      [contentMissing(), event('rollback-failed', { at: iso(9 * SECOND), fromStage: 'rolling_back', toStage: 'needs_attention' })],
      PROD,
    );
    expect(summary(intents)).toEqual([
      { kind: 'content-missing', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/content` },
      COMMUNITY_INCIDENT,
      { kind: 'rollback-failed', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/rollback-failed` },
    ]);
  });

  it('the community never hears about a non-protected environment, whatever is configured', () => {
    const loud = staging({
      alerts: {
        routes: {
          info: ['slack', 'discord'],
          warning: ['slack', 'discord'],
          critical: ['slack', 'discord'],
          emergency: ['slack', 'discord'],
        },
        community: { announceUpcoming: true, announceReleased: true, announceRollbacks: true },
      },
    });
    for (const row of ROWS) {
      const intents = raises(alertsFor(after(row.stage, loud, row.deployment), [row.event], loud));
      expect(intents.filter((i) => i.alert.kind.startsWith('community-')), row.name).toEqual([]);
      expect(intents.filter((i) => i.channels.includes('discord')), row.name).toEqual([]);
    }
  });

  it('in a protected environment, discord only ever carries community-* alerts, and internal alerts never go to discord', () => {
    const loud = prod({
      alerts: {
        routes: { info: ['slack', 'discord'], warning: ['slack', 'discord'], critical: ['slack', 'discord'], emergency: ['slack', 'discord'] },
        community: { announceUpcoming: true },
      },
    });
    for (const row of ROWS) {
      for (const intent of raises(alertsFor(after(row.stage, loud, row.deployment), [row.event], loud))) {
        expect(intent.channels.includes('discord'), `${row.name}: ${intent.alert.kind}`).toBe(intent.alert.kind.startsWith('community-'));
        if (intent.alert.kind.startsWith('community-')) expect(intent.channels).toEqual(['discord']);
      }
    }
  });
});

describe('alertsFor: configured routes replace the defaults', () => {
  const custom = prod({
    alerts: {
      routes: { info: [], warning: ['pagerduty'], critical: ['email'], emergency: ['slack', 'pagerduty'] },
    },
  });

  it('each level goes to exactly the configured channels', () => {
    expect(summary(alertsFor(after('resolving', custom), [event('requested', { toStage: 'resolving' })], custom))).toEqual([
      { kind: 'release-started', level: 'info', channels: [], incident: null },
    ]);
    expect(summary(alertsFor(after('failed', custom), [event('failed', { fromStage: 'verifying', toStage: 'failed' })], custom))).toEqual([
      { kind: 'green-unhealthy', level: 'warning', channels: ['pagerduty'], incident: `${DEP}/green-unhealthy` },
    ]);
    // Community announcements of rollbacks follow community.announceRollbacks, not the route.
    expect(summary(alertsFor(after('rolling_back', custom), [rollbackStarted()], custom))).toEqual([
      { kind: 'rolled-back', level: 'critical', channels: ['email'], incident: `${DEP}/health-failures` },
      COMMUNITY_INCIDENT,
    ]);
    // An emergency route without discord does not tell the community by itself.
    expect(summary(alertsFor(after('needs_attention', custom), [event('rollback-failed', { fromStage: 'rolling_back', toStage: 'needs_attention' })], custom))).toEqual([
      { kind: 'rollback-failed', level: 'emergency', channels: ['slack', 'pagerduty'], incident: `${DEP}/rollback-failed` },
    ]);
  });

  it('a route naming discord on critical tells the community (protected only), in community words', () => {
    const criticalToCommunity = prod({ alerts: { routes: { critical: ['email', 'discord'] }, community: { announceRollbacks: false } } });
    const intents = alertsFor(after('rolling_back', criticalToCommunity), [rollbackStarted()], criticalToCommunity);
    expect(summary(intents)).toEqual([
      { kind: 'rolled-back', level: 'critical', channels: ['email'], incident: `${DEP}/health-failures` },
      COMMUNITY_INCIDENT,
    ]);
    const community = raises(intents)[1]!.alert;
    expect(community.title).toBe('kevinstamp: we noticed a problem and are on it');
    expect(community.title).not.toContain('v2');
  });

  it('a discord route on a routine level (warning) tells the community nothing: it hears about trouble only', () => {
    const warningsToCommunity = prod({ alerts: { routes: { warning: ['email', 'discord'] } } });
    const intents = alertsFor(after('failed', warningsToCommunity), [event('failed', { fromStage: 'verifying', toStage: 'failed' })], warningsToCommunity);
    expect(summary(intents)).toEqual([{ kind: 'green-unhealthy', level: 'warning', channels: ['email'], incident: `${DEP}/green-unhealthy` }]);
  });

  it('deploy markers go to pagerduty whatever the routes say', () => {
    const intents = alertsFor(after('monitoring', custom), [event('stage-changed', { fromStage: 'switching', toStage: 'monitoring' })], custom);
    expect(summary(intents)).toEqual([{ kind: 'deploy-marker', level: 'info', channels: ['pagerduty'], incident: null }]);
  });
});

describe('alertsFor: ids and incident keys', () => {
  it('the same input twice gives the same intents, ids included', () => {
    const d = after('rolling_back', PROD);
    const first = alertsFor(d, [rollbackStarted()], PROD);
    const second = alertsFor(structuredClone(d), [rollbackStarted()], PROD);
    expect(second).toEqual(first);
    expect(raises(first).map((i) => i.alert.id)).toEqual([`${DEP}/${AT}/rolled-back`, `${DEP}/community`]);
  });

  it('ids are unique within a commit and differ between events at different times', () => {
    const d = after('monitoring', PROD);
    const a = raises(alertsFor(d, [event('stage-changed', { fromStage: 'switching', toStage: 'monitoring' })], PROD));
    const b = raises(alertsFor(d, [event('stage-changed', { at: iso(MINUTE), fromStage: 'switching', toStage: 'monitoring' })], PROD));
    expect(a[0]!.alert.id).not.toBe(b[0]!.alert.id);

    const many = raises(alertsFor(after('succeeded', PROD), [event('monitoring-passed', { fromStage: 'monitoring', toStage: 'succeeded' })], PROD));
    expect(new Set(many.map((i) => i.alert.id)).size).toBe(many.length);
  });

  it('incident keys are per release and per trigger', () => {
    const health = raises(alertsFor(after('rolling_back', PROD), [rollbackStarted()], PROD))[0]!.alert;
    const errorRate = raises(alertsFor(after('rolling_back', PROD), [rollbackStarted({}, { trigger: 'error-rate' })], PROD))[0]!.alert;
    const otherRelease = raises(
      alertsFor(after('rolling_back', PROD, { id: 'dep-0002' }), [rollbackStarted({ deploymentId: 'dep-0002' })], PROD),
    )[0]!.alert;
    const sameLater = raises(alertsFor(after('rolling_back', PROD), [rollbackStarted({ at: iso(MINUTE) })], PROD))[0]!.alert;
    expect(health.incidentKey).toBe(`${DEP}/health-failures`);
    expect(errorRate.incidentKey).toBe(`${DEP}/error-rate`);
    expect(otherRelease.incidentKey).toBe('dep-0002/health-failures');
    // The same release and trigger is the same incident, even raised by another event.
    expect(sameLater.incidentKey).toBe(health.incidentKey);
    expect(sameLater.id).not.toBe(health.id);
  });

  it('info alerts and deploy markers open no incident', () => {
    const started = raises(alertsFor(after('resolving', PROD), [event('requested', { toStage: 'resolving' })], PROD));
    const marker = raises(alertsFor(after('rolling_back', PROD), [event('rollback-switched', { fromStage: 'rolling_back', toStage: 'rolling_back' })], PROD));
    expect(started[0]!.alert.incidentKey).toBeUndefined();
    expect(marker[0]!.alert.incidentKey).toBeUndefined();
  });
});

describe('alertsFor: facts', () => {
  it('carry the deployment, versions, stage, reason and requester', () => {
    const d = after('rolling_back', PROD, { reason: 'rolling back to v1 (aaaaaaaa): health-failures trigger (critical)' });
    const [rolled] = raises(alertsFor(d, [rollbackStarted()], PROD));
    expect(rolled!.alert.facts).toMatchObject({
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: DEP,
      version: { id: GREEN.id, tag: 'v2' },
      previousVersion: { id: BLUE.id, tag: 'v1' },
      stage: 'rolling_back',
      reason: 'rolling back to v1 (aaaaaaaa): health-failures trigger (critical)',
      requestedBy: 'alice',
      trigger: 'health-failures',
    });
    expect(rolled!.alert.title).toBe('kevinstamp v2 (bbbbbbbb) in production is being rolled back automatically (health-failures)');
  });

  it("carry the trigger's details: the fired evaluation, the failing checks and the cause", () => {
    const fired = { signal: 'error-rate', verdict: 'fired', threshold: 5, unit: '%', sustainedForMs: 120_000, values: [20, 20, 20, 20], samples: 4, summary: 'error rate above 5 %' };
    const clear = { signal: 'response-time', verdict: 'clear', threshold: 5000, unit: 'ms', sustainedForMs: 60_000, values: [90], samples: 1, summary: 'fine' };
    const checks = checksFailing({ name: 'health', detail: '503 from /health' });
    const e = rollbackStarted({}, { cause: 'error-rate trigger (critical): error rate above 5 %', trigger: 'error-rate', evaluations: [clear, fired], checks });
    const [rolled] = raises(alertsFor(after('rolling_back', PROD), [e], PROD));
    expect(rolled!.alert.facts.trigger).toBe('error-rate');
    expect(rolled!.alert.facts.triggerDetails).toEqual({
      cause: 'error-rate trigger (critical): error rate above 5 %',
      evaluation: fired,
      failingChecks: [{ name: 'health', ok: false, detail: '503 from /health' }],
    });
  });

  it('a content-missing alert names the version traffic goes back to', () => {
    const [alert] = raises(alertsFor(after('rolling_back', PROD), [contentMissing()], PROD));
    expect(alert!.alert.title).toBe('KEVIN is missing from kevinstamp in production; rolling back to v1 (aaaaaaaa)');
    expect(alert!.alert.facts.trigger).toBe('content');
  });

  it('the community alert carries no trigger details', () => {
    const intents = raises(alertsFor(after('rolling_back', PROD), [rollbackStarted({}, { evaluations: [{ verdict: 'fired', signal: 'error-rate' }] })], PROD));
    const community = intents.find((i) => i.alert.kind === 'community-incident')!;
    expect(community.alert.facts.trigger).toBeUndefined();
    expect(community.alert.facts.triggerDetails).toBeUndefined();
  });

  it('the resolution names the version that is healthy again', () => {
    const [resolve] = alertsFor(after('rolled_back', PROD), [event('rollback-verified', { fromStage: 'rolling_back', toStage: 'rolled_back' })], PROD);
    expect(resolve).toMatchObject({
      type: 'resolve',
      deploymentId: DEP,
      title: 'kevinstamp in production is healthy again on v1 (aaaaaaaa)',
      createdAt: AT,
      facts: { deploymentId: DEP, stage: 'rolled_back' },
    });
  });

  // Regression: the title once used `versionLabel(after.version) || after.versionRef`, which never
  // falls back (versionLabel(null) is 'unknown version'), so every start read "unknown version".
  it('a release that starts before its version is resolved is named by what the requester typed', () => {
    const d = after('resolving', PROD, { version: null, previousVersion: null, versionRef: 'v2' });
    const [started] = raises(alertsFor(d, [event('requested', { actor: 'alice', toStage: 'resolving' })], PROD));
    expect(started!.alert.title).toBe('release of kevinstamp v2 to production started by alice');
  });
});

// ── the events decide() really produces ─────────────────────────────────────────────────────────

function step(d: Deployment, input: Input, ms: number, s: TargetSettings): { d: Deployment; intents: AlertIntent[]; events: DeploymentEvent[] } {
  // Through decideAndPlan, which keeps each status's metric history beside it as the runner's store does.
  const r = accepted(decideAndPlan(d, input, at(ms), s));
  return { d: r.deployment, events: r.events, intents: alertsFor(r.deployment, r.events, s) };
}

describe('alertsFor on the events decide() produces', () => {
  it('green failing its checks every attempt: one green-unhealthy warning at the end, nothing before', () => {
    let d = inStage('verifying');
    const seen: AlertIntent[][] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = step(d, { type: 'checks', results: checksFailing('health') }, attempt * 10 * SECOND, PROD);
      seen.push(r.intents);
      d = r.d;
    }
    expect(d.stage).toBe('failed');
    expect(seen.slice(0, 2)).toEqual([[], []]);
    expect(summary(seen[2]!)).toEqual([{ kind: 'green-unhealthy', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/green-unhealthy` }]);
  });

  it('KEVIN missing while monitoring in production: emergency content-missing with the failing check, and one community incident', () => {
    const kevinMissing = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
    const r = step(inStage('monitoring'), { type: 'checks', results: kevinMissing }, 30 * SECOND, PROD);
    expect(r.d.stage).toBe('rolling_back');
    expect(summary(r.intents)).toEqual([
      { kind: 'content-missing', level: 'emergency', channels: INTERNAL_EMERGENCY, incident: `${DEP}/content` },
      COMMUNITY_INCIDENT,
    ]);
    const alert = raises(r.intents)[0]!.alert;
    expect(alert.createdAt).toBe(iso(30 * SECOND));
    expect(alert.facts.triggerDetails).toMatchObject({ failingChecks: [{ name: 'content /', ok: false, detail: '"KEVIN" missing on /' }] });
  });

  it('KEVIN missing while monitoring in staging: a critical rolled-back alert, no community', () => {
    const kevinMissing = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
    const r = step(inStage('monitoring', { environment: 'staging' }), { type: 'checks', results: kevinMissing }, 30 * SECOND, STAGING);
    expect(summary(r.intents)).toEqual([{ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/content` }]);
  });

  it('three failing health samples: a critical rolled-back alert named by its trigger', () => {
    let d = inStage('monitoring');
    let last: AlertIntent[] = [];
    for (let i = 0; i < 3; i++) {
      const r = step(d, sampled({}, { checks: checksFailing('health') }), i * 30 * SECOND, PROD);
      if (i < 2) expect(r.intents).toEqual([]);
      d = r.d;
      last = r.intents;
    }
    expect(d.stage).toBe('rolling_back');
    expect(summary(last)[0]).toEqual({ kind: 'rolled-back', level: 'critical', channels: INTERNAL_CRITICAL, incident: `${DEP}/health-failures` });
    expect(raises(last)[0]!.alert.facts.triggerDetails).toMatchObject({ failingChecks: [{ name: 'health', ok: false }] });
  });

  it('a manual rollback by a person raises no critical alert (nor any alert)', () => {
    const r = step(inStage('monitoring'), { type: 'rollback', actor: 'bob', comment: 'looks off' }, MINUTE, PROD);
    expect(r.d.stage).toBe('rolling_back');
    expect(r.intents).toEqual([]);
  });

  it('the whole rollback: marker when traffic is back, resolution when blue is verified', () => {
    const rolling = inStage('rolling_back');
    const switched = step(rolling, { type: 'split-verified', split: { [BLUE.id]: 100, [GREEN.id]: 0 } }, 0, PROD);
    expect(summary(switched.intents)).toEqual([{ kind: 'deploy-marker', level: 'info', channels: ['pagerduty'], incident: null }]);
    expect(raises(switched.intents)[0]!.alert.title).toBe('kevinstamp production: traffic back on v1 (aaaaaaaa) (rollback)');
    const verified = step(switched.d, { type: 'checks', results: HEALTHY_CHECKS }, 3 * SECOND, PROD);
    expect(verified.d.stage).toBe('rolled_back');
    expect(summary(verified.intents)).toEqual([{ resolve: DEP }]);
  });

  it('the switch to green took effect: a deploy marker describing the split', () => {
    const r = step(inStage('switching'), { type: 'split-verified', split: { [GREEN.id]: 100, [BLUE.id]: 0 } }, 0, PROD);
    expect(r.d.stage).toBe('monitoring');
    expect(summary(r.intents)).toEqual([{ kind: 'deploy-marker', level: 'info', channels: ['pagerduty'], incident: null }]);
    expect(raises(r.intents)[0]!.alert.title).toBe('kevinstamp production: 100 % on v2 (bbbbbbbb)');
  });

  it('a clean window: release-succeeded and community-released', () => {
    const d = inStage('monitoring', { progress: { attempt: 0, monitorStartedAt: iso(), monitorEndsAt: iso(5 * MINUTE), lastWatchedAt: iso(4 * MINUTE + 30 * SECOND), samplesTaken: 9 } });
    const r = step(d, { type: 'checks', results: HEALTHY_CHECKS }, 5 * MINUTE, PROD);
    expect(r.d.stage).toBe('succeeded');
    expect(summary(r.intents)).toEqual([
      { kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null },
      { kind: 'community-released', level: 'info', channels: ['discord'], incident: null },
    ]);
    expect(raises(r.intents).map((i) => i.alert.title)).toEqual(['kevinstamp v2 (bbbbbbbb) is live in production', 'kevinstamp just got better']);
  });

  it('approval with announceUpcoming: the community hears before the switch, once', () => {
    const upcoming = prod({ alerts: { community: { announceUpcoming: true } }, approval: { fourEyes: false } });
    const r = step(inStage('awaiting_approval'), { type: 'approve', actor: 'bob' }, MINUTE, upcoming);
    expect(r.d.stage).toBe('switching');
    expect(summary(r.intents)).toEqual([{ kind: 'community-upcoming', level: 'info', channels: ['discord'], incident: null }]);
    expect(raises(r.intents)[0]!.alert.title).toBe('kevinstamp: an update is on its way');
  });

  it('an expired approval: a warning', () => {
    const r = step(inStage('awaiting_approval'), { type: 'tick' }, 60 * MINUTE, PROD);
    expect(r.d.stage).toBe('expired');
    expect(summary(r.intents)).toEqual([{ kind: 'approval-expired', level: 'warning', channels: INTERNAL_WARNING, incident: `${DEP}/approval-expired` }]);
  });

  // Regression: a canary step held because a rollback would not be possible is recorded by
  // decide() as switching → monitoring ('rollback-not-ready') although no traffic moved; the router
  // once sent PagerDuty a change event for it, as for every switching → monitoring.
  it('a canary step put on hold (rollback not ready) took no effect: no deploy marker', () => {
    const canary = prod({ strategy: { type: 'canary', steps: [10, 50, 100] } });
    const tenPercent = { [GREEN.id]: 10, [BLUE.id]: 90 };
    const d = inStage('switching', { split: tenPercent, progress: { attempt: 0, targetSplit: { [GREEN.id]: 50, [BLUE.id]: 50 }, canaryStep: 1 } });
    const r = step(d, { type: 'readiness', ready: false, detail: 'v1 can no longer be deployed' }, 0, canary);
    expect(r.d.stage).toBe('monitoring');
    expect(r.d.split).toEqual(tenPercent);
    expect(r.events[0]).toMatchObject({ action: 'rollback-not-ready', fromStage: 'switching', toStage: 'monitoring' });
    expect(summary(r.intents)).toEqual([]);
  });

  // Regression: in shadow mode a window that ends on a sample with a (shadow) finding succeeds with
  // the action 'shadow-finding'; the router once announced success only for 'monitoring-passed' /
  // 'promoted' / 'step-passed', so such a release went live without a word.
  it('a shadow-mode release that succeeds on a sample with a shadow finding is still announced', () => {
    const shadow = prod({ monitor: { metrics: { source: 'app-json' }, mode: 'shadow' } });
    let d = inStage('monitoring');
    let last: ReturnType<typeof step> | undefined;
    for (let ms = 0; ms <= 5 * MINUTE && d.stage === 'monitoring'; ms += 30 * SECOND) {
      last = step(d, sampled({ errorRatePercent: 20, avgResponseMs: 90, requests: 40 }), ms, shadow);
      d = last.d;
    }
    expect(d.stage).toBe('succeeded');
    expect(last!.events.at(-1)).toMatchObject({ action: 'shadow-finding', fromStage: 'monitoring', toStage: 'succeeded' });
    expect(summary(last!.intents)).toEqual([
      { kind: 'release-succeeded', level: 'info', channels: ['slack'], incident: null },
      { kind: 'community-released', level: 'info', channels: ['discord'], incident: null },
    ]);
  });
});
