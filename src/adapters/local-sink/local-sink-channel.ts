import type { Alert, AlertChannelName } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { discordMessageOf } from '../discord/discord-message.ts';
import { renderAlertEmail } from '../email/alert-email.ts';
import { emailSkipReason, uniqueRecipients, type EmailAddress } from '../email/mailchannels-channel.ts';
import { pagerDutyEventOf } from '../pagerduty/pagerduty-event.ts';
import { alertMessage } from '../slack/alert-message.ts';
import { incidentUpdateMessage, slackAlertSkipReason } from '../slack/slack-alert-channel.ts';
import { uniqueNumbers } from '../../domain/phone-number.ts';
import { smsSkipReason, smsTextOf } from '../sms/sms-text.ts';

/**
 * A channel without an account, in the sandbox: it "delivers" by rendering the alert with the
 * real adapter's own pure functions and keeping nothing but the outcome — the console's Outbox
 * renders the stored alert again to show it as the channel would. It skips (and fails) exactly
 * where the real adapter would, with the same reasons, so what the sandbox shows is what a
 * configured bot would have done. Nothing leaves the machine.
 */

/** Refs of local deliveries start with this, so the Outbox (and `kevin-deploy alerts`) can tell them apart. */
export const LOCAL_REF_PREFIX = 'local:';

export function isLocalRef(ref: string | null | undefined): boolean {
  return typeof ref === 'string' && ref.startsWith(LOCAL_REF_PREFIX);
}

export interface LocalSinkOptions {
  /** The email channel's recipients for an alert (the target's alerts.emailTo), as the real channel is given them. */
  emailTo: (alert: Alert) => EmailAddress[];
  /** The SMS channel's numbers for an alert (the target's alerts.smsTo, else alerting.sms.to); none when absent. */
  smsTo?: ((alert: Alert) => readonly string[]) | undefined;
  /** server.publicUrl, for the link in the text. */
  publicUrl?: string | undefined;
  /** For Slack, which says when a message went out late. */
  now: () => Date;
}

/** Renders for PagerDuty need a key; the real one is a secret, and a local sink has none. */
const NO_ROUTING_KEY = 'local-sink';

export class LocalSinkChannel implements AlertChannel {
  constructor(
    readonly name: AlertChannelName,
    private readonly options: LocalSinkOptions,
  ) {}

  async deliver(alert: Alert, context: DeliveryContext): Promise<DeliveryOutcome> {
    const refused = this.render(alert, context);
    return refused ?? { status: 'delivered', ref: `${LOCAL_REF_PREFIX}${context.idempotencyKey}` };
  }

  /** Renders as the real channel would; the outcome when that channel would send nothing. */
  private render(alert: Alert, context: DeliveryContext): Exclude<DeliveryOutcome, { status: 'delivered' | 'retry' }> | undefined {
    switch (this.name) {
      case 'slack': {
        const skip = slackAlertSkipReason(alert, context.incidentRefs);
        if (skip !== undefined) return { status: 'skipped', reason: skip };
        // No on-call mentions: they come from Slack and PagerDuty, which a local sink has neither of.
        if (alert.kind === 'acknowledged' || alert.kind === 'resolved') incidentUpdateMessage(alert, this.options.now());
        else alertMessage(alert, { mentions: [], now: this.options.now() });
        return undefined;
      }
      case 'pagerduty': {
        const request = pagerDutyEventOf(alert, { routingKey: NO_ROUTING_KEY });
        return 'status' in request ? request : undefined;
      }
      case 'email': {
        const skip = emailSkipReason(alert, uniqueRecipients(this.options.emailTo(alert)));
        if (skip !== undefined) return { status: 'skipped', reason: skip };
        renderAlertEmail(alert);
        return undefined;
      }
      case 'discord': {
        const plan = discordMessageOf(alert);
        return plan.status === 'post' ? undefined : plan;
      }
      case 'sms': {
        const skip = smsSkipReason(alert, uniqueNumbers(this.options.smsTo?.(alert) ?? []));
        if (skip !== undefined) return { status: 'skipped', reason: skip };
        smsTextOf(alert, { publicUrl: this.options.publicUrl });
        return undefined;
      }
    }
  }
}
