import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormatFor, MIN_SECRET_LENGTH, SECRET_ENV_NAMES, secretProblems, secretsToScrub } from '../../src/logger.ts';

/** A logger writing into memory, built the way `serve` builds it: from the environment. */
function capture(options: Parameters<typeof createLogger>[0]): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, log: createLogger({ ...options, destination }) };
}

const WEBHOOK_TOKEN = 'dschook-SEKRET-7a7a7a7a7a7a7a7a';

describe('secretsToScrub: the one list of secret values, for every mode', () => {
  it('lists every secret variable of the contract, each comma-separated part, the API-token variables and a webhook URL’s token', () => {
    const env: Record<string, string> = {
      KEVIN_DEPLOY_API_TOKEN: 'kdapi-aaaaaaaa',
      CLOUDFLARE_API_TOKEN: 'cftok-bbbbbbbb',
      SLACK_BOT_TOKEN: 'xoxb-cccccccc',
      SLACK_SIGNING_SECRET: 'Zq9x',
      SLACK_APP_TOKEN: 'xapp-dddddddd',
      DISCORD_BOT_TOKEN: 'dsc-eeeeeeee',
      DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/112233445566778899/${WEBHOOK_TOKEN}`,
      PAGERDUTY_ROUTING_KEY: 'pdrk-ffffffff',
      PAGERDUTY_API_TOKEN: 'pdapi-gggggggg',
      PAGERDUTY_WEBHOOK_SECRET: 'pdwh-old-11111111, pdwh-new-22222222',
      MAILCHANNELS_API_KEY: 'k7Wp2',
      TWILIO_AUTH_TOKEN: 'twtok-jjjjjjjj',
      KD_TOKEN_ALICE: 'tok-alice-hhhhhhhh',
      NOT_A_SECRET: 'plain-value-iiiiiii',
    };
    const listed = secretsToScrub(env, ['KD_TOKEN_ALICE']);
    for (const name of SECRET_ENV_NAMES) expect(listed, name).toContain(env[name]);
    expect(listed).toContain('pdwh-old-11111111');
    expect(listed).toContain('pdwh-new-22222222');
    expect(listed).toContain(WEBHOOK_TOKEN);
    expect(listed).toContain('tok-alice-hhhhhhhh');
    expect(listed).not.toContain('plain-value-iiiiiii');
    // Longest first: a secret that contains another is scrubbed whole.
    expect([...listed].sort((a, b) => b.length - a.length)).toEqual(listed);
  });

  it('ignores variables that are unset or empty', () => {
    expect(secretsToScrub({ SLACK_BOT_TOKEN: '', PAGERDUTY_WEBHOOK_SECRET: ' , ' }, ['KD_TOKEN_MISSING'])).toEqual([' , ']);
  });
});

describe('secretProblems: secrets too short to keep out of the logs', () => {
  it(`refuses a secret, or a part of a comma list, under ${MIN_SECRET_LENGTH} characters, naming the variable`, () => {
    const problems = secretProblems({ SLACK_SIGNING_SECRET: 'x', PAGERDUTY_WEBHOOK_SECRET: 'pdwh-long-secret,ab', KD_TOKEN_BOB: '123' }, ['KD_TOKEN_BOB']);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^SLACK_SIGNING_SECRET is 1 character long: a secret needs at least 4/);
    expect(problems.find((p) => p.startsWith('PAGERDUTY_WEBHOOK_SECRET'))).toMatch(/has a part that is 2 characters long/);
    expect(problems.find((p) => p.startsWith('KD_TOKEN_BOB'))).toMatch(/is 3 characters long/);
  });

  it(`accepts ${MIN_SECRET_LENGTH} characters and more`, () => {
    expect(secretProblems({ SLACK_SIGNING_SECRET: 'Zq9x', PAGERDUTY_WEBHOOK_SECRET: 'abcd,efghi' })).toEqual([]);
  });
});

describe('createLogger scrubs every secret of the environment', () => {
  const env = {
    LOG_LEVEL: 'debug',
    SLACK_SIGNING_SECRET: 'Zq9x',
    MAILCHANNELS_API_KEY: 'k7Wp2',
    PAGERDUTY_WEBHOOK_SECRET: 'pdwh-old-11111111,pdwh-new-22222222',
    PAGERDUTY_ROUTING_KEY: 'R0UT1NG-"quoted"\\key',
    TWILIO_AUTH_TOKEN: 'twilio-auth-0f0f0f0f0f',
    DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/112233445566778899/${WEBHOOK_TOKEN}`,
    KD_TOKEN_OPS: 'tok-ops-0123456789',
  };

  it('short ones (4–5 characters) where they stand alone, long ones anywhere; each part of a comma list; the lines stay JSON', () => {
    const { lines, log } = capture({ env, apiTokenEnvNames: ['KD_TOKEN_OPS'] });
    log.debug({ url: '/nothing/Zq9x' }, 'request');
    log.info({ url: '/hooks?key=k7Wp2&x=1' }, 'request k7Wp2');
    log.warn('rotating from pdwh-new-22222222 (was pdwh-old-11111111)');
    log.error({ err: new Error(`POST /webhooks/112233445566778899/${WEBHOOK_TOKEN} failed`) }, 'discord');
    log.debug({ url: `/nothing/${encodeURIComponent(env.PAGERDUTY_WEBHOOK_SECRET)}` }, 'request');
    log.info({ presented: 'Bearer tok-ops-0123456789', quoted: env.PAGERDUTY_ROUTING_KEY }, 'auth');
    log.warn({ error: 'Twilio answered 401 for AC00/twilio-auth-0f0f0f0f0f' }, 'alert delivery failed; will retry');
    const all = lines.join('\n');
    for (const value of ['Zq9x', 'k7Wp2', 'pdwh-old-11111111', 'pdwh-new-22222222', 'pdwh-old-11111111%2Cpdwh-new-22222222', WEBHOOK_TOKEN, 'tok-ops-0123456789', 'R0UT1NG', 'twilio-auth-0f0f0f0f0f']) {
      expect(all, value).not.toContain(value);
    }
    expect(all).toContain('/nothing/[redacted]');
    expect(all).toContain('key=[redacted]&x=1');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('leaves ordinary words, numbers and keys alone when a short secret is part of them', () => {
    const { lines, log } = capture({ env: { SLACK_SIGNING_SECRET: 'prod', PAGERDUTY_API_TOKEN: '2026' }, secrets: [] });
    log.info({ prod: 1, attempt: 2026, env: 'production' }, 'deploying to production');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ prod: 1, attempt: 2026, env: 'production', msg: 'deploying to production' });
    expect(Number.isNaN(Date.parse(line.time as string)), `time: ${String(line.time)}`).toBe(false);
  });

  it('scrubs extra values handed to it, such as a token the sandbox made up', () => {
    const { lines, log } = capture({ env: {}, secrets: ['kd_sandbox_abcdefghijklmnop'] });
    log.info('token kd_sandbox_abcdefghijklmnop');
    expect(lines[0]).toContain('token [redacted]');
  });
});

describe('LOG_FORMAT', () => {
  it('is pretty at a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormatFor({}, true)).toBe('pretty');
    expect(logFormatFor({}, false)).toBe('json');
    expect(logFormatFor({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFor({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormatFor({ LOG_FORMAT: 'PRETTY' }, false)).toBe('pretty');
    expect(() => logFormatFor({ LOG_FORMAT: 'yaml' }, false)).toThrow('LOG_FORMAT must be json or pretty; got "yaml"');
  });

  it('pretty: one readable line per entry with a UTC time, the level and the message — still scrubbed', () => {
    const { lines, log } = capture({ env: { SLACK_SIGNING_SECRET: 'Zq9x' }, format: 'pretty' });
    log.warn({ channel: 'email' }, 'email is off: Zq9x');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\] WARN: email is off: \[redacted\] \{"channel":"email"\}$/);
  });
});
