import type { AlertSettings } from './release-settings.ts';
import type { Alert, AlertChannelName, AlertFacts, AlertKind, AlertLevel } from './alert.ts';
import type { Deployment, DeploymentEvent } from './deployment.ts';
import { versionLabel } from './deployment.ts';
import { SYSTEM_ACTOR } from './actors.ts';


/**
 * What the outbox must do for one committed status change:
 * - `raise`: store the alert and one delivery per channel;
 * - `resolve`: close every open incident of the deployment — the outbox knows which exist and on
 *   which channels they were raised, so the resolution goes exactly where the incident went.
 */
export type AlertIntent =
  | { type: 'raise'; alert: Alert; channels: AlertChannelName[] }
  | { type: 'resolve'; deploymentId: string; title: string; facts: AlertFacts; createdAt: string };

export interface AlertTarget {
  protected: boolean;
  alerts: AlertSettings;
}

/**
 * The alert router: pure, from the committed old → new status and the audit events that explain
 * it, to the alerts it causes and the channels each goes to. Ids are deterministic (deployment +
 * event), so a retried or replayed commit can never raise an alert twice.
 *
 * A queued request is announced when it starts (`dequeued`), not when it joins the queue.
 *
 * Levels (the seed's tiers): a release starting or succeeding is info; green unhealthy, an
 * expired approval or a failed release is a warning; an automatic rollback is critical; a
 * rollback that failed, or KEVIN's content missing in a protected environment, is an emergency.
 * The community (Discord) hears only about protected environments, only in its own words, and
 * only what users may notice: an emergency, a rollback of a release that had users' traffic, and
 * — when configured — an upcoming or a successful release.
 */
export function alertsFor(after: Deployment, events: readonly DeploymentEvent[], target: AlertTarget): AlertIntent[] {
  const intents: AlertIntent[] = [];
  const policy = target.alerts;
  const raise = (kind: AlertKind, level: AlertLevel, title: string, event: DeploymentEvent, extra: Partial<AlertFacts> = {}, incident?: string) => {
    const alert: Alert = {
      id: `${after.id}/${event.at}/${kind}`,
      kind,
      level,
      title,
      facts: { ...factsOf(after), ...extra },
      ...(incident ? { incidentKey: `${after.id}/${incident}` } : {}),
      createdAt: event.at,
    };
    intents.push({ type: 'raise', alert, channels: policy.routes[level].filter((c) => c !== 'discord') });
    // The community hears about trouble only: a discord route on info or warning means nothing.
    if (target.protected && (level === 'critical' || level === 'emergency') && policy.routes[level].includes('discord')) community('community-incident', event);
  };
  const community = (kind: Extract<AlertKind, `community-${string}`>, event: DeploymentEvent) => {
    if (!target.protected) return;
    // One community incident (and one heads-up) per release, however many internal alerts or approvals it had.
    const once = kind === 'community-incident' ? `${after.id}/community` : kind === 'community-upcoming' ? `${after.id}/community-upcoming` : `${after.id}/${event.at}/${kind}`;
    if (intents.some((i) => i.type === 'raise' && i.alert.id === once)) return;
    intents.push({
      type: 'raise',
      alert: {
        id: once,
        kind,
        level: kind === 'community-incident' ? 'emergency' : 'info',
        title: communityTitle(kind, after.service),
        facts: factsOf(after),
        ...(kind === 'community-incident' ? { incidentKey: `${after.id}/community` } : {}),
        createdAt: event.at,
      },
      channels: ['discord'],
    });
  };
  const marker = (event: DeploymentEvent, title: string) => {
    if (!target.protected) return;
    intents.push({ type: 'raise', alert: { id: `${after.id}/${event.at}/deploy-marker`, kind: 'deploy-marker', level: 'info', title, facts: factsOf(after), createdAt: event.at }, channels: ['pagerduty'] });
  };

  for (const event of events) {
    const what = after.kind === 'rollback' ? 'rollback' : 'release';
    switch (event.action) {
      case 'requested':
      case 'dequeued':
        raise('release-started', 'info', `${what} of ${after.service} ${after.version ? versionLabel(after.version) : after.versionRef} to ${after.environment} started by ${after.requestedBy}`, event);
        break;
      case 'approval-expired':
        raise('approval-expired', 'warning', `nobody approved ${after.service} ${versionLabel(after.version)} in ${after.environment} in time; traffic untouched`, event, {}, 'approval-expired');
        break;
      case 'failed':
        if (event.fromStage === 'verifying') {
          raise('green-unhealthy', 'warning', `green ${versionLabel(after.version)} of ${after.service} failed its checks in ${after.environment}; traffic untouched`, event, {}, 'green-unhealthy');
        } else {
          raise('release-failed', 'warning', `the ${what} of ${after.service} to ${after.environment} failed`, event, {}, 'failed');
        }
        break;
      case 'rollback-started': {
        if (event.actor !== SYSTEM_ACTOR) break;
        const trigger = stringOf(event.details.trigger);
        const extra = { trigger, triggerDetails: triggerDetailsOf(event) };
        if (event.details.level === 'emergency' && target.protected) {
          raise('content-missing', 'emergency', `KEVIN is missing from ${after.service} in ${after.environment}; rolling back to ${versionLabel(after.previousVersion)}`, event, extra, trigger ?? 'content');
        } else {
          raise('rolled-back', 'critical', `${after.service} ${versionLabel(after.version)} in ${after.environment} is being rolled back automatically (${trigger ?? 'trigger'})`, event, extra, trigger ?? 'rollback');
        }
        // Users had traffic on green: they may have noticed.
        if (policy.community.announceRollbacks && hadUsersTraffic(event)) community('community-incident', event);
        break;
      }
      case 'rollback-failed':
      case 'rollback-unhealthy':
        raise('rollback-failed', 'emergency', `the rollback of ${after.service} in ${after.environment} needs a person: traffic state uncertain`, event, {}, 'rollback-failed');
        break;
      case 'rollback-switched':
        marker(event, `${after.service} ${after.environment}: traffic back on ${versionLabel(after.kind === 'release' ? after.previousVersion : after.version)} (rollback)`);
        break;
      case 'rollback-verified':
        intents.push({ type: 'resolve', deploymentId: after.id, title: `${after.service} in ${after.environment} is healthy again on ${versionLabel(after.kind === 'release' ? after.previousVersion : after.version)}`, facts: factsOf(after), createdAt: event.at });
        break;
      default:
        // Success, whatever the event is called (monitoring-passed, promoted, a shadow finding on the last sample).
        if (event.toStage === 'succeeded' && event.fromStage !== 'succeeded') {
          raise('release-succeeded', 'info', `${after.service} ${versionLabel(after.version)} is live in ${after.environment}`, event);
          if (policy.community.announceReleased && after.kind === 'release') community('community-released', event);
        }
        // A switch that took effect: a deploy marker (never pages). A step put on hold is not one.
        if (event.action === 'stage-changed' && event.fromStage === 'switching' && event.toStage === 'monitoring') {
          marker(event, `${after.service} ${after.environment}: ${describeSplitShort(after)}`);
        }
        if (event.fromStage === 'awaiting_approval' && event.toStage === 'switching' && policy.community.announceUpcoming) {
          community('community-upcoming', event);
        }
    }
  }
  return intents;
}

function hadUsersTraffic(event: DeploymentEvent): boolean {
  return event.fromStage === 'monitoring' || event.fromStage === 'switching' || event.fromStage === 'succeeded';
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The trigger's own numbers: what fired, with values, threshold, window and samples (see Evaluation). */
function triggerDetailsOf(event: DeploymentEvent): Record<string, unknown> | undefined {
  const evaluations = Array.isArray(event.details.evaluations) ? (event.details.evaluations as Array<Record<string, unknown>>) : [];
  const fired = evaluations.find((e) => e.verdict === 'fired');
  const checks = Array.isArray(event.details.checks) ? (event.details.checks as Array<{ ok?: boolean }>).filter((c) => c.ok === false) : [];
  const details: Record<string, unknown> = {};
  if (typeof event.details.cause === 'string') details.cause = event.details.cause;
  if (fired) details.evaluation = fired;
  if (checks.length > 0) details.failingChecks = checks;
  return Object.keys(details).length > 0 ? details : undefined;
}

function describeSplitShort(d: Deployment): string {
  const parts = Object.entries(d.split)
    .filter(([, percent]) => percent > 0)
    .map(([id, percent]) => `${percent} % on ${id === d.version?.id ? versionLabel(d.version) : id === d.previousVersion?.id ? versionLabel(d.previousVersion) : id.slice(0, 8)}`);
  return parts.join(', ') || 'traffic switched';
}

export function factsOf(d: Deployment): AlertFacts {
  return {
    service: d.service,
    environment: d.environment,
    deploymentId: d.id,
    ...(d.version ? { version: { id: d.version.id, tag: d.version.tag ?? undefined } } : {}),
    ...(d.previousVersion ? { previousVersion: { id: d.previousVersion.id, tag: d.previousVersion.tag ?? undefined } } : {}),
    stage: d.stage,
    reason: d.reason,
    requestedBy: d.requestedBy,
  };
}

function communityTitle(kind: Extract<AlertKind, `community-${string}`>, service: string): string {
  switch (kind) {
    case 'community-upcoming':
      return `${service}: an update is on its way`;
    case 'community-released':
      return `${service} just got better`;
    case 'community-incident':
      return `${service}: we noticed a problem and are on it`;
    case 'community-resolved':
      return `${service}: all good again`;
  }
}
