import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSmsProgress } from '../../src/adapters/sms/sms-progress.ts';
import { smsTextOf } from '../../src/adapters/sms/sms-text.ts';
import { main } from '../../src/cli/main.ts';
import type { StoredAlert } from '../../src/ports/alert-outbox.ts';
import { twilioError } from '../fakes/twilio-fake.ts';
import { metricValue, only, releaseWithUnverifiableRollback, SMS_TO, startAlertHarness, type AlertHarness } from '../support/alert-harness.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * SMS for emergencies through the real bot (startBot), Twilio's API being the loopback fake
 * (TWILIO_API_URL): docs/alerts.md's "SMS". A rollback that cannot be verified is an emergency;
 * its text reaches each on-call number exactly once — through a provider that fails one number,
 * then goes down altogether, while the bot is restarted on the same database — and the rollback
 * itself never waits for any of it.
 */

let h: AlertHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PUBLIC_URL = 'https://deploy.kevinstamp.example';
const [FIRST, SECOND] = SMS_TO;

/** Texts per number, as the fake received them. */
function texts(harness: AlertHarness): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of harness.twilio.messages()) counts[m.to] = (counts[m.to] ?? 0) + 1;
  return counts;
}

async function smsDelivery(harness: AlertHarness, id: string): Promise<{ alert: StoredAlert; delivery: StoredAlert['deliveries'][number] } | undefined> {
  const alerts = await harness.alerts({ deployment: id });
  const alert = alerts.find((a) => a.kind === 'rollback-failed');
  const delivery = alert?.deliveries.find((d) => d.channel === 'sms');
  return alert && delivery ? { alert, delivery } : undefined;
}

describe('SMS for emergencies', () => {
  it('an emergency reaches each number exactly once, through a failing number, an outage and a restart; the rollback never waits', async () => {
    h = await startAlertHarness({ publicUrl: PUBLIC_URL });
    const harness = h;

    // A release whose rollback cannot be verified: critical (rolled back automatically), then an
    // emergency (the rollback needs a person). Twilio fails the second number's sends at first (a
    // third failure is queued so that the outage below surely begins while it is still pending).
    harness.twilio.failNext(503, twilioError(503, 20503, 'Service Unavailable'), {}, { to: SECOND });
    harness.twilio.failNext(500, twilioError(500, 20500, 'Internal Server Error'), {}, { to: SECOND });
    harness.twilio.failNext(502, twilioError(502, 20502, 'Bad Gateway'), {}, { to: SECOND });
    // The release gets to its end whatever SMS is doing.
    const id = await releaseWithUnverifiableRollback(harness);

    // The first number is texted; the second is pending after the failures (its messages were never taken).
    let last: Awaited<ReturnType<typeof smsDelivery>>;
    await waitFor(async () => (last = await smsDelivery(harness, id)) !== undefined && last.delivery.attempts >= 2 && texts(harness)[FIRST] === 1, {
      timeoutMs: 20_000,
      describe: () => `the first number texted and the second retried: ${JSON.stringify(last?.delivery)} ${JSON.stringify(texts(harness))}\n${harness.tail()}`,
    });
    expect(texts(harness)[SECOND]).toBeUndefined();
    expect(metricValue(await harness.metrics(), 'kevin_deploy_alert_delivery_attempts_total{channel="sms",outcome="retry"}')).toBeGreaterThanOrEqual(1);

    // Then Twilio goes down altogether (503 pages from its load balancer) for a while…
    harness.twilio.setDown(503);
    const downSince = harness.twilio.calls().length;
    await waitFor(() => harness.twilio.calls().length >= downSince + 2, { timeoutMs: 20_000, describe: () => `two attempts during the outage\n${harness.tail()}` });
    // …and the bot is restarted on the same database while it is.
    await harness.restart(() => {
      harness.twilio.setDown(false);
    });

    const settled = await harness.settled(id);
    const emergency = only(settled, 'rollback-failed');
    expect(emergency.level).toBe('emergency');
    const sms = emergency.deliveries.find((d) => d.channel === 'sms')!;
    expect(sms.status).toBe('delivered');
    expect(texts(harness)).toEqual({ [FIRST]: 1, [SECOND]: 1 });
    const messages = harness.twilio.messages();
    expect(messages.map((m) => m.to)).toEqual([FIRST, SECOND]);
    expect(parseSmsProgress(sms.ref)).toEqual({ sent: { [FIRST]: messages[0]!.sid, [SECOND]: messages[1]!.sid }, pending: {}, refused: {} });

    // What was texted: the service, what happened and where to look, in one GSM-7 segment.
    const text = smsTextOf(emergency, { publicUrl: PUBLIC_URL });
    expect(text).toBe(`EMERGENCY kevinstamp/production: ROLLBACK FAILED, production needs attention (v2). ${PUBLIC_URL}/console/releases/${id}`);
    for (const m of messages) expect(m).toMatchObject({ body: text, from: harness.twilio.from, numSegments: 1 });

    // Only the emergency was texted: the critical rollback (slack, email, PagerDuty) was not.
    const rolledBack = only(settled, 'rolled-back');
    expect(rolledBack.deliveries.map((d) => d.channel).sort()).toEqual(['email', 'pagerduty', 'slack']);
    // The secrets never reach the log.
    expect(harness.logs.join('')).not.toContain(harness.twilio.authToken);
  }, 60_000);

  it('a number Twilio refuses (here 21610, unsubscribed) fails that number only, once, and is never retried', async () => {
    h = await startAlertHarness();
    const harness = h;
    harness.twilio.unsubscribe(SECOND);
    const id = await releaseWithUnverifiableRollback(harness);
    const settled = await harness.settled(id);
    const sms = only(settled, 'rollback-failed').deliveries.find((d) => d.channel === 'sms')!;
    expect(sms).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(Object.keys(parseSmsProgress(sms.ref).refused)).toEqual([SECOND]);
    expect(texts(harness)).toEqual({ [FIRST]: 1 });
    expect(harness.twilio.calls().filter((c) => c.method === 'POST').map((c) => c.code ?? c.status)).toEqual([201, 21610]);
    expect(harness.logs.join('')).toMatch(/alert delivered, but not completely/);
  }, 60_000);
});

describe('SMS numbers in kevin-deploy.yml', () => {
  it('a number that is not E.164 is a `config check` error with its file, line and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-sms-config-'));
    try {
      const path = join(dir, 'kevin-deploy.yml');
      const text = [
        'version: 1',
        'alerting:',
        '  sms:',
        "    to: ['+15555550101']",
        'services:',
        '  kevinstamp:',
        '    platform: { accountId: acc-123, scriptName: kevinstamp }',
        '    productionUrl: https://kevinstamp.com',
        '    alerts:',
        '      smsTo:',
        "        - '+15555550101'",
        '        - (555) 555-0102',
        '    environments:',
        '      production: {}',
        '',
      ].join('\n');
      writeFileSync(path, text);
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['config', 'check', '--config', path], { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: dir });
      expect(code, err.join('\n')).toBe(2);
      const stderr = err.join('\n');
      // The file as given, relative to the working directory; the line and column of the bad entry.
      expect(stderr).toContain('kevin-deploy.yml:12:11 services.kevinstamp.alerts.smsTo.1: ');
      expect(stderr).toMatch(/E\.164 form: \+ and the country code, digits only, e\.g\. \+15551234567/);

      writeFileSync(path, text.replace('(555) 555-0102', "'+15555550102'"));
      const good: string[] = [];
      expect(await main(['config', 'check', '--config', path], { out: (t) => good.push(t), err: (t) => good.push(t), env: {}, cwd: dir })).toBe(0);
      expect(good.join('\n')).toContain('ok — 1 target(s): kevinstamp/production');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
