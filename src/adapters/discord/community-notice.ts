/**
 * What the KEVIN community hears on Discord, and the guard that keeps everything else out.
 *
 * The community is told four things, in plain, calm words: an update is coming, KEVIN just got
 * better, something may look wrong and we're on it, all good again. Nothing internal ever reaches
 * it: no version ids or tags, reasons, error text, hostnames, URLs, IP addresses, people's names or
 * Slack ids, stage names or trigger values — only the service's name and times. The renderer only
 * reads `facts.service` and `createdAt`; the guard then checks the rendered message against every
 * other fact of the alert and against patterns of internal data, so a future edit of a template
 * that lets something slip is refused before it is posted, not discovered in the channel.
 *
 * Pure: no I/O, no clock.
 */
import type { Alert, AlertKind } from '../../domain/alert.ts';
import { STAGES } from '../../domain/stages.ts';

export interface CommunityEmbed {
  title: string;
  description: string;
  color: number;
  footer: { text: string };
  /** ISO 8601; Discord shows it in each reader's own time zone. */
  timestamp?: string;
}

/** A message for the community channel (Create Message / Execute Webhook / interaction reply `data`). */
export interface CommunityMessage {
  /** Short line for push notifications (embeds alone notify poorly). */
  content?: string;
  embeds: CommunityEmbed[];
}

export type CommunityKind = Extract<AlertKind, `community-${string}`>;

export const COMMUNITY_KINDS: readonly CommunityKind[] = [
  'community-upcoming',
  'community-released',
  'community-incident',
  'community-resolved',
];

export function isCommunityKind(kind: AlertKind): kind is CommunityKind {
  return (COMMUNITY_KINDS as readonly string[]).includes(kind);
}

/** Branding shared with the /kevin status reply. */
export const KEVIN_FOOTER = 'KEVINSTAMP status';
export const KEVIN_COLOURS = {
  /** Calm blue: something is about to happen, nothing to do. */
  upcoming: 0x3b82f6,
  /** Bitcoin orange, KEVIN's colour: good news. */
  released: 0xf7931a,
  /** Amber, not red: noticeable, in hand. */
  incident: 0xf59e0b,
  /** Green: back to normal. */
  resolved: 0x22c55e,
} as const;

/** Discord's documented limits (Create Message, Embed Limits). */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  footerText: 2048,
  /** Sum of every embed's title, description, field names/values, footer text and author name. */
  embedTotal: 6000,
} as const;

/** Long enough for any real service name; keeps a misconfigured one from breaking the limits. */
const MAX_SERVICE_NAME = 100;

interface KindWording {
  content: (service: string) => string;
  title: string;
  description: (service: string) => string;
  color: number;
}

/*
 * Wording rules: friendly, calm, no blame, no jargon. Avoid words that are also stage names
 * (failed, monitoring, switching, …): the guard refuses those, because in our own words they
 * would mean something leaked.
 */
const WORDING: Record<CommunityKind, KindWording> = {
  'community-upcoming': {
    content: () => '🛠️ A KEVIN update is on its way…',
    title: 'A KEVIN update is on its way…',
    description: (service) =>
      `We're about to roll out an update to ${service}. There's nothing you need to do, and KEVIN should stay online the whole time. We'll let you know when it's out.`,
    color: KEVIN_COLOURS.upcoming,
  },
  'community-released': {
    content: () => '✨ KEVIN just got better!',
    title: 'KEVIN just got better',
    description: (service) =>
      `A fresh update to ${service} is out and everyone has it now. Thanks for being part of the KEVIN community! 🧡`,
    color: KEVIN_COLOURS.released,
  },
  'community-incident': {
    content: () => '🔧 Something may look a little off with KEVIN right now. We\'re on it.',
    title: 'Something may look a little off with KEVIN',
    description: (service) =>
      `Some of you may notice ${service} isn't quite itself right now. We've spotted it and we're already on it, so there's no need to report it. We'll post here as soon as everything is back to normal. Thanks for your patience!`,
    color: KEVIN_COLOURS.incident,
  },
  'community-resolved': {
    content: () => '✅ All good again: KEVIN is back to normal.',
    title: 'All good again',
    description: (service) =>
      `${service} is back to normal and working as it should. Thanks for your patience, and sorry for the bother! 🧡`,
    color: KEVIN_COLOURS.resolved,
  },
};

/** The community message for a `community-*` alert; undefined for every other kind (they never reach Discord). */
export function renderCommunityNotice(alert: Alert): CommunityMessage | undefined {
  if (!isCommunityKind(alert.kind)) return undefined;
  const wording = WORDING[alert.kind];
  const service = renderedServiceName(alert.facts.service);
  const embed: CommunityEmbed = {
    title: wording.title,
    description: wording.description(service),
    color: wording.color,
    footer: { text: KEVIN_FOOTER },
  };
  const timestamp = isoTimestamp(alert.createdAt);
  if (timestamp !== undefined) embed.timestamp = timestamp;
  return { content: wording.content(service), embeds: [embed] };
}

/** Thrown by assertCommunitySafe: a message that must not reach the community. Names what leaked, never the value. */
export class CommunityLeakError extends Error {
  constructor(readonly findings: string[]) {
    super(`refused to post to the community: the message would contain ${findings.join('; ')}`);
    this.name = 'CommunityLeakError';
  }
}

/**
 * Refuses a community message that carries anything internal, or that Discord would reject.
 * With an alert, every fact of it but the service name is forbidden too; without one (the
 * /kevin status reply, built from booleans and times) the structural and pattern checks apply.
 */
export function assertCommunitySafe(message: CommunityMessage, alert?: Alert): void {
  const findings = communityLeaks(message, alert);
  if (findings.length > 0) throw new CommunityLeakError(findings);
}

/** What assertCommunitySafe would refuse, as short descriptions (no values). Empty = safe. */
export function communityLeaks(message: CommunityMessage, alert?: Alert): string[] {
  const findings = new Set<string>();
  const texts = collectTexts(message, findings);
  for (const problem of discordLimitProblems(message)) findings.add(problem);

  // The service's own name is allowed: scan what is left once it is taken out — as rendered
  // (bold), so a dotted service name is not taken for a hostname, while the same word inside a
  // leaked hostname (green.kevinstamp.internal) is still seen.
  const renderedService = alert ? renderedServiceName(alert.facts.service).toLowerCase() : '';
  const scanned = texts.map((t) => replaceAllCaseInsensitive(t, renderedService, ' '));
  const joined = scanned.join('\n');
  for (const [label, pattern] of LEAK_PATTERNS) {
    if (pattern.test(joined)) findings.add(label);
  }
  const lower = joined.toLowerCase();
  for (const stage of STAGE_WORDS) {
    if (containsWord(lower, stage)) findings.add('a stage name');
  }
  if (alert) {
    for (const { label, value } of forbiddenValues(alert)) {
      if (containsWord(lower, value)) findings.add(label);
    }
  }
  return [...findings];
}

/** Problems Discord would answer with 400 Invalid Form Body, in our words. */
export function discordLimitProblems(message: CommunityMessage): string[] {
  const problems: string[] = [];
  if ((message.content ?? '').length > DISCORD_LIMITS.content) problems.push(`content longer than ${DISCORD_LIMITS.content} characters`);
  if (message.embeds.length > DISCORD_LIMITS.embeds) problems.push(`more than ${DISCORD_LIMITS.embeds} embeds`);
  if ((message.content ?? '') === '' && message.embeds.length === 0) problems.push('nothing to say (no content, no embeds)');
  let total = 0;
  for (const embed of message.embeds) {
    if (embed.title.length > DISCORD_LIMITS.title) problems.push(`an embed title longer than ${DISCORD_LIMITS.title} characters`);
    if (embed.description.length > DISCORD_LIMITS.description) {
      problems.push(`an embed description longer than ${DISCORD_LIMITS.description} characters`);
    }
    if (embed.footer.text.length > DISCORD_LIMITS.footerText) problems.push(`an embed footer longer than ${DISCORD_LIMITS.footerText} characters`);
    total += embed.title.length + embed.description.length + embed.footer.text.length;
  }
  if (total > DISCORD_LIMITS.embedTotal) problems.push(`embeds longer than ${DISCORD_LIMITS.embedTotal} characters in total`);
  return problems;
}

/**
 * Makes text read literally in Discord markdown: inline formatting, masked links and `<…>`
 * mentions/timestamps. (Service names are config, but config is text too.)
 */
export function escapeDiscordMarkdown(text: string): string {
  return text.replace(/[\\*_~`|<[\]()]/g, (c) => `\\${c}`);
}

/** The service as the community sees it: trimmed, bounded, escaped, in bold. */
function renderedServiceName(service: string): string {
  return `**${escapeDiscordMarkdown(truncate(service.trim() || 'KEVIN', MAX_SERVICE_NAME))}**`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function isoTimestamp(value: string): string | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------
// The guard's knowledge
// ---------------------------------------------------------------------------------------------

const MESSAGE_KEYS = new Set(['content', 'embeds', 'allowed_mentions', 'flags']);
const EMBED_KEYS = new Set(['title', 'description', 'color', 'footer', 'timestamp']);
const FOOTER_KEYS = new Set(['text']);

/**
 * Every string a reader could see. Anything outside the small shape we render (urls, images,
 * authors, fields, components) is a finding by itself: it has no business in a community notice.
 */
function collectTexts(message: CommunityMessage, findings: Set<string>): string[] {
  const texts: string[] = [];
  const record = message as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!MESSAGE_KEYS.has(key)) findings.add(`an unexpected message field (${key})`);
  }
  const allowed = record.allowed_mentions as { parse?: unknown } | undefined;
  if (allowed !== undefined && !(Array.isArray(allowed.parse) && allowed.parse.length === 0)) {
    findings.add('mentions that could ping people (allowed_mentions must be {parse: []})');
  }
  if (typeof message.content === 'string') texts.push(message.content);
  for (const embed of message.embeds) {
    const embedRecord = embed as unknown as Record<string, unknown>;
    for (const key of Object.keys(embedRecord)) {
      if (!EMBED_KEYS.has(key)) findings.add(`an unexpected embed field (${key})`);
    }
    for (const key of Object.keys(embed.footer as unknown as Record<string, unknown>)) {
      if (!FOOTER_KEYS.has(key)) findings.add(`an unexpected footer field (${key})`);
    }
    texts.push(embed.title, embed.description, embed.footer.text);
    if (embed.timestamp !== undefined && Number.isNaN(Date.parse(embed.timestamp))) findings.add('a timestamp that is not a time');
  }
  return texts;
}

/** Patterns of internal data, whatever alert they came from. Labels say what kind of thing leaked. */
const LEAK_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['a link', /\b[a-z][a-z0-9+.-]*:\/\/\S/i],
  ['a link', /\bwww\.\S/i],
  ['a hostname', /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b/i],
  ['an IP address', /\b\d{1,3}(?:\.\d{1,3}){3}\b/],
  ['an IP address', /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b|[0-9a-f]::|::[0-9a-f]/i],
  ['an email address', /[^\s@]+@[^\s@]+\.[a-z]{2,}/i],
  ['a mention', /@everyone|@here|<@[!&]?\d+>|<#\d+>|<\/[^>]+:\d+>/],
  ['a Slack id', /\b[UWBCGDST](?=[A-Z0-9]*\d)[A-Z0-9]{8,}\b/],
  ['a version tag', /\bv\d+(?:\.\d+)*(?:[-+][\w.-]+)?\b/i],
  ['an id', /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i],
  ['an id', /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,}\b/i],
  ['an id', /\d{15,}/],
  ['error text', /\b[A-Z][A-Za-z]*(?:Error|Exception)\b/],
  ['error text', /\bE(?:CONN[A-Z]+|TIMEDOUT|NOTFOUND|HOSTUNREACH|NETUNREACH|PIPE|AI_AGAIN)\b/],
  ['error text', /\b(?:HTTP|status(?: code)?)\s*[1-5]\d\d\b/i],
  ['error text', /\bstack trace\b|\n\s+at [\w$.<>]+ \(/i],
];

/** Stage names as words ("rolled_back" and "rolled back"). */
const STAGE_WORDS: readonly string[] = [...new Set(STAGES.flatMap((s) => [s, s.replaceAll('_', ' ')]))];

/** Words the community text always contains: an alert fact equal to one of them cannot be told apart from the brand. */
const BRAND_WORDS = new Set(['kevin', 'kevinstamp', KEVIN_FOOTER.toLowerCase()]);

/** Shorter values match ordinary words by accident ("al" in "all"); the patterns above still cover short tags. */
const MIN_FORBIDDEN_LENGTH = 3;

interface ForbiddenValue {
  label: string;
  value: string;
}

function forbiddenValues(alert: Alert): ForbiddenValue[] {
  const f = alert.facts;
  const out: ForbiddenValue[] = [];
  const add = (label: string, value: string | number | undefined): void => {
    if (value === undefined) return;
    const text = String(value).trim().toLowerCase();
    if (text.length < MIN_FORBIDDEN_LENGTH) return;
    if (text === f.service.trim().toLowerCase() || BRAND_WORDS.has(text)) return;
    out.push({ label, value: text });
  };
  /** Free text (reasons, titles, details): forbid it whole, and each internal-looking piece of it. */
  const addFreeText = (label: string, value: string | undefined): void => {
    if (value === undefined) return;
    add(label, value);
    for (const piece of internalPieces(value)) add(`${label} (in part)`, piece);
  };

  add('the alert id', alert.id);
  addFreeText('the internal alert title', alert.title);
  add('the incident key', alert.incidentKey);
  add('the deployment id', f.deploymentId);
  add('the environment name', f.environment);
  add('the stage', f.stage);
  addFreeText('the reason', f.reason);
  addFreeText('who requested it', f.requestedBy);
  // A person is named by each part of their name too ("Alice" of "Alice Moreau").
  for (const part of (f.requestedBy ?? '').split(/[^\p{L}\p{N}'-]+/u)) add('who requested it', part);
  addFreeText('the trigger', f.trigger);
  for (const [which, version] of [
    ['version', f.version],
    ['previous version', f.previousVersion],
  ] as const) {
    if (!version) continue;
    add(`the ${which} id`, version.id);
    // Preview URLs and logs use the first 8 characters of a version id.
    add(`the ${which} id`, version.id.slice(0, 8));
    add(`the ${which} tag`, version.tag);
  }
  for (const link of f.links ?? []) {
    addFreeText('a link', link.href);
    addFreeText('a link text', link.text);
  }
  for (const leaf of leaves(f.triggerDetails)) {
    if (typeof leaf === 'string') addFreeText('the trigger details', leaf);
    else add('the trigger details', leaf);
  }
  return out;
}

/** URLs, hostnames, IPs, emails and id-like words inside free text. */
function internalPieces(text: string): string[] {
  const pieces = new Set<string>();
  const patterns = [
    /\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]"']+/gi,
    /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}\b/gi,
    /\b\d{1,3}(?:\.\d{1,3}){3}\b/g,
    /[^\s@]+@[^\s@]+\.[a-z]{2,}/gi,
    /\b(?=[\w-]*\d)[\w-]{6,}\b/g,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) pieces.add(m[0]);
  return [...pieces];
}

/** String and number leaves of a nested value (trigger details), bounded so a cycle cannot hang us. */
function leaves(value: unknown, depth = 0): Array<string | number> {
  if (depth > 6 || value === null || value === undefined) return [];
  if (typeof value === 'string' || typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, depth + 1));
  if (typeof value === 'object') return Object.values(value).flatMap((v) => leaves(v, depth + 1));
  return [];
}

/** `needle` in `haystack` (both lower case) not glued to letters or digits on either side. */
function containsWord(haystack: string, needle: string): boolean {
  if (needle === '') return false;
  const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  const checkStart = isWordChar(needle[0]);
  const checkEnd = isWordChar(needle[needle.length - 1]);
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
    const before = haystack[i - 1];
    const after = haystack[i + needle.length];
    if ((!checkStart || !isWordChar(before)) && (!checkEnd || !isWordChar(after))) return true;
  }
  return false;
}

function replaceAllCaseInsensitive(text: string, needle: string, replacement: string): string {
  if (needle === '') return text;
  const lower = text.toLowerCase();
  let out = '';
  let from = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, from)) {
    out += text.slice(from, i) + replacement;
    from = i + needle.length;
  }
  return out + text.slice(from);
}
