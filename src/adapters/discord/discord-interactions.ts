/**
 * Discord's HTTP interactions (slash commands without the gateway): signature verification and
 * the `/kevin status` answer. The route (POST /discord/interactions) reads the raw body, calls
 * verifyDiscordRequest — 401 when it fails, as Discord requires (it sends forged requests on
 * purpose and removes endpoints that accept them) — then parses the JSON and hands it here.
 *
 * The answer is the community view only, rendered by us from booleans and times and passed
 * through the same guard as the channel's notices.
 *
 * Ephemeral (flag 64): the status is for the person who asked. A public reply would put a copy of
 * it in the channel every time anyone types the command — noise for everyone else, and an easy way
 * to flood the channel. Announcements are the channel's job (DiscordChannel).
 *
 * Pure but for the status it is handed and the signature check; no discord.js import on this path.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { assertCommunitySafe, KEVIN_COLOURS, KEVIN_FOOTER, type CommunityMessage } from './community-notice.ts';

/** What the community may know about KEVIN right now (the server derives it from the deployments). */
export interface CommunityStatus {
  /** Whether KEVIN answers (the production health check). */
  up: boolean;
  /** When the current production version started taking all traffic (ISO 8601). */
  liveSince?: string;
  /** An ongoing community incident, since when (ISO 8601). */
  incident?: { since: string };
  /** A production release is rolling out now. */
  releasing?: boolean;
}

/** How KEVIN is, in one word, for every surface that tells the public (Discord, the status page). */
export type CommunityCondition = 'up' | 'hiccup' | 'down';

export function communityConditionOf(status: CommunityStatus): CommunityCondition {
  if (!status.up) return 'down';
  return status.incident ? 'hiccup' : 'up';
}

/** The words every public surface uses when something is wrong (each says "up" its own way). */
export const COMMUNITY_WORDS = {
  downTitle: "KEVIN can't be reached right now",
  downDetail: "KEVIN isn't answering at the moment. We're looking into it.",
  hiccupTitle: 'KEVIN is up, with a small hiccup',
} as const;

export interface DiscordInteractionDeps {
  communityStatus(): Promise<CommunityStatus>;
  /** For the release's age. Default: the real clock. */
  now?: () => Date;
}

export interface InteractionAnswer {
  status: number;
  body?: unknown;
}

/** Discord's interaction and response numbers (Receiving and Responding), checked against discord-api-types in the tests. */
export const INTERACTION_TYPE = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const;

export const INTERACTION_RESPONSE_TYPE = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  ApplicationCommandAutocompleteResult: 8,
} as const;

/** MessageFlags.Ephemeral. */
export const EPHEMERAL_FLAG = 64;
/** ApplicationCommandOptionType.Subcommand. */
export const SUBCOMMAND_OPTION = 1;

export const KEVIN_COMMAND_NAME = 'kevin';
export const STATUS_SUBCOMMAND_NAME = 'status';

/** The 12-byte DER header of an Ed25519 SubjectPublicKeyInfo; Discord hands out the raw 32-byte key in hex. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_PUBLIC_KEY = /^[0-9a-fA-F]{64}$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{128}$/;
/** One app has one key; a handful covers key rotation and tests without growing forever. */
const MAX_CACHED_KEYS = 8;
const keyCache = new Map<string, KeyObject>();

/**
 * Whether `X-Signature-Ed25519` signs `X-Signature-Timestamp + rawBody` with the app's public key.
 * Never throws: a missing header, malformed hex or a bad key is simply "not verified".
 * The timestamp's age is not checked: Discord does not ask for it, and replaying a read-only
 * status question gains nothing — while a skewed clock would reject every real request.
 */
export function verifyDiscordRequest(
  rawBody: Buffer,
  signatureHex: string | undefined,
  timestamp: string | undefined,
  publicKeyHex: string,
): boolean {
  if (signatureHex === undefined || timestamp === undefined || timestamp === '') return false;
  if (!HEX_SIGNATURE.test(signatureHex)) return false;
  const key = publicKey(publicKeyHex);
  if (!key) return false;
  try {
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

function publicKey(hex: string): KeyObject | undefined {
  if (!HEX_PUBLIC_KEY.test(hex)) return undefined;
  const normalised = hex.toLowerCase();
  const cached = keyCache.get(normalised);
  if (cached) return cached;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(normalised, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    keyCache.set(normalised, key);
    return key;
  } catch {
    return undefined;
  }
}

/**
 * Answers a verified interaction. Unknown interaction types get a 400 and nothing else: we cannot
 * know which response a future type expects, and answering none is harmless.
 */
export async function handleDiscordInteraction(body: unknown, deps: DiscordInteractionDeps): Promise<InteractionAnswer> {
  if (!isRecord(body) || typeof body.type !== 'number') {
    return { status: 400, body: { error: 'expected a Discord interaction (an object with a numeric type)' } };
  }
  switch (body.type) {
    case INTERACTION_TYPE.Ping:
      return { status: 200, body: { type: INTERACTION_RESPONSE_TYPE.Pong } };
    case INTERACTION_TYPE.ApplicationCommand:
      return answerCommand(body.data, deps);
    case INTERACTION_TYPE.ApplicationCommandAutocomplete:
      // Autocomplete only accepts choices; /kevin has no options to complete.
      return { status: 200, body: { type: INTERACTION_RESPONSE_TYPE.ApplicationCommandAutocompleteResult, data: { choices: [] } } };
    case INTERACTION_TYPE.MessageComponent:
    case INTERACTION_TYPE.ModalSubmit:
      // We never send buttons or forms; an old one from another app version gets a kind word.
      return politeReply('That button isn\'t something I can help with any more. Try `/kevin status`!');
    default:
      return { status: 400, body: { error: `unsupported interaction type ${body.type}` } };
  }
}

async function answerCommand(data: unknown, deps: DiscordInteractionDeps): Promise<InteractionAnswer> {
  if (!isRecord(data) || data.name !== KEVIN_COMMAND_NAME) {
    return politeReply('I only know one command: `/kevin status`.');
  }
  const options = Array.isArray(data.options) ? data.options : [];
  const first: unknown = options[0];
  const asksForStatus =
    options.length === 0 || (isRecord(first) && first.type === SUBCOMMAND_OPTION && first.name === STATUS_SUBCOMMAND_NAME);
  if (!asksForStatus) return politeReply('I don\'t know that one yet. Try `/kevin status`!');

  let status: CommunityStatus;
  try {
    status = await deps.communityStatus();
  } catch {
    // Whatever went wrong is internal; the community gets a kind "later".
    return politeReply('I couldn\'t check on KEVIN just now. Please try again in a minute!');
  }
  const message = renderCommunityStatus(status, (deps.now ?? (() => new Date()))());
  try {
    assertCommunitySafe(message);
  } catch {
    return politeReply('I couldn\'t check on KEVIN just now. Please try again in a minute!');
  }
  return messageReply(message);
}

/** The /kevin status embed: is KEVIN up, how long has this version been live, anything going on. */
export function renderCommunityStatus(status: CommunityStatus, now: Date): CommunityMessage {
  const lines: string[] = [];
  let title: string;
  let color: number;
  const incidentSince = unixSeconds(status.incident?.since);
  const condition = communityConditionOf(status);
  if (condition === 'down') {
    title = COMMUNITY_WORDS.downTitle;
    color = KEVIN_COLOURS.incident;
    lines.push(`🔧 ${COMMUNITY_WORDS.downDetail}`);
  } else if (condition === 'hiccup') {
    title = COMMUNITY_WORDS.hiccupTitle;
    color = KEVIN_COLOURS.incident;
  } else {
    title = 'KEVIN is up and running';
    color = KEVIN_COLOURS.resolved;
    lines.push('✅ Everything looks good.');
  }
  if (status.incident) {
    const since = incidentSince === undefined ? '' : ` since <t:${incidentSince}:R>`;
    lines.push(`🔧 Some of you may notice things aren't quite right${since}. We're on it, no need to report it.`);
  }
  const liveSince = Date.parse(status.liveSince ?? '');
  if (status.up && !Number.isNaN(liveSince) && liveSince <= now.getTime()) {
    lines.push(
      `🧡 The current version has been live for ${describeAge(now.getTime() - liveSince)} (since <t:${Math.floor(liveSince / 1000)}:D>).`,
    );
  }
  if (status.releasing) {
    lines.push('🛠️ An update is rolling out right now. KEVIN should stay online the whole time.');
  }
  return {
    embeds: [{ title, description: lines.join('\n'), color, footer: { text: KEVIN_FOOTER }, timestamp: now.toISOString() }],
  };
}

/** "less than a minute", "5 minutes", "3 hours", "1 day", "12 days". */
export function describeAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function unixSeconds(iso: string | undefined): number | undefined {
  const ms = Date.parse(iso ?? '');
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function messageReply(message: CommunityMessage): InteractionAnswer {
  return {
    status: 200,
    body: {
      type: INTERACTION_RESPONSE_TYPE.ChannelMessageWithSource,
      data: { ...message, flags: EPHEMERAL_FLAG, allowed_mentions: { parse: [] } },
    },
  };
}

function politeReply(text: string): InteractionAnswer {
  return messageReply({ content: text, embeds: [] });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
