/**
 * DiscordChannel against the Discord fake, through the real discord.js REST client: both modes, idempotent retries,
 * publishing in announcement channels, resolution by edit, and every failure mapped to an outcome (never a throw).
 */
import { DiscordAPIError, REST, Routes } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordNonce, DiscordChannel, type DiscordChannelOptions } from '../../src/adapters/discord/discord-channel.ts';
import { verifyDiscordRequest } from '../../src/adapters/discord/discord-interactions.ts';
import { registerDiscordCommands } from '../../src/adapters/discord/register-commands.ts';
import type { Alert, AlertKind } from '../../src/domain/alert.ts';
import type { DeliveryContext } from '../../src/ports/alert-channel.ts';
import { CHANNEL_TYPE, startFakeDiscord, type FakeDiscord } from '../fakes/discord-fake.ts';

const TEXT_CHANNEL = '1100000000000000010';
const ANNOUNCEMENTS = '1100000000000000011';
const HIDDEN_CHANNEL = '1100000000000000012';
const WEBHOOK_ID = '1100000000000000020';
const WEBHOOK_TOKEN = 'WebhookToken_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR';

const CREATE = 'POST /channels/:id/messages';
const CROSSPOST = 'POST /channels/:id/messages/:id/crosspost';
const EDIT = 'PATCH /channels/:id/messages/:id';
const EXECUTE = 'POST /webhooks/:id/:token';
const EDIT_WEBHOOK_MESSAGE = 'PATCH /webhooks/:id/:token/messages/:id';

function alert(kind: AlertKind, id = `alert-${kind}`): Alert {
  return {
    id,
    kind,
    level: kind === 'community-incident' ? 'emergency' : 'info',
    title: 'Rollback of kevinstamp v2 (Alice)',
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'dep_0001',
      version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2' },
      stage: 'rolling_back',
      reason: 'error rate 7% on https://green.kevinstamp.internal (TypeError: fetch failed) @everyone',
      requestedBy: 'Alice Moreau',
      links: [{ href: 'https://deploy.internal/d/dep_0001', text: 'deployment' }],
    },
    incidentKey: 'dep_0001:error-rate',
    createdAt: '2025-06-01T12:00:00.000Z',
  };
}

function context(idempotencyKey: string, extra: Partial<DeliveryContext> = {}): DeliveryContext {
  return { idempotencyKey, attempt: 1, incidentRefs: [], ...extra };
}

let fake: FakeDiscord;

beforeEach(async () => {
  fake = await startFakeDiscord({
    channels: [
      { id: TEXT_CHANNEL, type: CHANNEL_TYPE.GuildText },
      { id: ANNOUNCEMENTS, type: CHANNEL_TYPE.GuildAnnouncement },
      { id: HIDDEN_CHANNEL, access: 'missing-access' },
    ],
    webhooks: [{ id: WEBHOOK_ID, token: WEBHOOK_TOKEN, channelId: TEXT_CHANNEL, name: 'KEVIN' }],
  });
});

afterEach(async () => {
  await fake.close();
});

function bot(channelId = TEXT_CHANNEL, extra: Partial<DiscordChannelOptions> = {}): DiscordChannel {
  return new DiscordChannel({ mode: 'bot', token: fake.botToken, channelId, api: fake.api, timeoutMs: 2_000, ...extra } as DiscordChannelOptions);
}

function webhook(token = WEBHOOK_TOKEN, id = WEBHOOK_ID): DiscordChannel {
  return new DiscordChannel({ mode: 'webhook', id, token, api: fake.api, timeoutMs: 2_000 });
}

describe('bot mode', () => {
  it('posts the community notice, with mentions disabled and nothing internal', async () => {
    const outcome = await bot().deliver(alert('community-released'), context('k-released'));
    const [message] = fake.messages(TEXT_CHANNEL);
    expect(outcome).toEqual({ status: 'delivered', ref: message?.id });
    expect(message?.allowedMentions).toEqual({ parse: [] });
    expect(message?.embeds[0]).toMatchObject({ title: 'KEVIN just got better', footer: { text: 'KEVINSTAMP status' } });
    const [request] = fake.requests(CREATE);
    expect(request?.auth).toBe('bot');
    expect(request?.body).toMatchObject({ nonce: discordNonce('k-released'), enforce_nonce: true, allowed_mentions: { parse: [] } });
    const sent = JSON.stringify(request?.body);
    for (const internal of ['v2', 'bbbbbbbb', 'green.kevinstamp.internal', 'TypeError', '@everyone', 'Alice', 'production', 'rolling', 'deploy.internal', 'dep_0001']) {
      expect(sent).not.toContain(internal);
    }
  });

  it('skips every kind that is not for the community, without calling Discord', async () => {
    for (const kind of ['release-failed', 'rolled-back', 'deploy-marker', 'resolved'] as const) {
      const outcome = await bot().deliver(alert(kind), context(`k-${kind}`));
      expect(outcome.status).toBe('skipped');
    }
    expect(fake.requests()).toEqual([]);
  });

  it('a retried delivery (same idempotency key) gets the same message back, not a second one', async () => {
    const channel = bot();
    const first = await channel.deliver(alert('community-incident'), context('k-incident'));
    // A second replica, or the outbox after an unclear first attempt: a fresh channel, same key.
    const second = await bot().deliver(alert('community-incident'), context('k-incident', { attempt: 2 }));
    expect(second).toEqual(first);
    expect(fake.messages(TEXT_CHANNEL)).toHaveLength(1);
    expect(fake.requests(CREATE)).toHaveLength(2);
    // A different alert is a different message.
    await channel.deliver(alert('community-released'), context('k-other'));
    expect(fake.messages(TEXT_CHANNEL)).toHaveLength(2);
  });

  it('nonces are deterministic and within Discord\'s 25 characters', () => {
    expect(discordNonce('alert-1:discord')).toBe(discordNonce('alert-1:discord'));
    expect(discordNonce('alert-1:discord')).not.toBe(discordNonce('alert-2:discord'));
    expect(discordNonce('x'.repeat(1000))).toHaveLength(25);
  });

  it('an earlier attempt\'s message id means the message exists: no new post', async () => {
    const outcome = await bot().deliver(alert('community-released'), context('k', { attempt: 2, previousRef: '1234567890123456789' }));
    expect(outcome).toEqual({ status: 'delivered', ref: '1234567890123456789' });
    expect(fake.requests()).toEqual([]);
  });

  it('publishes to following servers in an announcement channel, and only there', async () => {
    const announced = await bot(ANNOUNCEMENTS).deliver(alert('community-released'), context('k-ann'));
    const [published] = fake.messages(ANNOUNCEMENTS);
    expect(announced).toEqual({ status: 'delivered', ref: published?.id });
    expect(published?.crossposted).toBe(true);
    expect(fake.requests(CROSSPOST)).toHaveLength(1);

    await bot(TEXT_CHANNEL).deliver(alert('community-released'), context('k-text'));
    expect(fake.messages(TEXT_CHANNEL)[0]?.crossposted).toBe(false);
    expect(fake.requests(CROSSPOST)).toHaveLength(1);
  });

  it('learns the channel type once', async () => {
    const channel = bot(ANNOUNCEMENTS);
    await channel.deliver(alert('community-upcoming'), context('k-1'));
    await channel.deliver(alert('community-released'), context('k-2'));
    expect(fake.requests('GET /channels/:id')).toHaveLength(1);
    expect(fake.requests(CROSSPOST)).toHaveLength(2);
  });

  it('a retry after publishing gets the published message back and does not fail on "already crossposted"', async () => {
    const first = await bot(ANNOUNCEMENTS).deliver(alert('community-released'), context('k-ann'));
    const second = await bot(ANNOUNCEMENTS).deliver(alert('community-released'), context('k-ann', { attempt: 2 }));
    expect(second).toEqual(first);
    expect(fake.requests(CROSSPOST).map((r) => r.status)).toEqual([200, 400]);
    expect(fake.messages(ANNOUNCEMENTS)).toHaveLength(1);
  });

  it('a failed publish is a warning on a delivered outcome, not a retry of the post', async () => {
    fake.failNext(403, { message: 'Missing Permissions', code: 50013 }, CROSSPOST);
    const outcome = await bot(ANNOUNCEMENTS).deliver(alert('community-released'), context('k-ann'));
    const [message] = fake.messages(ANNOUNCEMENTS);
    expect(outcome).toMatchObject({ status: 'delivered', ref: message?.id });
    expect((outcome as { warning?: string }).warning).toMatch(/^posted, but not published to following servers: .*Missing Permissions/);
    expect(message?.crossposted).toBe(false);
  });

  it('resolution edits the incident\'s message in place', async () => {
    const channel = bot();
    const incident = await channel.deliver(alert('community-incident'), context('k-incident'));
    const ref = incident.status === 'delivered' ? incident.ref : undefined;
    expect(ref).toBeDefined();
    const resolved = await channel.deliver(alert('community-resolved'), context('k-resolved', { incidentRefs: [ref ?? ''] }));
    expect(resolved).toEqual({ status: 'delivered', ref });
    const messages = fake.messages(TEXT_CHANNEL);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.edits).toBe(1);
    expect(messages[0]?.embeds[0]).toMatchObject({ title: 'All good again' });
    expect(messages[0]?.history[0]?.embeds[0]).toMatchObject({ title: 'Something may look a little off with KEVIN' });
    expect(fake.requests(EDIT)[0]?.body).toMatchObject({ allowed_mentions: { parse: [] } });
  });

  it('resolution posts anew when the incident\'s message was deleted', async () => {
    const channel = bot();
    const incident = await channel.deliver(alert('community-incident'), context('k-incident'));
    const ref = incident.status === 'delivered' ? (incident.ref ?? '') : '';
    fake.deleteMessage(ref);
    const resolved = await channel.deliver(alert('community-resolved'), context('k-resolved', { incidentRefs: [ref] }));
    const live = fake.messages(TEXT_CHANNEL).filter((m) => !m.deleted);
    expect(live).toHaveLength(1);
    expect(resolved).toEqual({ status: 'delivered', ref: live[0]?.id });
    expect(live[0]?.id).not.toBe(ref);
    expect(fake.requests(EDIT).map((r) => r.status)).toEqual([404]);
  });

  it('a resolution without an incident message simply posts', async () => {
    const outcome = await bot().deliver(alert('community-resolved'), context('k-resolved'));
    expect(outcome.status).toBe('delivered');
    expect(fake.requests(EDIT)).toEqual([]);
    expect(fake.messages(TEXT_CHANNEL)[0]?.embeds[0]).toMatchObject({ title: 'All good again' });
  });
});

describe('failures become outcomes', () => {
  it('429 → retry after exactly what Discord asked (the body\'s fractional seconds), without waiting or retrying itself', async () => {
    fake.rateLimit(1, 1.5, { route: CREATE });
    const outcome = await bot().deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'retry', retryAfterMs: 1500 });
    expect((outcome as { error: string }).error).toMatch(/rate limited/);
    expect(fake.requests(CREATE).map((r) => r.status)).toEqual([429]);
    expect(fake.messages()).toEqual([]);
  });

  it('a global 429 → retry with its wait too', async () => {
    fake.rateLimit(1, 0.25, { global: true });
    const outcome = await bot().deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'retry', retryAfterMs: 250 });
    expect((outcome as { error: string }).error).toMatch(/global/);
  });

  it('401 → failed, saying what to fix, never showing the token (and stays failed, not "no token")', async () => {
    const token = 'MTEwMDAwMDAwMDAwMDAwMDAwMg.WRONG.secret-token-value-123';
    const channel = new DiscordChannel({ mode: 'bot', token, channelId: TEXT_CHANNEL, api: fake.api });
    for (const attempt of [1, 2]) {
      const outcome = await channel.deliver(alert('community-released'), context('k', { attempt }));
      expect(outcome.status).toBe('failed');
      const error = (outcome as { error: string }).error;
      expect(error).toMatch(/DISCORD_BOT_TOKEN/);
      expect(error).toContain('401');
      expect(error).not.toContain(token);
      expect(error).not.toContain('secret-token');
    }
    expect(fake.requests().every((r) => r.status === 401)).toBe(true);
  });

  it('unknown channel and missing access → failed with what to check', async () => {
    const unknown = await bot('1100000000000000999').deliver(alert('community-released'), context('k'));
    expect(unknown).toMatchObject({ status: 'failed' });
    expect((unknown as { error: string }).error).toMatch(/channel 1100000000000000999 does not exist.*alerting\.discord\.channelId/);
    const hidden = await bot(HIDDEN_CHANNEL).deliver(alert('community-released'), context('k'));
    expect((hidden as { error: string }).error).toMatch(/cannot see channel .*View Channel/);
    expect(fake.messages()).toEqual([]);
  });

  it('a 400 from Discord → failed, never retried', async () => {
    fake.failNext(
      400,
      { message: 'Invalid Form Body', code: 50035, errors: { embeds: { '0': { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 4096 or fewer in length.' }] } } } } },
      CREATE,
    );
    const outcome = await bot().deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'failed' });
    expect((outcome as { error: string }).error).toMatch(/embeds\[0\]\.description\[BASE_TYPE_MAX_LENGTH\].*report it/);
  });

  it('503 → retry, tried once', async () => {
    const channel = bot();
    await channel.deliver(alert('community-upcoming'), context('k-warm')); // the channel type is known
    fake.setDown(503);
    const outcome = await channel.deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'retry' });
    expect((outcome as { error: string }).error).toContain('503');
    expect(fake.requests(CREATE).map((r) => r.status)).toEqual([200, 503]);
  });

  it('a reset connection → retry', async () => {
    fake.setDown('reset');
    const outcome = await bot().deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'retry' });
    expect((outcome as { error: string }).error).toMatch(/could not reach Discord/);
  });

  it('no answer within the timeout → retry', async () => {
    fake.setDown('hang');
    const outcome = await bot(TEXT_CHANNEL, { timeoutMs: 200 }).deliver(alert('community-released'), context('k'));
    expect(outcome).toEqual({ status: 'retry', error: 'Discord did not answer within 200 ms' });
  });

  it('an unreachable Discord → retry', async () => {
    const port = new URL(fake.api).port;
    await fake.close();
    const channel = new DiscordChannel({ mode: 'bot', token: 'x', channelId: TEXT_CHANNEL, api: `http://127.0.0.1:${port}/api` });
    const outcome = await channel.deliver(alert('community-released'), context('k'));
    expect(outcome).toMatchObject({ status: 'retry' });
    expect((outcome as { error: string }).error).toMatch(/ECONNREFUSED/);
    fake = await startFakeDiscord(); // for afterEach
  });
});

describe('webhook mode', () => {
  it('executes the webhook with wait=true and no bot token; the message id is the ref', async () => {
    const outcome = await webhook().deliver(alert('community-released'), context('k'));
    const [message] = fake.messages(TEXT_CHANNEL);
    expect(outcome).toEqual({ status: 'delivered', ref: message?.id });
    expect(message?.webhookId).toBe(WEBHOOK_ID);
    expect(message?.allowedMentions).toEqual({ parse: [] });
    const [request] = fake.requests(EXECUTE);
    expect(request?.query).toEqual({ wait: 'true' });
    expect(request?.auth).toBe('none');
    expect(request?.body).not.toHaveProperty('nonce');
  });

  it('resolution edits the webhook\'s incident message; a deleted one is posted anew', async () => {
    const channel = webhook();
    const incident = await channel.deliver(alert('community-incident'), context('k-incident'));
    const ref = incident.status === 'delivered' ? (incident.ref ?? '') : '';
    const resolved = await channel.deliver(alert('community-resolved'), context('k-resolved', { incidentRefs: [ref] }));
    expect(resolved).toEqual({ status: 'delivered', ref });
    expect(fake.message(ref)?.embeds[0]).toMatchObject({ title: 'All good again' });
    expect(fake.requests(EDIT_WEBHOOK_MESSAGE)).toHaveLength(1);

    fake.deleteMessage(ref);
    const again = await channel.deliver(alert('community-resolved', 'alert-2'), context('k-resolved-2', { incidentRefs: [ref] }));
    expect(again.status).toBe('delivered');
    expect(again.status === 'delivered' ? again.ref : undefined).not.toBe(ref);
  });

  it('429 → retry with the wait; 5xx → retry', async () => {
    fake.rateLimit(1, 2.25);
    expect(await webhook().deliver(alert('community-released'), context('k'))).toMatchObject({ status: 'retry', retryAfterMs: 2250 });
    fake.setDown(503);
    expect(await webhook().deliver(alert('community-released'), context('k'))).toMatchObject({ status: 'retry' });
  });

  it('a wrong or deleted webhook → failed, naming DISCORD_WEBHOOK_URL and never the token', async () => {
    const wrong = 'WrongToken_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU';
    const badToken = await webhook(wrong).deliver(alert('community-released'), context('k'));
    expect(badToken).toMatchObject({ status: 'failed' });
    expect((badToken as { error: string }).error).toMatch(/webhook token.*DISCORD_WEBHOOK_URL/);
    expect((badToken as { error: string }).error).not.toContain(wrong);

    const gone = await webhook(WEBHOOK_TOKEN, '1100000000000000777').deliver(alert('community-released'), context('k'));
    expect((gone as { error: string }).error).toMatch(/webhook no longer exists.*DISCORD_WEBHOOK_URL/);
    expect((gone as { error: string }).error).not.toContain(WEBHOOK_TOKEN);
    expect(fake.messages()).toEqual([]);
  });
});

describe('registerDiscordCommands (the /kevin command, through the same REST client)', () => {
  const GUILD = '1100000000000000099';

  it('overwrites the global commands with /kevin status, and running it again changes nothing', async () => {
    const options = { applicationId: fake.applicationId, token: fake.botToken, api: fake.api };
    const first = await registerDiscordCommands(options);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      name: 'kevin',
      type: 1,
      contexts: [0],
      integration_types: [0],
      options: [{ type: 1, name: 'status' }],
    });
    const second = await registerDiscordCommands(options);
    expect(second[0]?.id).toBe(first[0]?.id);
    expect(fake.commands()).toHaveLength(1);
    expect(fake.requests('PUT /applications/:id/commands').map((r) => r.auth)).toEqual(['bot', 'bot']);
  });

  it('registers in one server when given a guild id', async () => {
    const answer = await registerDiscordCommands({ applicationId: fake.applicationId, token: fake.botToken, guildId: GUILD, api: fake.api });
    expect(answer[0]).toMatchObject({ name: 'kevin', guild_id: GUILD });
    expect(fake.commands(GUILD)).toHaveLength(1);
    expect(fake.commands()).toEqual([]);
    expect(fake.requests('PUT /applications/:id/guilds/:id/commands')[0]?.body).not.toHaveProperty('0.contexts');
  });

  it('says what to fix for a wrong token or application, never showing the token', async () => {
    const token = 'MTEwMA.WRONG.secret-token-value-456';
    const error = await registerDiscordCommands({ applicationId: fake.applicationId, token, api: fake.api }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/rejected the bot token.*DISCORD_BOT_TOKEN/);
    expect(JSON.stringify({ message: error?.message, cause: error?.cause })).not.toContain('secret-token');
    await expect(registerDiscordCommands({ applicationId: '1100000000000000555', token: fake.botToken, api: fake.api })).rejects.toThrow(
      /application 1100000000000000555.*alerting\.discord\.applicationId/,
    );
  });
});

describe('the fake answers the real client like Discord', () => {
  function rest(): REST {
    return new REST({ api: fake.api, retries: 0, rejectOnRateLimit: () => true }).setToken(fake.botToken);
  }

  async function refusal(call: Promise<unknown>): Promise<DiscordAPIError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiscordAPIError);
    return error as DiscordAPIError;
  }

  it('checks message limits with Invalid Form Body (50035) naming the field', async () => {
    const tooLong = await refusal(
      rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { embeds: [{ title: 't', description: 'd'.repeat(4097) }] } }),
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.code).toBe(50035);
    expect(tooLong.message).toContain('embeds[0].description[BASE_TYPE_MAX_LENGTH]: Must be 4096 or fewer in length.');

    const total = await refusal(
      rest().post(Routes.channelMessages(TEXT_CHANNEL), {
        body: { embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] },
      }),
    );
    expect(total.message).toContain('Embed size exceeds maximum size of 6000');

    const nonce = await refusal(rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { content: 'hi', nonce: 'n'.repeat(26) } }));
    expect(nonce.message).toContain('nonce[BASE_TYPE_MAX_LENGTH]');

    const content = await refusal(rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { content: 'c'.repeat(2001) } }));
    expect(content.message).toContain('content[BASE_TYPE_MAX_LENGTH]');

    const empty = await refusal(rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { content: '' } }));
    expect([empty.code, empty.message]).toEqual([50006, 'Cannot send an empty message']);
    expect(fake.messages()).toEqual([]);
  });

  it('crossposts only in announcement channels, once', async () => {
    const posted = (await rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { content: 'hi' } })) as { id: string };
    const wrongType = await refusal(rest().post(Routes.channelMessageCrosspost(TEXT_CHANNEL, posted.id)));
    expect([wrongType.status, wrongType.code]).toEqual([400, 50024]);

    const announced = (await rest().post(Routes.channelMessages(ANNOUNCEMENTS), { body: { content: 'hi' } })) as { id: string };
    const crossposted = (await rest().post(Routes.channelMessageCrosspost(ANNOUNCEMENTS, announced.id))) as { flags: number };
    expect(crossposted.flags & 1).toBe(1);
    const twice = await refusal(rest().post(Routes.channelMessageCrosspost(ANNOUNCEMENTS, announced.id)));
    expect([twice.status, twice.code]).toEqual([400, 40033]);
  });

  it('dedupes by nonce only with enforce_nonce', async () => {
    const body = { content: 'hi', nonce: 'same-nonce' };
    const a = (await rest().post(Routes.channelMessages(TEXT_CHANNEL), { body })) as { id: string };
    const b = (await rest().post(Routes.channelMessages(TEXT_CHANNEL), { body })) as { id: string };
    expect(b.id).not.toBe(a.id);
    const c = (await rest().post(Routes.channelMessages(TEXT_CHANNEL), { body: { ...body, enforce_nonce: true } })) as { id: string };
    expect(c.id).toBe(a.id);
  });

  it('answers Execute Webhook without wait with 204 and no body', async () => {
    const answer = await rest().post(Routes.webhook(WEBHOOK_ID, WEBHOOK_TOKEN), { body: { content: 'hi' }, auth: false });
    expect(answer).toBeInstanceOf(ArrayBuffer);
    expect((answer as ArrayBuffer).byteLength).toBe(0);
    expect(fake.requests(EXECUTE)[0]?.status).toBe(204);
    expect(fake.messages(TEXT_CHANNEL)).toHaveLength(1);
  });

  it('signs interactions like Discord (verifyDiscordRequest accepts them with the app\'s public key)', () => {
    const body = JSON.stringify({ type: 1 });
    const headers = fake.signInteraction(body);
    expect(verifyDiscordRequest(Buffer.from(body), headers['x-signature-ed25519'], headers['x-signature-timestamp'], fake.publicKeyHex)).toBe(true);
    expect(verifyDiscordRequest(Buffer.from(`${body} `), headers['x-signature-ed25519'], headers['x-signature-timestamp'], fake.publicKeyHex)).toBe(false);
  });
});
