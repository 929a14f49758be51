/**
 * DISCORD_WEBHOOK_URL → the webhook's id and token. discord.js's WebhookClient({url}) only accepts
 * discord.com URLs (so it cannot point at a fake or a proxy): we parse the URL ourselves and hand
 * `{id, token}` to REST with its own `api` base. `config check` uses the same parser, so a pasted
 * URL is judged once, the same way.
 *
 * A problem never repeats the URL or the token: the URL *is* the secret.
 */
export interface DiscordWebhookIdentity {
  id: string;
  token: string;
}

export type DiscordWebhookUrlResult = DiscordWebhookIdentity | { problem: string };

/** The hosts Discord hands out webhook URLs on (the stable, PTB and Canary clients, old and new domain). */
const DISCORD_HOSTS = new Set([
  'discord.com',
  'ptb.discord.com',
  'canary.discord.com',
  'discordapp.com',
  'ptb.discordapp.com',
  'canary.discordapp.com',
]);

/** `/api/webhooks/<id>/<token>`, optionally versioned (`/api/v10/webhooks/…`), optionally with a trailing slash. */
const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/([^/]+)\/([^/]+)\/?$/;
const SNOWFLAKE = /^\d{17,20}$/;
/** Webhook tokens are URL-safe base64-ish (letters, digits, `-`, `_`). */
const WEBHOOK_TOKEN = /^[A-Za-z0-9_-]{20,}$/;

const EXPECTED = 'expected https://discord.com/api/webhooks/<id>/<token> (copy it from the channel\'s Integrations → Webhooks → Copy Webhook URL)';

export function parseDiscordWebhookUrl(url: string): DiscordWebhookUrlResult {
  const text = url.trim();
  if (text === '') return { problem: `DISCORD_WEBHOOK_URL is empty: ${EXPECTED}` };

  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { problem: `DISCORD_WEBHOOK_URL is not a URL: ${EXPECTED}` };
  }
  if (parsed.protocol !== 'https:') {
    return { problem: `DISCORD_WEBHOOK_URL must use https (it uses ${parsed.protocol.replace(':', '')}): ${EXPECTED}` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { problem: `DISCORD_WEBHOOK_URL must not carry a user name or password: ${EXPECTED}` };
  }
  const host = parsed.hostname.toLowerCase();
  if (!DISCORD_HOSTS.has(host) || parsed.port !== '') {
    // The host is not secret (the token is in the path), so naming it helps without leaking anything.
    return {
      problem: `DISCORD_WEBHOOK_URL points at ${host}${parsed.port ? `:${parsed.port}` : ''}, not Discord (discord.com, discordapp.com, ptb./canary.): ${EXPECTED}. To reach a proxy or a test server, set DISCORD_API_URL instead.`,
    };
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    return {
      problem: `DISCORD_WEBHOOK_URL must not have a query string or fragment (kevin-deploy adds what it needs, e.g. ?wait=true; posting into a thread is not supported): ${EXPECTED}`,
    };
  }
  if (/\/(slack|github)\/?$/.test(parsed.pathname)) {
    return { problem: `DISCORD_WEBHOOK_URL is a Slack- or GitHub-compatible webhook URL: remove the /slack or /github suffix (${EXPECTED})` };
  }
  const match = WEBHOOK_PATH.exec(parsed.pathname);
  if (!match) return { problem: `DISCORD_WEBHOOK_URL is not a webhook URL: ${EXPECTED}` };
  const [, id = '', token = ''] = match;
  if (!SNOWFLAKE.test(id)) {
    return { problem: `DISCORD_WEBHOOK_URL's webhook id is not a Discord id (17–20 digits): ${EXPECTED}` };
  }
  let decodedToken: string;
  try {
    decodedToken = decodeURIComponent(token);
  } catch {
    return { problem: `DISCORD_WEBHOOK_URL's token is not valid: ${EXPECTED}` };
  }
  if (!WEBHOOK_TOKEN.test(decodedToken)) {
    return { problem: `DISCORD_WEBHOOK_URL's token looks cut off or mangled (letters, digits, - and _ only, usually 68 of them): ${EXPECTED}` };
  }
  return { id, token: decodedToken };
}

export function isWebhookUrlProblem(result: DiscordWebhookUrlResult): result is { problem: string } {
  return 'problem' in result;
}
