import type { AlertChannelName } from '../src/domain/alert.ts';
import type { EdgeInfo } from './edge-info.ts';

const CHANNEL_NAMES: Record<AlertChannelName, string> = { slack: 'Slack', email: 'email', pagerduty: 'PagerDuty', discord: 'Discord', sms: 'SMS' };

interface BannerFacts {
  url: string;
  edge: EdgeInfo;
  tokenFile: string | undefined;
  envPrefix: string;
  /** Sent for real, delivered to local sinks (no account: shown in the console's Outbox), and off. */
  alerts: { on: AlertChannelName[]; local: AlertChannelName[]; off: AlertChannelName[] };
  fourEyes: boolean;
}

/**
 * What `npm start` prints once the sandbox serves: where everything is (the console too), what
 * the sandbox does differently on purpose (four-eyes off, alerts without an account kept local),
 * and the commands to try.
 */
export function banner(facts: BannerFacts): string {
  const env = facts.envPrefix ? `${facts.envPrefix} ` : '';
  const names = (channels: AlertChannelName[]) => listInWords(channels.map((c) => CHANNEL_NAMES[c]));
  const { on, local, off } = facts.alerts;
  const alerts =
    [
      on.length > 0 ? `sent to ${names(on)}` : '',
      local.length > 0
        ? `${names(local)} ${local.length === 1 ? 'has no account here, so it goes' : 'have no account here, so they go'} to local sinks, seen in the console's Outbox at ${facts.url}/console/outbox`
        : '',
      off.length > 0 ? `${names(off)} ${off.length === 1 ? 'is' : 'are'} off (not configured)` : '',
    ]
      .filter(Boolean)
      .join('; ') || 'none configured';
  const token = facts.tokenFile ? `the API token in ${facts.tokenFile}` : 'the API token from $KEVIN_DEPLOY_API_TOKEN';
  return [
    '',
    `kevin-deploy sandbox is running — no Cloudflare, Slack or PagerDuty account needed.`,
    `  bot        ${facts.url}   (API, /metrics, /healthz)`,
    `  console    ${facts.url}/console   (sign in with ${token})`,
    `  KEVINSTAMP ${facts.edge.trafficUrl}   (the local edge with synthetic traffic; see: npx kevin-deploy sandbox status)`,
    ...(facts.edge.routes
      ? [
          `  routes     ${facts.edge.routes.patterns.join(', ')} switch between ${facts.edge.routes.scripts.join(' and ')} ` +
            `(${Object.entries(facts.edge.routes.scriptUrls).map(([script, url]) => `${script} at ${url}`).join(', ')}); uploads go to the Worker without routes`,
        ]
      : []),
    facts.tokenFile ? `  API token  in ${facts.tokenFile} (the CLI reads it by itself for ${facts.url})` : `  API token  from $KEVIN_DEPLOY_API_TOKEN`,
    facts.fourEyes
      ? `  approvals  four-eyes is on: someone other than who deployed must approve`
      : `  approvals  four-eyes is off in the sandbox: you may approve your own release (protected environments such as production have it on by default)`,
    `  alerts     ${alerts}`,
    '',
    'Try a release, in another terminal:',
    `  ${env}npx kevin-deploy sandbox upload --tag v2     # like CI: wrangler versions upload --tag v2`,
    `  ${env}npx kevin-deploy deploy kevinstamp v2 --env production`,
    `  ${env}npx kevin-deploy approve <id>           # the id printed by deploy`,
    `  ${env}npx kevin-deploy status <id> --follow   # watch it switch, monitor and succeed`,
    `Break one on purpose: ${env}npx kevin-deploy sandbox upload --tag v3 --behavior fails-after-traffic`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

function listInWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
