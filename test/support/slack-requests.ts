/**
 * What Slack sends to an app in HTTP mode, built and signed the way Slack does it, plus a catcher for
 * `response_url` posts.
 *
 * - Slash commands arrive as `application/x-www-form-urlencoded` fields; interactions (block_actions,
 *   view_submission) as one form field `payload=<JSON>`; Events API callbacks and url_verification as JSON.
 * - Signature: `x-slack-signature: v0=<hex HMAC-SHA256(signingSecret, "v0:<timestamp>:<raw body>")>` and
 *   `x-slack-request-timestamp: <unix seconds>`. Bolt rejects a mismatch or a timestamp older than 5 minutes.
 * - Redeliveries (Events API only) add `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`.
 *
 * The `*Payload` builders return the decoded objects, which are also what Socket Mode envelopes carry
 * (`fake.socketMode.sendEnvelope({ type: 'slash_commands', payload: slashCommandPayload(…) })`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const JSON_CONTENT_TYPE = 'application/json';

const DEFAULT_TEAM_DOMAIN = 'kevin-deploy-test';
const DEFAULT_APP_ID = 'A0KEVINDEPLOY';
/** The deprecated verification token Slack still sends in every payload. */
const VERIFICATION_TOKEN = 'fakeVerificationToken0000';

export interface SignedHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
  'content-type': string;
  [header: string]: string;
}

/** A body starting with `{` is JSON; anything else Slack sends is form-encoded. */
export function contentTypeOf(rawBody: string): string {
  return rawBody.trimStart().startsWith('{') ? JSON_CONTENT_TYPE : FORM_CONTENT_TYPE;
}

export function slackSignature(signingSecret: string, rawBody: string, timestampSeconds: number): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;
}

/** Headers Slack would send with rawBody; the timestamp defaults to now. */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
  contentType: string = contentTypeOf(rawBody),
): SignedHeaders {
  return {
    'x-slack-signature': slackSignature(signingSecret, rawBody, timestampSeconds),
    'x-slack-request-timestamp': String(timestampSeconds),
    'content-type': contentType,
  };
}

/** A trigger_id shaped like Slack's (`<digits>.<digits>.<hex>`), unique per call. */
export function fakeTriggerId(): string {
  const a = 1_000_000_000 + Math.floor(Math.random() * 8_999_999_999);
  const b = 1_000_000_000 + Math.floor(Math.random() * 8_999_999_999);
  return `${a}.${b}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Slash commands

export interface SlashCommandInput {
  command: string;
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  teamId: string;
  teamDomain?: string;
  responseUrl: string;
  triggerId?: string;
  apiAppId?: string;
  enterpriseId?: string;
  enterpriseName?: string;
}

/** The fields of a slash command, in Slack's order, all strings. */
export function slashCommandPayload(input: SlashCommandInput): Record<string, string> {
  const fields: Record<string, string> = {
    token: VERIFICATION_TOKEN,
    team_id: input.teamId,
    team_domain: input.teamDomain ?? DEFAULT_TEAM_DOMAIN,
  };
  if (input.enterpriseId !== undefined) {
    fields.enterprise_id = input.enterpriseId;
    fields.enterprise_name = input.enterpriseName ?? 'Enterprise';
  }
  Object.assign(fields, {
    channel_id: input.channelId,
    channel_name: input.channelName ?? (input.channelId.startsWith('D') ? 'directmessage' : 'deploys'),
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command,
    text: input.text,
    api_app_id: input.apiAppId ?? DEFAULT_APP_ID,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? fakeTriggerId(),
  });
  return fields;
}

/** Form-encoded body of a slash command. */
export function slashCommandBody(input: SlashCommandInput): string {
  return new URLSearchParams(slashCommandPayload(input)).toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Interactions

export interface BlockActionsInput {
  actionId: string;
  value?: string;
  blockId?: string;
  /** Button label; default: the value. */
  buttonText?: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  teamId?: string;
  teamDomain?: string;
  messageTs: string;
  /** The message the button was on (text, blocks …), merged into `message`. */
  message?: Record<string, unknown>;
  /** The button sat on an ephemeral message (no `message` object then, as in Slack). */
  isEphemeral?: boolean;
  responseUrl: string;
  triggerId?: string;
  apiAppId?: string;
  /** Author of the message holding the button (default: a bot). */
  botId?: string;
}

export function blockActionsPayload(input: BlockActionsInput): Record<string, unknown> {
  const teamId = input.teamId ?? 'T0KEVINTEAM';
  const userName = input.userName ?? input.userId.toLowerCase();
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: input.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: input.apiAppId ?? DEFAULT_APP_ID,
    token: VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channelId,
      is_ephemeral: input.isEphemeral ?? false,
    },
    trigger_id: input.triggerId ?? fakeTriggerId(),
    team: { id: teamId, domain: input.teamDomain ?? DEFAULT_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.channelName ?? 'deploys' },
  };
  if (!input.isEphemeral) {
    payload.message = {
      type: 'message',
      subtype: 'bot_message',
      bot_id: input.botId ?? 'B0KEVINBOT',
      text: '',
      ts: input.messageTs,
      ...input.message,
    };
  }
  payload.state = { values: {} };
  payload.response_url = input.responseUrl;
  payload.actions = [
    {
      action_id: input.actionId,
      block_id: input.blockId ?? 'actions',
      text: { type: 'plain_text', text: input.buttonText ?? input.value ?? input.actionId, emoji: true },
      ...(input.value !== undefined ? { value: input.value } : {}),
      type: 'button',
      action_ts: actionTs(),
    },
  ];
  return payload;
}

/** Form body `payload=<JSON>` of a button click. */
export function blockActionsBody(input: BlockActionsInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(input)) }).toString();
}

export interface ViewSubmissionInput {
  callbackId: string;
  userId: string;
  userName?: string;
  teamId?: string;
  teamDomain?: string;
  /** state.values: blockId → actionId → value object, e.g. `{ reason: { reason_input: { type: 'plain_text_input', value: 'x' } } }`. */
  values?: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  viewId?: string;
  blocks?: unknown[];
  title?: string;
  triggerId?: string;
  apiAppId?: string;
  botId?: string;
  /** For modals with response_url_enabled inputs. */
  responseUrls?: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
}

export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const teamId = input.teamId ?? 'T0KEVINTEAM';
  const userName = input.userName ?? input.userId.toLowerCase();
  const viewId = input.viewId ?? 'V0FAKEVIEW1';
  return {
    type: 'view_submission',
    team: { id: teamId, domain: input.teamDomain ?? DEFAULT_TEAM_DOMAIN },
    user: { id: input.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: input.apiAppId ?? DEFAULT_APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId ?? fakeTriggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: input.blocks ?? [],
      private_metadata: input.privateMetadata ?? '',
      callback_id: input.callbackId,
      state: { values: input.values ?? {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: input.title ?? 'Kevin Deploy', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: input.apiAppId ?? DEFAULT_APP_ID,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: input.botId ?? 'B0KEVINBOT',
    },
    response_urls: input.responseUrls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** Form body `payload=<JSON>` of a modal submission. */
export function viewSubmissionBody(input: ViewSubmissionInput): string {
  return new URLSearchParams({ payload: JSON.stringify(viewSubmissionPayload(input)) }).toString();
}

// ---------------------------------------------------------------------------------------------------------------
// Events API

export interface EventCallbackInput {
  event: Record<string, unknown> & { type: string };
  teamId?: string;
  apiAppId?: string;
  /** The bot user the event is authorised for. */
  botUserId?: string;
  eventId?: string;
  eventTime?: number;
}

export function eventCallbackPayload(input: EventCallbackInput): Record<string, unknown> {
  const teamId = input.teamId ?? 'T0KEVINTEAM';
  return {
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: input.apiAppId ?? DEFAULT_APP_ID,
    event: input.event,
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: input.eventTime ?? Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: input.botUserId ?? 'U0KEVINBOT',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(12).toString('base64url')}`,
  };
}

/** JSON body of an Events API callback. */
export function eventCallbackBody(input: EventCallbackInput): string {
  return JSON.stringify(eventCallbackPayload(input));
}

/** The app_home_opened event (put it in eventCallbackBody). */
export function appHomeOpenedEvent(input: { userId: string; channelId?: string; tab?: 'home' | 'messages' }): Record<string, unknown> & { type: string } {
  return {
    type: 'app_home_opened',
    user: input.userId,
    channel: input.channelId ?? `D${input.userId.slice(1)}`,
    tab: input.tab ?? 'home',
    event_ts: actionTs(),
  };
}

/** JSON body of the url_verification handshake (the app must answer with the challenge). */
export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({ token: VERIFICATION_TOKEN, challenge, type: 'url_verification' });
}

// ---------------------------------------------------------------------------------------------------------------
// Sending

export interface PostSignedOptions {
  secret: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Adds X-Slack-Retry-Num (and X-Slack-Retry-Reason, default 'http_timeout'). */
  retryNum?: number;
  retryReason?: string;
  /** Default: JSON when the body starts with `{`, else form-encoded. */
  contentType?: string;
  /** Extra or overriding headers (e.g. a forged signature). */
  headers?: Record<string, string>;
  /** Sign this instead of the body sent (to send a tampered body). */
  signBody?: string;
  timeoutMs?: number;
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** POSTs body to url with Slack's signature headers. */
export async function postSigned(url: string, body: string, options: PostSignedOptions): Promise<SignedResponse> {
  const headers: Record<string, string> = {
    ...signSlackRequest(options.secret, options.signBody ?? body, options.timestamp, options.contentType ?? contentTypeOf(body)),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  Object.assign(headers, options.headers);
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

// ---------------------------------------------------------------------------------------------------------------
// response_url catcher

export interface CaughtResponse {
  /** Path the reply was POSTed to (one per urlFor()). */
  path: string;
  /** Parsed JSON body (or the raw text when it was not JSON). */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** 1 for the first reply to this URL, 2 for the second … */
  use: number;
}

export interface ResponseUrlCatcher {
  /** Base URL `http://127.0.0.1:P/`. */
  readonly url: string;
  /** A fresh response_url, shaped like Slack's (`/commands/T…/<n>/<secret>`). */
  urlFor(kind?: 'commands' | 'actions'): string;
  /** Every POST, oldest first; only those to `responseUrl` when given. */
  bodies(responseUrl?: string): CaughtResponse[];
  /** Resolves with the first POST (past or future) matching predicate. */
  waitForPost(predicate?: (r: CaughtResponse) => boolean, timeoutMs?: number): Promise<CaughtResponse>;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server standing in for `https://hooks.slack.com/commands|actions/…` response URLs. It answers
 * `{"ok":true}` (200); a body that is not JSON gets 400 `{"ok":false,"error":"invalid_payload"}`; a sixth reply to
 * the same URL gets 404 `{"ok":false,"error":"used_url"}` (Slack allows 5 replies in 30 minutes; the exact status
 * and error of a refused reply are not documented — Bolt's respond() throws a RespondError on any non-2xx).
 */
export async function responseUrlCatcher(): Promise<ResponseUrlCatcher> {
  const posts: CaughtResponse[] = [];
  const listeners = new Set<(r: CaughtResponse) => void>();
  let counter = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      let isJson = true;
      try {
        body = JSON.parse(text);
      } catch {
        isJson = false;
      }
      const use = posts.filter((p) => p.path === path).length + 1;
      const reply = (status: number, error?: string): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(error === undefined ? { ok: true } : { ok: false, error }));
      };
      if (req.method !== 'POST') return reply(405, 'method_not_allowed');
      if (use > 5) return reply(404, 'used_url');
      const caught: CaughtResponse = { path, body, headers: req.headers, use };
      posts.push(caught);
      for (const l of [...listeners]) l(caught);
      if (!isJson) return reply(400, 'invalid_payload');
      reply(200);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}/`;

  return {
    url: base,
    urlFor(kind = 'commands') {
      counter += 1;
      return `${base}${kind}/T0KEVINTEAM/${counter}/${randomBytes(12).toString('hex')}`;
    },
    bodies(responseUrl) {
      const path = responseUrl === undefined ? undefined : new URL(responseUrl).pathname;
      return posts.filter((p) => path === undefined || p.path === path);
    },
    waitForPost(predicate = () => true, timeoutMs = 5000) {
      const found = posts.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<CaughtResponse>((resolve, reject) => {
        const listener = (r: CaughtResponse): void => {
          if (!predicate(r)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(r);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`response_url catcher: no matching POST within ${timeoutMs} ms (got ${posts.length})`));
        }, timeoutMs);
        listeners.add(listener);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
