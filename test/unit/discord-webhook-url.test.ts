import { describe, expect, it } from 'vitest';
import { isWebhookUrlProblem, parseDiscordWebhookUrl } from '../../src/config/discord-webhook-url.ts';

const ID = '1234567890123456789';
const TOKEN = 'AbCdEf-_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV_x';

function problemOf(url: string): string {
  const result = parseDiscordWebhookUrl(url);
  if (!isWebhookUrlProblem(result)) throw new Error(`expected a problem for ${url}`);
  return result.problem;
}

describe('parseDiscordWebhookUrl', () => {
  it.each([
    `https://discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://discordapp.com/api/webhooks/${ID}/${TOKEN}`,
    `https://ptb.discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://canary.discord.com/api/webhooks/${ID}/${TOKEN}`,
    `https://canary.discordapp.com/api/webhooks/${ID}/${TOKEN}`,
    `https://discord.com/api/v10/webhooks/${ID}/${TOKEN}`,
    `https://discord.com/api/v9/webhooks/${ID}/${TOKEN}/`,
    `  https://DISCORD.com/api/webhooks/${ID}/${TOKEN}\n`,
  ])('reads the id and token of %s', (url) => {
    expect(parseDiscordWebhookUrl(url)).toEqual({ id: ID, token: TOKEN });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['discord.com/api/webhooks/1/2', /not a URL/],
    [`http://discord.com/api/webhooks/${ID}/${TOKEN}`, /must use https/],
    [`https://discord.com.evil.example/api/webhooks/${ID}/${TOKEN}`, /points at discord\.com\.evil\.example, not Discord/],
    [`https://discord.com:8443/api/webhooks/${ID}/${TOKEN}`, /not Discord/],
    [`https://127.0.0.1/api/webhooks/${ID}/${TOKEN}`, /DISCORD_API_URL/],
    [`https://user:pw@discord.com/api/webhooks/${ID}/${TOKEN}`, /user name or password/],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}?thread_id=1`, /query string/],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}/slack`, /Slack- or GitHub-compatible/],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN}/github`, /Slack- or GitHub-compatible/],
    [`https://discord.com/api/webhooks/${ID}`, /not a webhook URL/],
    [`https://discord.com/channels/${ID}/${ID}`, /not a webhook URL/],
    [`https://discord.com/api/webhooks/12345/${TOKEN}`, /not a Discord id/],
    [`https://discord.com/api/webhooks/${ID}/short`, /cut off or mangled/],
    [`https://discord.com/api/webhooks/${ID}/${TOKEN.slice(0, 30)}%20%20`, /cut off or mangled/],
  ])('explains what is wrong with %j', (url, expected) => {
    const problem = problemOf(url);
    expect(problem).toMatch(expected);
    // Every problem says what a right one looks like.
    expect(problem).toContain('https://discord.com/api/webhooks/<id>/<token>');
  });

  it('never repeats the token (the URL is the secret) in a problem', () => {
    const urls = [
      `http://discord.com/api/webhooks/${ID}/${TOKEN}`,
      `https://evil.example/api/webhooks/${ID}/${TOKEN}`,
      `https://discord.com/api/webhooks/${ID}/${TOKEN}?x=1`,
      `https://discord.com/api/webhooks/${ID}/${TOKEN}/slack`,
      `https://discord.com/api/webhooks/123/${TOKEN}`,
      `https://discord.com/api/webhooks/${ID}/${TOKEN}!`,
    ];
    for (const url of urls) {
      const problem = problemOf(url);
      expect(problem).not.toContain(TOKEN);
      expect(problem).not.toContain(TOKEN.slice(0, 20));
    }
  });
});
