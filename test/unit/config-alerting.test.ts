import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../src/config/load-config.ts';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../kevin-deploy.example.yml', import.meta.url)), 'utf8');
const ENV = { CLOUDFLARE_ACCOUNT_ID: 'acc-123', KEVIN_DEPLOY_API_TOKEN: 'secret-ops', KEVIN_DEPLOY_CI_TOKEN: 'secret-ci' };
const WEBHOOK_TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz0123';

function load(text: string, env: Record<string, string> = ENV): LoadResult {
  return loadConfig({ path: 'kevin-deploy.yml', text, env });
}

function problemsOf(result: LoadResult): Array<{ path: string; line: number | undefined; message: string }> {
  if (result.ok) throw new Error('expected problems, but the config loaded');
  return result.problems.map((p) => ({ path: p.path, line: p.line, message: p.message }));
}

const MINIMAL = (alerts: string, alerting = '') => `
${alerting}services:
  kevinstamp:
    platform: { scriptName: kevinstamp }
    productionUrl: https://kevinstamp.com
${alerts}
    environments:
      production: {}
`;

describe('config: alerts and alerting', () => {
  it('defaults to the seed tiers, escalation times and community announcements', () => {
    const result = load(MINIMAL(''));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const alerts = result.config.services.get('kevinstamp')!.environments.get('production')!.alerts;
    expect(alerts.routes).toEqual({
      info: ['slack'],
      warning: ['slack', 'email'],
      critical: ['slack', 'email', 'pagerduty'],
      emergency: ['slack', 'email', 'pagerduty', 'discord', 'sms'],
    });
    expect(alerts.acknowledgeWithin).toEqual({ warning: 30 * 60_000, critical: 15 * 60_000 });
    expect(alerts.community).toEqual({ announceUpcoming: false, announceReleased: true, announceRollbacks: true });
    expect(result.config.alerting.retry).toEqual({ initialBackoff: 2_000, maxBackoff: 300_000 });
    expect(result.config.alerting.sms).toEqual({ to: [] });
    expect(alerts.smsTo).toBeUndefined();
  });

  it('the example configures every alert channel and loads', () => {
    const result = load(EXAMPLE);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.alerting).toMatchObject({
      slack: { channel: 'C0KEVINALERTS', mention: ['S0KEVINONCALL'] },
      email: { from: 'deploy@kevinstamp.com' },
      pagerduty: { escalationPolicyId: 'PKEVIN1' },
      discord: { channelId: '112233445566778899', applicationId: '998877665544332211' },
      sms: { to: ['+15555550100'] },
    });
    expect(result.config.services.get('kevinstamp')!.environments.get('production')!.alerts.emailTo).toEqual(['ops@kevinstamp.com']);
  });

  it('an unknown channel in a route names the key and its line', () => {
    const problems = problemsOf(load(MINIMAL('    alerts:\n      routes:\n        critical: [slack, pager-duty]')));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('services.kevinstamp.alerts.routes.critical.1');
    expect(problems[0]!.line).toBe(8);
    expect(problems[0]!.message).toMatch(/pagerduty/);
  });

  it('a typo in a key is an error with a suggestion', () => {
    const problems = problemsOf(load(MINIMAL('    alerts:\n      acknowledgeWithn:\n        warning: 10m')));
    expect(problems[0]!.path).toBe('services.kevinstamp.alerts.acknowledgeWithn');
    expect(problems[0]!.message).toMatch(/acknowledgeWithin/);
  });

  it('refuses a channel named twice, a bad recipient, a bad Discord id and a Slack #name', () => {
    const problems = problemsOf(
      load(
        MINIMAL(
          '    alerts:\n      routes:\n        warning: [email, email]\n      emailTo: [not-an-address]',
          'alerting:\n  discord:\n    channelId: community\n  slack:\n    channel: "#alerts"\n',
        ),
      ),
    );
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual(['alerting.discord.channelId', 'alerting.slack.channel', 'services.kevinstamp.alerts.emailTo.0', 'services.kevinstamp.alerts.routes.warning']);
  });

  it('a malformed DISCORD_WEBHOOK_URL fails the check without quoting its secret token', () => {
    const bad = `https://example.com/api/webhooks/112233445566778899/${WEBHOOK_TOKEN}`;
    const problems = problemsOf(load(MINIMAL(''), { ...ENV, DISCORD_WEBHOOK_URL: bad }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('$DISCORD_WEBHOOK_URL');
    expect(problems[0]!.message).toMatch(/DISCORD_WEBHOOK_URL is not a Discord webhook URL/);
    expect(problems[0]!.message).not.toContain(WEBHOOK_TOKEN);
    expect(load(MINIMAL(''), { ...ENV, DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/112233445566778899/${WEBHOOK_TOKEN}` }).ok).toBe(true);
  });

  it('refuses alert endpoints that are not URLs, and an events host with a scheme', () => {
    const problems = problemsOf(load(MINIMAL(''), { ...ENV, MAILCHANNELS_API_URL: 'api.mailchannels.net', PAGERDUTY_EVENTS_HOST: 'https://events.pagerduty.com' }));
    expect(problems.map((p) => p.path).sort()).toEqual(['$MAILCHANNELS_API_URL', '$PAGERDUTY_EVENTS_HOST']);
    expect(problems.find((p) => p.path === '$PAGERDUTY_EVENTS_HOST')!.message).toMatch(/host\[:port\]/);
  });

  describe('SMS', () => {
    it('numbers in E.164 at alerting.sms.to and per target at alerts.smsTo (the environment replacing the service)', () => {
      const text = MINIMAL("    alerts:\n      smsTo: ['+15551234567', '+447700900123']\n", "alerting:\n  sms:\n    to: ['+15550001111']\n").replace(
        '      production: {}',
        "      production:\n        alerts:\n          smsTo: ['+15559998888']\n      staging: {}",
      );
      const result = load(text);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.config.alerting.sms.to).toEqual(['+15550001111']);
      const service = result.config.services.get('kevinstamp')!;
      expect(service.environments.get('production')!.alerts.smsTo).toEqual(['+15559998888']);
      expect(service.environments.get('staging')!.alerts.smsTo).toEqual(['+15551234567', '+447700900123']);
    });

    it('a number that is not E.164 is an error naming the key and its line, saying what the form is', () => {
      const text = MINIMAL("    alerts:\n      smsTo:\n        - '+15551234567'\n        - 555-123-4567\n");
      const problems = problemsOf(load(text));
      expect(problems).toHaveLength(1);
      expect(problems[0]!.path).toBe('services.kevinstamp.alerts.smsTo.1');
      expect(problems[0]!.line).toBe(text.split('\n').findIndex((l) => l.includes('555-123-4567')) + 1);
      expect(problems[0]!.message).toMatch(/E\.164 form: \+ and the country code, digits only, e\.g\. \+15551234567/);
    });

    it('alerting.sms.to is checked too: a missing +, a leading 0, spaces and a number listed twice', () => {
      const alerting = "alerting:\n  sms:\n    to: ['15551234567', '+0551234567', '+1 555 123 4567', '+15551234567', '+15551234567']\n";
      const problems = problemsOf(load(MINIMAL('', alerting)));
      expect(problems.map((p) => p.path).sort()).toEqual(['alerting.sms.to', 'alerting.sms.to.0', 'alerting.sms.to.1', 'alerting.sms.to.2']);
      expect(problems.every((p) => p.line === 4)).toBe(true);
      expect(problems.find((p) => p.path === 'alerting.sms.to')!.message).toMatch(/name each number once/);
    });

    it('an unknown key under alerting.sms is a typo with its line', () => {
      const problems = problemsOf(load(MINIMAL('', "alerting:\n  sms:\n    too: ['+15551234567']\n")));
      expect(problems[0]!.path).toBe('alerting.sms.too');
      expect(problems[0]!.line).toBe(4);
    });

    it("Twilio's identifiers from the environment are checked; the auth token is never quoted", () => {
      const token = 'twilio-auth-token-0123456789';
      const problems = problemsOf(
        load(MINIMAL(''), { ...ENV, TWILIO_ACCOUNT_SID: 'SK0123', TWILIO_AUTH_TOKEN: token, TWILIO_FROM: '555 1234', TWILIO_MESSAGING_SERVICE_SID: 'MG1', TWILIO_API_URL: 'api.twilio.com' }),
      );
      expect(problems.map((p) => p.path).sort()).toEqual(['$TWILIO_ACCOUNT_SID', '$TWILIO_API_URL', '$TWILIO_FROM', '$TWILIO_MESSAGING_SERVICE_SID']);
      expect(problems.find((p) => p.path === '$TWILIO_ACCOUNT_SID')!.message).toMatch(/an API key SID starts with SK/);
      expect(JSON.stringify(problems)).not.toContain(token);
      const good = { ...ENV, TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`, TWILIO_AUTH_TOKEN: token, TWILIO_FROM: '+15005550006', TWILIO_API_URL: 'http://127.0.0.1:9' };
      expect(load(MINIMAL(''), good).ok).toBe(true);
    });
  });
});
