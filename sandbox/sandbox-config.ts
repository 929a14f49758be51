import { loadConfig } from '../src/config/load-config.ts';
import type { KevinDeployConfig } from '../src/config/schema.ts';

export const SANDBOX_ACCOUNT_ID = '0123456789abcdef0123456789abcdef';
export const SANDBOX_SCRIPT = 'kevinstamp';
/** KEVIN_DEPLOY_SANDBOX_PLATFORM=routes: blue and green as two Workers behind the zone's routes. */
export const SANDBOX_ZONE_ID = 'fedcba9876543210fedcba9876543210';
export const SANDBOX_ZONE = 'kevinstamp.com';
export const SANDBOX_BLUE = 'kevinstamp-blue';
export const SANDBOX_GREEN = 'kevinstamp-green';
export const SANDBOX_ROUTES = ['kevinstamp.com/*', 'www.kevinstamp.com/*'];

/**
 * The configuration the sandbox runs with when no kevin-deploy.yml exists: the KEVINSTAMP
 * service with short timings, so a whole release fits in a minute ('standard'), or in seconds
 * ('fast', for the demo and the e2e tests). It goes through the same loader as a real file, so
 * the sandbox can never run with settings a real file could not express.
 */
export type SandboxProfile = 'standard' | 'fast';

/**
 * Alert channels besides Slack that the sandbox routes alerts to. `npm start` routes all of them:
 * a channel without an account delivers to a local sink, seen in the console's Outbox.
 */
export interface SandboxAlertChannels {
  email: boolean;
  pagerduty: boolean;
  discord: boolean;
  /** Optional so a caller that predates SMS keeps its routes. */
  sms?: boolean;
}

export function sandboxConfig(options: {
  productionUrl: string;
  profile?: SandboxProfile;
  slackChannel?: string | undefined;
  alertChannels?: SandboxAlertChannels;
  /** Blue and green as two Workers: each Worker's own address, where green is checked before the routes move. */
  routes?: { scriptUrls: Record<string, string> } | undefined;
}): KevinDeployConfig {
  const fast = options.profile === 'fast';
  // Slack is optional in the sandbox too (SLACK_BOT_TOKEN, …); its channel comes from the environment.
  const slack = options.slackChannel ? `slack:\n  channel: ${JSON.stringify(options.slackChannel)}\n` : '';
  // Alerts go only to channels that exist, so the sandbox does not warn at every start about the
  // ones left out on purpose. Slack stays in every route: it never warns, and its "skipped —
  // set SLACK_BOT_TOKEN" in `kevin-deploy alerts` says how to see alerts in Slack.
  const on = options.alertChannels ?? { email: false, pagerduty: false, discord: false };
  const route = (...channels: Array<'email' | 'pagerduty' | 'discord' | 'sms'>) => `[${['slack', ...channels.filter((c) => on[c])].join(', ')}]`;
  const text = `
version: 1
# The sandbox's API token is a file anyone in this checkout can read: serve this machine only.
server:
  host: 127.0.0.1
${slack}alerting:
  # Used only when MAILCHANNELS_API_KEY is set; nothing is mailed otherwise.
  email:
    from: kevin-deploy@sandbox.kevinstamp.invalid
  # Used only when TWILIO_* is set; 555-01xx numbers are fictional, nothing is texted otherwise.
  sms:
    to: ['+15555550100']
services:
  kevinstamp:
    platform:
${options.routes ? routesPlatform(options.routes.scriptUrls) : workersPlatform}
    productionUrl: ${options.productionUrl}
    contentChecks:
      - path: /
        contains: KEVIN
    health:
      attempts: 5
      interval: ${fast ? '200ms' : '2s'}
      # In the fast profile a watch (two intervals plus this timeout) stays shorter than the window.
      timeout: ${fast ? '1s' : '3s'}
    monitor:
      window: ${fast ? '3s' : '30s'}
      interval: ${fast ? '250ms' : '3s'}
      # The sample site's /metrics, read per version through the edge (errorRate %, avgResponseTime ms).
      metrics: { source: app-json, path: /metrics }
      minRequests: 5
      onInconclusive: pause
      triggers:
        errorRate: { thresholdPercent: 5, sustainedFor: ${fast ? '1s' : '9s'} }
        responseTime: { thresholdMs: 2000, sustainedFor: ${fast ? '1s' : '6s'} }
        healthFailures: { consecutive: 3 }
        content: { enabled: true }
    rollback:
      verifyAttempts: 5
      verifyInterval: ${fast ? '200ms' : '1s'}
    switch:
      attempts: 5
      backoff: ${fast ? '100ms' : '1s'}
    alerts:
      emailTo: [ops@sandbox.kevinstamp.invalid]
      routes:
        info: [slack]
        warning: ${route('email')}
        critical: ${route('email', 'pagerduty')}
        emergency: ${route('email', 'pagerduty', 'discord', 'sms')}
    environments:
      production:
        approval:
          mode: manual
          fourEyes: false
`;
  const result = loadConfig({ path: 'sandbox defaults', text, env: {} });
  if (!result.ok) throw new Error(`the built-in sandbox configuration is invalid: ${result.problems.map((p) => p.message).join('; ')}`);
  return result.config;
}

const workersPlatform = `      type: cloudflare-workers
      accountId: ${SANDBOX_ACCOUNT_ID}
      scriptName: ${SANDBOX_SCRIPT}`;

function routesPlatform(scriptUrls: Record<string, string>): string {
  return [
    'type: cloudflare-workers-routes',
    `accountId: ${SANDBOX_ACCOUNT_ID}`,
    `zoneId: ${SANDBOX_ZONE_ID}`,
    `scripts: [${SANDBOX_BLUE}, ${SANDBOX_GREEN}]`,
    `routes: [${SANDBOX_ROUTES.map((r) => `'${r}'`).join(', ')}]`,
    'stagingUrls:',
    ...Object.entries(scriptUrls).map(([script, url]) => `  ${script}: ${url}`),
  ]
    .map((line) => `      ${line}`)
    .join('\n');
}
