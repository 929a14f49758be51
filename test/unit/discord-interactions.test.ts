import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
} from 'discord.js';
import { describe, expect, it } from 'vitest';
import { communityLeaks } from '../../src/adapters/discord/community-notice.ts';
import {
  describeAge,
  EPHEMERAL_FLAG,
  handleDiscordInteraction,
  INTERACTION_RESPONSE_TYPE,
  INTERACTION_TYPE,
  SUBCOMMAND_OPTION,
  verifyDiscordRequest,
  type CommunityStatus,
  type DiscordInteractionDeps,
} from '../../src/adapters/discord/discord-interactions.ts';
import { createInteractionSigner } from '../fakes/discord-fake.ts';

const NOW = new Date('2025-06-04T12:00:00.000Z');
const THREE_DAYS_AGO = '2025-06-01T09:30:00.000Z';
const TWENTY_MINUTES_AGO = '2025-06-04T11:40:00.000Z';

const signer = createInteractionSigner(() => NOW);
const otherSigner = createInteractionSigner(() => NOW);

function statusOf(status: CommunityStatus): DiscordInteractionDeps {
  return { communityStatus: async () => status, now: () => NOW };
}

function command(options?: unknown[]): Record<string, unknown> {
  return {
    id: '1200000000000000001',
    application_id: '1100000000000000001',
    type: INTERACTION_TYPE.ApplicationCommand,
    token: 'interaction-token',
    version: 1,
    guild_id: '1100000000000000099',
    channel_id: '1100000000000000010',
    member: { user: { id: '1300000000000000001', username: 'collector' } },
    data: { id: '1400000000000000001', name: 'kevin', type: 1, ...(options ? { options } : {}) },
  };
}

const STATUS_OPTION = [{ type: SUBCOMMAND_OPTION, name: 'status' }];

interface Reply {
  type: number;
  data: { content?: string; embeds: Array<{ title: string; description: string; footer: { text: string } }>; flags: number; allowed_mentions: unknown };
}

async function reply(body: unknown, deps: DiscordInteractionDeps): Promise<Reply> {
  const answer = await handleDiscordInteraction(body, deps);
  expect(answer.status).toBe(200);
  return answer.body as Reply;
}

describe('verifyDiscordRequest', () => {
  const body = Buffer.from(JSON.stringify({ type: 1, id: '1', application_id: '2', token: 't', version: 1 }));

  it('accepts a request signed with the app key over timestamp + body', () => {
    const headers = signer.sign(body);
    expect(verifyDiscordRequest(body, headers['x-signature-ed25519'], headers['x-signature-timestamp'], signer.publicKeyHex)).toBe(true);
    // The Developer Portal shows lower case; upper case hex is the same key.
    expect(
      verifyDiscordRequest(body, headers['x-signature-ed25519'], headers['x-signature-timestamp'], signer.publicKeyHex.toUpperCase()),
    ).toBe(true);
  });

  it('refuses a forged body, a moved timestamp and a signature of another key', () => {
    const headers = signer.sign(body);
    const forged = Buffer.from(body.toString().replace('"type":1', '"type":2'));
    expect(verifyDiscordRequest(forged, headers['x-signature-ed25519'], headers['x-signature-timestamp'], signer.publicKeyHex)).toBe(false);
    const later = String(Number(headers['x-signature-timestamp']) + 1);
    expect(verifyDiscordRequest(body, headers['x-signature-ed25519'], later, signer.publicKeyHex)).toBe(false);
    const theirs = otherSigner.sign(body);
    expect(verifyDiscordRequest(body, theirs['x-signature-ed25519'], theirs['x-signature-timestamp'], signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, headers['x-signature-ed25519'], headers['x-signature-timestamp'], otherSigner.publicKeyHex)).toBe(false);
  });

  it('says no (never throws) to missing or malformed headers and keys', () => {
    const headers = signer.sign(body);
    const sig = headers['x-signature-ed25519'];
    const ts = headers['x-signature-timestamp'];
    expect(verifyDiscordRequest(body, undefined, ts, signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, sig, undefined, signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, sig, '', signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, 'zz'.repeat(64), ts, signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, sig?.slice(0, 126), ts, signer.publicKeyHex)).toBe(false);
    expect(verifyDiscordRequest(body, sig, ts, 'not-a-key')).toBe(false);
    expect(verifyDiscordRequest(body, sig, ts, '00'.repeat(31))).toBe(false);
  });
});

describe('handleDiscordInteraction', () => {
  it('uses the numbers discord-api-types defines', () => {
    expect(INTERACTION_TYPE).toEqual({
      Ping: InteractionType.Ping,
      ApplicationCommand: InteractionType.ApplicationCommand,
      MessageComponent: InteractionType.MessageComponent,
      ApplicationCommandAutocomplete: InteractionType.ApplicationCommandAutocomplete,
      ModalSubmit: InteractionType.ModalSubmit,
    });
    expect(INTERACTION_RESPONSE_TYPE).toEqual({
      Pong: InteractionResponseType.Pong,
      ChannelMessageWithSource: InteractionResponseType.ChannelMessageWithSource,
      ApplicationCommandAutocompleteResult: InteractionResponseType.ApplicationCommandAutocompleteResult,
    });
    expect(EPHEMERAL_FLAG).toBe(MessageFlags.Ephemeral);
    expect(SUBCOMMAND_OPTION).toBe(ApplicationCommandOptionType.Subcommand);
  });

  it('answers PING with PONG', async () => {
    const answer = await handleDiscordInteraction({ type: 1, id: '1', application_id: '2', token: 't', version: 1 }, statusOf({ up: true }));
    expect(answer).toEqual({ status: 200, body: { type: 1 } });
  });

  it('/kevin status: up, live for 3 days, ephemeral, no pings', async () => {
    const r = await reply(command(STATUS_OPTION), statusOf({ up: true, liveSince: THREE_DAYS_AGO }));
    expect(r.type).toBe(4);
    expect(r.data.flags).toBe(64);
    expect(r.data.allowed_mentions).toEqual({ parse: [] });
    const [embed] = r.data.embeds;
    expect(embed?.title).toBe('KEVIN is up and running');
    expect(embed?.description).toContain('live for 3 days');
    expect(embed?.description).toContain(`<t:${Date.parse(THREE_DAYS_AGO) / 1000}:D>`);
    expect(embed?.footer.text).toBe('KEVINSTAMP status');
  });

  it('/kevin alone is /kevin status', async () => {
    const alone = await reply(command(), statusOf({ up: true, liveSince: TWENTY_MINUTES_AGO }));
    const withSub = await reply(command(STATUS_OPTION), statusOf({ up: true, liveSince: TWENTY_MINUTES_AGO }));
    expect(alone).toEqual(withSub);
    expect(alone.data.embeds[0]?.description).toContain('live for 20 minutes');
  });

  it('/kevin status with an ongoing incident says so calmly, with when it began', async () => {
    const since = '2025-06-04T11:50:00.000Z';
    const r = await reply(command(STATUS_OPTION), statusOf({ up: true, liveSince: THREE_DAYS_AGO, incident: { since } }));
    const [embed] = r.data.embeds;
    expect(embed?.title).toBe('KEVIN is up, with a small hiccup');
    expect(embed?.description).toContain(`since <t:${Date.parse(since) / 1000}:R>`);
    expect(embed?.description).toMatch(/We're on it/);
    expect(embed?.description).not.toMatch(/Everything looks good/);
  });

  it('/kevin status while a release rolls out, and while KEVIN is down', async () => {
    const releasing = await reply(command(STATUS_OPTION), statusOf({ up: true, liveSince: THREE_DAYS_AGO, releasing: true }));
    expect(releasing.data.embeds[0]?.description).toMatch(/An update is rolling out right now/);
    const down = await reply(command(STATUS_OPTION), statusOf({ up: false, liveSince: THREE_DAYS_AGO }));
    expect(down.data.embeds[0]?.title).toBe('KEVIN can\'t be reached right now');
    // A version that does not answer has no "live for" to boast about.
    expect(down.data.embeds[0]?.description).not.toContain('live for');
  });

  it('every status reply passes the community guard', async () => {
    const variants: CommunityStatus[] = [
      { up: true },
      { up: true, liveSince: THREE_DAYS_AGO },
      { up: true, liveSince: THREE_DAYS_AGO, incident: { since: TWENTY_MINUTES_AGO }, releasing: true },
      { up: false, incident: { since: TWENTY_MINUTES_AGO } },
      { up: true, liveSince: 'garbage', incident: { since: 'garbage' } },
    ];
    for (const status of variants) {
      const r = await reply(command(STATUS_OPTION), statusOf(status));
      const { flags: _flags, allowed_mentions: _mentions, ...message } = r.data;
      expect(communityLeaks(message as never)).toEqual([]);
    }
  });

  it('keeps internals out when the status lookup fails', async () => {
    const deps: DiscordInteractionDeps = {
      communityStatus: async () => {
        throw new Error('SQLITE_BUSY: database is locked at /var/lib/kevin-deploy/state.db');
      },
      now: () => NOW,
    };
    const r = await reply(command(STATUS_OPTION), deps);
    expect(r.type).toBe(4);
    expect(r.data.flags).toBe(64);
    expect(JSON.stringify(r)).not.toMatch(/SQLITE|locked|\/var\//);
    expect(r.data.content).toMatch(/try again in a minute/);
  });

  it('answers an unknown subcommand or command politely (ephemeral)', async () => {
    const unknownSub = await reply(command([{ type: SUBCOMMAND_OPTION, name: 'deploy' }]), statusOf({ up: true }));
    expect(unknownSub.type).toBe(4);
    expect(unknownSub.data.flags).toBe(64);
    expect(unknownSub.data.content).toContain('/kevin status');
    const other = { ...command(), data: { id: '1', name: 'ban', type: 1 } };
    const unknownCommand = await reply(other, statusOf({ up: true }));
    expect(unknownCommand.data.content).toContain('/kevin status');
  });

  it('answers autocomplete with no choices, and old buttons with a kind word', async () => {
    const auto = await handleDiscordInteraction({ ...command(), type: INTERACTION_TYPE.ApplicationCommandAutocomplete }, statusOf({ up: true }));
    expect(auto).toEqual({ status: 200, body: { type: 8, data: { choices: [] } } });
    const button = await reply({ ...command(), type: INTERACTION_TYPE.MessageComponent, data: { custom_id: 'x', component_type: 2 } }, statusOf({ up: true }));
    expect(button.type).toBe(4);
    expect(button.data.flags).toBe(64);
  });

  it('ignores unknown interaction types and non-interactions with a 400, asking nothing', async () => {
    let asked = 0;
    const deps: DiscordInteractionDeps = {
      communityStatus: async () => {
        asked += 1;
        return { up: true };
      },
    };
    expect(await handleDiscordInteraction({ type: 99, data: { name: 'kevin' } }, deps)).toMatchObject({ status: 400 });
    expect(await handleDiscordInteraction({ data: { name: 'kevin' } }, deps)).toMatchObject({ status: 400 });
    expect(await handleDiscordInteraction('PING', deps)).toMatchObject({ status: 400 });
    expect(await handleDiscordInteraction(null, deps)).toMatchObject({ status: 400 });
    expect(await handleDiscordInteraction([1], deps)).toMatchObject({ status: 400 });
    expect(asked).toBe(0);
  });
});

describe('describeAge', () => {
  it.each([
    [0, 'less than a minute'],
    [59_000, 'less than a minute'],
    [60_000, '1 minute'],
    [59 * 60_000, '59 minutes'],
    [60 * 60_000, '1 hour'],
    [23 * 3_600_000, '23 hours'],
    [24 * 3_600_000, '1 day'],
    [3 * 24 * 3_600_000 + 5 * 3_600_000, '3 days'],
  ])('%d ms → %s', (ms, words) => {
    expect(describeAge(ms)).toBe(words);
  });
});
