/**
 * The Slack fakes answer the real clients the way Slack does: the @slack/web-api WebClient, the @slack/socket-mode
 * SocketModeClient and Bolt's App (HTTP and Socket Mode) run against them unchanged.
 */
import { App, LogLevel, verifySlackRequest, type Logger } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { ErrorCode, WebClient, WebClientEvent } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-web-api.ts';
import {
  appHomeOpenedEvent,
  blockActionsBody,
  eventCallbackBody,
  eventCallbackPayload,
  postSigned,
  responseUrlCatcher,
  signSlackRequest,
  slashCommandBody,
  slashCommandPayload,
  urlVerificationBody,
  viewSubmissionBody,
  type ResponseUrlCatcher,
} from '../support/slack-requests.ts';
import { waitFor } from '../support/wait-for.ts';

const BOT = 'xoxb-test-bot-token';
const APP_TOKEN = 'xapp-1-test-app-token';
const SECRET = 'test-signing-secret';
const T0 = 1_732_600_000; // 2024-11-26T05:46:40Z

function quietLogger(): Logger {
  let level = LogLevel.ERROR;
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** A clock the tests move by hand. */
function manualClock(startSeconds: number): { now: () => Date; advance: (seconds: number) => void } {
  let ms = startSeconds * 1000;
  return { now: () => new Date(ms), advance: (s) => (ms += s * 1000) };
}

function client(fake: FakeSlack, extra: ConstructorParameters<typeof WebClient>[1] = {}, token: string = BOT): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger(), ...extra });
}

const sectionBlocks = (text: string, blockId = 'status') => [
  { type: 'section', block_id: blockId, text: { type: 'mrkdwn', text } },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'rel-1' }],
  },
];

describe('Web API fake with the real WebClient', () => {
  let fake: FakeSlack;
  let clock: ReturnType<typeof manualClock>;

  beforeEach(async () => {
    clock = manualClock(T0);
    fake = await startFakeSlack({
      botToken: BOT,
      appToken: APP_TOKEN,
      teamId: 'T0TEST',
      botUserId: 'U0BOT',
      clock: clock.now,
      users: [{ id: 'U0ALICE', name: 'alice', realName: 'Alice Example', email: 'alice@example.com' }],
      usergroups: { S0RELEASERS: ['U0ALICE', 'U0BOB'] },
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('posts messages with increasing ts and records the call with blocks decoded', async () => {
    const web = client(fake);
    const blocks = sectionBlocks('*Release 42* is rolling out');
    const first = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'Release 42', blocks });
    const second = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'Release 43' });
    clock.advance(1);
    const third = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'Release 44' });

    expect(first).toMatchObject({ ok: true, channel: 'C0DEPLOYS', ts: `${T0}.000100` });
    expect(first.message).toMatchObject({ type: 'message', user: 'U0BOT', bot_id: fake.botId, text: 'Release 42', blocks });
    expect(second.ts).toBe(`${T0}.000200`);
    expect(third.ts).toBe(`${T0 + 1}.000100`);
    // The WebClient surfaces the x-oauth-scopes header.
    expect(first.response_metadata?.scopes).toContain('chat:write');

    const call = fake.calls('chat.postMessage')[0];
    expect(call).toMatchObject({ method: 'chat.postMessage', auth: 'bot', outcome: { status: 200, ok: true } });
    expect(call?.contentType).toContain('application/x-www-form-urlencoded');
    expect(call?.args.blocks).toEqual(blocks);
    expect(call?.args).not.toHaveProperty('token');
    expect(call?.at).toEqual(new Date(T0 * 1000));
  });

  it('fills in block_ids the way Slack does and keeps given ones', async () => {
    const web = client(fake);
    const res = await web.chat.postMessage({
      channel: 'C0DEPLOYS',
      text: 'x',
      blocks: [{ type: 'section', text: { type: 'plain_text', text: 'no id' } }],
    });
    const block = (res.message?.blocks ?? [])[0] as { block_id?: string };
    expect(block.block_id).toMatch(/^[A-Za-z0-9_-]{5}$/);
  });

  it('keeps thread replies under their parent and builds permalinks', async () => {
    const web = client(fake);
    const parent = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'Release 42' });
    const reply = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'step 1 done', thread_ts: parent.ts as string });
    // Replying to a reply lands in the same thread.
    await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'step 2 done', thread_ts: reply.ts as string });

    expect(reply.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: 'U0BOT' });
    const [top, ...others] = fake.messages('C0DEPLOYS');
    expect(others).toEqual([]);
    expect(top?.replies.map((r) => r.text)).toEqual(['step 1 done', 'step 2 done']);

    const link = await web.chat.getPermalink({ channel: 'C0DEPLOYS', message_ts: reply.ts as string });
    expect(link.permalink).toBe(
      `https://${fake.teamDomain}.slack.com/archives/C0DEPLOYS/p${(reply.ts as string).replace('.', '')}?thread_ts=${parent.ts}&cid=C0DEPLOYS`,
    );
  });

  it('updates a message in place; blocks round-trip', async () => {
    const web = client(fake);
    const posted = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'Release 42: canary', blocks: sectionBlocks('canary 10%') });
    const newBlocks = sectionBlocks('canary 50%', 'status-2');
    const updated = await web.chat.update({ channel: 'C0DEPLOYS', ts: posted.ts as string, text: 'Release 42: 50%', blocks: newBlocks });

    expect(updated).toMatchObject({ ok: true, channel: 'C0DEPLOYS', ts: posted.ts, text: 'Release 42: 50%' });
    expect(updated.message?.blocks).toEqual(newBlocks);
    expect(updated.message?.edited?.user).toBe('U0BOT');

    const [stored] = fake.messages('C0DEPLOYS');
    expect(stored).toMatchObject({ ts: posted.ts, text: 'Release 42: 50%', blocks: newBlocks, updates: 1 });
    expect(stored?.history).toEqual([{ text: 'Release 42: canary', blocks: sectionBlocks('canary 10%') }]);
    expect(fake.calls('chat.update')[0]?.args.blocks).toEqual(newBlocks);
  });

  it('answers chat.update errors as platform errors: message_not_found, cant_update_message, no_text', async () => {
    const web = client(fake);
    await expect(web.chat.update({ channel: 'C0DEPLOYS', ts: '1.000100', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'message_not_found' },
    });
    const humanTs = fake.addMessage({ channel: 'C0DEPLOYS', user: 'U0ALICE', text: 'hi bot' });
    await expect(web.chat.update({ channel: 'C0DEPLOYS', ts: humanTs, text: 'x' })).rejects.toMatchObject({
      data: { error: 'cant_update_message' },
    });
    const posted = await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' });
    await expect(web.apiCall('chat.update', { channel: 'C0DEPLOYS', ts: posted.ts })).rejects.toMatchObject({
      data: { error: 'no_text' },
    });
    await expect(web.apiCall('chat.postMessage', { channel: 'C0DEPLOYS' })).rejects.toMatchObject({ data: { error: 'no_text' } });
    await expect(web.apiCall('chat.postMessage', { text: 'no channel' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(web.apiCall('chat.postMessage', { channel: 'C0DEPLOYS', blocks: [{ text: 'no type' }] })).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
  });

  it('rejects a wrong token with invalid_auth, no token with not_authed, the app token with not_allowed_token_type', async () => {
    await expect(client(fake, {}, 'xoxb-wrong').auth.test()).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'invalid_auth' },
    });
    await expect(client(fake, {}, '').auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client(fake, {}, APP_TOKEN).chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).rejects.toMatchObject({
      data: { error: 'not_allowed_token_type' },
    });
    await expect(client(fake).apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    expect(fake.calls('auth.test').map((c) => c.auth)).toEqual(['invalid', 'missing']);
    expect(fake.messages('C0DEPLOYS')).toEqual([]);
  });

  it('answers auth.test like Slack', async () => {
    const res = await client(fake).auth.test();
    expect(res).toMatchObject({ ok: true, team_id: 'T0TEST', user_id: 'U0BOT', bot_id: fake.botId, url: `https://${fake.teamDomain}.slack.com/` });
  });

  it('answers unknown methods with unknown_method', async () => {
    await expect(client(fake).apiCall('kevin.deploy')).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'unknown_method', req_method: 'kevin.deploy' },
    });
  });

  it('failNext makes exactly one call fail with the given error', async () => {
    const web = client(fake);
    fake.failNext('chat.postMessage', 'is_archived');
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).rejects.toMatchObject({ data: { error: 'is_archived' } });
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(fake.calls('chat.postMessage').map((c) => c.outcome)).toEqual([
      { status: 200, ok: false, error: 'is_archived' },
      { status: 200, ok: true },
    ]);
  });

  it('answers 429 with Retry-After: rejectRateLimitedCalls gives a rate-limited error carrying retryAfter', async () => {
    const web = client(fake, { rejectRateLimitedCalls: true });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 30 });
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 30,
    });
    expect(fake.calls('chat.postMessage')[0]?.outcome).toEqual({ status: 429, ok: false, error: 'ratelimited' });
    // Only one answer was rate limited.
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('a 429 with retries 0 (and rate-limited calls not rejected) waits Retry-After, then fails as a request error', async () => {
    const web = client(fake);
    const seen: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (retryAfter: number) => seen.push(retryAfter));
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RequestError,
      message: expect.stringContaining('rate limit'),
    });
    expect(seen).toEqual([1]);
  });

  it('a 429 is waited out and retried when the client retries', async () => {
    const web = client(fake, { retryConfig: { retries: 2, factor: 1, minTimeout: 0, maxTimeout: 0 } });
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
    await expect(web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'after the limit' })).resolves.toMatchObject({ ok: true });
    expect(fake.calls('chat.postMessage').map((c) => c.outcome.status)).toEqual([429, 200]);
    expect(fake.messages('C0DEPLOYS').map((m) => m.text)).toEqual(['after the limit']);
  });

  it('setDown answers 503 (an HTTP error the client retries) or resets the connection (a request error)', async () => {
    fake.setDown(true);
    await expect(client(fake).auth.test()).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    fake.setDown(true, 'reset');
    await expect(client(fake).auth.test()).rejects.toMatchObject({ code: ErrorCode.RequestError });
    expect(fake.calls('auth.test').map((c) => c.outcome.status)).toEqual([503, 0]);

    // A retrying client gets through once Slack is back.
    fake.setDown(true);
    const retrying = client(fake, { retryConfig: { retries: 3, factor: 1, minTimeout: 300, maxTimeout: 300 } }).auth.test();
    await fake.waitForCall('auth.test', (c) => c.outcome.status === 503 && fake.calls('auth.test').length === 3);
    fake.setDown(false);
    await expect(retrying).resolves.toMatchObject({ ok: true });
    expect(fake.calls('auth.test').map((c) => c.outcome.status)).toEqual([503, 0, 503, 200]);
  });

  it('accepts JSON bodies with the token in the Authorization header only', async () => {
    const blocks = sectionBlocks('from json');
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);

    const ok = await post({ authorization: `Bearer ${BOT}` }, { channel: 'C0JSON', text: 'json', blocks });
    expect(ok).toMatchObject({ ok: true, channel: 'C0JSON' });
    expect(fake.calls('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
    const tokenInBody = await post({}, { token: BOT, channel: 'C0JSON', text: 'json' });
    expect(tokenInBody).toEqual({ ok: false, error: 'not_authed' });
    const badJson = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT}` },
      body: '{nope',
    }).then((r) => r.json());
    expect(badJson).toEqual({ ok: false, error: 'invalid_json' });
  });

  it('posts ephemeral messages, which cannot be updated', async () => {
    const web = client(fake);
    const res = await web.chat.postEphemeral({ channel: 'C0DEPLOYS', user: 'U0ALICE', text: 'only you' });
    expect(res).toMatchObject({ ok: true, message_ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(fake.ephemerals('C0DEPLOYS')).toEqual([{ channel: 'C0DEPLOYS', user: 'U0ALICE', message_ts: res.message_ts, text: 'only you' }]);
    expect(fake.messages('C0DEPLOYS')).toEqual([]);
    await expect(web.chat.update({ channel: 'C0DEPLOYS', ts: res.message_ts as string, text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('posting to a user ID goes to the DM with them', async () => {
    const res = await client(fake).chat.postMessage({ channel: 'U0ALICE', text: 'your release is out' });
    expect(res.channel).toBe('D0ALICE');
    expect(fake.messages('D0ALICE').map((m) => m.text)).toEqual(['your release is out']);
    const info = await client(fake).conversations.info({ channel: 'D0ALICE' });
    expect(info.channel).toMatchObject({ id: 'D0ALICE', is_im: true, user: 'U0ALICE' });
  });

  it('opens, updates and publishes views; trigger_ids are single use; stale hashes conflict', async () => {
    const web = client(fake);
    const modal = {
      type: 'modal' as const,
      callback_id: 'rollback',
      title: { type: 'plain_text' as const, text: 'Roll back' },
      private_metadata: 'rel-1',
      blocks: [{ type: 'section', block_id: 'q', text: { type: 'mrkdwn', text: 'Sure?' } }],
    };
    const opened = await web.views.open({ trigger_id: '123.456.abc', view: modal });
    expect(opened.view).toMatchObject({ type: 'modal', callback_id: 'rollback', private_metadata: 'rel-1', team_id: 'T0TEST', app_id: fake.appId });
    expect(opened.view?.id).toMatch(/^V[A-Z0-9]+$/);
    await expect(web.views.open({ trigger_id: '123.456.abc', view: modal })).rejects.toMatchObject({
      data: { error: 'exchanged_trigger_id' },
    });
    fake.expireTrigger('999.1.old');
    await expect(web.views.open({ trigger_id: '999.1.old', view: modal })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
    await expect(web.apiCall('views.open', { view: modal })).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });

    const viewId = opened.view?.id as string;
    const updated = await web.views.update({ view_id: viewId, hash: opened.view?.hash as string, view: { ...modal, private_metadata: 'rel-2' } });
    expect(updated.view).toMatchObject({ id: viewId, private_metadata: 'rel-2' });
    await expect(web.views.update({ view_id: viewId, hash: opened.view?.hash as string, view: modal })).rejects.toMatchObject({
      data: { error: 'hash_conflict' },
    });
    await expect(web.views.update({ view_id: 'V0NOPE', view: modal })).rejects.toMatchObject({ data: { error: 'not_found' } });

    const home = { type: 'home' as const, blocks: [{ type: 'section', block_id: 'h', text: { type: 'mrkdwn', text: 'Releases' } }] };
    const published = await web.views.publish({ user_id: 'U0ALICE', view: home });
    const again = await web.views.publish({ user_id: 'U0ALICE', view: home });
    expect(again.view?.id).toBe(published.view?.id);
    expect(fake.homeView('U0ALICE')).toMatchObject({ kind: 'home', userId: 'U0ALICE', updates: 1 });
    expect(fake.views().map((v) => v.kind).sort()).toEqual(['home', 'modal']);
  });

  it('answers usergroups.users.list, users.info and conversations.info from its configuration', async () => {
    const web = client(fake);
    await expect(web.usergroups.users.list({ usergroup: 'S0RELEASERS' })).resolves.toMatchObject({ ok: true, users: ['U0ALICE', 'U0BOB'] });
    fake.setUsergroup('S0RELEASERS', ['U0BOB']);
    await expect(web.usergroups.users.list({ usergroup: 'S0RELEASERS' })).resolves.toMatchObject({ users: ['U0BOB'] });
    await expect(web.usergroups.users.list({ usergroup: 'S0NOPE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });

    const alice = await web.users.info({ user: 'U0ALICE' });
    expect(alice.user).toMatchObject({ id: 'U0ALICE', name: 'alice', real_name: 'Alice Example', is_bot: false, profile: { email: 'alice@example.com' } });
    await expect(web.users.info({ user: 'U0NOPE' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });

    await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'creates the channel' });
    await expect(web.conversations.info({ channel: 'C0DEPLOYS' })).resolves.toMatchObject({
      channel: { id: 'C0DEPLOYS', is_channel: true, is_member: true },
    });
  });

  it('waitForCall resolves on a later call and times out with what it saw', async () => {
    const waiting = fake.waitForCall('chat.postMessage', (c) => c.args.text === 'second');
    const web = client(fake);
    await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'first' });
    await web.chat.postMessage({ channel: 'C0DEPLOYS', text: 'second' });
    await expect(waiting).resolves.toMatchObject({ method: 'chat.postMessage', args: { text: 'second' } });
    await expect(fake.waitForCall('chat.update', undefined, 50)).rejects.toThrow(/no matching chat.update call/);
  });
});

describe('Web API fake with a strict workspace', () => {
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await startFakeSlack({
      botToken: BOT,
      channels: [
        { id: 'C0DEPLOYS', name: 'deploys', members: ['U0ALICE'] },
        { id: 'C0RANDOM', name: 'random', isMember: false },
      ],
      users: [{ id: 'U0ALICE', name: 'alice' }],
      scopes: ['chat:write', 'commands'],
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('resolves channel names, refuses unknown channels and channels the bot is not in', async () => {
    const web = client(fake);
    await expect(web.chat.postMessage({ channel: '#deploys', text: 'x' })).resolves.toMatchObject({ channel: 'C0DEPLOYS' });
    await expect(web.chat.postMessage({ channel: 'C0NOPE', text: 'x' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    await expect(web.chat.postMessage({ channel: 'C0RANDOM', text: 'x' })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
    await expect(web.chat.update({ channel: 'C0NOPE', ts: '1.000100', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(web.chat.postEphemeral({ channel: 'C0DEPLOYS', user: 'U0BOB', text: 'x' })).rejects.toMatchObject({
      data: { error: 'user_not_in_channel' },
    });
  });

  it('answers missing_scope for a method the bot has no scope for', async () => {
    await expect(client(fake).users.info({ user: 'U0ALICE' })).rejects.toMatchObject({
      data: { ok: false, error: 'missing_scope', needed: 'users:read', provided: 'chat:write,commands' },
    });
  });
});

describe('Socket Mode fake with the real SocketModeClient', () => {
  let fake: FakeSlack;
  let socket: SocketModeClient | undefined;

  function socketClient(extra: Partial<ConstructorParameters<typeof SocketModeClient>[0]> = {}): SocketModeClient {
    socket = new SocketModeClient({
      appToken: APP_TOKEN,
      logger: quietLogger(),
      clientOptions: { slackApiUrl: fake.apiUrl },
      ...extra,
    });
    return socket;
  }

  beforeEach(async () => {
    fake = await startFakeSlack({ botToken: BOT, appToken: APP_TOKEN, socketMode: { pingIntervalMs: 0 } });
  });
  afterEach(async () => {
    await socket?.disconnect();
    socket = undefined;
    await fake.close();
  });

  it('connects through apps.connections.open, gets the hello, and its ack of a slash command reaches the fake', async () => {
    const sm = socketClient();
    const frames: unknown[] = [];
    sm.on('ws_message', (data: string) => frames.push(JSON.parse(data)));
    sm.on('slash_commands', async ({ ack, body }: { ack: (r?: Record<string, unknown>) => Promise<void>; body: { text: string } }) => {
      await ack({ response_type: 'ephemeral', text: `deploying ${body.text}` });
    });

    const opened = await sm.start();
    expect(opened).toMatchObject({ ok: true, url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]+&app_id=/) });
    await fake.socketMode?.connected();
    expect(fake.calls('apps.connections.open')).toMatchObject([{ auth: 'app', outcome: { ok: true } }]);
    expect(frames[0]).toEqual({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: 'applink-fake-1', build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: fake.appId },
    });

    const ack = await fake.socketMode?.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommandPayload({
        command: '/deploy',
        text: 'api v42',
        userId: 'U0ALICE',
        channelId: 'C0DEPLOYS',
        teamId: fake.teamId,
        responseUrl: 'https://hooks.slack.com/commands/T0/1/x',
      }),
    });
    expect(ack).toMatchObject({ payload: { response_type: 'ephemeral', text: 'deploying api v42' }, type: 'slash_commands' });
    expect(fake.socketMode?.acks()).toHaveLength(1);
    expect(fake.socketMode?.envelopes()[0]).toMatchObject({ type: 'slash_commands', accepts_response_payload: true });
  });

  it('delivers events_api and interactive envelopes; a bare ack() carries an empty payload', async () => {
    const sm = socketClient();
    const homeOpened: unknown[] = [];
    sm.on('app_home_opened', async ({ ack, event, retry_num }: { ack: () => Promise<void>; event: unknown; retry_num: number }) => {
      homeOpened.push({ event, retry_num });
      await ack();
    });
    sm.on('interactive', async ({ ack }: { ack: () => Promise<void> }) => ack());
    await sm.start();

    const event = appHomeOpenedEvent({ userId: 'U0ALICE' });
    const ack = await fake.socketMode?.sendEnvelope({ type: 'events_api', payload: eventCallbackPayload({ event }) });
    expect(ack?.payload).toEqual({});
    expect(homeOpened).toEqual([{ event, retry_num: 0 }]);
    expect(fake.socketMode?.envelopes()[0]).toMatchObject({ accepts_response_payload: false, retry_attempt: 0, retry_reason: '' });

    const click = await fake.socketMode?.sendEnvelope({
      type: 'interactive',
      payload: JSON.parse(
        new URLSearchParams(
          blockActionsBody({ actionId: 'approve', value: 'rel-1', userId: 'U0ALICE', channelId: 'C0DEPLOYS', messageTs: `${T0}.000100`, responseUrl: 'https://x' }),
        ).get('payload') as string,
      ),
    });
    expect(click?.type).toBe('interactive');
  });

  it('reconnects with a fresh URL after a disconnect message and after a dropped connection', async () => {
    const sm = socketClient({ clientPingTimeout: 200 });
    sm.on('slash_commands', async ({ ack }: { ack: () => Promise<void> }) => ack());
    await sm.start();

    fake.socketMode?.sendDisconnect('refresh_requested');
    await fake.socketMode?.connected({ count: 2 });
    fake.socketMode?.dropConnections();
    await fake.socketMode?.connected({ count: 3 });

    expect(fake.calls('apps.connections.open')).toHaveLength(3);
    const tickets = fake.socketMode?.connections().map((c) => c.ticket) ?? [];
    expect(new Set(tickets).size).toBe(3);
    const ack = await fake.socketMode?.sendEnvelope({ type: 'slash_commands', payload: { command: '/deploy', text: '' } });
    expect(ack?.connectionId).toBe(3);
  });

  it('retries apps.connections.open after a platform error, as it does against Slack', async () => {
    fake.failNext('apps.connections.open', 'internal_error');
    const sm = socketClient({ clientPingTimeout: 100 });
    await sm.start();
    expect(fake.calls('apps.connections.open').map((c) => c.outcome)).toEqual([
      { status: 200, ok: false, error: 'internal_error' },
      { status: 200, ok: true },
    ]);
    expect(fake.socketMode?.stats().connectionsOpened).toBe(1);
  });

  it('keeps the connection through keep-alive pings both ways', async () => {
    await fake.close();
    fake = await startFakeSlack({ botToken: BOT, appToken: APP_TOKEN, socketMode: { pingIntervalMs: 50 } });
    const sm = socketClient({ clientPingTimeout: 300, serverPingTimeout: 2000 });
    sm.on('slash_commands', async ({ ack }: { ack: () => Promise<void> }) => ack());
    await sm.start();

    await waitFor(() => {
      const s = fake.socketMode?.stats();
      return s !== undefined && s.pingsReceived >= 3 && s.pongsReceived >= 3;
    });
    const ack = await fake.socketMode?.sendEnvelope({ type: 'slash_commands', payload: { command: '/deploy', text: '' } });
    expect(ack?.connectionId).toBe(1);
    expect(fake.socketMode?.stats()).toMatchObject({ connectionsOpened: 1, openConnections: 1 });
  });

  it('refuses a connection URL that was already used, and a bad app token at apps.connections.open', async () => {
    const url = fake.socketMode?.issueUrl() as string;
    const first = new WebSocket(url);
    await new Promise((resolve, reject) => {
      first.once('message', resolve);
      first.once('error', reject);
    });
    const second = new WebSocket(url);
    const status = await new Promise<number>((resolve) => {
      second.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      second.once('error', () => resolve(-1));
    });
    expect(status).toBe(401);
    first.terminate();
    second.terminate();

    const bad = new SocketModeClient({ appToken: 'xapp-wrong', logger: quietLogger(), clientOptions: { slackApiUrl: fake.apiUrl } });
    await expect(bad.start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });
});

describe('signed HTTP requests', () => {
  const ts = T0;
  const headersFor = (body: string, timestamp: number, secret = SECRET) => {
    const h = signSlackRequest(secret, body, timestamp);
    return { 'x-slack-signature': h['x-slack-signature'], 'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) };
  };
  const command = () =>
    slashCommandBody({
      command: '/deploy',
      text: 'api v42 --canary 10',
      userId: 'U0ALICE',
      userName: 'alice',
      channelId: 'C0DEPLOYS',
      teamId: 'T0TEST',
      responseUrl: 'https://hooks.slack.com/commands/T0TEST/1/abc',
      triggerId: '1.2.abc',
    });

  it('signSlackRequest produces what Bolt verifies, with the right content type', () => {
    const body = command();
    const headers = signSlackRequest(SECRET, body, ts);
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(() => verifySlackRequest({ signingSecret: SECRET, body, headers: headersFor(body, ts), nowMilliseconds: ts * 1000 })).not.toThrow();
    // Bolt accepts a timestamp from the near future and up to 5 minutes old.
    expect(() => verifySlackRequest({ signingSecret: SECRET, body, headers: headersFor(body, ts), nowMilliseconds: (ts + 299) * 1000 })).not.toThrow();
    expect(signSlackRequest(SECRET, eventCallbackBody({ event: appHomeOpenedEvent({ userId: 'U0ALICE' }) }), ts)['content-type']).toBe(
      'application/json',
    );
  });

  it('Bolt rejects a tampered body, a wrong secret and a timestamp older than 5 minutes', () => {
    const body = command();
    const headers = headersFor(body, ts);
    expect(() =>
      verifySlackRequest({ signingSecret: SECRET, body: body.replace('canary+10', 'canary+100'), headers, nowMilliseconds: ts * 1000 }),
    ).toThrow(/signature mismatch/);
    expect(() => verifySlackRequest({ signingSecret: 'other', body, headers, nowMilliseconds: ts * 1000 })).toThrow(/signature mismatch/);
    expect(() =>
      verifySlackRequest({ signingSecret: SECRET, body, headers: headersFor(body, ts - 301), nowMilliseconds: ts * 1000 }),
    ).toThrow(/stale/);
  });

  it('builds bodies shaped like Slack’s', () => {
    const fields = Object.fromEntries(new URLSearchParams(command()));
    expect(Object.keys(fields)).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(fields).toMatchObject({ command: '/deploy', text: 'api v42 --canary 10', user_id: 'U0ALICE', trigger_id: '1.2.abc' });

    const click = JSON.parse(
      new URLSearchParams(
        blockActionsBody({ actionId: 'approve', value: 'rel-1', userId: 'U0ALICE', channelId: 'C0DEPLOYS', messageTs: `${T0}.000100`, responseUrl: 'https://r' }),
      ).get('payload') as string,
    );
    expect(click).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      channel: { id: 'C0DEPLOYS' },
      container: { type: 'message', message_ts: `${T0}.000100`, channel_id: 'C0DEPLOYS', is_ephemeral: false },
      message: { ts: `${T0}.000100` },
      actions: [{ action_id: 'approve', value: 'rel-1', type: 'button', block_id: 'actions' }],
      response_url: 'https://r',
    });
    expect(click.actions[0].action_ts).toMatch(/^\d+\.\d{6}$/);

    const submission = JSON.parse(
      new URLSearchParams(viewSubmissionBody({ callbackId: 'rollback', userId: 'U0ALICE', privateMetadata: 'rel-1' })).get('payload') as string,
    );
    expect(submission).toMatchObject({ type: 'view_submission', view: { callback_id: 'rollback', private_metadata: 'rel-1', state: { values: {} } } });
    expect(JSON.parse(urlVerificationBody('ch4ll'))).toEqual({ token: expect.any(String), challenge: 'ch4ll', type: 'url_verification' });
  });
});

describe('Bolt App against the fakes', () => {
  let fake: FakeSlack;
  let catcher: ResponseUrlCatcher;
  let app: App | undefined;

  beforeEach(async () => {
    fake = await startFakeSlack({ botToken: BOT, appToken: APP_TOKEN, botUserId: 'U0BOT', socketMode: { pingIntervalMs: 0 } });
    catcher = await responseUrlCatcher();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    await catcher.close();
    await fake.close();
  });

  const boltOptions = () => ({
    token: BOT,
    botId: fake.botId,
    botUserId: fake.botUserId,
    logger: quietLogger(),
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });

  it('HTTP mode: a signed slash command is acked, answered through response_url, and the bot posts via the Web API', async () => {
    app = new App({ ...boltOptions(), signingSecret: SECRET });
    app.command('/deploy', async ({ command, ack, respond, client: web }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `queued ${command.text}` });
      await web.chat.postMessage({ channel: command.channel_id, text: `Deploying ${command.text}` });
    });
    app.action('approve', async ({ ack, body, client: web }) => {
      await ack();
      const click = body as { channel?: { id: string }; message?: { ts: string } };
      await web.chat.update({ channel: click.channel?.id as string, ts: click.message?.ts as string, text: 'approved' });
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as import('node:http').Server;
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/slack/events`;

    const responseUrl = catcher.urlFor();
    const body = slashCommandBody({
      command: '/deploy',
      text: 'api v42',
      userId: 'U0ALICE',
      channelId: 'C0DEPLOYS',
      teamId: fake.teamId,
      responseUrl,
    });
    const res = await postSigned(url, body, { secret: SECRET });
    expect(res.status).toBe(200);
    await expect(catcher.waitForPost()).resolves.toMatchObject({ body: { response_type: 'ephemeral', text: 'queued api v42' }, use: 1 });
    const posted = await fake.waitForCall('chat.postMessage');
    expect(posted.args).toMatchObject({ channel: 'C0DEPLOYS', text: 'Deploying api v42' });

    const [message] = fake.messages('C0DEPLOYS');
    const click = blockActionsBody({
      actionId: 'approve',
      value: 'rel-1',
      userId: 'U0ALICE',
      channelId: 'C0DEPLOYS',
      messageTs: message?.ts as string,
      responseUrl: catcher.urlFor('actions'),
    });
    expect((await postSigned(url, click, { secret: SECRET })).status).toBe(200);
    await fake.waitForCall('chat.update');
    expect(fake.messages('C0DEPLOYS')[0]).toMatchObject({ text: 'approved', updates: 1 });

    // Refused: bad signature, stale timestamp. Answered: url_verification.
    expect((await postSigned(url, body, { secret: 'wrong' })).status).toBe(401);
    expect((await postSigned(url, body, { secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    expect((await postSigned(url, body, { secret: SECRET, signBody: body.replace('v42', 'v43') })).status).toBe(401);
    const challenge = await postSigned(url, urlVerificationBody('abc123'), { secret: SECRET });
    expect(challenge).toMatchObject({ status: 200, json: { challenge: 'abc123' } });
  });

  it('HTTP mode: Events API redeliveries carry the retry headers', async () => {
    app = new App({ ...boltOptions(), signingSecret: SECRET });
    const seen: Array<{ user: string; retryNum: number | undefined }> = [];
    app.event('app_home_opened', async ({ event, context }) => {
      seen.push({ user: event.user, retryNum: context.retryNum });
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as import('node:http').Server;
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/slack/events`;
    const body = eventCallbackBody({ event: appHomeOpenedEvent({ userId: 'U0ALICE' }), teamId: fake.teamId, botUserId: fake.botUserId });
    expect((await postSigned(url, body, { secret: SECRET, retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ user: 'U0ALICE', retryNum: 1 }]);
  });

  it('Socket Mode: the App connects through the fake and its ack carries the response payload', async () => {
    app = new App({ ...boltOptions(), appToken: APP_TOKEN, socketMode: true });
    app.command('/deploy', async ({ command, ack, client: web }) => {
      await ack({ response_type: 'ephemeral', text: `queued ${command.text}` });
      await web.chat.postMessage({ channel: command.channel_id, text: `Deploying ${command.text}` });
    });
    await app.start();
    await fake.socketMode?.connected();

    const ack = await fake.socketMode?.sendEnvelope({
      type: 'slash_commands',
      payload: slashCommandPayload({
        command: '/deploy',
        text: 'api v42',
        userId: 'U0ALICE',
        channelId: 'C0DEPLOYS',
        teamId: fake.teamId,
        responseUrl: catcher.urlFor(),
      }),
    });
    expect(ack?.payload).toEqual({ response_type: 'ephemeral', text: 'queued api v42' });
    await expect(fake.waitForCall('chat.postMessage')).resolves.toMatchObject({ args: { text: 'Deploying api v42' }, auth: 'bot' });
  });
});
