/**
 * PagerDuty V3 webhooks: the signature check (HMAC-SHA256 of the raw body, `v1=` per signing secret,
 * comma-separated) and reading the incident event out of the payload.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePagerDutyWebhook, verifyPagerDutySignature } from '../../src/adapters/pagerduty/pagerduty-webhook.ts';
import { pagerDutyWebhookBody } from '../fakes/pagerduty-fake.ts';

const SECRET = 'whsec-current-0123456789abcdef';
const OLD_SECRET = 'whsec-previous-fedcba9876543210';

/** Signed independently of the code under test, as the developer docs describe it. */
function sign(body: string | Buffer, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const body = pagerDutyWebhookBody({ eventType: 'incident.acknowledged', incidentKey: 'dep_42/error-rate', agent: 'Ann Primary' });

describe('verifyPagerDutySignature', () => {
  it('accepts a body signed with the secret, as a string or as the raw bytes', () => {
    expect(verifyPagerDutySignature(body, sign(body, SECRET), [SECRET])).toBe(true);
    expect(verifyPagerDutySignature(Buffer.from(body), sign(body, SECRET), [SECRET])).toBe(true);
  });

  it('signs the UTF-8 bytes: a body with non-ASCII text verifies', () => {
    const unicode = pagerDutyWebhookBody({ eventType: 'incident.resolved', agent: 'Zoë Ærøskøbing 🚒' });
    expect(verifyPagerDutySignature(unicode, sign(Buffer.from(unicode, 'utf8'), SECRET), [SECRET])).toBe(true);
  });

  it('refuses a forged signature (another secret)', () => {
    expect(verifyPagerDutySignature(body, sign(body, 'someone-elses-secret'), [SECRET])).toBe(false);
  });

  it('refuses a tampered body', () => {
    const tampered = body.replace('dep_42/error-rate', 'dep_43/error-rate');
    expect(tampered).not.toBe(body);
    expect(verifyPagerDutySignature(tampered, sign(body, SECRET), [SECRET])).toBe(false);
  });

  it('refuses a re-serialised body: the HMAC is over the raw bytes', () => {
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    expect(verifyPagerDutySignature(pretty, sign(body, SECRET), [SECRET])).toBe(false);
  });

  it('accepts any of several signatures in the header', () => {
    const header = `${sign(body, 'an-unknown-secret')},${sign(body, SECRET)}`;
    expect(verifyPagerDutySignature(body, header, [SECRET])).toBe(true);
    // Tolerates a space after the comma.
    expect(verifyPagerDutySignature(body, `${sign(body, 'an-unknown-secret')}, ${sign(body, SECRET)}`, [SECRET])).toBe(true);
  });

  it('accepts any of several secrets, for a rotation in either order', () => {
    const signedWithOld = sign(body, OLD_SECRET);
    expect(verifyPagerDutySignature(body, signedWithOld, [SECRET, OLD_SECRET])).toBe(true);
    expect(verifyPagerDutySignature(body, `${sign(body, SECRET)},${signedWithOld}`, [OLD_SECRET])).toBe(true);
    expect(verifyPagerDutySignature(body, signedWithOld, [SECRET])).toBe(false);
  });

  it('refuses a missing, empty or malformed header', () => {
    const good = sign(body, SECRET);
    const hex = good.slice('v1='.length);
    for (const header of [
      undefined,
      '',
      hex, // no version
      `v0=${hex}`, // an unknown version
      `V1=${hex}`,
      `v1=${hex.slice(0, 62)}`, // too short
      `v1=${hex}00`, // too long
      `v1=${hex.slice(0, 63)}z`, // not hex
      'v1=',
      ',,,',
    ]) {
      expect(verifyPagerDutySignature(body, header, [SECRET]), String(header)).toBe(false);
    }
  });

  it('refuses everything without a secret (an empty secret is no secret)', () => {
    expect(verifyPagerDutySignature(body, sign(body, SECRET), [])).toBe(false);
    expect(verifyPagerDutySignature(body, sign(body, ''), [''])).toBe(false);
  });
});

describe('parsePagerDutyWebhook', () => {
  it('reads an acknowledged incident: type, incident key and id, who, when, link', () => {
    const parsed = parsePagerDutyWebhook(
      JSON.parse(
        pagerDutyWebhookBody({
          eventType: 'incident.acknowledged',
          incidentKey: 'dep_42/error-rate',
          incidentId: 'PINC042',
          agent: 'Ann Primary',
          occurredAt: '2026-11-26T09:03:00.123Z',
        }),
      ),
    );

    expect(parsed).toEqual({
      eventType: 'incident.acknowledged',
      incidentKey: 'dep_42/error-rate',
      incidentId: 'PINC042',
      agent: 'Ann Primary',
      occurredAt: '2026-11-26T09:03:00.123Z',
      htmlUrl: 'https://kevin.pagerduty.com/incidents/PINC042',
    });
  });

  it('reads resolved and triggered incidents, and other incident event types as they are', () => {
    for (const eventType of ['incident.resolved', 'incident.triggered', 'incident.priority_updated']) {
      expect(parsePagerDutyWebhook(JSON.parse(pagerDutyWebhookBody({ eventType, incidentKey: 'k' })))?.eventType).toBe(eventType);
    }
  });

  it('accepts the raw body (text or bytes) as well as parsed JSON', () => {
    expect(parsePagerDutyWebhook(body)?.incidentKey).toBe('dep_42/error-rate');
    expect(parsePagerDutyWebhook(Buffer.from(body))?.incidentKey).toBe('dep_42/error-rate');
  });

  it('leaves out what PagerDuty did not say: no agent (PagerDuty acted itself), no incident key', () => {
    const parsed = parsePagerDutyWebhook(JSON.parse(pagerDutyWebhookBody({ eventType: 'incident.resolved', agent: null })));

    expect(parsed).toBeDefined();
    expect(parsed).not.toHaveProperty('agent');
    expect(parsed).not.toHaveProperty('incidentKey');
    expect(parsed?.incidentId).toBe('PGR0VU2');
  });

  it('treats a null incident_key like a missing one', () => {
    const payload = JSON.parse(body) as { event: { data: Record<string, unknown> } };
    payload.event.data.incident_key = null;
    expect(parsePagerDutyWebhook(payload)).not.toHaveProperty('incidentKey');
  });

  it('ignores events that are not about an incident', () => {
    const serviceUpdated = {
      event: {
        id: '01BRB6ZP4M6T8ZG4X6BP63ZB9O',
        event_type: 'service.updated',
        resource_type: 'service',
        occurred_at: '2021-03-02T13:35:11.682Z',
        agent: null,
        client: null,
        data: { id: 'PF9KMXH', type: 'service', summary: 'testing service updates' },
      },
    };
    const annotated = JSON.parse(pagerDutyWebhookBody({ eventType: 'incident.annotated' })) as { event: { data: Record<string, unknown> } };
    annotated.event.data = { id: 'P2LA89X', type: 'incident_note', content: 'a note', incident: { id: 'PGR0VU2', type: 'incident_reference' } };

    expect(parsePagerDutyWebhook(serviceUpdated)).toBeUndefined();
    expect(parsePagerDutyWebhook(annotated)).toBeUndefined();
  });

  it('returns undefined for malformed payloads instead of throwing', () => {
    const valid = JSON.parse(body) as { event: Record<string, unknown> };
    const without = (key: string) => ({ event: { ...valid.event, [key]: undefined } });
    for (const malformed of [
      undefined,
      null,
      42,
      'not json at all',
      Buffer.from('{"event":'),
      [],
      {},
      { event: null },
      { event: 'incident.acknowledged' },
      without('event_type'),
      without('occurred_at'),
      without('data'),
      without('id'),
      { event: { ...valid.event, occurred_at: 'yesterday-ish' } },
      { event: { ...valid.event, event_type: '' } },
      { event: { ...valid.event, data: { type: 'incident' } } },
      { event: { ...valid.event, agent: 'Ann' } },
    ]) {
      expect(parsePagerDutyWebhook(malformed)).toBeUndefined();
    }
  });
});
