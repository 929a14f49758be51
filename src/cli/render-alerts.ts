import { isLocalRef } from '../adapters/local-sink/local-sink-channel.ts';
import { parseSmsProgress, smsProgressSummary } from '../adapters/sms/sms-progress.ts';
import type { DeliveryRecord, StoredAlert } from '../ports/alert-outbox.ts';
import { formatTime } from './time-format.ts';

const STATUS_MARK: Record<string, string> = { delivered: '✓', pending: '…', failed: '✗', skipped: '–' };

/** `kevin-deploy alerts`: newest first, each with its per-channel delivery state and what went wrong. */
export function renderAlerts(alerts: StoredAlert[]): string {
  if (alerts.length === 0) return 'No alerts.\n';
  const lines: string[] = [];
  for (const a of alerts) {
    const state = a.resolvedAt ? ` resolved ${formatTime(a.resolvedAt)}` : a.acknowledgedAt ? ` acknowledged by ${a.acknowledgedBy ?? '?'}` : '';
    lines.push(`${formatTime(a.createdAt)}  ${a.level.toUpperCase().padEnd(9)} ${a.kind.padEnd(18)} ${a.facts.service}/${a.facts.environment}  ${a.title}${state}`);
    if (a.incidentKey) lines.push(`    incident ${a.incidentKey}`);
    for (const d of a.deliveries) {
      const detail =
        d.status === 'delivered'
          ? `at ${d.deliveredAt ? formatTime(d.deliveredAt) : '?'}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}`
          : d.status === 'pending'
            ? `${d.attempts} attempt(s)${d.lastError ? `, last: ${d.lastError}` : ''}; next ${formatTime(d.nextAttemptAt)}`
            : (d.lastError ?? '');
      lines.push(`    ${STATUS_MARK[d.status] ?? '?'} ${d.channel.padEnd(9)} ${d.status.padEnd(9)} ${detail}${smsDetail(d)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** An SMS delivery texts several numbers: how far it got ("; 1 number texted, 1 refused"). */
function smsDetail(d: DeliveryRecord): string {
  if (d.channel !== 'sms' || !d.ref || isLocalRef(d.ref)) return '';
  const progress = parseSmsProgress(d.ref);
  const any = Object.keys(progress.sent).length + Object.keys(progress.refused).length + Object.keys(progress.pending).length;
  return any > 0 ? `; ${smsProgressSummary(progress)}` : '';
}
