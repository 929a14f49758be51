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

export function plain(text: string, max = 3000): { type: 'plain_text'; text: string; emoji: boolean } {
  return { type: 'plain_text', text: truncate(text || ' ', max), emoji: false };
}

export function mrkdwn(text: string, max = 3000): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(text || ' ', max) };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An actor as people on Slack know them: `slack:U123` becomes a mention; other names stay names. */
export function actorMention(actor: string): string {
  const slack = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  return slack ? `<@${slack[1]}>` : `*${neutralizeMrkdwn(actor)}*`;
}

/**
 * Turns principals named in our own messages (refusals say who may) into Slack mentions. Only
 * for text kevin-deploy wrote: the ids match strict patterns, so user text cannot forge one.
 */
export function mentionPrincipals(text: string): string {
  return escapeMrkdwn(text)
    .replace(/\bslack:([UW][A-Z0-9]{2,})\b/g, '<@$1>')
    .replace(/\bslack-group:(S[A-Z0-9]{2,})\b/g, '<!subteam^$1>');
}
