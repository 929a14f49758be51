import type { types } from '@slack/bolt';
import type { Alert, AlertLevel } from '../../domain/alert.ts';
import { escapeMrkdwn, mrkdwn, neutralizeMrkdwn, plain, truncate } from './mrkdwn.ts';

export const ALERT_ACK_ACTION = 'kd_alert_ack';
/** Slack message metadata type: lets a retry find a message it already posted. */
export const ALERT_METADATA_TYPE = 'kevin_deploy_alert';

const LEVEL_EMOJI: Record<AlertLevel, string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
  emergency: ':sos:',
};

export interface AlertMessageOptions {
  /** Mentions (`<@U…>`, `<!subteam^S…>`) of who should look: the on-call person or group. */
  mentions: string[];
  /** When it is delivered; a late delivery says when it really happened. */
  now: Date;
  /** The state to show instead of the Acknowledge button. */
  state?: { kind: 'acknowledged' | 'resolved'; words: string } | undefined;
}

/** One alert in the alerts channel: what happened, the numbers, who should look, and Acknowledge. */
export function alertMessage(alert: Alert, options: AlertMessageOptions): { text: string; blocks: types.KnownBlock[] } {
  const f = alert.facts;
  const level = alert.level.toUpperCase();
  const headline = options.state
    ? `${options.state.kind === 'resolved' ? ':white_check_mark:' : ':eyes:'} *${options.state.kind.toUpperCase()}* ${neutralizeMrkdwn(alert.title)}`
    : `${LEVEL_EMOJI[alert.level]} *${level}* ${neutralizeMrkdwn(alert.title)}`;
  const lateMs = options.now.getTime() - Date.parse(alert.createdAt);
  const when = `raised <!date^${Math.floor(Date.parse(alert.createdAt) / 1000)}^{date_short_pretty} {time_secs}|${alert.createdAt}>${lateMs > 60_000 ? ' (delivered late: Slack was unreachable)' : ''}`;
  const versions = [f.version ? `version \`${f.version.tag ?? f.version.id.slice(0, 8)}\` (${f.version.id.slice(0, 8)})` : undefined, f.previousVersion ? `previous \`${f.previousVersion.tag ?? f.previousVersion.id.slice(0, 8)}\`` : undefined]
    .filter(Boolean)
    .join(' · ');
  const blocks: types.KnownBlock[] = [
    { type: 'section', text: mrkdwn(headline) },
    {
      type: 'context',
      elements: [mrkdwn(`*${escapeMrkdwn(f.service)}* / ${escapeMrkdwn(f.environment)} · ${escapeMrkdwn(f.deploymentId)}${versions ? ` · ${versions}` : ''} · ${when}`)],
    },
    { type: 'section', text: mrkdwn(truncate(`>${neutralizeMrkdwn(f.reason)}`, 2900)) },
  ];
  const trigger = triggerLine(alert);
  if (trigger) blocks.push({ type: 'section', text: mrkdwn(trigger) });
  if (options.mentions.length > 0 && !options.state) blocks.push({ type: 'section', text: mrkdwn(`On call: ${options.mentions.join(' ')}`) });
  if (options.state) {
    blocks.push({ type: 'context', elements: [mrkdwn(escapeMrkdwn(options.state.words))] });
  } else if (alert.incidentKey && alert.level !== 'info') {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: ALERT_ACK_ACTION, style: 'primary', text: plain('Acknowledge'), value: alert.incidentKey },
        ...(f.links ?? []).slice(0, 3).map((link, i): types.Button => ({ type: 'button', action_id: `kd_alert_link_${i}`, text: plain(link.text, 75), url: link.href })),
      ],
    });
  }
  const text = truncate(`${level}: ${alert.title}${options.mentions.length > 0 && !options.state ? ` ${options.mentions.join(' ')}` : ''}`, 3000);
  return { text, blocks };
}

function triggerLine(alert: Alert): string | undefined {
  const details = alert.facts.triggerDetails;
  if (!details) return undefined;
  const evaluation = details.evaluation as { summary?: string } | undefined;
  const failing = details.failingChecks as Array<{ name?: string; detail?: string }> | undefined;
  const lines: string[] = [];
  if (evaluation?.summary) lines.push(`*Trigger:* ${neutralizeMrkdwn(evaluation.summary)}`);
  for (const check of failing ?? []) lines.push(`• ${escapeMrkdwn(check.name ?? 'check')}: ${neutralizeMrkdwn(check.detail ?? '')}`);
  return lines.length > 0 ? truncate(lines.join('\n'), 2900) : undefined;
}
