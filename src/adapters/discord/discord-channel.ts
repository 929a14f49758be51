/**
 * The community's channel: Discord, through discord.js's REST client (no gateway, no login).
 *
 * Two ways in, same behaviour:
 * - `bot`: a bot token and the community channel id. Create Message carries a nonce derived from
 *   the delivery's idempotency key with `enforce_nonce`, so a retried delivery (or a second
 *   replica) gets the earlier message back instead of posting twice. In an announcement channel
 *   the message is then published (crossposted) to the servers that follow it.
 * - `webhook`: DISCORD_WEBHOOK_URL's id and token. Execute Webhook with `?wait=true` so Discord
 *   answers with the message (and its id). Webhooks have no nonce and cannot publish.
 *
 * `community-resolved` edits the incident's notice (so the channel reads "all good again" where
 * people saw the problem) and posts a new message only when that one was deleted.
 *
 * The dispatcher owns retries: REST is configured never to sleep or retry by itself (a 429 is
 * handed back with Discord's wait, 5xx and timeouts are not repeated here), and no remote failure
 * throws. Nothing we return contains a token.
 */
import { createHash } from 'node:crypto';
import {
  ChannelType,
  DefaultRestOptions,
  DiscordAPIError,
  HTTPError,
  RateLimitError,
  REST,
  RESTJSONErrorCodes,
  Routes,
  type RESTOptions,
  type ResponseLike,
} from 'discord.js';
import type { Alert } from '../../domain/alert.ts';
import type { AlertChannel, DeliveryContext, DeliveryOutcome } from '../../ports/alert-channel.ts';
import { parseRetryAfter } from '../http/retry-after.ts';
import { discordMessageOf, type DiscordMessageBody } from './discord-message.ts';

export const DEFAULT_DISCORD_API = 'https://discord.com/api';
const DEFAULT_TIMEOUT_MS = 10_000;

interface CommonOptions {
  /** Base URL without the version (REST adds `/v10`): a proxy, or a fake in tests. Default Discord's. */
  api?: string | undefined;
  /** Per request. Default 10 s. */
  timeoutMs?: number | undefined;
}

export interface DiscordBotOptions extends CommonOptions {
  mode: 'bot';
  /** DISCORD_BOT_TOKEN. */
  token: string;
  /** The community channel (alerting.discord.channelId). */
  channelId: string;
}

export interface DiscordWebhookOptions extends CommonOptions {
  mode: 'webhook';
  /** From parseDiscordWebhookUrl(DISCORD_WEBHOOK_URL). */
  id: string;
  token: string;
}

export type DiscordChannelOptions = DiscordBotOptions | DiscordWebhookOptions;

/**
 * DeliveryOutcome, plus a `warning` on delivered: the post succeeded but something after it did
 * not (publishing to following servers). Worth logging, never a reason to post again.
 */
export type DiscordDeliveryOutcome =
  | Exclude<DeliveryOutcome, { status: 'delivered' }>
  | { status: 'delivered'; ref?: string | undefined; warning?: string | undefined };

/** Create Message `nonce`: at most 25 characters; the same key always gives the same nonce. */
export function discordNonce(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 25);
}

export class DiscordChannel implements AlertChannel {
  readonly name = 'discord' as const;
  readonly #options: DiscordChannelOptions;
  readonly #rest: REST;
  readonly #timeoutMs: number;
  /** Whether the bot's channel is an announcement channel (type 5); learned once. */
  #announcementChannel: boolean | undefined;

  constructor(options: DiscordChannelOptions) {
    if (options.token.trim() === '') {
      throw new Error(options.mode === 'bot' ? 'DISCORD_BOT_TOKEN is empty' : 'the Discord webhook token is empty');
    }
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#rest = createNonWaitingRest(options.api, this.#timeoutMs);
  }

  async deliver(alert: Alert, context: DeliveryContext): Promise<DiscordDeliveryOutcome> {
    // Skipped for the team's kinds, failed when the notice would leak (discord-message.ts);
    // the body never pings anyone: not @everyone, not a role, not a user, whatever the text says.
    const plan = discordMessageOf(alert);
    if (plan.status !== 'post') return plan;
    const body = plan.body;

    // An earlier attempt got as far as Discord's answer: the message exists, do not make another.
    if (context.previousRef !== undefined && context.previousRef !== '') {
      return { status: 'delivered', ref: context.previousRef };
    }
    try {
      return this.#options.mode === 'bot'
        ? await this.#deliverAsBot(this.#options, alert, context, body)
        : await this.#deliverAsWebhook(this.#options, alert, context, body);
    } catch (error) {
      return this.#outcomeFor(error);
    }
  }

  async #deliverAsBot(
    options: DiscordBotOptions,
    alert: Alert,
    context: DeliveryContext,
    body: DiscordMessageBody,
  ): Promise<DiscordDeliveryOutcome> {
    // REST forgets its token after a 401; set it every time so the next attempt reports the real
    // answer again instead of "no token".
    this.#rest.setToken(options.token);

    const incidentMessage = alert.kind === 'community-resolved' ? context.incidentRefs.at(-1) : undefined;
    if (incidentMessage !== undefined) {
      const edited = await editUnlessDeleted(() =>
        this.#rest.patch(Routes.channelMessage(options.channelId, incidentMessage), { body }),
      );
      // Edits of a published message reach the following servers too: nothing to crosspost.
      if (edited !== undefined) return { status: 'delivered', ref: messageId(edited) ?? incidentMessage };
    }

    const announcement = await this.#isAnnouncementChannel(options);
    const posted = await this.#rest.post(Routes.channelMessages(options.channelId), {
      body: { ...body, nonce: discordNonce(context.idempotencyKey), enforce_nonce: true },
    });
    const ref = messageId(posted);
    if (!announcement || ref === undefined) return { status: 'delivered', ref };
    const warning = await this.#publish(options, ref);
    return warning === undefined ? { status: 'delivered', ref } : { status: 'delivered', ref, warning };
  }

  async #deliverAsWebhook(
    options: DiscordWebhookOptions,
    alert: Alert,
    context: DeliveryContext,
    body: DiscordMessageBody,
  ): Promise<DiscordDeliveryOutcome> {
    const incidentMessage = alert.kind === 'community-resolved' ? context.incidentRefs.at(-1) : undefined;
    if (incidentMessage !== undefined) {
      const edited = await editUnlessDeleted(() =>
        this.#rest.patch(Routes.webhookMessage(options.id, options.token, incidentMessage), { body, auth: false }),
      );
      if (edited !== undefined) return { status: 'delivered', ref: messageId(edited) ?? incidentMessage };
    }
    // wait=true: Discord confirms the message was saved and answers with it (else 204, no id).
    const posted = await this.#rest.post(Routes.webhook(options.id, options.token), {
      body,
      auth: false,
      query: new URLSearchParams({ wait: 'true' }),
    });
    return { status: 'delivered', ref: messageId(posted) };
  }

  async #isAnnouncementChannel(options: DiscordBotOptions): Promise<boolean> {
    if (this.#announcementChannel === undefined) {
      // Also the first check of the configuration: an unknown channel or missing access fails here.
      const channel = (await this.#rest.get(Routes.channel(options.channelId))) as { type?: unknown };
      this.#announcementChannel = channel.type === ChannelType.GuildAnnouncement;
    }
    return this.#announcementChannel;
  }

  /** Crossposts to following servers; answers a warning instead of failing the delivery. */
  async #publish(options: DiscordBotOptions, messageIdToPublish: string): Promise<string | undefined> {
    try {
      await this.#rest.post(Routes.channelMessageCrosspost(options.channelId, messageIdToPublish));
      return undefined;
    } catch (error) {
      // A retried delivery gets the earlier (already published) message back from the nonce.
      if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.ThisMessageWasAlreadyCrossposted) return undefined;
      const outcome = this.#outcomeFor(error);
      const why = outcome.status === 'retry' || outcome.status === 'failed' ? outcome.error : 'unknown';
      return `posted, but not published to following servers: ${why}`;
    }
  }

  /** Maps what REST threw to an outcome; never lets a token through. */
  #outcomeFor(error: unknown): Exclude<DiscordDeliveryOutcome, { status: 'delivered' } | { status: 'skipped' }> {
    const outcome = classify(error, this.#options, this.#timeoutMs);
    return { ...outcome, error: redact(outcome.error, [this.#options.token]) };
  }
}

/** Runs an edit; undefined when the message is gone (deleted by a moderator): the caller posts anew. */
async function editUnlessDeleted(edit: () => Promise<unknown>): Promise<unknown> {
  try {
    return await edit();
  } catch (error) {
    if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage) return undefined;
    throw error;
  }
}

function messageId(message: unknown): string | undefined {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

type FailureOutcome = { status: 'retry'; error: string; retryAfterMs?: number | undefined } | { status: 'failed'; error: string };

function classify(error: unknown, options: DiscordChannelOptions, timeoutMs: number): FailureOutcome {
  if (error instanceof RateLimitError) {
    const which = error.global ? 'the global rate limit' : `the rate limit of ${error.method.toUpperCase()} ${error.route}`;
    return {
      status: 'retry',
      error: `Discord rate limited us (${which}, scope ${error.scope})`,
      retryAfterMs: Math.max(0, Math.round(error.retryAfter)),
    };
  }
  if (error instanceof DiscordAPIError) {
    if (error.status === 429) {
      const seconds = (error.rawError as { retry_after?: unknown }).retry_after;
      return {
        status: 'retry',
        error: 'Discord rate limited us',
        retryAfterMs: typeof seconds === 'number' && Number.isFinite(seconds) ? Math.max(0, Math.round(seconds * 1000)) : undefined,
      };
    }
    if (error.status === 408 || error.status >= 500) {
      return { status: 'retry', error: `Discord answered ${error.status}: ${error.message}` };
    }
    return { status: 'failed', error: explainRefusal(error, options) };
  }
  if (error instanceof HTTPError) {
    return { status: 'retry', error: `Discord answered ${error.status} ${error.message} (a Discord-side problem; trying again later)` };
  }
  if (isAbort(error)) return { status: 'retry', error: `Discord did not answer within ${timeoutMs} ms` };
  return { status: 'retry', error: `could not reach Discord: ${describeNetworkError(error)}` };
}

/** A 4xx: what is wrong and what to change. Discord's own message is included (it never holds our token). */
function explainRefusal(error: DiscordAPIError, options: DiscordChannelOptions): string {
  const answer = `${error.status} ${firstLine(error.message)}${typeof error.code === 'number' ? `, code ${error.code}` : ''}`;
  const channel = options.mode === 'bot' ? `channel ${options.channelId}` : 'the webhook\'s channel';
  switch (error.code) {
    case RESTJSONErrorCodes.InvalidWebhookToken:
      return `Discord rejected the webhook token (${answer}): the webhook was reset or DISCORD_WEBHOOK_URL is cut off; copy the URL again`;
    case RESTJSONErrorCodes.UnknownWebhook:
      return `the webhook no longer exists (${answer}): create a new one in the channel's Integrations settings and update DISCORD_WEBHOOK_URL`;
    case RESTJSONErrorCodes.UnknownChannel:
      return `${channel} does not exist or the bot is not in its server (${answer}): check alerting.discord.channelId and that the bot was invited`;
    case RESTJSONErrorCodes.MissingAccess:
      return `the bot cannot see ${channel} (${answer}): give it View Channel there (or invite it to the server)`;
    case RESTJSONErrorCodes.MissingPermissions:
      return `the bot lacks a permission in ${channel} (${answer}): it needs View Channel, Send Messages and Embed Links`;
    case RESTJSONErrorCodes.InvalidFormBodyOrContentType:
      return `Discord refused the notice as invalid (${answer}; ${restOfMessage(error.message)}): a bug in kevin-deploy's community notice, please report it`;
    default:
      break;
  }
  if (error.status === 401) {
    return options.mode === 'bot'
      ? `Discord rejected the bot token (${answer}): check DISCORD_BOT_TOKEN (Developer Portal → Bot → Reset Token)`
      : `Discord rejected the webhook (${answer}): copy DISCORD_WEBHOOK_URL again`;
  }
  if (error.status === 403) return `Discord refused access to ${channel} (${answer}): check the bot's permissions there`;
  if (error.status === 404) {
    return options.mode === 'bot'
      ? `Discord does not know ${channel} (${answer}): check alerting.discord.channelId`
      : `Discord does not know the webhook (${answer}): check DISCORD_WEBHOOK_URL`;
  }
  return `Discord refused the request (${answer})`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function restOfMessage(text: string): string {
  const rest = text.split('\n').slice(1).join('; ');
  return rest === '' ? 'no details' : rest;
}

function isAbort(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'AbortError' || (error as { code?: unknown }).code === 'UND_ERR_ABORTED';
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/** Belt and braces: a token in any error text (a URL in an exception, say) becomes [redacted]. */
function redact(text: string, secrets: string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/**
 * REST that never waits on its own: a 429 (or a bucket it knows is empty) throws RateLimitError
 * at once, 5xx and timeouts are not repeated, and the wait it reports is exactly Discord's.
 */
function createNonWaitingRest(api: string | undefined, timeoutMs: number): REST {
  return new REST({
    api: normaliseApiBase(api ?? DEFAULT_DISCORD_API),
    timeout: timeoutMs,
    retries: 0,
    rejectOnRateLimit: () => true,
    // REST adds 50 ms to every wait by default; the outbox schedules by what Discord said.
    offset: 0,
    makeRequest: makeRequestWithPreciseRetryAfter,
  });
}

/** `https://discord.com/api/` or `…/api/v10` → `https://discord.com/api` (REST appends `/v10` itself). */
export function normaliseApiBase(api: string): string {
  return api.replace(/\/+$/, '').replace(/\/v\d+$/, '');
}

/**
 * Discord's 429 body says how long to wait in fractional seconds (`retry_after: 1.5`); the
 * `Retry-After` header rounds it up to whole seconds, and REST reads only the header. Copying the
 * body's value into the header (when it has one) makes RateLimitError.retryAfter the precise wait.
 */
const makeRequestWithPreciseRetryAfter: RESTOptions['makeRequest'] = async (url, init) => {
  const response = await DefaultRestOptions.makeRequest(url, init);
  if (response.status !== 429) return response;
  const text = await response.text();
  const seconds = retryAfterSeconds(text, response.headers.get('retry-after'));
  if (seconds !== undefined) {
    try {
      response.headers.set('retry-after', String(seconds));
    } catch {
      // Immutable headers (a fetch-based strategy): REST keeps the header's whole seconds.
    }
  }
  const replay: ResponseLike = {
    body: null,
    bodyUsed: false,
    headers: response.headers,
    ok: false,
    status: response.status,
    statusText: response.statusText,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new Response(text).arrayBuffer(),
  };
  return replay;
};

function retryAfterSeconds(body: string, header: string | null): number | undefined {
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    if (typeof parsed.retry_after === 'number' && Number.isFinite(parsed.retry_after) && parsed.retry_after >= 0) {
      return parsed.retry_after;
    }
  } catch {
    // Not JSON (a proxy's page): fall back to the header.
  }
  const fromHeader = parseRetryAfter(header);
  return fromHeader === undefined ? undefined : fromHeader / 1000;
}
