import { describe, expect, it } from 'vitest';
import {
  assertCommunitySafe,
  COMMUNITY_KINDS,
  CommunityLeakError,
  communityLeaks,
  DISCORD_LIMITS,
  discordLimitProblems,
  escapeDiscordMarkdown,
  KEVIN_FOOTER,
  renderCommunityNotice,
  type CommunityKind,
  type CommunityMessage,
} from '../../src/adapters/discord/community-notice.ts';
import { ALERT_KINDS, type Alert, type AlertFacts, type AlertKind } from '../../src/domain/alert.ts';
import { STAGES } from '../../src/domain/stages.ts';

const CREATED_AT = '2025-06-01T12:00:00.000Z';

/** Everything an engineer's alert may carry, chosen to be as leaky as possible. */
const HOSTILE_FACTS: AlertFacts = {
  service: 'kevinstamp',
  environment: 'production',
  deploymentId: 'dep_01HZX9K2M3N4P5Q6R7S8T9',
  version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2.3.1-rc.1' },
  previousVersion: { id: 'aaaaaaaa-1111-4111-8111-111111111111', tag: 'release-2025-06-01' },
  stage: 'rolling_back',
  reason:
    'green unhealthy: GET https://green.kevinstamp.internal/healthz answered 503; then ECONNREFUSED 10.0.3.7:443 (TypeError: fetch failed) @everyone <@123456789012345678>',
  requestedBy: 'Alice Moreau (U0ALICE123)',
  trigger: 'error-rate 7.5% > 2% over 5m (samples 42)',
  triggerDetails: { value: 0.075, threshold: 0.02, window: '5m', samples: 42, host: 'edge-fra-07.kevinstamp.net', ip: '2001:db8::7' },
  links: [
    { href: 'https://deploy.kevinstamp.internal/deployments/dep_01HZX9K2M3N4P5Q6R7S8T9', text: 'Deployment on deploy.kevinstamp.internal' },
    { href: 'https://kevin.slack.com/archives/C0DEPLOY1/p1717243200000100', text: 'Slack card' },
  ],
};

/** Strings that must never reach the community, whatever the kind (case-insensitive). */
const MUST_NOT_APPEAR = [
  // version ids, their preview prefix, tags
  'bbbbbbbb-2222-4222-8222-222222222222',
  'bbbbbbbb',
  'aaaaaaaa',
  'v2.3.1-rc.1',
  'release-2025-06-01',
  // reason: hostname, path, error text, IP, mentions
  'green.kevinstamp.internal',
  'healthz',
  '503',
  'ECONNREFUSED',
  '10.0.3.7',
  'TypeError',
  'fetch failed',
  '@everyone',
  '<@',
  // people
  'Alice',
  'Moreau',
  'U0ALICE123',
  // trigger and its values
  'error-rate',
  '7.5%',
  '0.075',
  'edge-fra-07',
  '2001:db8',
  // links
  'https://',
  'http',
  'deploy.kevinstamp.internal',
  'slack.com',
  'C0DEPLOY1',
  // environment, stage, deployment and alert ids, the internal title
  'production',
  'rolling_back',
  'rolling back',
  'dep_01HZX9',
  'Rollback of',
  'alert-7f3a9c',
];

function alertOf(kind: AlertKind, facts: AlertFacts = HOSTILE_FACTS): Alert {
  return {
    id: `alert-7f3a9c-${kind}`,
    kind,
    level: kind === 'community-incident' ? 'emergency' : 'info',
    title: `Rollback of kevinstamp v2.3.1-rc.1 after error-rate trigger (requested by Alice Moreau)`,
    facts,
    incidentKey: 'dep_01HZX9K2M3N4P5Q6R7S8T9:error-rate',
    createdAt: CREATED_AT,
  };
}

function render(kind: CommunityKind, facts?: AlertFacts): CommunityMessage {
  const message = renderCommunityNotice(alertOf(kind, facts));
  if (!message) throw new Error(`no notice for ${kind}`);
  return message;
}

/** Everything a reader could see: content and every embed field, serialized. */
function serialized(message: CommunityMessage): string {
  return JSON.stringify(message).toLowerCase();
}

describe('renderCommunityNotice: nothing internal reaches the community', () => {
  it.each(COMMUNITY_KINDS)('%s carries none of the hostile facts, only the service name', (kind) => {
    const message = render(kind);
    const all = serialized(message);
    for (const needle of MUST_NOT_APPEAR) {
      expect(all, `${kind} leaks ${needle}`).not.toContain(needle.toLowerCase());
    }
    expect(message.embeds[0]?.description).toContain('kevinstamp');
    // And the guard agrees it is clean.
    expect(() => assertCommunitySafe(message, alertOf(kind))).not.toThrow();
  });

  it.each(COMMUNITY_KINDS)('%s never uses a stage name, even one its own wording might suggest', (kind) => {
    const all = serialized(render(kind));
    for (const stage of STAGES) {
      expect(all).not.toMatch(new RegExp(`\\b${stage.replaceAll('_', '[_ ]')}\\b`));
    }
  });

  it('renders nothing for the team-only kinds', () => {
    const teamKinds = ALERT_KINDS.filter((kind) => !kind.startsWith('community-'));
    for (const kind of teamKinds) expect(renderCommunityNotice(alertOf(kind))).toBeUndefined();
  });
});

describe('renderCommunityNotice: friendly, branded wording per kind', () => {
  it('announces an upcoming update calmly', () => {
    const m = render('community-upcoming');
    expect(m.embeds[0]?.title).toBe('A KEVIN update is on its way…');
    expect(m.embeds[0]?.description).toMatch(/nothing you need to do/i);
    expect(m.content).toContain('A KEVIN update is on its way');
  });

  it('celebrates a release', () => {
    const m = render('community-released');
    expect(m.embeds[0]?.title).toBe('KEVIN just got better');
    expect(m.content).toContain('KEVIN just got better');
  });

  it('owns an incident without blame or detail', () => {
    const m = render('community-incident');
    expect(m.embeds[0]?.title).toMatch(/KEVIN/);
    expect(m.embeds[0]?.description).toMatch(/we're already on it/i);
    expect(m.embeds[0]?.description).not.toMatch(/fault|blame|broke|error|fail/i);
  });

  it('says all is good again', () => {
    const m = render('community-resolved');
    expect(m.embeds[0]?.title).toBe('All good again');
    expect(m.embeds[0]?.description).toMatch(/back to normal/);
  });

  it('is one KEVIN-branded embed with the original time', () => {
    const colours = new Set<number>();
    for (const kind of COMMUNITY_KINDS) {
      const m = render(kind);
      expect(m.embeds).toHaveLength(1);
      const embed = m.embeds[0];
      expect(embed?.footer).toEqual({ text: KEVIN_FOOTER });
      expect(embed?.timestamp).toBe(CREATED_AT);
      expect(Number.isInteger(embed?.color)).toBe(true);
      colours.add(embed?.color ?? -1);
      expect(Object.keys(embed ?? {}).sort()).toEqual(['color', 'description', 'footer', 'timestamp', 'title']);
    }
    expect(colours.size).toBe(4);
  });

  it('leaves the timestamp out rather than sending a non-time', () => {
    const message = renderCommunityNotice({ ...alertOf('community-released'), createdAt: 'not a time' });
    expect(message?.embeds[0]?.timestamp).toBeUndefined();
  });

  it('keeps a person called Kevin from blocking the notice (the brand says KEVIN anyway)', () => {
    const facts = { ...HOSTILE_FACTS, requestedBy: 'kevin' };
    expect(() => assertCommunitySafe(render('community-released', facts), alertOf('community-released', facts))).not.toThrow();
  });
});

describe('renderCommunityNotice: Discord limits', () => {
  it('stays within every limit even with an absurd service name', () => {
    const facts = { ...HOSTILE_FACTS, service: 'k'.repeat(10_000) };
    for (const kind of COMMUNITY_KINDS) {
      const m = render(kind, facts);
      expect(discordLimitProblems(m)).toEqual([]);
      expect((m.content ?? '').length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
      expect(m.embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embeds);
      for (const e of m.embeds) {
        expect(e.title.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
        expect(e.description.length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
      }
      expect(m.embeds[0]?.description).toContain('…');
    }
  });

  it('names each limit a message breaks', () => {
    const embed = { title: 't'.repeat(257), description: 'd'.repeat(4097), color: 0, footer: { text: 'f' } };
    expect(discordLimitProblems({ content: 'c'.repeat(2001), embeds: [embed] })).toEqual([
      'content longer than 2000 characters',
      'an embed title longer than 256 characters',
      'an embed description longer than 4096 characters',
    ]);
    const big = { title: 'x', description: 'd'.repeat(4000), color: 0, footer: { text: 'f' } };
    expect(discordLimitProblems({ embeds: [big, big] })).toEqual(['embeds longer than 6000 characters in total']);
    expect(discordLimitProblems({ embeds: Array.from({ length: 11 }, () => ({ ...big, description: 'd' })) })).toEqual([
      'more than 10 embeds',
    ]);
    expect(discordLimitProblems({ content: '', embeds: [] })).toEqual(['nothing to say (no content, no embeds)']);
  });

  it('escapes markdown in a service name so it reads literally', () => {
    expect(escapeDiscordMarkdown('*kevin*_stamp_~x~`y`|z|<@1>[a](b)\\')).toBe(
      '\\*kevin\\*\\_stamp\\_\\~x\\~\\`y\\`\\|z\\|\\<@1>\\[a\\]\\(b\\)\\\\',
    );
    const m = render('community-released', { ...HOSTILE_FACTS, service: 'kevin_stamp' });
    expect(m.embeds[0]?.description).toContain('**kevin\\_stamp**');
  });
});

describe('assertCommunitySafe: the guard catches what a template might let slip', () => {
  const alert = alertOf('community-incident');
  const clean = render('community-incident');

  function withDescription(extra: string): CommunityMessage {
    const [embed] = clean.embeds;
    if (!embed) throw new Error('no embed');
    return { ...clean, embeds: [{ ...embed, description: `${embed.description} ${extra}` }] };
  }

  it.each([
    ['the version id', 'bbbbbbbb-2222-4222-8222-222222222222'],
    ['the version preview prefix', 'bbbbbbbb'],
    ['the version tag', 'v2.3.1-rc.1'],
    ['the previous tag', 'release-2025-06-01'],
    ['the reason', HOSTILE_FACTS.reason],
    ['a hostname from the reason', 'green.kevinstamp.internal'],
    ['an IP from the reason', '10.0.3.7'],
    ['error text', 'ECONNREFUSED'],
    ['an exception name', 'TypeError'],
    ['who requested it', 'Alice Moreau'],
    ['a Slack user id', 'U0ALICE123'],
    ['the trigger', 'error-rate 7.5% > 2% over 5m (samples 42)'],
    ['a trigger detail', 'edge-fra-07.kevinstamp.net'],
    ['an IPv6 address', '2001:db8::7'],
    ['a link', 'https://deploy.kevinstamp.internal/deployments/dep_01HZX9K2M3N4P5Q6R7S8T9'],
    ['a link text', 'Deployment on deploy.kevinstamp.internal'],
    ['the environment', 'production'],
    ['the stage', 'rolling_back'],
    ['another stage name', 'needs attention'],
    ['the deployment id', 'dep_01HZX9K2M3N4P5Q6R7S8T9'],
    ['the internal title', alert.title],
    ['the incident key', 'dep_01HZX9K2M3N4P5Q6R7S8T9:error-rate'],
    ['a mention', '@everyone'],
    ['a user mention', '<@123456789012345678>'],
    ['any URL', 'see https://status.example.org'],
    ['any hostname', 'see status.example.org'],
    ['a snowflake', '1234567890123456789'],
    ['an HTTP status', 'HTTP 502'],
  ])('refuses %s', (_what, value) => {
    const message = withDescription(value);
    expect(communityLeaks(message, alert).length).toBeGreaterThan(0);
    let thrown: unknown;
    try {
      assertCommunitySafe(message, alert);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CommunityLeakError);
    // The refusal names what leaked, never the value (it is logged).
    if (value.length > 8) expect((thrown as Error).message).not.toContain(value);
  });

  it('refuses fields a community notice never has (links, images, authors) and pinging mentions', () => {
    const [embed] = clean.embeds;
    const withUrl = { ...clean, embeds: [{ ...embed, url: 'x' }] } as unknown as CommunityMessage;
    expect(communityLeaks(withUrl, alert)).toContain('an unexpected embed field (url)');
    const withImage = { ...clean, embeds: [{ ...embed, image: { url: 'x' } }] } as unknown as CommunityMessage;
    expect(communityLeaks(withImage, alert)).toContain('an unexpected embed field (image)');
    const pinging = { ...clean, allowed_mentions: { parse: ['everyone'] } } as unknown as CommunityMessage;
    expect(communityLeaks(pinging, alert)).toContain('mentions that could ping people (allowed_mentions must be {parse: []})');
    const quiet = { ...clean, allowed_mentions: { parse: [] } } as unknown as CommunityMessage;
    expect(communityLeaks(quiet, alert)).toEqual([]);
  });

  it('checks messages without an alert (the /kevin status reply) by shape and pattern', () => {
    expect(communityLeaks({ embeds: [{ title: 'KEVIN is up', description: 'Live since <t:1717243200:R>.', color: 1, footer: { text: KEVIN_FOOTER } }] })).toEqual([]);
    expect(communityLeaks({ content: 'down: ECONNRESET at 10.1.1.1', embeds: [] })).toEqual(
      expect.arrayContaining(['an IP address', 'error text']),
    );
  });
});
