import type { types } from '@slack/bolt';

/**
 * Text for Slack. Anything a user typed (notes, lock reasons, comments) and anything quoting it
 * (a deployment's reason) goes into `plain_text` objects, which Slack never parses for mentions
 * or formatting; `escapeMrkdwn` is for the few places where user text must sit inside mrkdwn.
 */

/** Slack's three control characters; with them escaped, `<!channel>` and `<@U…>` stay literal text. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Formatting characters too: a zero-width space after each keeps `*bold*`, `_it_`, `~s~` and
 * `code` from being interpreted while reading the same.
 */
export function neutralizeMrkdwn(text: string): string {
  return escapeMrkdwn(text).replace(/([*_~`])/g, '$1\u200b');
}

export function plain(text: string, max = 3000): types.PlainTextElement {
  return { type: 'plain_text', text: truncate(text || ' ', max), emoji: false };
}

export function mrkdwn(text: string, max = 3000): types.MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text || ' ', max) };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Actor name → Slack user id, from `slack.users` (so `alice` is shown as her Slack mention). */
export type People = ReadonlyMap<string, string>;

export function peopleOf(users: Record<string, string>): People {
  return new Map(Object.entries(users).map(([userId, actor]) => [actor, userId]));
}

/** An actor as people on Slack know them: a Slack user becomes a mention; other names stay names. */
export function actorMention(actor: string, people: People = new Map()): string {
  const slack = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  if (slack) return `<@${slack[1]}>`;
  const mapped = people.get(actor);
  return mapped ? `<@${mapped}>` : `*${neutralizeMrkdwn(actor)}*`;
}

/**
 * Turns principals in a list kevin-deploy wrote from its configuration (who may do something)
 * into Slack mentions. Never for text that may quote a person's words: there, `slack:U…` would
 * become a real mention.
 */
export function mentionPrincipals(text: string): string {
  return neutralizeMrkdwn(text)
    .replace(/\bslack:([UW][A-Z0-9]{2,})\b/g, '<@$1>')
    .replace(/\bslack-group:(S[A-Z0-9]{2,})\b/g, '<!subteam^$1>');
}
