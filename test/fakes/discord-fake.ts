/**
 * A loopback stand-in for Discord's HTTP API (`https://discord.com/api/v10/…`), good enough for discord.js's REST
 * client to run against unchanged:
 *
 *   const fake = await startFakeDiscord({ channels: [{ id: ANNOUNCEMENTS, type: 5 }] });
 *   const rest = new REST({ api: fake.api }).setToken(fake.botToken);   // → http://127.0.0.1:P/api/v10/…
 *
 * Routes (all under /api/v10):
 * - GET /channels/{id}                                  Get Channel
 * - POST /channels/{id}/messages                        Create Message (limits checked, nonce + enforce_nonce dedupe)
 * - PATCH /channels/{id}/messages/{id}                  Edit Message
 * - POST /channels/{id}/messages/{id}/crosspost         Crosspost Message (announcement channels, type 5, only)
 * - POST /webhooks/{id}/{token}[?wait=true]             Execute Webhook (204 without wait, the message with it)
 * - PATCH /webhooks/{id}/{token}/messages/{id}          Edit Webhook Message
 * - PUT /applications/{id}/commands                     Bulk Overwrite Global Application Commands
 * - PUT /applications/{id}/guilds/{id}/commands         Bulk Overwrite Guild Application Commands
 * Anything else → 404 `{message:'404: Not Found', code:0}`.
 *
 * How it answers, as Discord does (error bodies `{message, code, errors?}`, see the API reference):
 * - bot routes need `Authorization: Bot <token>`; missing or wrong → 401 `{message:'401: Unauthorized', code:0}`.
 *   Webhook routes need no header: a wrong token is 401 Invalid Webhook Token (50027), an unknown id 404 (10015).
 * - unknown channel → 404 Unknown Channel (10003); a channel given `access: 'missing-access'` → 403 (50001),
 *   `'missing-permissions'` → 403 (50013); unknown message → 404 Unknown Message (10008).
 * - message limits: content ≤ 2000, ≤ 10 embeds, title ≤ 256, description ≤ 4096, ≤ 25 fields (name 256, value 1024),
 *   footer 2048, author 256, 6000 characters across all embeds, nonce ≤ 25 → 400 Invalid Form Body (50035) with an
 *   `errors` tree naming the field; no content and no embeds → 400 Cannot send an empty message (50006); a body that
 *   is not JSON → 400 (50109).
 * - `enforce_nonce: true` with a nonce the same author used within `nonceWindowMs` (default 5 min: "the past few
 *   minutes") → 200 with the earlier message, nothing new.
 * - crosspost on a channel that is not an announcement channel → 400 (50024); twice → 400 (40033).
 * - 204 answers carry no body and no content type (undici trips over an empty JSON body).
 * - every answer carries `X-RateLimit-*` headers with room to spare.
 *
 * Faults (methods of FakeDiscord), checked after auth, in the order they were added:
 * - rateLimit(times, retryAfterSeconds): 429 `{message:'You are being rate limited.', retry_after, global}` with
 *   `Retry-After` (whole seconds, rounded up, as Discord does), `X-RateLimit-Limit/Remaining: 0/Reset/Reset-After/
 *   Bucket/Scope` (and `X-RateLimit-Global` when global). @discordjs/rest with `rejectOnRateLimit` throws
 *   RateLimitError at once; without it, it sleeps Retry-After and tries again.
 * - setDown(503 | 'reset' | 'hang' | false): every call answers 503 (HTML, like Cloudflare in front of Discord), has its
 *   connection reset, or never answers.
 * - failNext(status, body?, route?): the next call (of that route) answers status with that JSON body.
 *
 * Interactions: signInteraction(rawBody) signs like Discord (Ed25519 over timestamp + body) with a key pair made at
 * start; publicKeyHex is what the app's settings would show.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen-on-loopback.ts';

export const CHANNEL_TYPE = { GuildText: 0, GuildAnnouncement: 5 } as const;

export interface FakeDiscordChannelInput {
  id: string;
  /** Default 0 (text); 5 = announcement. */
  type?: number;
  name?: string;
  guildId?: string;
  access?: 'ok' | 'missing-access' | 'missing-permissions';
}

export interface FakeDiscordWebhookInput {
  id: string;
  token: string;
  channelId: string;
  name?: string;
}

export interface FakeDiscordOptions {
  botToken?: string;
  applicationId?: string;
  botUserId?: string;
  channels?: FakeDiscordChannelInput[];
  webhooks?: FakeDiscordWebhookInput[];
  /** Drives message timestamps, snowflakes and the nonce window. Default: the real clock. */
  clock?: () => Date;
  nonceWindowMs?: number;
}

export interface FakeDiscordMessage {
  id: string;
  channelId: string;
  content: string;
  embeds: unknown[];
  allowedMentions: unknown;
  nonce?: string | number;
  /** The bot user, or the webhook's id for webhook messages. */
  authorId: string;
  webhookId?: string;
  crossposted: boolean;
  edits: number;
  /** Earlier versions, oldest first. */
  history: Array<{ content: string; embeds: unknown[] }>;
  deleted: boolean;
}

export interface FakeDiscordRequest {
  method: string;
  /** Generalised, without ids or tokens: `POST /channels/:id/messages`. */
  route: string;
  /** The real path after /api/v10 (with ids; webhook tokens included — this is a test double). */
  path: string;
  query: Record<string, string>;
  auth: 'bot' | 'invalid' | 'none';
  contentType: string;
  body: unknown;
  /** What the fake answered; 0 = reset or hung. */
  status: number;
}

export interface FakeDiscord {
  /** `http://127.0.0.1:P/api` — REST's `api` option (it appends `/v10`). */
  readonly api: string;
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUserId: string;
  /** The app's public key, 32 bytes hex, as the Developer Portal shows it. */
  readonly publicKeyHex: string;

  requests(route?: string): FakeDiscordRequest[];
  /** Messages (deleted ones too, flagged), oldest first; one channel's when given. */
  messages(channelId?: string): FakeDiscordMessage[];
  message(id: string): FakeDiscordMessage | undefined;
  /** Registered commands: global ones, or one server's. */
  commands(guildId?: string): unknown[];

  addChannel(channel: FakeDiscordChannelInput): void;
  addWebhook(webhook: FakeDiscordWebhookInput): void;
  /** As a moderator deleting it: later edits answer 404 Unknown Message. */
  deleteMessage(id: string): void;

  rateLimit(times?: number, retryAfterSeconds?: number, options?: { global?: boolean; route?: string }): void;
  setDown(mode: false | 503 | 'reset' | 'hang'): void;
  failNext(status: number, body?: Record<string, unknown>, route?: string): void;
  clearFaults(): void;

  /** Headers Discord would send with this exact body (sign the bytes you send). */
  signInteraction(rawBody: string | Buffer, timestamp?: string): Record<string, string>;
  close(): Promise<void>;
}

/** An Ed25519 key pair and Discord's signing scheme, for tests that need no server. */
export interface InteractionSigner {
  publicKeyHex: string;
  sign(rawBody: string | Buffer, timestamp?: string): Record<string, string>;
}

export function createInteractionSigner(clock: () => Date = () => new Date()): InteractionSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // SPKI DER of Ed25519 is a 12-byte header and the 32-byte key.
  const publicKeyHex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  return {
    publicKeyHex,
    sign: (rawBody, timestamp = String(Math.floor(clock().getTime() / 1000))) =>
      signedHeaders(privateKey, rawBody, timestamp),
  };
}

function signedHeaders(privateKey: KeyObject, rawBody: string | Buffer, timestamp: string): Record<string, string> {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), privateKey).toString('hex');
  return {
    'content-type': 'application/json',
    'x-signature-ed25519': signature,
    'x-signature-timestamp': timestamp,
  };
}

const HOST = '127.0.0.1';
const DISCORD_EPOCH = 1_420_070_400_000n;
const DEFAULT_NONCE_WINDOW_MS = 5 * 60_000;

const LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedTotal: 6000,
  nonce: 25,
} as const;

type ErrorTree = { [key: string]: ErrorTree } | { _errors: Array<{ code: string; message: string }> };

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface ChannelState {
  id: string;
  type: number;
  name: string;
  guildId: string;
  access: 'ok' | 'missing-access' | 'missing-permissions';
}

interface MessageState extends FakeDiscordMessage {
  createdAt: Date;
  editedAt?: Date;
  flags: number;
}

type Fault =
  | { kind: 'ratelimit'; remaining: number; retryAfterSeconds: number; global: boolean; route: string }
  | { kind: 'fail'; status: number; body: Record<string, unknown> | undefined; route: string };

class AnswerError extends Error {
  constructor(readonly answer: Answer) {
    super(`answer ${answer.status}`);
  }
}

function discordError(status: number, code: number, message: string, errors?: ErrorTree): Answer {
  return { status, body: { message, code, ...(errors ? { errors } : {}) } };
}

function invalidFormBody(errors: ErrorTree): AnswerError {
  return new AnswerError(discordError(400, 50035, 'Invalid Form Body', errors));
}

function fieldError(code: string, message: string): ErrorTree {
  return { _errors: [{ code, message }] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const clock = options.clock ?? (() => new Date());
  const botToken = options.botToken ?? 'fake-bot-token.KEVIN.0123456789';
  const applicationId = options.applicationId ?? '1100000000000000001';
  const botUserId = options.botUserId ?? '1100000000000000002';
  const nonceWindowMs = options.nonceWindowMs ?? DEFAULT_NONCE_WINDOW_MS;
  const signer = createInteractionSigner(clock);

  const channels = new Map<string, ChannelState>();
  const webhooks = new Map<string, FakeDiscordWebhookInput>();
  const messages: MessageState[] = [];
  const requestLog: FakeDiscordRequest[] = [];
  const globalCommands: Array<Record<string, unknown>> = [];
  const guildCommands = new Map<string, Array<Record<string, unknown>>>();
  const faults: Fault[] = [];
  let down: false | 503 | 'reset' | 'hang' = false;
  let sequence = 0n;
  let commandVersion = 0n;

  function snowflake(): string {
    sequence = (sequence + 1n) & 0xfffn;
    return (((BigInt(clock().getTime()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | sequence).toString();
  }

  function addChannel(input: FakeDiscordChannelInput): void {
    channels.set(input.id, {
      id: input.id,
      type: input.type ?? CHANNEL_TYPE.GuildText,
      name: input.name ?? (input.type === CHANNEL_TYPE.GuildAnnouncement ? 'announcements' : 'community'),
      guildId: input.guildId ?? '1100000000000000099',
      access: input.access ?? 'ok',
    });
  }
  for (const c of options.channels ?? []) addChannel(c);
  for (const w of options.webhooks ?? []) webhooks.set(w.id, w);

  // ---------------------------------------------------------------------------------------
  // Validation, as Discord answers it
  // ---------------------------------------------------------------------------------------

  function maxLength(max: number): ErrorTree {
    return fieldError('BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  }

  /** Checks content, embeds, nonce and allowed_mentions; throws Invalid Form Body like Discord. */
  function validateMessage(body: Record<string, unknown>): void {
    const errors: Record<string, ErrorTree> = {};
    if (body.content !== undefined && body.content !== null) {
      if (typeof body.content !== 'string') errors.content = fieldError('STRING_TYPE_CONVERT', 'Could not interpret value as string.');
      else if (body.content.length > LIMITS.content) errors.content = maxLength(LIMITS.content);
    }
    if (body.nonce !== undefined) {
      if (typeof body.nonce === 'string' && body.nonce.length > LIMITS.nonce) errors.nonce = maxLength(LIMITS.nonce);
      else if (typeof body.nonce !== 'string' && typeof body.nonce !== 'number') {
        errors.nonce = fieldError('BASE_TYPE_BAD_TYPE', 'Must be a string or an integer.');
      }
    }
    if (body.allowed_mentions !== undefined) {
      const parse = isRecord(body.allowed_mentions) ? body.allowed_mentions.parse : undefined;
      if (parse !== undefined && (!Array.isArray(parse) || parse.some((p) => !['roles', 'users', 'everyone'].includes(String(p))))) {
        errors.allowed_mentions = { parse: fieldError('BASE_TYPE_CHOICES', "Value must be one of {'roles', 'users', 'everyone'}.") };
      }
    }
    if (body.embeds !== undefined && body.embeds !== null) {
      if (!Array.isArray(body.embeds)) {
        errors.embeds = fieldError('BASE_TYPE_BAD_TYPE', 'Must be an array.');
      } else if (body.embeds.length > LIMITS.embeds) {
        errors.embeds = maxLength(LIMITS.embeds);
      } else {
        const embedErrors: Record<string, ErrorTree> = {};
        let total = 0;
        body.embeds.forEach((raw, index) => {
          const e: Record<string, ErrorTree> = {};
          const embed = isRecord(raw) ? raw : {};
          const title = text(embed.title);
          const description = text(embed.description);
          const footer = isRecord(embed.footer) ? text(embed.footer.text) : '';
          const author = isRecord(embed.author) ? text(embed.author.name) : '';
          if (title.length > LIMITS.title) e.title = maxLength(LIMITS.title);
          if (description.length > LIMITS.description) e.description = maxLength(LIMITS.description);
          if (footer.length > LIMITS.footerText) e.footer = { text: maxLength(LIMITS.footerText) };
          if (author.length > LIMITS.authorName) e.author = { name: maxLength(LIMITS.authorName) };
          total += title.length + description.length + footer.length + author.length;
          const fields = Array.isArray(embed.fields) ? embed.fields : [];
          if (fields.length > LIMITS.fields) e.fields = maxLength(LIMITS.fields);
          const fieldErrors: Record<string, ErrorTree> = {};
          fields.forEach((f, i) => {
            const field = isRecord(f) ? f : {};
            const name = text(field.name);
            const value = text(field.value);
            total += name.length + value.length;
            const fe: Record<string, ErrorTree> = {};
            if (name.length > LIMITS.fieldName) fe.name = maxLength(LIMITS.fieldName);
            if (value.length > LIMITS.fieldValue) fe.value = maxLength(LIMITS.fieldValue);
            if (Object.keys(fe).length > 0) fieldErrors[String(i)] = fe;
          });
          if (Object.keys(fieldErrors).length > 0 && !e.fields) e.fields = fieldErrors;
          if (Object.keys(e).length > 0) embedErrors[String(index)] = e;
        });
        if (Object.keys(embedErrors).length > 0) errors.embeds = embedErrors;
        else if (total > LIMITS.embedTotal) {
          errors.embeds = fieldError('MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${LIMITS.embedTotal}`);
        }
      }
    }
    if (Object.keys(errors).length > 0) throw invalidFormBody(errors);
  }

  function requireSomething(body: Record<string, unknown>): void {
    const hasContent = typeof body.content === 'string' && body.content.length > 0;
    const hasEmbeds = Array.isArray(body.embeds) && body.embeds.length > 0;
    if (!hasContent && !hasEmbeds) throw new AnswerError(discordError(400, 50006, 'Cannot send an empty message'));
  }

  // ---------------------------------------------------------------------------------------
  // Resources
  // ---------------------------------------------------------------------------------------

  function channelFor(id: string): ChannelState {
    const channel = channels.get(id);
    if (!channel) throw new AnswerError(discordError(404, 10003, 'Unknown Channel'));
    if (channel.access === 'missing-access') throw new AnswerError(discordError(403, 50001, 'Missing Access'));
    if (channel.access === 'missing-permissions') throw new AnswerError(discordError(403, 50013, 'Missing Permissions'));
    return channel;
  }

  function liveMessage(id: string, predicate: (m: MessageState) => boolean): MessageState {
    const m = messages.find((candidate) => candidate.id === id && !candidate.deleted && predicate(candidate));
    if (!m) throw new AnswerError(discordError(404, 10008, 'Unknown Message'));
    return m;
  }

  function webhookFor(id: string, token: string): FakeDiscordWebhookInput {
    const webhook = webhooks.get(id);
    if (!webhook) throw new AnswerError(discordError(404, 10015, 'Unknown Webhook'));
    if (webhook.token !== token) throw new AnswerError(discordError(401, 50027, 'Invalid Webhook Token'));
    return webhook;
  }

  function wireMessage(m: MessageState): Record<string, unknown> {
    const channel = channels.get(m.channelId);
    return {
      id: m.id,
      type: 0,
      channel_id: m.channelId,
      ...(channel ? { guild_id: channel.guildId } : {}),
      author: m.webhookId
        ? { id: m.webhookId, username: webhooks.get(m.webhookId)?.name ?? 'KEVIN', bot: true, discriminator: '0000' }
        : { id: botUserId, username: 'kevin-deploy', bot: true, discriminator: '0', global_name: null },
      content: m.content,
      embeds: clone(m.embeds),
      attachments: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: m.createdAt.toISOString(),
      edited_timestamp: m.editedAt ? m.editedAt.toISOString() : null,
      flags: m.flags,
      components: [],
      ...(m.nonce !== undefined ? { nonce: m.nonce } : {}),
      ...(m.webhookId ? { webhook_id: m.webhookId, application_id: applicationId } : {}),
    };
  }

  function createMessage(channelId: string, authorId: string, body: Record<string, unknown>, webhookId?: string): MessageState {
    const now = clock();
    const m: MessageState = {
      id: snowflake(),
      channelId,
      content: text(body.content),
      embeds: Array.isArray(body.embeds) ? clone(body.embeds).map((e) => ({ type: 'rich', ...(e as object) })) : [],
      allowedMentions: clone(body.allowed_mentions),
      ...(body.nonce !== undefined && (typeof body.nonce === 'string' || typeof body.nonce === 'number') ? { nonce: body.nonce } : {}),
      authorId,
      ...(webhookId ? { webhookId } : {}),
      crossposted: false,
      edits: 0,
      history: [],
      deleted: false,
      createdAt: now,
      flags: 0,
    };
    messages.push(m);
    return m;
  }

  function editMessage(m: MessageState, body: Record<string, unknown>): void {
    validateMessage(body);
    m.history.push({ content: m.content, embeds: clone(m.embeds) });
    // Omitted fields keep their value; null clears them.
    if (body.content !== undefined) m.content = text(body.content);
    if (body.embeds !== undefined) m.embeds = Array.isArray(body.embeds) ? clone(body.embeds).map((e) => ({ type: 'rich', ...(e as object) })) : [];
    if (body.allowed_mentions !== undefined) m.allowedMentions = clone(body.allowed_mentions);
    m.edits += 1;
    m.editedAt = clock();
  }

  function storeCommands(appId: string, body: unknown, guildId?: string): Array<Record<string, unknown>> {
    if (appId !== applicationId) {
      throw new AnswerError(discordError(403, 20012, 'You are not authorized to perform this action on this application'));
    }
    if (!Array.isArray(body)) throw invalidFormBody(fieldError('BASE_TYPE_BAD_TYPE', 'Must be an array.'));
    const nameRule = /^[-_\p{L}\p{N}]{1,32}$/u;
    const errors: Record<string, ErrorTree> = {};
    body.forEach((raw, index) => {
      const command = isRecord(raw) ? raw : {};
      const e: Record<string, ErrorTree> = {};
      const name = text(command.name);
      if (!nameRule.test(name) || name !== name.toLowerCase()) {
        e.name = fieldError('APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
      }
      const description = text(command.description);
      if (description.length < 1 || description.length > 100) {
        e.description = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
      }
      const optionErrors: Record<string, ErrorTree> = {};
      (Array.isArray(command.options) ? command.options : []).forEach((o, i) => {
        const option = isRecord(o) ? o : {};
        const oe: Record<string, ErrorTree> = {};
        if (!nameRule.test(text(option.name))) oe.name = fieldError('APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
        const od = text(option.description);
        if (od.length < 1 || od.length > 100) oe.description = fieldError('BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
        if (Object.keys(oe).length > 0) optionErrors[String(i)] = oe;
      });
      if (Object.keys(optionErrors).length > 0) e.options = optionErrors;
      if (Object.keys(e).length > 0) errors[String(index)] = e;
    });
    if (Object.keys(errors).length > 0) throw invalidFormBody(errors);
    const previous = guildId === undefined ? globalCommands : (guildCommands.get(guildId) ?? []);
    commandVersion += 1n;
    const stored = body.map((raw) => {
      const command = raw as Record<string, unknown>;
      const existing = previous.find((p) => p.name === command.name && (p.type ?? 1) === (command.type ?? 1));
      return {
        id: existing?.id ?? snowflake(),
        application_id: applicationId,
        version: (((BigInt(clock().getTime()) - DISCORD_EPOCH) << 22n) + commandVersion).toString(),
        default_member_permissions: null,
        type: command.type ?? 1,
        name: command.name,
        description: command.description,
        options: clone(command.options) ?? [],
        nsfw: false,
        ...(guildId !== undefined
          ? { guild_id: guildId }
          : { contexts: clone(command.contexts) ?? null, integration_types: clone(command.integration_types) ?? [0] }),
      };
    });
    if (guildId === undefined) globalCommands.splice(0, globalCommands.length, ...stored);
    else guildCommands.set(guildId, stored);
    return clone(stored);
  }

  // ---------------------------------------------------------------------------------------
  // Routing
  // ---------------------------------------------------------------------------------------

  interface Route {
    method: string;
    pattern: RegExp;
    name: string;
    bot: boolean;
    handle: (params: string[], body: unknown, query: URLSearchParams) => Answer;
  }

  const jsonObject = (body: unknown): Record<string, unknown> => {
    if (!isRecord(body)) throw new AnswerError(discordError(400, 50109, 'The request body contains invalid JSON.'));
    return body;
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/channels\/(\d+)$/,
      name: 'GET /channels/:id',
      bot: true,
      handle: ([channelId = '']) => {
        const channel = channelFor(channelId);
        return {
          status: 200,
          body: { id: channel.id, type: channel.type, guild_id: channel.guildId, name: channel.name, position: 0, flags: 0, nsfw: false },
        };
      },
    },
    {
      method: 'POST',
      pattern: /^\/channels\/(\d+)\/messages$/,
      name: 'POST /channels/:id/messages',
      bot: true,
      handle: ([channelId = ''], raw) => {
        const channel = channelFor(channelId);
        const body = jsonObject(raw);
        validateMessage(body);
        requireSomething(body);
        if (body.enforce_nonce === true && body.nonce !== undefined) {
          const since = clock().getTime() - nonceWindowMs;
          const earlier = messages.find(
            (m) => m.authorId === botUserId && m.nonce === body.nonce && m.createdAt.getTime() >= since && !m.deleted,
          );
          if (earlier) return { status: 200, body: wireMessage(earlier) };
        }
        return { status: 200, body: wireMessage(createMessage(channel.id, botUserId, body)) };
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/channels\/(\d+)\/messages\/(\d+)$/,
      name: 'PATCH /channels/:id/messages/:id',
      bot: true,
      handle: ([channelId = '', messageId = ''], raw) => {
        const channel = channelFor(channelId);
        const m = liveMessage(messageId, (c) => c.channelId === channel.id);
        if (m.authorId !== botUserId) throw new AnswerError(discordError(403, 50005, 'Cannot edit a message authored by another user'));
        editMessage(m, jsonObject(raw));
        return { status: 200, body: wireMessage(m) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/channels\/(\d+)\/messages\/(\d+)\/crosspost$/,
      name: 'POST /channels/:id/messages/:id/crosspost',
      bot: true,
      handle: ([channelId = '', messageId = '']) => {
        const channel = channelFor(channelId);
        const m = liveMessage(messageId, (c) => c.channelId === channel.id);
        if (channel.type !== CHANNEL_TYPE.GuildAnnouncement) {
          throw new AnswerError(discordError(400, 50024, 'Cannot execute action on this channel type'));
        }
        if (m.crossposted) throw new AnswerError(discordError(400, 40033, 'This message has already been crossposted.'));
        m.crossposted = true;
        m.flags |= 1; // CROSSPOSTED
        return { status: 200, body: wireMessage(m) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/webhooks\/(\d+)\/([^/]+)$/,
      name: 'POST /webhooks/:id/:token',
      bot: false,
      handle: ([webhookId = '', token = ''], raw, query) => {
        const webhook = webhookFor(webhookId, token);
        const body = jsonObject(raw);
        validateMessage(body);
        requireSomething(body);
        // Execute Webhook takes no nonce: it is ignored, and so is enforce_nonce.
        const { nonce: _nonce, enforce_nonce: _enforce, ...rest } = body;
        const m = createMessage(webhook.channelId, webhook.id, rest, webhook.id);
        return query.get('wait') === 'true' ? { status: 200, body: wireMessage(m) } : { status: 204 };
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(\d+)$/,
      name: 'PATCH /webhooks/:id/:token/messages/:id',
      bot: false,
      handle: ([webhookId = '', token = '', messageId = ''], raw) => {
        const webhook = webhookFor(webhookId, token);
        const m = liveMessage(messageId, (c) => c.webhookId === webhook.id);
        editMessage(m, jsonObject(raw));
        return { status: 200, body: wireMessage(m) };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/applications\/(\d+)\/commands$/,
      name: 'PUT /applications/:id/commands',
      bot: true,
      handle: ([appId = ''], raw) => ({ status: 200, body: storeCommands(appId, raw) }),
    },
    {
      method: 'PUT',
      pattern: /^\/applications\/(\d+)\/guilds\/(\d+)\/commands$/,
      name: 'PUT /applications/:id/guilds/:id/commands',
      bot: true,
      handle: ([appId = '', guildId = ''], raw) => ({ status: 200, body: storeCommands(appId, raw, guildId) }),
    },
  ];

  function rateLimitHeaders(route: string, remaining: number, resetAfterSeconds: number): Record<string, string> {
    const resetAt = clock().getTime() / 1000 + resetAfterSeconds;
    return {
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': resetAt.toFixed(3),
      'x-ratelimit-reset-after': String(resetAfterSeconds),
      'x-ratelimit-bucket': createHash('sha1').update(route).digest('hex').slice(0, 16),
    };
  }

  function takeFault(route: string): Fault | undefined {
    const index = faults.findIndex((f) => f.route === '*' || f.route === route);
    const fault = faults[index];
    if (!fault) return undefined;
    if (fault.kind === 'ratelimit') {
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.splice(index, 1);
    } else {
      faults.splice(index, 1);
    }
    return fault;
  }

  function defaultFailureBody(status: number): Record<string, unknown> | undefined {
    if (status === 401) return { message: '401: Unauthorized', code: 0 };
    if (status === 403) return { message: 'Missing Access', code: 50001 };
    if (status === 404) return { message: '404: Not Found', code: 0 };
    if (status === 400) return { message: '400: Bad Request', code: 0 };
    return undefined;
  }

  function send(res: ServerResponse, answer: Answer): void {
    const headers: Record<string, string> = { ...(answer.headers ?? {}) };
    if (answer.body === undefined) {
      // No body, no content type: an empty "JSON" body makes undici's json() throw.
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    const payload = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      ...headers,
    });
    res.end(payload);
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const contentType = req.headers['content-type'] ?? '';
    const path = url.pathname.startsWith('/api/v10/') ? url.pathname.slice('/api/v10'.length) : url.pathname;
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = Symbol.for('invalid-json');
      }
    }
    const header = req.headers.authorization;
    const auth: FakeDiscordRequest['auth'] = header === undefined ? 'none' : header === `Bot ${botToken}` ? 'bot' : 'invalid';
    const route = routes.find((r) => r.method === method && url.pathname.startsWith('/api/v10/') && r.pattern.test(path));
    const entry: FakeDiscordRequest = {
      method,
      route: route?.name ?? `${method} ${path}`,
      path,
      query: Object.fromEntries(url.searchParams),
      auth,
      contentType,
      body: typeof body === 'symbol' ? raw.toString('utf8') : clone(body),
      status: 0,
    };
    requestLog.push(entry);

    if (down === 'reset') {
      req.socket.destroy();
      return;
    }
    if (down === 'hang') return; // never answers; close() drops the connection
    const answer = (a: Answer): void => {
      entry.status = a.status;
      send(res, {
        ...a,
        headers: { ...(route ? rateLimitHeaders(route.name, 4, 1) : {}), ...(a.headers ?? {}) },
      });
    };
    if (down === 503) {
      entry.status = 503;
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      return;
    }
    if (!route) return answer(discordError(404, 0, '404: Not Found'));
    if (route.bot && auth !== 'bot') return answer(discordError(401, 0, '401: Unauthorized'));

    const fault = takeFault(route.name);
    if (fault?.kind === 'ratelimit') {
      const s = fault.retryAfterSeconds;
      return answer({
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: s, global: fault.global },
        headers: {
          'retry-after': String(Math.ceil(s)),
          ...rateLimitHeaders(route.name, 0, s),
          'x-ratelimit-scope': fault.global ? 'global' : 'user',
          ...(fault.global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      });
    }
    if (fault?.kind === 'fail') {
      const failureBody = fault.body ?? defaultFailureBody(fault.status);
      if (failureBody === undefined) {
        entry.status = fault.status;
        res.writeHead(fault.status, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<html><body><h1>${fault.status}</h1></body></html>`);
        return;
      }
      return answer({ status: fault.status, body: failureBody });
    }

    try {
      if (typeof body === 'symbol') throw new AnswerError(discordError(400, 50109, 'The request body contains invalid JSON.'));
      const params = route.pattern.exec(path)?.slice(1) ?? [];
      answer(route.handle(params, body, url.searchParams));
    } catch (error) {
      if (error instanceof AnswerError) answer(error.answer);
      else throw error;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      }
    });
  });
  const port = await listenOnLoopback(server, HOST);

  const publicMessage = (m: MessageState): FakeDiscordMessage => {
    const { createdAt: _c, editedAt: _e, flags: _f, ...rest } = m;
    return clone(rest);
  };

  return {
    api: `http://${HOST}:${port}/api`,
    botToken,
    applicationId,
    botUserId,
    publicKeyHex: signer.publicKeyHex,
    requests: (route) => requestLog.filter((r) => route === undefined || r.route === route).map((r) => ({ ...r })),
    messages: (channelId) => messages.filter((m) => channelId === undefined || m.channelId === channelId).map(publicMessage),
    message: (id) => {
      const m = messages.find((candidate) => candidate.id === id);
      return m ? publicMessage(m) : undefined;
    },
    commands: (guildId) => clone(guildId === undefined ? globalCommands : (guildCommands.get(guildId) ?? [])),
    addChannel,
    addWebhook: (w) => webhooks.set(w.id, w),
    deleteMessage: (id) => {
      const m = messages.find((candidate) => candidate.id === id);
      if (m) m.deleted = true;
    },
    rateLimit: (times = 1, retryAfterSeconds = 1, opts = {}) => {
      faults.push({ kind: 'ratelimit', remaining: times, retryAfterSeconds, global: opts.global ?? false, route: opts.route ?? '*' });
    },
    setDown: (mode) => {
      down = mode;
    },
    failNext: (status, failureBody, route = '*') => {
      faults.push({ kind: 'fail', status, body: failureBody, route });
    },
    clearFaults: () => {
      faults.splice(0, faults.length);
      down = false;
    },
    signInteraction: (rawBody, timestamp) => signer.sign(rawBody, timestamp),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
