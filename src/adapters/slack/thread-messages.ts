import type { types } from '@slack/bolt';
import type { CheckResult, Deployment, DeploymentEvent } from '../../domain/deployment.ts';
import { actorMention, mrkdwn, plain, type People } from './mrkdwn.ts';

export interface ThreadMessage {
  text: string;
  blocks: types.KnownBlock[];
}

function checksOf(event: DeploymentEvent): CheckResult[] {
  const checks = event.details.checks;
  return Array.isArray(checks) ? (checks as CheckResult[]) : [];
}

function message(title: string, detail?: string): ThreadMessage {
  const blocks: types.KnownBlock[] = [{ type: 'section', text: mrkdwn(title) }];
  if (detail) blocks.push({ type: 'context', elements: [plain(detail, 2900)] });
  // The fallback text is what notifications show; it carries no user text unescaped.
  return { text: title.replace(/[*`]/g, ''), blocks };
}

function checkLines(checks: CheckResult[]): string {
  return checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`).join('\n');
}

function reasonOf(event: DeploymentEvent): string {
  return typeof event.details.reason === 'string' ? event.details.reason : '';
}

/**
 * The details that belong in a card's thread rather than in a new top-level message: each
 * health check run that mattered, each trigger evaluation that fired or is building up, platform
 * errors, who approved, rejected or cancelled. Routine events (a clean sample, a stage change the
 * card already shows) return undefined.
 */
export function threadMessage(event: DeploymentEvent, d: Deployment, people: People = new Map()): ThreadMessage | undefined {
  const who = actorMention(event.actor, people);
  switch (event.action) {
    case 'queued':
      return message(':hourglass_flowing_sand: Queued: another release of this target is active.', reasonOf(event));
    case 'dequeued':
      return message(`:arrow_forward: ${actorMention(d.requestedBy, people)} your queued release started.`);
    case 'verify-attempt-failed':
      return message(`:stethoscope: Green is not healthy yet (attempt ${String(event.details.attempt ?? '?')}).`, checkLines(checksOf(event)));
    case 'verified':
      return message(':white_check_mark: Green passed every check, before any traffic.', checkLines(checksOf(event)));
    case 'approved':
      return message(`:+1: Approved by ${who}.`);
    case 'rejected':
      return message(`:no_entry_sign: Rejected by ${who}.`, reasonOf(event));
    case 'cancelled':
      return message(`:heavy_multiplication_x: Cancelled by ${who}.`, reasonOf(event));
    case 'approval-expired':
      return message(':alarm_clock: Nobody approved in time; the release expired. Traffic untouched.');
    case 'platform-retry':
      return message(':warning: Cloudflare did not take the change; retrying.', String((event.details.error as { message?: string } | undefined)?.message ?? ''));
    case 'monitor-sample': {
      const failing = checksOf(event).filter((c) => !c.ok);
      if (failing.length === 0) return undefined;
      return message(`:warning: Sample ${String(event.details.sample ?? '')} failed a check.`, checkLines(failing));
    }
    case 'rollback-started':
    case 'rollback-requested':
      return message(`:rewind: Rolling back${event.actor === 'kevin-deploy' ? ' automatically' : ` — requested by ${who}`}.`, reasonOf(event));
    case 'rollback-switched':
      return message(':leftwards_arrow_with_hook: Blue has all traffic again; verifying its health.');
    case 'rollback-verified':
      return message(':white_check_mark: Rolled back; blue is verified healthy.', checkLines(checksOf(event)));
    case 'rollback-failed':
    case 'rollback-unhealthy':
      return message(':rotating_light: *The rollback needs a person.*', reasonOf(event));
    case 'failed':
      return message(':x: The release failed.', reasonOf(event));
    case 'rollback-readiness':
      return event.details.ready === false ? message(':warning: Switching without a safe rollback, as approved with override.', String(event.details.detail ?? '')) : undefined;
    case 'rollback-not-ready':
      return message(':warning: *A rollback would not be possible*; waiting for a person.', String(event.details.detail ?? ''));
    case 'shadow-finding':
      return message(':ghost: Shadow mode: a trigger fired; nothing was done.', reasonOf(event));
    case 'alert-acknowledged':
      return message(`:eyes: Alert acknowledged by ${who}.`, reasonOf(event));
    case 'alert-resolved':
      return message(`:white_check_mark: Incident resolved by ${who}.`, reasonOf(event));
    case 'monitor-resumed':
      return message(':eyes: Watching again after a gap; the unwatched time was added to the window.', reasonOf(event));
    case 'window-extended':
      return message(':hourglass: Metrics inconclusive; the window was extended.', reasonOf(event));
    case 'paused':
      return message(':double_vertical_bar: *Paused*: the metrics could not be judged. Accept or roll back.', reasonOf(event));
    case 'step-passed':
      return message(':stairs: Canary step passed.', reasonOf(event));
    case 'promoted':
      return message(`:arrow_up: Promoted by ${who}.`, reasonOf(event));
    case 'monitoring-passed':
      return message(':tada: The monitoring window passed clean.', reasonOf(event));
    default:
      return undefined;
  }
}
