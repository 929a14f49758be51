/**
 * A loopback stand-in for Slack's Web API (`https://slack.com/api/<method>`), good enough for the real
 * `@slack/web-api` WebClient, Bolt's App and `@slack/socket-mode`'s SocketModeClient to run against unchanged:
 *
 *   const fake = await startFakeSlack({ botToken: 'xoxb-test', appToken: 'xapp-test' });
 *   const client = new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
 *
 * How it answers, as Slack does:
 * - every method is `POST /api/<method>`; bodies are `application/x-www-form-urlencoded` (the WebClient's choice:
 *   objects such as `blocks`, `attachments`, `view` and `metadata` arrive JSON-encoded and are decoded here),
 *   `application/json` (token only in the `Authorization` header), or `multipart/form-data`; query-string arguments
 *   are merged in. GET works too.
 * - errors are HTTP 200 with `{ok:false, error}` (plus `response_metadata.messages` for `invalid_arguments` /
 *   `invalid_blocks`, `needed`/`provided` for `missing_scope`); only rate limits (429) and outages (5xx) use HTTP
 *   status codes.
 * - auth: `Authorization: Bearer <token>` or a `token` form field. No token → `not_authed`; an unknown token →
 *   `invalid_auth`; the app-level token on a bot method, or the bot token on `apps.connections.open` →
 *   `not_allowed_token_type`. `apps.connections.open` takes its token from the header only.
 * - responses carry `x-oauth-scopes` / `x-accepted-oauth-scopes` (the WebClient surfaces them as
 *   `response_metadata.scopes` / `acceptedScopes`); a method whose scope the bot lacks answers `missing_scope`.
 *
 * Methods: auth.test, chat.postMessage, chat.update, chat.delete, chat.postEphemeral, chat.getPermalink,
 * views.open, views.push, views.update, views.publish, usergroups.users.list, users.info, users.lookupByEmail,
 * conversations.info, conversations.history (newest first; metadata only with include_all_metadata),
 * apps.connections.open (only when `appToken` is given; it hands out a URL of the Socket Mode fake). Anything else
 * → `{ok:false, error:'unknown_method', req_method}`.
 *
 * Channels: without `channels` in the options any channel ID is accepted (and created on first use, the bot a
 * member); posting to a user ID (`U…`/`W…`) posts to the bot's DM with them (`D…`), as Slack does. With `channels`
 * given, unknown IDs answer `channel_not_found` and channels with `isMember: false` answer `not_in_channel`
 * (unless the bot has `chat:write.public` and the channel is public). Names (`#deploys`) resolve to IDs; responses
 * always carry IDs.
 *
 * Faults (see the methods of FakeSlack): rateLimit → HTTP 429 + `Retry-After` + `{ok:false,error:'ratelimited'}`;
 * setDown → HTTP 503 (default), a reset connection, or no answer at all for every call; failNext → one `{ok:false, error}`.
 * Order: down, then auth (not_authed / invalid_auth / unknown_method / not_allowed_token_type), then the queued
 * rateLimit/failNext faults of the method in the order they were added (those of '*' when the method has none),
 * then missing_scope, then the method itself.
 *
 * How the real clients take the faults (@slack/web-api 8.2, @slack/socket-mode 3.1):
 * - 429: only with a parsable `Retry-After`. `rejectRateLimitedCalls: true` → WebAPIRateLimitedError
 *   (`code: slack_webapi_rate_limited_error`, `retryAfter`) at once; otherwise the client sleeps Retry-After
 *   seconds and retries through its retryConfig — with `retries: 0` it then rejects with a WebAPIRequestError.
 * - 503 → WebAPIHTTPError (`statusCode: 503`); reset → WebAPIRequestError. Both are retried per retryConfig.
 * - SocketModeClient treats an HTTP or request error of apps.connections.open as unrecoverable: start() rejects,
 *   and during an automatic reconnect the rejection is unhandled and the client stops reconnecting.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { startFakeSocketMode, type FakeSocketMode, type FakeSocketModeOptions } from './slack-socket-mode.ts';
import { listenOnLoopback } from './listen-on-loopback.ts';

export interface FakeChannelInput {
  id: string;
  name: string;
  isPrivate?: boolean;
  /** Whether the bot is in the channel. Default true. */
  isMember?: boolean;
  isArchived?: boolean;
  /** When given, chat.postEphemeral to a user outside this list answers `user_not_in_channel`. */
  members?: string[];
}

export interface FakeUserInput {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
  email?: string;
  isBot?: boolean;
  deleted?: boolean;
  tz?: string;
}

export interface FakeSlackOptions {
  botToken: string;
  /** Enables `apps.connections.open` and starts the Socket Mode fake. */
  appToken?: string;
  teamId?: string;
  teamDomain?: string;
  teamName?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  appId?: string;
  /** Drives message `ts`, view hashes and call times. Default: the real clock. */
  clock?: () => Date;
  /** Known channels; when given, channel lookups are strict (see above). */
  channels?: FakeChannelInput[];
  /** Known users for users.info (the bot user is always known). */
  users?: FakeUserInput[];
  /** Usergroup ID (`S…`) → member user IDs, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Bot token scopes. Default: enough for every method here except chat:write.public. */
  scopes?: string[];
  /** Options of the Socket Mode fake (started when appToken is given). */
  socketMode?: Omit<FakeSocketModeOptions, 'appId' | 'clock'>;
}

export type CallAuth = 'bot' | 'app' | 'invalid' | 'missing';

export interface SlackCall {
  method: string;
  /** Parsed arguments (token removed); blocks, attachments, view and metadata decoded from JSON. */
  args: Record<string, unknown>;
  at: Date;
  auth: CallAuth;
  contentType: string;
  /** What the fake answered. status 0 = connection reset or never answered (setDown 'reset' / 'hang'). */
  outcome: { status: number; ok: boolean; error?: string };
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  /** Author user ID (the bot user for the bot's own messages). */
  user: string;
  bot_id?: string;
  thread_ts?: string;
  reply_broadcast?: boolean;
  edited?: { user: string; ts: string };
  /** How many times chat.update changed it. */
  updates: number;
  /** Earlier versions, oldest first. */
  history: Array<{ text: string; blocks?: unknown[]; attachments?: unknown[] }>;
  /** Thread replies, oldest first (top-level messages only; [] otherwise). */
  replies: FakeSlackMessage[];
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
}

export interface FakeSlackView {
  id: string;
  kind: 'modal' | 'home';
  /** Home tab owner (views.publish). */
  userId?: string;
  triggerId?: string;
  /** The view as Slack would return it (blocks with block_ids, hash, state …). */
  view: Record<string, unknown>;
  updates: number;
}

export interface FakeSlack {
  /** `http://127.0.0.1:P/api/` — the WebClient's `slackApiUrl`. */
  readonly apiUrl: string;
  readonly botToken: string;
  readonly appToken: string | undefined;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  /** Present when appToken was given. */
  readonly socketMode: FakeSocketMode | undefined;

  /** Every call (also refused, rate-limited and failed ones), oldest first; only `method`'s when given. */
  calls(method?: string): SlackCall[];
  /** Resolves with the first call (past or future) of `method` matching `predicate`; rejects after timeoutMs (5 s). */
  waitForCall(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** Current state of the channel's top-level messages (after updates), each with its thread replies. */
  messages(channel: string): FakeSlackMessage[];
  /** Every message of the channel, replies included, in posting order. */
  allMessages(channel: string): FakeSlackMessage[];
  message(channel: string, ts: string): FakeSlackMessage | undefined;
  ephemerals(channel?: string): FakeSlackEphemeral[];
  views(): FakeSlackView[];
  homeView(userId: string): FakeSlackView | undefined;

  /** The next `times` calls of `method` ('*' = any) answer HTTP 429, `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, options?: { times?: number; retryAfterSeconds?: number }): void;
  /**
   * While down, every call answers HTTP 503 (mode 'http503', default), has its connection reset
   * ('reset'), or is read and never answered ('hang': Slack accepting connections but stuck).
   */
  setDown(down: boolean, mode?: 'http503' | 'reset' | 'hang'): void;
  /** The next call of `method` ('*' = any) answers `{ok:false, error, ...extra}` (HTTP 200). */
  failNext(method: string, error: string, extra?: Record<string, unknown>): void;
  /** Drops queued rateLimit/failNext faults and the down state. */
  clearFaults(): void;

  addChannel(channel: FakeChannelInput): void;
  addUser(user: FakeUserInput): void;
  setUsergroup(id: string, userIds: string[]): void;
  /** Seeds a message by someone else (a person), e.g. to get `cant_update_message`. Returns its ts. */
  addMessage(input: { channel: string; user: string; text: string; thread_ts?: string; blocks?: unknown[] }): string;
  /** Later views.open/views.push with this trigger_id answer `expired_trigger_id`. */
  expireTrigger(triggerId: string): void;
  /** Forgets calls, messages, ephemerals, views and used triggers (keeps channels, users, groups). */
  reset(): void;
  /** Closes the HTTP server and the Socket Mode fake (stop Socket Mode clients first). */
  close(): Promise<void>;
}

type Result = { ok: true; [key: string]: unknown } | { ok: false; error: string; [key: string]: unknown };

interface ChannelState {
  id: string;
  name: string;
  isPrivate: boolean;
  isMember: boolean;
  isArchived: boolean;
  isIm: boolean;
  imUser?: string;
  members?: Set<string>;
  created: number;
  messages: MessageState[];
}

interface MessageState {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  user: string;
  byBot: boolean;
  thread_ts?: string;
  reply_broadcast?: boolean;
  edited?: { user: string; ts: string };
  updates: number;
  history: Array<{ text: string; blocks?: unknown[]; attachments?: unknown[] }>;
}

type Fault =
  | { kind: 'ratelimit'; remaining: number; retryAfterSeconds: number }
  | { kind: 'error'; error: string; extra: Record<string, unknown> };

interface MethodSpec {
  token: 'bot' | 'app';
  scope?: (args: Record<string, unknown>) => string | undefined;
  handle: (args: Record<string, unknown>) => Result;
}

const HOST = '127.0.0.1';
const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'] as const;
const DEFAULT_SCOPES = [
  'commands',
  'chat:write',
  'users:read',
  'users:read.email',
  'channels:history',
  'groups:history',
  'usergroups:read',
  'channels:read',
  'groups:read',
  'im:read',
  'im:write',
];
const APP_TOKEN_SCOPES = ['connections:write'];

class ArgsError extends Error {
  constructor(readonly result: Result) {
    super(result.ok ? 'ok' : result.error);
  }
}

function fail(error: string, extra: Record<string, unknown> = {}): { ok: false; error: string } {
  return { ok: false, error, ...extra };
}

function invalidArguments(message: string): Result {
  return fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${message}`] } });
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export async function startFakeSlack(options: FakeSlackOptions): Promise<FakeSlack> {
  const clock = options.clock ?? (() => new Date());
  const teamId = options.teamId ?? 'T0KEVINTEAM';
  const teamDomain = options.teamDomain ?? 'kevin-deploy-test';
  const teamName = options.teamName ?? 'Kevin Deploy Test';
  const botUserId = options.botUserId ?? 'U0KEVINBOT';
  const botId = options.botId ?? 'B0KEVINBOT';
  const botName = options.botName ?? 'kevin-deploy';
  const appId = options.appId ?? 'A0KEVINDEPLOY';
  const scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
  const strictChannels = options.channels !== undefined;

  const channels = new Map<string, ChannelState>();
  const users = new Map<string, FakeUserInput>();
  const usergroups = new Map<string, string[]>(Object.entries(options.usergroups ?? {}));
  const callLog: SlackCall[] = [];
  const callListeners = new Set<(call: SlackCall) => void>();
  const faults = new Map<string, Fault[]>();
  const ephemeralLog: FakeSlackEphemeral[] = [];
  const viewsById = new Map<string, FakeSlackView>();
  const homeViews = new Map<string, string>();
  const usedTriggers = new Set<string>();
  const expiredTriggers = new Set<string>();
  let down: false | 'http503' | 'reset' | 'hang' = false;
  let lastTsMicros = 0;
  let idCounter = 0;

  const socketMode =
    options.appToken === undefined ? undefined : await startFakeSocketMode({ ...options.socketMode, appId, clock });

  const nowSeconds = (): number => Math.floor(clock().getTime() / 1000);

  function nextTs(): string {
    const candidate = nowSeconds() * 1_000_000 + 100;
    lastTsMicros = candidate > lastTsMicros ? candidate : lastTsMicros + 100;
    const seconds = Math.floor(lastTsMicros / 1_000_000);
    const micros = lastTsMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  function nextId(prefix: string): string {
    idCounter += 1;
    return `${prefix}0F${idCounter.toString(36).toUpperCase().padStart(8, '0')}`;
  }

  function addChannel(input: FakeChannelInput): void {
    channels.set(input.id, {
      id: input.id,
      name: input.name,
      isPrivate: input.isPrivate ?? input.id.startsWith('G'),
      isMember: input.isMember ?? true,
      isArchived: input.isArchived ?? false,
      isIm: input.id.startsWith('D'),
      ...(input.members ? { members: new Set(input.members) } : {}),
      created: nowSeconds(),
      messages: [],
    });
  }

  function addUser(input: FakeUserInput): void {
    users.set(input.id, input);
  }

  for (const c of options.channels ?? []) addChannel(c);
  addUser({ id: botUserId, name: botName, realName: botName, isBot: true });
  for (const u of options.users ?? []) addUser(u);

  /**
   * Finds the channel an argument names. For API calls (`createIfMissing`) a lenient workspace (no `channels`
   * option) knows every channel: an unknown one is created, the bot a member.
   */
  function resolveChannel(ref: string | undefined, createIfMissing: boolean): ChannelState | undefined {
    if (ref === undefined || ref === '') return undefined;
    const byId = channels.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    for (const c of channels.values()) if (!c.isIm && c.name === name) return c;
    // A user ID: the bot's DM with that user.
    if (/^[UW][A-Z0-9]+$/.test(ref)) {
      if (strictChannels && !users.has(ref)) return undefined;
      const dmId = `D${ref.slice(1)}`;
      let dm = channels.get(dmId);
      if (!dm) {
        dm = {
          id: dmId,
          name: dmId,
          isPrivate: true,
          isMember: true,
          isArchived: false,
          isIm: true,
          imUser: ref,
          created: nowSeconds(),
          messages: [],
        };
        channels.set(dmId, dm);
      }
      return dm;
    }
    if (strictChannels || !createIfMissing) return undefined;
    const looksLikeId = /^[CGD][A-Z0-9]{2,}$/.test(ref);
    const id = looksLikeId ? ref : nextId('C');
    addChannel({ id, name: looksLikeId ? ref.toLowerCase() : name });
    return channels.get(id);
  }

  function findMessage(channel: ChannelState, ts: string): MessageState | undefined {
    return channel.messages.find((m) => m.ts === ts);
  }

  function botProfile(): Record<string, unknown> {
    return { id: botId, app_id: appId, name: botName, icons: {}, deleted: false, updated: 0, team_id: teamId };
  }

  /** Validates blocks roughly as Slack does and fills in missing block_ids (Slack generates them). */
  function normaliseBlocks(blocks: unknown, max: number, seed: string): unknown[] {
    if (!Array.isArray(blocks)) throw new ArgsError(fail('invalid_blocks_format'));
    if (blocks.length > max) {
      throw new ArgsError(
        fail('invalid_blocks', { response_metadata: { messages: [`[ERROR] no more than ${max} items allowed [json-pointer:/blocks]`] } }),
      );
    }
    const seen = new Set<string>();
    return blocks.map((raw, index) => {
      if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
        throw new ArgsError(
          fail('invalid_blocks', { response_metadata: { messages: [`[ERROR] missing required field: type [json-pointer:/blocks/${index}]`] } }),
        );
      }
      const block = clone(raw) as Record<string, unknown>;
      const text = block.text as { text?: unknown } | undefined;
      if (block.type === 'section' && typeof text?.text === 'string' && text.text.length > 3000) {
        throw new ArgsError(
          fail('invalid_blocks', {
            response_metadata: { messages: [`[ERROR] must be less than 3001 characters [json-pointer:/blocks/${index}/text/text]`] },
          }),
        );
      }
      if (block.type === 'header' && typeof text?.text === 'string' && text.text.length > 150) {
        throw new ArgsError(
          fail('invalid_blocks', {
            response_metadata: { messages: [`[ERROR] must be less than 151 characters [json-pointer:/blocks/${index}/text/text]`] },
          }),
        );
      }
      if (typeof block.block_id !== 'string') {
        block.block_id = createHash('sha1').update(`${seed}:${index}`).digest('base64url').slice(0, 5);
      } else if (seen.has(block.block_id)) {
        throw new ArgsError(
          fail('invalid_blocks', {
            response_metadata: { messages: [`[ERROR] duplicate block_id: ${block.block_id} [json-pointer:/blocks/${index}/block_id]`] },
          }),
        );
      }
      seen.add(block.block_id as string);
      return block;
    });
  }

  function messageContent(args: Record<string, unknown>, seed: string): {
    text: string | undefined;
    blocks: unknown[] | undefined;
    attachments: unknown[] | undefined;
  } {
    const text = str(args.text);
    const blocks = args.blocks === undefined ? undefined : normaliseBlocks(args.blocks, 50, seed);
    let attachments: unknown[] | undefined;
    if (args.attachments !== undefined) {
      if (!Array.isArray(args.attachments)) throw new ArgsError(fail('invalid_attachments'));
      if (args.attachments.length > 100) throw new ArgsError(fail('too_many_attachments'));
      attachments = clone(args.attachments);
    }
    if (text !== undefined && text.length > 40_000) throw new ArgsError(fail('msg_too_long'));
    return { text, blocks, attachments };
  }

  function wireMessage(m: MessageState): Record<string, unknown> {
    const out: Record<string, unknown> = { user: m.user, type: 'message', ts: m.ts };
    if (m.byBot) {
      out.bot_id = botId;
      out.app_id = appId;
    }
    out.text = m.text;
    out.team = teamId;
    if (m.byBot) out.bot_profile = botProfile();
    if (m.blocks) out.blocks = clone(m.blocks);
    if (m.attachments) out.attachments = clone(m.attachments);
    if (m.metadata !== undefined) out.metadata = clone(m.metadata);
    if (m.thread_ts !== undefined && m.thread_ts !== m.ts) {
      out.thread_ts = m.thread_ts;
      const parent = channels.get(m.channel)?.messages.find((p) => p.ts === m.thread_ts);
      if (parent) out.parent_user_id = parent.user;
    }
    if (m.edited) out.edited = { ...m.edited };
    return out;
  }

  function publicMessage(m: MessageState, withReplies: boolean): FakeSlackMessage {
    const out: FakeSlackMessage = {
      channel: m.channel,
      ts: m.ts,
      text: m.text,
      user: m.user,
      updates: m.updates,
      history: clone(m.history),
      replies: [],
    };
    if (m.byBot) out.bot_id = botId;
    if (m.blocks) out.blocks = clone(m.blocks);
    if (m.attachments) out.attachments = clone(m.attachments);
    if (m.metadata !== undefined) out.metadata = clone(m.metadata);
    if (m.thread_ts !== undefined) out.thread_ts = m.thread_ts;
    if (m.reply_broadcast) out.reply_broadcast = true;
    if (m.edited) out.edited = { ...m.edited };
    if (withReplies) {
      const channel = channels.get(m.channel);
      out.replies = (channel?.messages ?? [])
        .filter((r) => r.thread_ts === m.ts && r.ts !== m.ts)
        .map((r) => publicMessage(r, false));
    }
    return out;
  }

  function checkTrigger(args: Record<string, unknown>): Result | undefined {
    const triggerId = str(args.trigger_id);
    if (triggerId === undefined || triggerId === '') return invalidArguments('missing required field: trigger_id');
    if (expiredTriggers.has(triggerId)) return fail('expired_trigger_id');
    if (usedTriggers.has(triggerId)) return fail('exchanged_trigger_id');
    return undefined;
  }

  function buildView(input: unknown, id: string, kind: 'modal' | 'home', previous?: Record<string, unknown>): Record<string, unknown> {
    if (typeof input !== 'object' || input === null) throw new ArgsError(invalidArguments('missing required field: view'));
    const v = input as Record<string, unknown>;
    if (v.type !== kind) {
      throw new ArgsError(invalidArguments(`failed to match all allowed schemas [json-pointer:/view/type] (expected "${kind}")`));
    }
    if (kind === 'modal' && (typeof v.title !== 'object' || v.title === null)) {
      throw new ArgsError(invalidArguments('missing required field: title [json-pointer:/view]'));
    }
    const blocks = normaliseBlocks(v.blocks ?? [], 100, `${id}:${String(previous?.hash ?? '')}`);
    const hash = `${nowSeconds()}.${createHash('sha1').update(`${id}:${randomUUID()}`).digest('hex').slice(0, 8)}`;
    const view: Record<string, unknown> = {
      id,
      team_id: teamId,
      type: kind,
      blocks,
      private_metadata: str(v.private_metadata) ?? '',
      callback_id: str(v.callback_id) ?? '',
      state: { values: {} },
      hash,
      title: clone(v.title) ?? null,
      clear_on_close: truthy(v.clear_on_close),
      notify_on_close: truthy(v.notify_on_close),
      close: clone(v.close) ?? null,
      submit: clone(v.submit) ?? null,
      previous_view_id: null,
      root_view_id: (previous?.root_view_id as string | undefined) ?? id,
      app_id: appId,
      external_id: str(v.external_id) ?? '',
      app_installed_team_id: teamId,
      bot_id: botId,
    };
    return view;
  }

  function findViewByExternalId(externalId: string): FakeSlackView | undefined {
    for (const v of viewsById.values()) if (v.view.external_id === externalId) return v;
    return undefined;
  }

  function openView(args: Record<string, unknown>, previousViewId: string | null): Result {
    const triggerProblem = checkTrigger(args);
    if (triggerProblem) return triggerProblem;
    const id = nextId('V');
    const view = buildView(args.view, id, 'modal');
    if (view.external_id !== '' && findViewByExternalId(view.external_id as string)) return fail('duplicate_external_id');
    if (previousViewId !== null) {
      view.previous_view_id = previousViewId;
      const prev = viewsById.get(previousViewId);
      if (prev) view.root_view_id = prev.view.root_view_id;
    }
    const triggerId = str(args.trigger_id) as string;
    usedTriggers.add(triggerId);
    viewsById.set(id, { id, kind: 'modal', triggerId, view, updates: 0 });
    return { ok: true, view: clone(view) };
  }

  function postContentCheck(channel: ChannelState | undefined, forPost: boolean): Result | undefined {
    if (!channel) return fail('channel_not_found');
    if (channel.isArchived) return fail('is_archived');
    if (forPost && !channel.isMember && !(scopes.has('chat:write.public') && !channel.isPrivate && !channel.isIm)) {
      return fail('not_in_channel');
    }
    return undefined;
  }

  const methods: Record<string, MethodSpec> = {
    'auth.test': {
      token: 'bot',
      handle: () => ({
        ok: true,
        url: `https://${teamDomain}.slack.com/`,
        team: teamName,
        user: botName,
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      }),
    },
    'chat.postMessage': {
      token: 'bot',
      scope: () => 'chat:write',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        const problem = postContentCheck(channel, true);
        if (problem || !channel) return problem ?? fail('channel_not_found');
        const ts = nextTs();
        const { text, blocks, attachments } = messageContent(args, ts);
        if (text === undefined && blocks === undefined && attachments === undefined) return fail('no_text');
        let threadTs = str(args.thread_ts);
        if (threadTs !== undefined && threadTs !== '') {
          // Replying to a reply lands in the parent's thread.
          const target = findMessage(channel, threadTs);
          if (target?.thread_ts !== undefined) threadTs = target.thread_ts;
          if (target) target.thread_ts = target.thread_ts ?? target.ts;
        } else {
          threadTs = undefined;
        }
        const m: MessageState = {
          channel: channel.id,
          ts,
          text: text ?? '',
          ...(blocks ? { blocks } : {}),
          ...(attachments ? { attachments } : {}),
          ...(args.metadata !== undefined ? { metadata: clone(args.metadata) } : {}),
          user: botUserId,
          byBot: true,
          ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
          ...(threadTs !== undefined && truthy(args.reply_broadcast) ? { reply_broadcast: true } : {}),
          updates: 0,
          history: [],
        };
        channel.messages.push(m);
        return { ok: true, channel: channel.id, ts, message: wireMessage(m) };
      },
    },
    'chat.update': {
      token: 'bot',
      scope: () => 'chat:write',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        if (!channel) return fail('channel_not_found');
        if (channel.isArchived) return fail('is_inactive');
        const ts = str(args.ts);
        if (ts === undefined || ts === '') return fail('message_not_found');
        const m = findMessage(channel, ts);
        if (!m) return fail('message_not_found');
        if (!m.byBot) return fail('cant_update_message');
        const editTs = nextTs();
        const { text, blocks, attachments } = messageContent(args, editTs);
        if (text === undefined && blocks === undefined && attachments === undefined) return fail('no_text');
        m.history.push({ text: m.text, ...(m.blocks ? { blocks: m.blocks } : {}), ...(m.attachments ? { attachments: m.attachments } : {}) });
        // Omitted fields keep their previous value; an empty array clears blocks/attachments.
        if (text !== undefined) m.text = text;
        if (blocks !== undefined) {
          if (blocks.length === 0) delete m.blocks;
          else m.blocks = blocks;
        }
        if (attachments !== undefined) {
          if (attachments.length === 0) delete m.attachments;
          else m.attachments = attachments;
        }
        if (args.metadata !== undefined) m.metadata = clone(args.metadata);
        m.edited = { user: botUserId, ts: editTs };
        m.updates += 1;
        const message = wireMessage(m);
        delete message.ts;
        return { ok: true, channel: channel.id, ts: m.ts, text: m.text, message };
      },
    },
    'chat.delete': {
      token: 'bot',
      scope: () => 'chat:write',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        if (!channel) return fail('channel_not_found');
        const ts = str(args.ts) ?? '';
        const index = channel.messages.findIndex((m) => m.ts === ts);
        if (index < 0) return fail('message_not_found');
        if (!channel.messages[index]?.byBot) return fail('cant_delete_message');
        channel.messages.splice(index, 1);
        return { ok: true, channel: channel.id, ts };
      },
    },
    'chat.postEphemeral': {
      token: 'bot',
      scope: () => 'chat:write',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        const problem = postContentCheck(channel, true);
        if (problem || !channel) return problem ?? fail('channel_not_found');
        const user = str(args.user);
        if (user === undefined || user === '') return fail('user_not_in_channel');
        if (channel.members && !channel.members.has(user)) return fail('user_not_in_channel');
        if (channel.isIm && channel.imUser !== undefined && channel.imUser !== user) return fail('user_not_in_channel');
        const messageTs = nextTs();
        const { text, blocks } = messageContent(args, messageTs);
        if (text === undefined && blocks === undefined && args.attachments === undefined) return fail('no_text');
        const threadTs = str(args.thread_ts);
        ephemeralLog.push({
          channel: channel.id,
          user,
          message_ts: messageTs,
          text: text ?? '',
          ...(blocks ? { blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        return { ok: true, message_ts: messageTs };
      },
    },
    'chat.getPermalink': {
      token: 'bot',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        if (!channel) return fail('channel_not_found');
        const ts = str(args.message_ts);
        if (ts === undefined || ts === '') return invalidArguments('missing required field: message_ts');
        const m = findMessage(channel, ts);
        if (!m) return fail('message_not_found');
        const base = `https://${teamDomain}.slack.com/archives/${channel.id}/p${m.ts.replace('.', '')}`;
        const permalink =
          m.thread_ts !== undefined && m.thread_ts !== m.ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel.id}` : base;
        return { ok: true, channel: channel.id, permalink };
      },
    },
    'views.open': {
      token: 'bot',
      handle: (args) => openView(args, null),
    },
    'views.push': {
      token: 'bot',
      handle: (args) => {
        const triggerId = str(args.trigger_id);
        const root = [...viewsById.values()].reverse().find((v) => v.kind === 'modal' && v.triggerId === triggerId);
        return openView(args, root?.id ?? null);
      },
    },
    'views.update': {
      token: 'bot',
      handle: (args) => {
        const viewId = str(args.view_id);
        const externalId = str(args.external_id);
        if (!viewId && !externalId) return invalidArguments('either view_id or external_id is required');
        const stored = viewId ? viewsById.get(viewId) : findViewByExternalId(externalId as string);
        if (!stored) return fail('not_found');
        const hash = str(args.hash);
        if (hash !== undefined && hash !== '' && hash !== stored.view.hash) return fail('hash_conflict');
        const view = buildView(args.view, stored.id, stored.kind, stored.view);
        view.previous_view_id = stored.view.previous_view_id ?? null;
        if (view.external_id === '' && stored.view.external_id !== '') view.external_id = stored.view.external_id;
        stored.view = view;
        stored.updates += 1;
        return { ok: true, view: clone(view) };
      },
    },
    'views.publish': {
      token: 'bot',
      handle: (args) => {
        const userId = str(args.user_id);
        if (userId === undefined || userId === '') return invalidArguments('missing required field: user_id');
        if (!users.has(userId) && strictChannels) return fail('user_not_found');
        const existingId = homeViews.get(userId);
        const existing = existingId === undefined ? undefined : viewsById.get(existingId);
        const hash = str(args.hash);
        if (existing && hash !== undefined && hash !== '' && hash !== existing.view.hash) return fail('hash_conflict');
        const id = existing?.id ?? nextId('V');
        const view = buildView(args.view, id, 'home', existing?.view);
        if (existing) {
          existing.view = view;
          existing.updates += 1;
        } else {
          viewsById.set(id, { id, kind: 'home', userId, view, updates: 0 });
          homeViews.set(userId, id);
        }
        return { ok: true, view: clone(view) };
      },
    },
    'usergroups.users.list': {
      token: 'bot',
      scope: () => 'usergroups:read',
      handle: (args) => {
        const id = str(args.usergroup);
        if (id === undefined || id === '') return invalidArguments('missing required field: usergroup');
        const members = usergroups.get(id);
        if (!members) return fail('no_such_subteam');
        return { ok: true, users: [...members] };
      },
    },
    'users.lookupByEmail': {
      token: 'bot',
      scope: () => 'users:read.email',
      handle: (args) => {
        const email = str(args.email);
        if (email === undefined || email === '') return invalidArguments('missing required field: email');
        const u = [...users.values()].find((candidate) => candidate.email?.toLowerCase() === email.toLowerCase() && !candidate.deleted);
        if (!u) return fail('users_not_found');
        return { ok: true, user: { id: u.id, team_id: teamId, name: u.name, real_name: u.realName ?? u.name, profile: { email: u.email } } };
      },
    },
    'conversations.history': {
      token: 'bot',
      scope: () => 'channels:history',
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        if (!channel) return fail('channel_not_found');
        if (!channel.isMember) return fail('not_in_channel');
        const oldest = Number(str(args.oldest) ?? '0');
        const limit = Math.min(Number(str(args.limit) ?? '100') || 100, 999);
        const withMetadata = str(args.include_all_metadata) === 'true' || args.include_all_metadata === true;
        // Newest first, top-level messages only, as Slack answers.
        const messages = channel.messages
          .filter((m) => (m.thread_ts === undefined || m.thread_ts === m.ts) && Number(m.ts) > oldest)
          .reverse()
          .slice(0, limit)
          .map((m) => {
            const wire = wireMessage(m);
            if (!withMetadata) delete wire.metadata;
            return wire;
          });
        return { ok: true, messages, has_more: false, pin_count: 0, channel_actions_ts: null, channel_actions_count: 0 };
      },
    },
    'users.info': {
      token: 'bot',
      scope: () => 'users:read',
      handle: (args) => {
        const id = str(args.user);
        const u = id === undefined ? undefined : users.get(id);
        if (!u) return fail('user_not_found');
        const realName = u.realName ?? u.name;
        const displayName = u.displayName ?? '';
        return {
          ok: true,
          user: {
            id: u.id,
            team_id: teamId,
            name: u.name,
            deleted: u.deleted ?? false,
            color: '9f69e7',
            real_name: realName,
            tz: u.tz ?? 'Europe/London',
            tz_label: 'Greenwich Mean Time',
            tz_offset: 0,
            profile: {
              real_name: realName,
              real_name_normalized: realName,
              display_name: displayName,
              display_name_normalized: displayName,
              ...(u.email !== undefined ? { email: u.email } : {}),
              status_text: '',
              status_emoji: '',
              team: teamId,
              ...(u.isBot ? { bot_id: u.id === botUserId ? botId : undefined, api_app_id: u.id === botUserId ? appId : undefined } : {}),
            },
            is_admin: false,
            is_owner: false,
            is_primary_owner: false,
            is_restricted: false,
            is_ultra_restricted: false,
            is_bot: u.isBot ?? false,
            is_app_user: false,
            updated: nowSeconds(),
          },
        };
      },
    },
    'conversations.info': {
      token: 'bot',
      scope: (args) => {
        const c = channels.get(str(args.channel) ?? '');
        if (c?.isIm) return 'im:read';
        return c?.isPrivate ? 'groups:read' : 'channels:read';
      },
      handle: (args) => {
        const channel = resolveChannel(str(args.channel), true);
        if (!channel) return fail('channel_not_found');
        if (channel.isIm) {
          return {
            ok: true,
            channel: {
              id: channel.id,
              created: channel.created,
              is_im: true,
              is_org_shared: false,
              user: channel.imUser,
              is_user_deleted: false,
              priority: 0,
            },
          };
        }
        return {
          ok: true,
          channel: {
            id: channel.id,
            name: channel.name,
            is_channel: !channel.isPrivate,
            is_group: channel.isPrivate,
            is_im: false,
            is_mpim: false,
            is_private: channel.isPrivate,
            created: channel.created,
            is_archived: channel.isArchived,
            is_general: false,
            unlinked: 0,
            name_normalized: channel.name,
            is_shared: false,
            is_org_shared: false,
            is_ext_shared: false,
            is_pending_ext_shared: false,
            is_member: channel.isMember,
            creator: '',
            topic: { value: '', creator: '', last_set: 0 },
            purpose: { value: '', creator: '', last_set: 0 },
            ...(channel.members ? { num_members: channel.members.size } : {}),
          },
        };
      },
    },
  };
  if (socketMode) {
    methods['apps.connections.open'] = {
      token: 'app',
      handle: () => ({ ok: true, url: socketMode.issueUrl() }),
    };
  }

  function takeFault(method: string): Fault | undefined {
    for (const key of [method, '*']) {
      const queue = faults.get(key);
      const fault = queue?.[0];
      if (!queue || !fault) continue;
      if (fault.kind === 'ratelimit') {
        fault.remaining -= 1;
        if (fault.remaining <= 0) queue.shift();
      } else {
        queue.shift();
      }
      return fault;
    }
    return undefined;
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Parses the arguments; returns the args or an error Result (Slack's errors for malformed requests). */
  async function parseArgs(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<{ args: Record<string, unknown>; bodyToken: string | undefined } | Result> {
    const args: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) args[k] = v;
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    let bodyToken: string | undefined;
    if (body.length > 0) {
      if (contentType === '') return fail('missing_post_type');
      if (contentType.startsWith('application/x-www-form-urlencoded') || contentType.startsWith('text/plain')) {
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) args[k] = v;
        bodyToken = str(args.token);
      } else if (contentType.startsWith('application/json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return fail('invalid_json');
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('invalid_json');
        Object.assign(args, parsed);
        // Slack ignores a token in a JSON body: it must come in the Authorization header.
        delete args.token;
      } else if (contentType.startsWith('multipart/form-data')) {
        try {
          const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
          for (const [k, v] of form) args[k] = typeof v === 'string' ? v : `<file ${v.name}>`;
        } catch {
          return fail('invalid_form_data');
        }
        bodyToken = str(args.token);
      } else {
        return fail('invalid_post_type');
      }
    } else {
      bodyToken = str(args.token);
    }
    for (const field of JSON_FIELDS) {
      const value = args[field];
      if (typeof value !== 'string') continue;
      try {
        args[field] = JSON.parse(value);
      } catch {
        const error =
          field === 'blocks'
            ? 'invalid_blocks_format'
            : field === 'attachments'
              ? 'invalid_attachments'
              : field === 'metadata'
                ? 'invalid_metadata_format'
                : 'invalid_arguments';
        return fail(error);
      }
    }
    delete args.token;
    return { args, bodyToken };
  }

  function record(call: SlackCall): void {
    callLog.push(call);
    for (const listener of [...callListeners]) listener(call);
  }

  function send(
    res: ServerResponse,
    status: number,
    payload: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    const body = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-slack-req-id': randomUUID().replace(/-/g, ''),
      ...headers,
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const match = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    const body = await readBody(req);
    if (!match || (req.method !== 'POST' && req.method !== 'GET')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    const method = match[1] as string;
    const contentType = req.headers['content-type'] ?? '';
    const at = clock();

    const parsed = await parseArgs(req, url, body);
    const args = 'ok' in parsed ? {} : parsed.args;
    const bodyToken = 'ok' in parsed ? undefined : parsed.bodyToken;
    const header = req.headers.authorization;
    const headerToken = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const spec = methods[method];
    // apps.connections.open only reads the header.
    const token = spec?.token === 'app' ? headerToken : (headerToken ?? bodyToken);
    const auth: CallAuth =
      token === undefined || token === ''
        ? 'missing'
        : token === options.botToken
          ? 'bot'
          : options.appToken !== undefined && token === options.appToken
            ? 'app'
            : 'invalid';

    if (down) {
      record({ method, args, at, auth, contentType, outcome: { status: down === 'http503' ? 503 : 0, ok: false } });
      if (down === 'reset') {
        req.socket.destroy();
        return;
      }
      if (down === 'hang') return; // the request stays open until the client gives up (or close())
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body><h1>503 Service Unavailable</h1></body></html>');
      return;
    }
    if ('ok' in parsed) {
      record({ method, args, at, auth, contentType, outcome: { status: 200, ok: false, error: parsed.error as string } });
      send(res, 200, parsed);
      return;
    }

    const answer = (status: number, result: Result, headers: Record<string, string> = {}): void => {
      record({
        method,
        args,
        at,
        auth,
        contentType,
        outcome: result.ok ? { status, ok: true } : { status, ok: false, error: result.error },
      });
      send(res, status, result, headers);
    };

    if (auth === 'missing') return answer(200, fail('not_authed'));
    if (auth === 'invalid') return answer(200, fail('invalid_auth'));
    if (!spec) return answer(200, fail('unknown_method', { req_method: method }));
    if (spec.token !== auth) return answer(200, fail('not_allowed_token_type'));

    const grantedScopes = auth === 'app' ? APP_TOKEN_SCOPES : [...scopes];
    const needed = spec.scope?.(args);
    const scopeHeaders: Record<string, string> = {
      'x-oauth-scopes': grantedScopes.join(','),
      ...(needed !== undefined ? { 'x-accepted-oauth-scopes': needed } : {}),
    };

    const fault = takeFault(method);
    if (fault?.kind === 'ratelimit') {
      return answer(429, fail('ratelimited'), { 'retry-after': String(fault.retryAfterSeconds) });
    }
    if (fault?.kind === 'error') return answer(200, fail(fault.error, fault.extra), scopeHeaders);

    if (needed !== undefined && auth === 'bot' && !scopes.has(needed)) {
      return answer(200, fail('missing_scope', { needed, provided: grantedScopes.join(',') }), scopeHeaders);
    }

    let result: Result;
    try {
      result = spec.handle(args);
    } catch (err) {
      if (err instanceof ArgsError) result = err.result;
      else result = fail('internal_error', { detail: err instanceof Error ? err.message : String(err) });
    }
    answer(200, result, scopeHeaders);
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
  const apiUrl = `http://${HOST}:${port}/api/`;

  function channelFor(ref: string): ChannelState | undefined {
    return resolveChannel(ref, false);
  }

  return {
    apiUrl,
    botToken: options.botToken,
    appToken: options.appToken,
    teamId,
    teamDomain,
    botUserId,
    botId,
    appId,
    socketMode,

    calls: (method) => callLog.filter((c) => method === undefined || c.method === method).map((c) => ({ ...c })),

    waitForCall(method, predicate = () => true, timeoutMs = 5000): Promise<SlackCall> {
      const matches = (c: SlackCall): boolean => c.method === method && predicate(c);
      const found = callLog.find(matches);
      if (found) return Promise.resolve({ ...found });
      return new Promise<SlackCall>((resolve, reject) => {
        const listener = (c: SlackCall): void => {
          if (!matches(c)) return;
          clearTimeout(timer);
          callListeners.delete(listener);
          resolve({ ...c });
        };
        const timer = setTimeout(() => {
          callListeners.delete(listener);
          const seen = callLog.filter((c) => c.method === method).map((c) => JSON.stringify(c.args));
          reject(
            new Error(
              `fake Slack: no matching ${method} call within ${timeoutMs} ms` +
                (seen.length > 0 ? `; ${method} calls seen: ${seen.join(' | ')}` : `; calls seen: ${callLog.map((c) => c.method).join(', ') || 'none'}`),
            ),
          );
        }, timeoutMs);
        callListeners.add(listener);
      });
    },

    messages(ref) {
      const channel = channelFor(ref);
      if (!channel) return [];
      return channel.messages
        .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts)
        .map((m) => publicMessage(m, true));
    },
    allMessages(ref) {
      const channel = channelFor(ref);
      return channel ? channel.messages.map((m) => publicMessage(m, false)) : [];
    },
    message(ref, ts) {
      const channel = channelFor(ref);
      const m = channel ? findMessage(channel, ts) : undefined;
      return m ? publicMessage(m, m.thread_ts === undefined || m.thread_ts === m.ts) : undefined;
    },
    ephemerals(ref) {
      const id = ref === undefined ? undefined : channelFor(ref)?.id;
      return ephemeralLog.filter((e) => ref === undefined || e.channel === id).map((e) => clone(e));
    },
    views: () => [...viewsById.values()].map((v) => clone(v)),
    homeView(userId) {
      const id = homeViews.get(userId);
      const v = id === undefined ? undefined : viewsById.get(id);
      return v ? clone(v) : undefined;
    },

    rateLimit(method, opts = {}) {
      if ((opts.times ?? 1) <= 0) return;
      const queue = faults.get(method) ?? [];
      queue.push({ kind: 'ratelimit', remaining: opts.times ?? 1, retryAfterSeconds: opts.retryAfterSeconds ?? 1 });
      faults.set(method, queue);
    },
    setDown(isDown, mode = 'http503') {
      down = isDown ? mode : false;
    },
    failNext(method, error, extra = {}) {
      const queue = faults.get(method) ?? [];
      queue.push({ kind: 'error', error, extra });
      faults.set(method, queue);
    },
    clearFaults() {
      faults.clear();
      down = false;
    },

    addChannel,
    addUser,
    setUsergroup(id, userIds) {
      usergroups.set(id, [...userIds]);
    },
    addMessage(input) {
      const channel = resolveChannel(input.channel, true);
      if (!channel) throw new Error(`fake Slack: unknown channel ${input.channel}`);
      const ts = nextTs();
      channel.messages.push({
        channel: channel.id,
        ts,
        text: input.text,
        ...(input.blocks ? { blocks: clone(input.blocks) } : {}),
        user: input.user,
        byBot: false,
        ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
        updates: 0,
        history: [],
      });
      if (input.thread_ts) {
        const parent = findMessage(channel, input.thread_ts);
        if (parent && parent.thread_ts === undefined) parent.thread_ts = parent.ts;
      }
      return ts;
    },
    expireTrigger(triggerId) {
      expiredTriggers.add(triggerId);
    },
    reset() {
      callLog.length = 0;
      ephemeralLog.length = 0;
      viewsById.clear();
      homeViews.clear();
      usedTriggers.clear();
      expiredTriggers.clear();
      for (const c of channels.values()) c.messages = [];
    },
    async close() {
      for (const listener of [...callListeners]) callListeners.delete(listener);
      await socketMode?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
