import type { Logger } from 'pino';
import type { AlertChannelName } from '../domain/alert.ts';
import type { Deployment, DeploymentEvent } from '../domain/deployment.ts';
import type { AlertFilter, AlertOutbox, StoredAlert } from '../ports/alert-outbox.ts';
import type { AcknowledgeResult, Alerts } from '../ports/alerts.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

/**
 * What people and PagerDuty do to alerts: acknowledge and resolve. Each is recorded on the alert
 * (first one wins), told to the incident's other channels through the outbox, and written to the
 * deployment's audit trail with who did it and from where.
 */
export class AlertService implements Alerts {
  constructor(
    private readonly o: {
      outbox: AlertOutbox;
      store: Store;
      clock: Clock;
      logger: Logger;
      poke: () => void;
      /** After the audit event is written: the deployment card shows it in its thread. */
      audited?: ((d: Deployment, event: DeploymentEvent) => void) | undefined;
    },
  ) {}

  async acknowledge(incidentKey: string, by: string, from: AlertChannelName | 'cli'): Promise<AcknowledgeResult> {
    const now = this.o.clock.now().toISOString();
    const alert = await this.o.outbox.acknowledge(incidentKey, by, from, now);
    if (!alert) return this.whyNot(incidentKey);
    await this.audit(alert, 'alert-acknowledged', by, from, now);
    this.o.poke();
    return { status: 'acknowledged', alert };
  }

  async resolve(incidentKey: string, by: string, from: AlertChannelName): Promise<AcknowledgeResult> {
    const now = this.o.clock.now().toISOString();
    const alert = await this.o.outbox.resolveIncident(incidentKey, by, from, now);
    if (!alert) return this.whyNot(incidentKey);
    await this.audit(alert, 'alert-resolved', by, from, now);
    this.o.poke();
    return { status: 'acknowledged', alert };
  }

  list(filter: AlertFilter): Promise<StoredAlert[]> {
    return this.o.outbox.list(filter);
  }

  private async whyNot(incidentKey: string): Promise<AcknowledgeResult> {
    // The incident as raised (its oldest alert) carries who acknowledged it and when it was resolved.
    const first = (await this.o.outbox.list({ incidentKey, limit: 50 })).at(-1);
    if (!first) return { status: 'unknown' };
    return { status: 'already', by: first.acknowledgedBy, at: first.acknowledgedAt, resolvedAt: first.resolvedAt };
  }

  private async audit(alert: StoredAlert, action: string, by: string, from: string, now: string): Promise<void> {
    const d = await this.o.store.getDeployment(alert.facts.deploymentId);
    if (!d) return;
    const event: DeploymentEvent = { deploymentId: d.id, at: now, actor: by, action, fromStage: d.stage, toStage: d.stage, details: { incidentKey: alert.incidentKey, via: from, reason: alert.title } };
    try {
      await this.o.store.appendEvents([event]);
      this.o.audited?.(d, event);
    } catch (error) {
      this.o.logger.warn({ err: error }, 'could not audit an alert acknowledgement');
    }
  }
}
