/**
 * Alerts: what a release tells people, at which level, and to whom. Pure data, no vendor: the
 * router (alert-rules.ts) derives them from a committed status change; the outbox stores them in
 * the same transaction; channel adapters (Slack, email, PagerDuty, Discord, SMS) render them.
 */
export const ALERT_LEVELS = ['info', 'warning', 'critical', 'emergency'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

export const ALERT_CHANNELS = ['slack', 'email', 'pagerduty', 'discord', 'sms'] as const;
export type AlertChannelName = (typeof ALERT_CHANNELS)[number];

/**
 * What happened, in words a channel can pick its rendering by.
 * - incident kinds open (or escalate) something a person must look at;
 * - `resolved` closes the incident named by `incidentKey`;
 * - `deploy-marker` is PagerDuty's change event for a production switch (never pages);
 * - `community-*` are the only kinds whose text may reach the public (Discord).
 */
export const ALERT_KINDS = [
  'release-started',
  'green-unhealthy',
  'approval-expired',
  'release-failed',
  'rolled-back',
  'rollback-failed',
  'content-missing',
  'release-succeeded',
  'escalated',
  'acknowledged',
  'resolved',
  'deploy-marker',
  'community-upcoming',
  'community-released',
  'community-incident',
  'community-resolved',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** The facts a channel may show engineers. Community renderings use none of these but `service`. */
export interface AlertFacts {
  service: string;
  environment: string;
  deploymentId: string;
  version?: { id: string; tag?: string | undefined } | undefined;
  previousVersion?: { id: string; tag?: string | undefined } | undefined;
  stage: string;
  /** The release's reason, as the status says it (internal: may quote errors and values). */
  reason: string;
  requestedBy?: string | undefined;
  /** The trigger that acted, with its values, threshold, window and samples. */
  trigger?: string | undefined;
  triggerDetails?: Record<string, unknown> | undefined;
  /** Where people look: the bot's deployment page / API, and the Slack card when posted. */
  links?: Array<{ href: string; text: string }> | undefined;
  /**
   * On a follow-up (acknowledged, resolved): the incident as it was raised, so a channel that
   * edits its earlier message keeps the original level, title, time and trigger values.
   */
  incident?:
    | {
        level: AlertLevel;
        title: string;
        createdAt: string;
        triggerDetails?: Record<string, unknown> | undefined;
        /** Who acknowledged or resolved it (a person, or PagerDuty); absent when the bot resolved it. */
        by?: string | undefined;
      }
    | undefined;
}

export interface Alert {
  /** Deterministic: derived from the deployment and the event that caused it, so a retried commit never makes a second. */
  id: string;
  kind: AlertKind;
  level: AlertLevel;
  /** One line for humans (internal audience). */
  title: string;
  facts: AlertFacts;
  /**
   * The incident this alert belongs to: PagerDuty's dedup_key, the Discord message edited on
   * resolution, the Slack alert message acknowledged. One per release and trigger.
   */
  incidentKey?: string | undefined;
  /** When the status change that caused it was committed — shown as the original time when delivered late. */
  createdAt: string;
}

/** Routing and escalation per target (alerts.* in kevin-deploy.yml, merged service → environment). */
export interface AlertPolicy {
  routes: Record<AlertLevel, AlertChannelName[]>;
  /** An alert of this level nobody acknowledges within this long escalates one level; absent = never. */
  acknowledgeWithinMs: Partial<Record<AlertLevel, number>>;
  community: {
    /** Tell the community before a production release starts switching. */
    announceUpcoming: boolean;
    /** Tell the community after a production release succeeded ("KEVIN just got better"). */
    announceReleased: boolean;
    /** Tell the community about a rollback of a release users had traffic on (and its resolution). */
    announceRollbacks: boolean;
  };
}

export function nextLevel(level: AlertLevel): AlertLevel | undefined {
  const i = ALERT_LEVELS.indexOf(level);
  return ALERT_LEVELS[i + 1];
}
