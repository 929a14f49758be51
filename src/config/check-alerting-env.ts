import { isE164 } from '../domain/phone-number.ts';
import { parseDiscordWebhookUrl } from './discord-webhook-url.ts';
import type { ProblemList } from './problem-list.ts';

export interface CheckAlertingEnvInput {
  file: string;
  env: Readonly<Record<string, string | undefined>>;
  problems: ProblemList;
}

const URL_VARIABLES = ['MAILCHANNELS_API_URL', 'PAGERDUTY_API_URL', 'DISCORD_API_URL', 'TWILIO_API_URL'] as const;

/**
 * The alert channels' addresses come from the environment, not the file, but a typo there is as
 * silent as one in the file — until the first incident. `config check` reports them too.
 */
export function checkAlertingEnv({ file, env, problems }: CheckAlertingEnvInput): void {
  const webhook = env.DISCORD_WEBHOOK_URL;
  if (webhook) {
    const parsed = parseDiscordWebhookUrl(webhook);
    // The URL holds the webhook's secret token: the message never quotes it.
    if ('problem' in parsed) problems.add({ file, path: '$DISCORD_WEBHOOK_URL', message: `DISCORD_WEBHOOK_URL is not a Discord webhook URL: ${parsed.problem}` });
  }
  for (const name of URL_VARIABLES) {
    const value = env[name];
    if (!value) continue;
    let ok: boolean;
    try {
      ok = ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) problems.add({ file, path: `$${name}`, message: `${name} must be an http(s) URL, got "${value.slice(0, 80)}"` });
  }
  checkTwilioEnv(file, env, problems);
  const host = env.PAGERDUTY_EVENTS_HOST;
  if (host && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) {
    problems.add({ file, path: '$PAGERDUTY_EVENTS_HOST', message: `PAGERDUTY_EVENTS_HOST is host[:port] (PagerDuty's Events API is always HTTPS), e.g. events.pagerduty.com; got "${host.slice(0, 80)}"` });
  }
}

/** Twilio's identifiers have fixed shapes; the auth token is a secret and is never quoted. */
function checkTwilioEnv(file: string, env: CheckAlertingEnvInput['env'], problems: ProblemList): void {
  const sid = env.TWILIO_ACCOUNT_SID;
  if (sid && !/^AC[0-9a-fA-F]{32}$/.test(sid)) {
    problems.add({ file, path: '$TWILIO_ACCOUNT_SID', message: `TWILIO_ACCOUNT_SID is an account SID: AC and 32 hex digits${sid.startsWith('SK') ? ' (an API key SID starts with SK: use the account SID and its auth token)' : ''}` });
  }
  const from = env.TWILIO_FROM;
  if (from && !isE164(from)) problems.add({ file, path: '$TWILIO_FROM', message: `TWILIO_FROM must be a phone number in E.164 form, e.g. +15551234567; got "${from.slice(0, 40)}"` });
  const service = env.TWILIO_MESSAGING_SERVICE_SID;
  if (service && !/^MG[0-9a-fA-F]{32}$/.test(service)) {
    problems.add({ file, path: '$TWILIO_MESSAGING_SERVICE_SID', message: `TWILIO_MESSAGING_SERVICE_SID is a Messaging Service SID: MG and 32 hex digits; got "${service.slice(0, 40)}"` });
  }
}
