import type { Alert, AlertKind } from './alert.ts';

/** The kinds about a release's outcome for the team: not the PagerDuty change event, not community posts. */
export type TeamAlertKind = Exclude<AlertKind, 'deploy-marker' | `community-${string}`>;

export function isTeamAlertKind(kind: AlertKind): kind is TeamAlertKind {
  return kind !== 'deploy-marker' && !kind.startsWith('community-');
}

/**
 * What happened, in the few words a phone call reads out first and an inbox shows in the subject.
 * One table for every channel that words an outcome (the page's summary, the mail's subject).
 */
const OUTCOMES: Record<TeamAlertKind, (alert: Alert) => string> = {
  'release-started': () => 'release started',
  'green-unhealthy': () => 'new version (green) unhealthy',
  'approval-expired': () => 'approval window expired, release ended',
  'release-failed': () => 'release failed',
  // A rollback a trigger decided is news of a different kind than one a person asked for.
  'rolled-back': (alert) => (alert.facts.trigger ? 'rolled back automatically' : 'rolled back'),
  'rollback-failed': () => 'ROLLBACK FAILED, production needs attention',
  'content-missing': () => 'KEVIN content missing',
  'release-succeeded': () => 'release succeeded',
  escalated: () => 'escalated, nobody acknowledged it in time',
  acknowledged: () => 'acknowledged',
  resolved: () => 'resolved',
};

export function alertOutcome(alert: Alert & { kind: TeamAlertKind }): string {
  return OUTCOMES[alert.kind](alert);
}
