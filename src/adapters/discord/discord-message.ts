import type { Alert } from '../../domain/alert.ts';
import { CommunityLeakError, communityLeaks, renderCommunityNotice, type CommunityMessage } from './community-notice.ts';

/**
 * What DiscordChannel would post for an alert, or why it posts nothing — pure, and apart from
 * discord-channel.ts so the sandbox's local sink and the console can apply the same rule without
 * loading discord.js.
 */

/** The message body as Discord receives it: never pings anyone, whatever the text says. */
export type DiscordMessageBody = CommunityMessage & { allowed_mentions: { parse: [] } };

export type DiscordMessagePlan =
  | { status: 'post'; body: DiscordMessageBody }
  | { status: 'skipped'; reason: string }
  /** A template bug, not a remote failure: retrying would render the same thing. */
  | { status: 'failed'; error: string };

export function discordMessageOf(alert: Alert): DiscordMessagePlan {
  const notice = renderCommunityNotice(alert);
  if (!notice) return { status: 'skipped', reason: `Discord only carries community notices; ${alert.kind} is for the team` };
  const leaks = communityLeaks(notice, alert);
  // In the words assertCommunitySafe would throw: what leaked, never the value.
  if (leaks.length > 0) return { status: 'failed', error: new CommunityLeakError(leaks).message };
  return { status: 'post', body: { ...notice, allowed_mentions: { parse: [] } } };
}
