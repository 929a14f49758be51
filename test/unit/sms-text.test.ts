import { describe, expect, it } from 'vitest';
import { isGsm7, smsSegmentsOf, smsSkipReason, smsTextOf } from '../../src/adapters/sms/sms-text.ts';
import { parseSmsProgress, smsProgressRef, smsProgressSummary } from '../../src/adapters/sms/sms-progress.ts';
import type { Alert, AlertKind } from '../../src/domain/alert.ts';

/**
 * The SMS renderer (docs/alerts.md, "SMS"): one GSM-7 segment where it can, naming the service,
 * what happened and where to look, and nothing internal; and the segment arithmetic it relies on.
 */

const PUBLIC_URL = 'https://deploy.kevinstamp.com';
const SECRET = 'sk_live_0123456789abcdef';

function alertOf(kind: AlertKind, over: Omit<Partial<Alert>, 'facts'> & { facts?: Partial<Alert['facts']> } = {}): Alert {
  const { facts, ...rest } = over;
  return {
    id: `kd-abcdefghjk/2026-11-26T09:00:00.000Z/${kind}`,
    kind,
    level: 'emergency',
    // Titles and reasons quote what apps and triggers said: never texted.
    title: `the rollback of kevinstamp failed: ${SECRET}`,
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'kd-abcdefghjk',
      version: { id: 'bbbbbbbb-2222-4222-8222-222222222222', tag: 'v2' },
      stage: 'needs_attention',
      reason: `upstream answered 500: token=${SECRET}`,
      requestedBy: 'alice',
      trigger: 'errorRate',
      triggerDetails: { values: [12.5, 20], apiKey: SECRET },
      ...facts,
    },
    incidentKey: 'kd-abcdefghjk/rollback-failed',
    createdAt: '2026-11-26T09:00:00.000Z',
    ...rest,
  };
}

describe('smsTextOf', () => {
  it('an emergency names the level, service, environment, what happened and the release page, in one GSM-7 segment', () => {
    const text = smsTextOf(alertOf('rollback-failed'), { publicUrl: PUBLIC_URL });
    expect(text).toBe('EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). https://deploy.kevinstamp.com/console/releases/kd-abcdefghjk');
    expect(smsSegmentsOf(text)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(text.length).toBeLessThanOrEqual(160);
  });

  it('never carries the reason, the title or the trigger values (they may quote secrets)', () => {
    for (const kind of ['rollback-failed', 'content-missing', 'rolled-back', 'escalated', 'release-failed', 'resolved', 'acknowledged'] as const) {
      const text = smsTextOf(alertOf(kind), { publicUrl: PUBLIC_URL });
      expect(text, kind).not.toContain(SECRET);
      expect(text, kind).not.toMatch(/12\.5|upstream|token/);
    }
  });

  it('links the release page the alert links to; without a public URL it names the release and the console', () => {
    const linked = alertOf('content-missing', { facts: { links: [{ href: 'https://ops.example/api/v1/deployments/kd-abcdefghjk', text: 'API' }, { href: 'https://ops.example/console/releases/kd-abcdefghjk', text: 'Console' }] } });
    expect(smsTextOf(linked, { publicUrl: PUBLIC_URL })).toMatch(/\. https:\/\/ops\.example\/console\/releases\/kd-abcdefghjk$/);
    const bare = smsTextOf(alertOf('content-missing'));
    expect(bare).toBe('EMERGENCY kevinstamp/production: KEVIN content missing (v2). See release kd-abcdefghjk in the kevin-deploy console.');
    expect(smsSegmentsOf(bare).segments).toBe(1);
  });

  it('drops the version, then falls back to the console root, to stay in one segment', () => {
    const publicUrl = 'https://deploy.kevinstamp.example.com';
    const text = smsTextOf(alertOf('rollback-failed', { facts: { service: 'kevinstamp-marketing', environment: 'production-eu' } }), { publicUrl });
    expect(text).toBe('EMERGENCY kevinstamp-marketing/production-eu: ROLLBACK FAILED, production needs attention. https://deploy.kevinstamp.example.com/console/releases/kd-abcdefghjk');
    expect(smsSegmentsOf(text).segments).toBe(1);
    const longer = smsTextOf(alertOf('rollback-failed', { facts: { service: 'kevinstamp-marketing-site', environment: 'production-eu-west' } }), { publicUrl });
    // The release's page does not fit with these names: the console's does (and leaves room for the version).
    expect(longer).toBe('EMERGENCY kevinstamp-marketing-site/production-eu-west: ROLLBACK FAILED, production needs attention (v2). https://deploy.kevinstamp.example.com/console');
    expect(smsSegmentsOf(longer).segments).toBe(1);
  });

  it('a version tag outside GSM-7 would make it UCS-2 (two segments): it is left out instead', () => {
    const alert = alertOf('rolled-back', { level: 'critical', facts: { version: { id: 'bbbbbbbb', tag: 'v2 🚀 Zoë' } } });
    const text = smsTextOf(alert, { publicUrl: PUBLIC_URL });
    expect(isGsm7(text)).toBe(true);
    expect(text).toBe('CRITICAL kevinstamp/production: rolled back automatically. https://deploy.kevinstamp.com/console/releases/kd-abcdefghjk');
    // With room to spare (no URL) it stays, in UCS-2 but still one segment.
    const short = alertOf('release-started', { level: 'info', facts: { service: 'k', environment: 'p', deploymentId: 'kd-x', version: { id: 'b', tag: 'v2 🚀' } } });
    const shortText = smsTextOf(short, { publicUrl: 'https://k.co' });
    expect(shortText).toContain('(v2 🚀)');
    expect(smsSegmentsOf(shortText)).toMatchObject({ encoding: 'UCS-2', segments: 1 });
  });

  it('when nothing fits one segment, it takes the richest wording with the fewest segments', () => {
    const url = `https://deploy.kevinstamp.com/${'a'.repeat(150)}`;
    const text = smsTextOf(alertOf('rollback-failed'), { publicUrl: url });
    expect(smsSegmentsOf(text).segments).toBe(2);
    expect(text).toBe(`EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). ${url}/console/releases/kd-abcdefghjk`);
    // A URL three segments long: the console root keeps it to the fewest.
    // A URL that makes the richest wording four segments: dropping the version keeps it to three.
    const longer = `https://deploy.kevinstamp.com/${'a'.repeat(320)}`;
    expect(smsSegmentsOf(`EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). ${longer}/console/releases/kd-abcdefghjk`).segments).toBe(4);
    const fallback = smsTextOf(alertOf('rollback-failed'), { publicUrl: longer });
    expect(smsSegmentsOf(fallback).segments).toBe(3);
    expect(fallback).toBe(`EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention. ${longer}/console/releases/kd-abcdefghjk`);
  });

  it('follow-ups say the incident is acknowledged (by whom, when it fits) or over', () => {
    const incident = { level: 'emergency' as const, title: 't', createdAt: '2026-11-26T09:00:00.000Z' };
    const acked = smsTextOf(alertOf('acknowledged', { level: 'info', facts: { incident: { ...incident, by: 'alice' } } }), { publicUrl: PUBLIC_URL });
    expect(acked).toBe('ACKNOWLEDGED kevinstamp/production: the EMERGENCY alert, by alice (v2). https://deploy.kevinstamp.com/console/releases/kd-abcdefghjk');
    const resolved = smsTextOf(alertOf('resolved', { level: 'info', facts: { incident } }), { publicUrl: PUBLIC_URL });
    expect(resolved).toMatch(/^RESOLVED kevinstamp\/production: the EMERGENCY is over/);
    // A name outside GSM-7 is dropped rather than doubling the segments.
    const zoe = smsTextOf(alertOf('acknowledged', { level: 'info', facts: { incident: { ...incident, by: 'Zoë 🙂' } } }), { publicUrl: PUBLIC_URL });
    expect(isGsm7(zoe)).toBe(true);
    expect(smsSegmentsOf(zoe).segments).toBe(1);
  });

  it('is one line: control characters and line breaks in names become spaces', () => {
    const text = smsTextOf(alertOf('rolled-back', { level: 'critical', facts: { version: { id: 'b', tag: 'v2\n\u0007evil\r\nline' } } }));
    expect(text).not.toMatch(/[\r\n\u0007]/);
  });

  it('deploy markers and community notices are not texted; no recipients is a skip with the keys to set', () => {
    expect(smsSkipReason(alertOf('deploy-marker'), ['+15551234567'])).toBe('deploy-marker alerts are not sent by SMS');
    expect(smsSkipReason(alertOf('community-incident'), ['+15551234567'])).toBe('community-incident alerts are not sent by SMS');
    expect(smsSkipReason(alertOf('rollback-failed'), [])).toBe('no SMS recipients for kevinstamp production (alerts.smsTo or alerting.sms.to)');
    expect(smsSkipReason(alertOf('rollback-failed'), ['+15551234567'])).toBeUndefined();
  });
});

describe('smsSegmentsOf', () => {
  it('160 GSM-7 characters are one segment, 161 are two (153 each when concatenated)', () => {
    expect(smsSegmentsOf('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1, remaining: 0 });
    expect(smsSegmentsOf('a'.repeat(161))).toMatchObject({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegmentsOf('a'.repeat(306)).segments).toBe(2);
    expect(smsSegmentsOf('a'.repeat(307)).segments).toBe(3);
  });

  it('GSM-7 covers accents such as é, ü, Ñ and Greek capitals; extension characters ({ } [ ] ~ \\ | ^ €) cost two', () => {
    expect(isGsm7('Café über Ñandu ΔΦΓ @£$¥ §¿¡ àèéìòù ÄÖÜäöü')).toBe(true);
    expect(isGsm7('ú')).toBe(false);
    expect(smsSegmentsOf('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegmentsOf('€'.repeat(81))).toMatchObject({ encoding: 'GSM-7', units: 162, segments: 2 });
    expect(smsSegmentsOf('a{b}')).toMatchObject({ units: 6 });
  });

  it('an escape pair is never split: 152 characters and a € need a second segment at 153 per segment', () => {
    // 161 septets in all; 152 + the 2-septet € would be 154 > 153 in the first part.
    const text = `${'a'.repeat(152)}€${'b'.repeat(7)}`;
    expect(smsSegmentsOf(text)).toMatchObject({ units: 161, segments: 2, remaining: 153 - 9 });
  });

  it('one character outside GSM-7 makes it UCS-2: 70 units in one segment, then 67 each', () => {
    expect(isGsm7('ë')).toBe(false);
    expect(isGsm7('`')).toBe(false);
    expect(smsSegmentsOf(`ë${'a'.repeat(69)}`)).toMatchObject({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegmentsOf(`ë${'a'.repeat(70)}`)).toMatchObject({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSegmentsOf('ë'.repeat(134)).segments).toBe(2);
    expect(smsSegmentsOf('ë'.repeat(135)).segments).toBe(3);
  });

  it('an emoji is two UTF-16 units and is never split across segments', () => {
    expect(smsSegmentsOf('🚀')).toMatchObject({ encoding: 'UCS-2', units: 2, segments: 1 });
    expect(smsSegmentsOf('🚀'.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    // 66 units, then a pair that would straddle the 67-unit boundary goes whole into the next.
    expect(smsSegmentsOf(`${'ë'.repeat(66)}🚀${'ë'.repeat(3)}`)).toMatchObject({ units: 71, segments: 2, remaining: 67 - 5 });
  });
});

describe('SMS progress (the delivery ref)', () => {
  it('round-trips, ignores what is not its own, and summarises', () => {
    const progress = { sent: { '+15551234567': 'SM0123' }, pending: { '+15557654321': '2026-11-26T09:00:00.000Z' }, refused: { '+15550000000': 'not a valid phone number (21211)' } };
    expect(parseSmsProgress(smsProgressRef(progress))).toEqual(progress);
    expect(parseSmsProgress('local:abc#sms')).toEqual({ sent: {}, pending: {}, refused: {} });
    expect(parseSmsProgress('{not json')).toEqual({ sent: {}, pending: {}, refused: {} });
    expect(parseSmsProgress(null)).toEqual({ sent: {}, pending: {}, refused: {} });
    expect(smsProgressSummary(progress, 3)).toBe('1 of 3 numbers texted, 1 refused, 1 unconfirmed');
  });
});
