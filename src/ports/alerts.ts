import type { AlertChannelName } from '../domain/alert.ts';
import type { AlertFilter, StoredAlert } from './alert-outbox.ts';

export type AcknowledgeResult =
  | { status: 'acknowledged'; alert: StoredAlert }
  | { status: 'already'; by: string | null; at: string | null; resolvedAt: string | null }
  | { status: 'unknown' };

/**
 * What people and PagerDuty do to alerts, whichever surface they use (Slack's Acknowledge, the
 * API, PagerDuty's webhooks): the engine's alert service implements it.
 */
export interface Alerts {
  acknowledge(incidentKey: string, by: string, from: AlertChannelName | 'cli'): Promise<AcknowledgeResult>;
  resolve(incidentKey: string, by: string, from: AlertChannelName): Promise<AcknowledgeResult>;
  list(filter: AlertFilter): Promise<StoredAlert[]>;
}
