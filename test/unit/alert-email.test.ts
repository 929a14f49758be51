import { describe, expect, it } from 'vitest';
import { isEmailAlertKind, renderAlertEmail } from '../../src/adapters/email/alert-email.ts';
import { ALERT_KINDS, type Alert, type AlertKind, type AlertLevel } from '../../src/domain/alert.ts';

/** A critical automatic rollback of kevinstamp v2 in production, raised at 09:00 UTC on 26 Nov 2026. */
function alertOf(overrides: Partial<Omit<Alert, 'facts'>> & { facts?: Partial<Alert['facts']> } = {}): Alert {
  const { facts, ...rest } = overrides;
  return {
    id: 'alert-dep_7-rolled_back',
    kind: 'rolled-back',
    level: 'critical',
    title: 'kevinstamp v2 rolled back in production: error rate 20.1 % > 5 %',
    createdAt: '2026-11-26T09:00:00.000Z',
    incidentKey: 'dep_7/error-rate',
    ...rest,
    facts: {
      service: 'kevinstamp',
      environment: 'production',
      deploymentId: 'dep_7',
      version: { id: '0123abcd4567ef89', tag: 'v2' },
      previousVersion: { id: '89abcdef01234567', tag: 'v1' },
      stage: 'rolled_back',
      reason: 'error rate 20.1 % > 5 % in every sample for 2m (5 samples, app-json /metrics)',
      requestedBy: 'alice',
      trigger: 'error-rate',
      triggerDetails: {
        signal: 'error-rate',
        verdict: 'fired',
        threshold: 5,
        unit: '%',
        sustainedForMs: 120_000,
        values: [4.2, 12.5, null, 19.87654, 20.1],
        samples: 5,
        source: 'app-json /metrics',
        summary: 'error rate 20.1 % > 5 % in every sample for 2m (5 samples, app-json /metrics)',
      },
      links: [
        { href: 'https://deploy.kevinstamp.com/api/v1/deployments/dep_7', text: 'Deployment' },
        { href: 'https://slack.com/archives/C0DEPLOYS/p1', text: 'Slack card' },
      ],
      ...facts,
    },
  };
}

const EMAIL_KINDS: AlertKind[] = ALERT_KINDS.filter((kind) => !kind.startsWith('community-') && kind !== 'deploy-marker');

describe('alert email subject', () => {
  it('carries the level, service, environment and outcome', () => {
    expect(renderAlertEmail(alertOf()).subject).toBe('[CRITICAL] kevinstamp production: rolled back automatically');
  });

  it.each<[AlertKind, AlertLevel, string]>([
    ['release-started', 'info', '[INFO] kevinstamp production: release started'],
    ['release-succeeded', 'info', '[INFO] kevinstamp production: release succeeded'],
    ['green-unhealthy', 'warning', '[WARNING] kevinstamp production: new version (green) unhealthy'],
    ['approval-expired', 'warning', '[WARNING] kevinstamp production: approval window expired, release ended'],
    ['release-failed', 'warning', '[WARNING] kevinstamp production: release failed'],
    ['rollback-failed', 'emergency', '[EMERGENCY] kevinstamp production: ROLLBACK FAILED, production needs attention'],
    ['content-missing', 'emergency', '[EMERGENCY] kevinstamp production: KEVIN content missing'],
    ['escalated', 'critical', '[CRITICAL] kevinstamp production: escalated, nobody acknowledged it in time'],
    ['acknowledged', 'critical', '[CRITICAL] kevinstamp production: acknowledged'],
    ['resolved', 'info', '[INFO] kevinstamp production: resolved'],
  ])('%s at %s', (kind, level, subject) => {
    expect(renderAlertEmail(alertOf({ kind, level })).subject).toBe(subject);
  });

  it('says "rolled back" without "automatically" when no trigger acted (a person asked for it)', () => {
    const alert = alertOf({ level: 'warning', facts: { trigger: undefined, triggerDetails: undefined, reason: 'rolled back by bob' } });
    expect(renderAlertEmail(alert).subject).toBe('[WARNING] kevinstamp production: rolled back');
  });

  it('gives every email kind its own outcome, and keeps the subject on one line', () => {
    const outcomes = EMAIL_KINDS.map((kind) => renderAlertEmail(alertOf({ kind })).subject.split(': ').slice(1).join(': '));
    expect(new Set(outcomes).size).toBe(EMAIL_KINDS.length);
    const odd = alertOf({ facts: { service: 'kevin\nstamp', environment: 'prod\r\nBcc: x@evil.example' } });
    expect(renderAlertEmail(odd).subject).not.toMatch(/[\r\n]/);
  });

  it('knows which kinds are emails: not the PagerDuty change event, not community posts', () => {
    expect(EMAIL_KINDS.every(isEmailAlertKind)).toBe(true);
    for (const kind of ['deploy-marker', 'community-upcoming', 'community-released', 'community-incident', 'community-resolved'] as const) {
      expect(isEmailAlertKind(kind)).toBe(false);
    }
  });
});

describe('alert email body', () => {
  it('shows the original time of the alert in both bodies, in UTC', () => {
    // createdAt is the commit of the status change; the renderer has no clock, so a late delivery still says 09:00.
    const email = renderAlertEmail(alertOf({ createdAt: '2026-11-26T10:00:00.000+01:00' }));
    expect(email.text).toContain('Raised at 2026-11-26 09:00:00 UTC.');
    expect(email.html).toContain('Raised at 2026-11-26 09:00:00 UTC.');
  });

  it('says what happened, why, which versions, who asked, and where to look', () => {
    const { text, html } = renderAlertEmail(alertOf());
    expect(text).toContain('kevinstamp v2 rolled back in production: error rate 20.1 % > 5 %');
    expect(text).toMatch(/^Reason: +error rate 20\.1 % > 5 % in every sample for 2m \(5 samples, app-json \/metrics\)$/m);
    expect(text).toMatch(/^Version: +v2 \(0123abcd\)$/m);
    expect(text).toMatch(/^Previous version: +v1 \(89abcdef\)$/m);
    expect(text).toMatch(/^Requested by: +alice$/m);
    expect(text).toMatch(/^Deployment: +dep_7$/m);
    expect(text).toContain('Slack card: https://slack.com/archives/C0DEPLOYS/p1');
    expect(text).toContain('Incident dep_7/error-rate');
    expect(html).toContain('<a href="https://slack.com/archives/C0DEPLOYS/p1" style="color:#0969da;">Slack card</a>');
    expect(html).toContain('<th scope="row" style="');
  });

  it('shows a version without a tag by its short id', () => {
    const { text } = renderAlertEmail(alertOf({ facts: { version: { id: 'fedcba9876543210' }, previousVersion: undefined } }));
    expect(text).toMatch(/^Version: +fedcba98$/m);
    expect(text).not.toContain('Previous version');
  });

  it('renders trigger details readably: values with their unit, threshold, window, samples, source', () => {
    const { text, html } = renderAlertEmail(alertOf());
    expect(text).toContain('Trigger: error-rate');
    expect(text).toMatch(/^ {2}Values \(oldest first\): +4\.2 %, 12\.5 %, n\/a, 19\.88 %, 20\.1 %$/m);
    expect(text).toMatch(/^ {2}Threshold: +5 %$/m);
    expect(text).toMatch(/^ {2}Window: +2m$/m);
    expect(text).toMatch(/^ {2}Samples: +5$/m);
    expect(text).toMatch(/^ {2}Source: +app-json \/metrics$/m);
    expect(text).toMatch(/^ {2}Verdict: +fired$/m);
    // Not a JSON dump: no braces, quotes or raw key names.
    expect(text).not.toMatch(/[{}"]|sustainedForMs|"unit"/);
    expect(html).toContain('4.2 %, 12.5 %, n/a, 19.88 %, 20.1 %');
    expect(html).not.toContain('sustainedForMs');
  });

  it('renders unknown trigger details by name, nested ones as phrases, times in UTC', () => {
    const alert = alertOf({
      facts: {
        trigger: 'health',
        triggerDetails: {
          consecutiveFailures: 3,
          lastCheckAt: '2026-11-26T08:59:30.000Z',
          checks: { health: '503 from /health', ready: true },
          retryWindowMs: 30_000,
        },
      },
    });
    const { text } = renderAlertEmail(alert);
    expect(text).toMatch(/^ {2}Consecutive failures: +3$/m);
    expect(text).toMatch(/^ {2}Last check at: +2026-11-26 08:59:30 UTC$/m);
    expect(text).toMatch(/^ {2}Checks: +health 503 from \/health; ready yes$/m);
    expect(text).toMatch(/^ {2}Retry window: +30s$/m);
  });

  it('names the trigger as a plain fact when it left no details', () => {
    const { text } = renderAlertEmail(alertOf({ facts: { trigger: 'content', triggerDetails: undefined } }));
    expect(text).toMatch(/^Trigger: +content$/m);
  });

  it('escapes everything in the HTML: a reason with <script> stays text', () => {
    const alert = alertOf({
      title: 'green said <b>hi</b> & left',
      facts: {
        reason: '<script>alert("x")</script> & <img src=x onerror=alert(1)>',
        requestedBy: `o'hara`,
        triggerDetails: { summary: '<iframe src="https://evil.example">' },
        links: [
          { href: 'javascript:alert(1)', text: 'click me' },
          { href: 'https://deploy.example/?a=1&b="2"', text: '<em>page</em>' },
        ],
      },
    });
    const { text, html } = renderAlertEmail(alert);
    expect(html).not.toMatch(/<script|<img|<iframe|<b>|<em>|href="javascript:/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('green said &lt;b&gt;hi&lt;/b&gt; &amp; left');
    expect(html).toContain('o&#39;hara');
    expect(html).toContain('click me: javascript:alert(1)');
    expect(html).toContain('<a href="https://deploy.example/?a=1&amp;b=&quot;2&quot;" style="color:#0969da;">&lt;em&gt;page&lt;/em&gt;</a>');
    // Plain text needs no escaping: it says exactly what happened.
    expect(text).toContain('<script>alert("x")</script> & <img src=x onerror=alert(1)>');
  });

  it('is a self-contained, accessible page: language, title, level in words, no external images', () => {
    const { subject, html } = renderAlertEmail(alertOf());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain(`<title>${subject}</title>`);
    expect(html).toMatch(/>CRITICAL<\/span>/);
    expect(html).not.toMatch(/<img|<link|url\(|src=/i);
  });
});
