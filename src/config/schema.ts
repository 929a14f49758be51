import { z } from 'zod';
import { durationOf } from './duration.ts';
import { ALERT_CHANNELS } from '../domain/alert.ts';
import { E164_PATTERN } from '../domain/phone-number.ts';
import { ROLES } from '../domain/policy.ts';
import type { ReleaseSettings } from '../domain/release-settings.ts';

/**
 * The configuration file's schema. Every object is strict so a typo ("helth:") is an error that
 * names the key and its line instead of a silently ignored setting.
 *
 * A service's settings are written once at service level and overridden per environment; the
 * loader deep-merges the raw YAML (environment over service) and validates each merged
 * environment against `targetSettingsSchema`. Defaults are the seed strategy's numbers.
 */

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const nameMessage = 'use lowercase letters, digits and dashes, starting with a letter or digit';

/**
 * Who may do something: an actor name, `role:<role>`, `slack:<user id>`, `slack-group:<user group
 * id>`, or `*` for every authenticated actor.
 */
const principal = z
  .string()
  .min(1)
  .refine((value) => !value.startsWith('slack:') || /^slack:[UW][A-Z0-9]{2,}$/.test(value), {
    message: 'a Slack user principal is slack:<user id>, e.g. slack:U0123ABCD',
  })
  .refine((value) => !value.startsWith('slack-group:') || /^slack-group:S[A-Z0-9]{2,}$/.test(value), {
    message: 'a Slack user group principal is slack-group:<group id>, e.g. slack-group:S0123ABCD',
  })
  .refine((value) => !value.startsWith('role:') || (ROLES as readonly string[]).includes(value.slice(5)), {
    message: `a role principal must be one of ${ROLES.map((r) => `role:${r}`).join(', ')}`,
  });

const reachSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    /** Put green in the deployment at 0 % and send `Cloudflare-Workers-Version-Overrides` to the production URL. */
    mode: z.literal('version-override'),
  }),
  z.strictObject({
    /** Reach green at its preview URL (previews must be enabled on the Worker). */
    mode: z.literal('preview-url'),
    urlTemplate: z
      .string()
      .default('https://{versionPrefix}-{scriptName}.{subdomain}.workers.dev')
      .refine((t) => t.includes('{versionPrefix}') || t.includes('{versionId}'), {
        message: 'the template must contain {versionPrefix} or {versionId}',
      }),
  }),
]);

const workerName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a Worker script name: letters, digits, _ and -');

/** One Worker; a release splits its traffic between two versions by percentage. */
const workersPlatformSchema = z.strictObject({
  type: z.literal('cloudflare-workers').default('cloudflare-workers'),
  /** Falls back to $CLOUDFLARE_ACCOUNT_ID when omitted. */
  accountId: z.string().min(1).optional(),
  scriptName: workerName,
  reach: reachSchema.prefault({ mode: 'version-override' }),
});

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/, 'a hostname such as shop.kevinstamp.com (lowercase, no scheme, no path)');

const uniqueList = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).refine((list) => new Set(list).size === list.length, { message: 'name each one once' });

/**
 * Blue and green as two Workers, switched by pointing the zone's Workers routes (and custom
 * domains) at one or the other: for releases a version rollback cannot undo (a Durable Object
 * migration, removed bindings) or beyond the newest versions Cloudflare can roll back to.
 */
const routesPlatformSchema = z
  .strictObject({
    type: z.literal('cloudflare-workers-routes'),
    /** Falls back to $CLOUDFLARE_ACCOUNT_ID when omitted. */
    accountId: z.string().min(1).optional(),
    /** The zone whose routes move (the token needs "Workers Routes: Edit" on it). */
    zoneId: z.string().regex(/^[0-9a-f]{32}$/, 'a Cloudflare zone id: 32 hexadecimal characters'),
    /** The two Workers; whichever the routes point at is blue, the other takes the next release. */
    scripts: uniqueList(workerName).refine((list) => list.length === 2, {
      message: 'name exactly two Workers: blue and green, e.g. [kevinstamp-blue, kevinstamp-green]',
    }),
    /** Route patterns as Cloudflare lists them (e.g. kevinstamp.com/*); every one moves at each switch. */
    routes: uniqueList(z.string().min(1).regex(/^[^\s/]+(\/\S*)?$/, 'a route pattern such as kevinstamp.com/*')).default([]),
    /** Workers custom domains (hostnames) that move with the routes. */
    customDomains: uniqueList(hostname).default([]),
    /** Where each Worker is checked before it has users; defaults to https://<script>.<subdomain>.workers.dev. */
    stagingUrls: z.record(workerName, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://kevinstamp-green.example.workers.dev' })).optional(),
  })
  .superRefine((platform, ctx) => {
    if (platform.routes.length === 0 && platform.customDomains.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['routes'], message: 'name at least one route (or a custom domain): they are what a switch moves' });
    }
    for (const script of Object.keys(platform.stagingUrls ?? {})) {
      if (!platform.scripts.includes(script)) {
        ctx.addIssue({ code: 'custom', path: ['stagingUrls', script], message: `"${script}" is not one of scripts (${platform.scripts.join(', ')})` });
      }
    }
  });

const platformSchema = z.discriminatedUnion('type', [workersPlatformSchema, routesPlatformSchema]);

const healthSchema = z.strictObject({
  paths: z
    .strictObject({
      health: z.string().startsWith('/').default('/health'),
      /** null skips the detailed check. */
      detailed: z.string().startsWith('/').nullable().default('/health/detailed'),
      /** null skips the readiness check. */
      ready: z.string().startsWith('/').nullable().default('/ready'),
    })
    .prefault({}),
  timeout: durationOf('request').prefault('5s'),
  attempts: z.int().min(1).max(1000).default(30),
  interval: durationOf('pause').prefault('10s'),
});

const contentCheckSchema = z.strictObject({
  path: z.string().startsWith('/'),
  contains: z.string().min(1),
});

const approvalSchema = z.strictObject({
  mode: z.enum(['manual', 'auto']).default('manual'),
  approvers: z.array(principal).min(1).default(['role:approver']),
  /** The requester may not approve their own release. Defaults to on for protected environments. */
  fourEyes: z.boolean().optional(),
  required: z.int().min(1).max(10).default(1),
  expiresAfter: durationOf('person').prefault('1h'),
});

const triggersSchema = z.strictObject({
  errorRate: z
    .strictObject({ thresholdPercent: z.number().min(0).max(100).default(5), sustainedFor: durationOf('watch').prefault('2m') })
    .prefault({}),
  responseTime: z
    .strictObject({ thresholdMs: z.number().positive().default(5000), sustainedFor: durationOf('watch').prefault('1m') })
    .prefault({}),
  healthFailures: z.strictObject({ consecutive: z.int().min(1).default(3) }).prefault({}),
  content: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** Canaries: green's error rate worse than blue's by more than this many points, sustained. Off unless written. */
  relativeErrorRate: z
    .strictObject({ maxPointsAboveBlue: z.number().min(0).max(100), sustainedFor: durationOf('watch').prefault('1m') })
    .optional(),
});

const promQuery = z.string().min(1).refine((q) => q.includes('{version}'), {
  message: 'the query must contain {version}, replaced by the version id, so blue and green are measured apart',
});

const metricsSchema = z.discriminatedUnion('source', [
  z.strictObject({
    /** The app's own /metrics JSON (the seed's shape: errorRate in percent, avgResponseTime in ms), read per version. */
    source: z.literal('app-json'),
    path: z.string().startsWith('/').default('/metrics'),
  }),
  z.strictObject({
    /** Instant PromQL queries over the Prometheus HTTP API, one per signal; {version} is replaced by the version id. */
    source: z.literal('prometheus'),
    url: z.url({ protocol: /^https?$/ }),
    errorRate: promQuery,
    avgResponseTime: promQuery,
    requests: promQuery,
  }),
  z.strictObject({
    /** Cloudflare's GraphQL Analytics API (workersInvocationsAdaptive), per script version. */
    source: z.literal('cloudflare-analytics'),
    /** How late Cloudflare's analytics are: each sample reads the interval that ended this long ago. */
    lag: durationOf('pause').prefault('2m'),
  }),
  z.strictObject({ source: z.literal('none') }),
]);

const monitorSchema = z.strictObject({
  window: durationOf('watch').prefault('5m'),
  interval: durationOf('pause').prefault('30s'),
  /** enforce: triggers act. shadow: triggers are evaluated and reported, never acted on. */
  mode: z.enum(['enforce', 'shadow']).default('enforce'),
  metrics: metricsSchema.prefault({ source: 'app-json' }),
  /** A sample with fewer requests than this is not judged (no traffic proves nothing). */
  minRequests: z.int().min(0).default(10),
  /** When the window ends without enough conclusive metric samples: never a silent pass. */
  onInconclusive: z.enum(['pause', 'extend', 'rollback']).default('pause'),
  triggers: triggersSchema.prefault({}),
});

const rollbackSchema = z.strictObject({
  /** Attempts at verifying blue's health once it has all traffic again. */
  verifyAttempts: z.int().min(1).max(1000).default(10),
  verifyInterval: durationOf('pause').prefault('3s'),
});

const switchSchema = z.strictObject({
  /** Attempts at a traffic change when Cloudflare answers 429/5xx or does not answer. */
  attempts: z.int().min(1).max(100).default(5),
  backoff: durationOf('pause').prefault('2s'),
});

const strategySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('blue-green') }),
  z.strictObject({
    type: z.literal('canary'),
    /** Percent of traffic on green per step, rising; the last is 100 (added when missing). */
    steps: z
      .array(z.int().min(1).max(100))
      .min(1)
      .refine((steps) => steps.every((s, i) => i === 0 || s > steps[i - 1]!), { message: 'steps must rise, e.g. [10, 50, 100]' }),
    /** How long each step is watched before the next; defaults to monitor.window. */
    bakeTime: durationOf('watch').optional(),
    /** Wait for a person (Promote / Abort) between steps. */
    manualGate: z.boolean().default(false),
  }),
]);

const accessSchema = z.strictObject({
  deploy: z.array(principal).min(1).default(['role:deployer']),
  rollback: z.array(principal).min(1).default(['role:deployer', 'role:approver']),
  lock: z.array(principal).min(1).default(['role:admin']),
});

const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'a Slack channel id such as C0123ABCD (not a #name)');

const alertChannelList = z.array(z.enum(ALERT_CHANNELS)).refine((list) => new Set(list).size === list.length, {
  message: 'name each channel once',
});

const emailAddress = z.email({ error: 'an email address such as ops@kevinstamp.com' });

/** SMS recipients: E.164 numbers, each once. */
const phoneNumbers = z
  .array(z.string().regex(E164_PATTERN, 'a phone number in E.164 form: + and the country code, digits only, e.g. +15551234567'))
  .refine((list) => new Set(list).size === list.length, { message: 'name each number once' });

/**
 * Who hears what, per target. Levels route to channels (the seed's tiers by default); `discord`
 * in a route means "tell the community", which only ever happens for a protected environment
 * and only in community words.
 */
const alertsSchema = z.strictObject({
  routes: z
    .strictObject({
      info: alertChannelList.default(['slack']),
      warning: alertChannelList.default(['slack', 'email']),
      critical: alertChannelList.default(['slack', 'email', 'pagerduty']),
      emergency: alertChannelList.default(['slack', 'email', 'pagerduty', 'discord', 'sms']),
    })
    .prefault({}),
  /** An alert of this level nobody acknowledges within this long escalates one level (warning → critical pages PagerDuty). */
  acknowledgeWithin: z
    .strictObject({
      warning: durationOf('person').optional(),
      critical: durationOf('person').optional(),
    })
    .prefault({ warning: '30m', critical: '15m' }),
  /** Recipients of this target's alert emails. */
  emailTo: z.array(emailAddress).default([]),
  /** Who this target's alert texts go to; replaces alerting.sms.to when written. */
  smsTo: phoneNumbers.optional(),
  community: z
    .strictObject({
      /** Tell the community before a production release takes traffic. */
      announceUpcoming: z.boolean().default(false),
      /** Tell the community after a production release succeeded ("KEVIN just got better"). */
      announceReleased: z.boolean().default(true),
      /** Tell the community about a rollback of a release users had traffic on, and when it is over. */
      announceRollbacks: z.boolean().default(true),
    })
    .prefault({}),
});

/** Settings of one service in one environment, after the environment was merged over the service. */
export const targetSettingsSchema = z.strictObject({
  /** The Slack channel for this target's deployment cards; defaults to slack.channel. */
  slackChannel: slackChannelId.optional(),
  platform: platformSchema,
  productionUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://kevinstamp.com' }),
  /** Environments named production or prod are protected unless this says otherwise. */
  protected: z.boolean().optional(),
  health: healthSchema.prefault({}),
  contentChecks: z.array(contentCheckSchema).default([{ path: '/', contains: 'KEVIN' }]),
  approval: approvalSchema.prefault({}),
  monitor: monitorSchema.prefault({}),
  switch: switchSchema.prefault({}),
  rollback: rollbackSchema.prefault({}),
  strategy: strategySchema.default({ type: 'blue-green' }),
  access: accessSchema.prefault({}),
  alerts: alertsSchema.prefault({}),
});

const apiTokenSchema = z.strictObject({
  /** The environment variable holding the secret; the token itself never appears in the file. */
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as KEVIN_DEPLOY_API_TOKEN'),
  actor: z.string().min(1),
  roles: z.array(z.enum(ROLES)).min(1),
});

const serverSchema = z.strictObject({
  /** $PORT wins over this. */
  port: z.int().min(0).max(65535).optional(),
  host: z.string().default('0.0.0.0'),
  /** Where people reach the bot; used in links. */
  publicUrl: z.url().optional(),
  /**
   * How long a replica holds a deployment's step before another may take it over: the most a
   * release waits after its replica died mid-step (renewed every third of it while a step runs).
   */
  leaseTtl: durationOf('request').prefault('15s'),
});

const slackUserOrGroup = z
  .string()
  .regex(/^([UW]|S)[A-Z0-9]{2,}$/, 'a Slack user id (U…) or user group id (S…)');

const slackSchema = z.strictObject({
  /** Where deployment cards are posted unless a target names its own slackChannel. */
  channel: slackChannelId.optional(),
  /** Roles for Slack users: user ids (U…) and user group ids (S…) per role. */
  roles: z
    .strictObject({
      deployer: z.array(slackUserOrGroup).default([]),
      approver: z.array(slackUserOrGroup).default([]),
      admin: z.array(slackUserOrGroup).default([]),
    })
    .prefault({}),
  /** Slack user id → actor name, so one person is one actor across Slack, the CLI and the API (four-eyes). */
  users: z.record(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id such as U0123ABCD'), z.string().min(1)).default({}),
  /** The least time between two updates of one channel (Slack allows about one message per second). */
  minUpdateInterval: durationOf('pause').prefault('1100ms'),
});

const discordSnowflake = z.string().regex(/^\d{17,20}$/, 'a Discord id (a snowflake such as 1234567890123456789)');

/**
 * The alert channels' own settings. Secrets are never written here: they come from the
 * environment (PAGERDUTY_ROUTING_KEY, MAILCHANNELS_API_KEY, DISCORD_BOT_TOKEN / DISCORD_WEBHOOK_URL,
 * TWILIO_AUTH_TOKEN, …).
 */
const alertingSchema = z.strictObject({
  slack: z
    .strictObject({
      /** The alerts channel (warning and above, with Acknowledge); defaults to slack.channel. */
      channel: slackChannelId.optional(),
      /** Mentioned on critical and emergency alerts when PagerDuty cannot say who is on call. */
      mention: z.array(slackUserOrGroup).default([]),
    })
    .prefault({}),
  email: z
    .strictObject({
      from: emailAddress.optional(),
      fromName: z.string().min(1).default('kevin-deploy'),
    })
    .prefault({}),
  pagerduty: z
    .strictObject({
      /** For the on-call lookup (needs PAGERDUTY_API_TOKEN): the Slack alert mentions who is on call. */
      escalationPolicyId: z.string().regex(/^P[A-Z0-9]{5,}$/, 'a PagerDuty escalation policy id such as PABC123').optional(),
    })
    .prefault({}),
  discord: z
    .strictObject({
      /** The community channel for a bot token (DISCORD_BOT_TOKEN); not needed with DISCORD_WEBHOOK_URL. */
      channelId: discordSnowflake.optional(),
      /** The application id, for registering the /kevin command. */
      applicationId: discordSnowflake.optional(),
    })
    .prefault({}),
  sms: z
    .strictObject({
      /** Who alert texts go to unless a target names its own (alerts.smsTo). Twilio's credentials come from TWILIO_*. */
      to: phoneNumbers.default([]),
    })
    .prefault({}),
  /** Delivery retries: the first wait, doubling up to the longest (a 429's Retry-After wins when longer). */
  retry: z
    .strictObject({
      initialBackoff: durationOf('pause').prefault('2s'),
      maxBackoff: durationOf('pause').prefault('5m'),
    })
    .prefault({}),
});

/**
 * The shape of the file as written, for validation of its structure and for the JSON Schema.
 * A service's settings and each environment's overrides are partial here; completeness is
 * checked after merging, per environment.
 */
const partialSettings = targetSettingsSchema.partial();

export const serviceFileSchema = partialSettings.extend({
  /** The environment a command uses when none is named (protected environments must be named). */
  defaultEnvironment: z.string().regex(NAME_PATTERN, nameMessage).optional(),
  environments: z.record(z.string().regex(NAME_PATTERN, nameMessage), partialSettings.nullable()).refine(
    (envs) => Object.keys(envs).length > 0,
    { message: 'a service needs at least one environment' },
  ),
});

export const configFileSchema = z.strictObject({
  version: z.literal(1).default(1),
  server: serverSchema.prefault({}),
  apiTokens: z.array(apiTokenSchema).default([]),
  slack: slackSchema.prefault({}),
  alerting: alertingSchema.prefault({}),
  services: z
    .record(z.string().regex(NAME_PATTERN, nameMessage), serviceFileSchema)
    .refine((services) => Object.keys(services).length > 0, { message: 'configure at least one service' }),
});

export type TargetSettingsInput = z.input<typeof targetSettingsSchema>;
export type TargetSettingsParsed = z.output<typeof targetSettingsSchema>;
export type ApiTokenConfig = z.output<typeof apiTokenSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type SlackConfig = z.output<typeof slackSchema>;
export type AlertingConfig = z.output<typeof alertingSchema>;
export type AlertSettings = z.output<typeof alertsSchema>;

/** One service in one environment, fully resolved: what the engine works with. */
export interface TargetSettings extends Omit<TargetSettingsParsed, 'protected' | 'platform' | 'approval'> {
  service: string;
  environment: string;
  protected: boolean;
  platform: TargetSettingsParsed['platform'] & { accountId: string };
  approval: TargetSettingsParsed['approval'] & { fourEyes: boolean };
}

// The domain reads these settings through its own type; this fails to compile if the file's
// resolved settings ever stop giving the domain what it relies on.
type Satisfies<T, _Wanted extends T> = true;
export type TargetSettingsGiveTheDomainItsSettings = Satisfies<ReleaseSettings, TargetSettings>;

export interface ServiceConfig {
  name: string;
  defaultEnvironment: string | undefined;
  environments: Map<string, TargetSettings>;
}

export interface KevinDeployConfig {
  /** The file it came from, or a description such as "sandbox defaults". */
  source: string;
  server: ServerConfig;
  apiTokens: ApiTokenConfig[];
  slack: SlackConfig;
  alerting: AlertingConfig;
  services: Map<string, ServiceConfig>;
}

export function isProtectedEnvironmentName(environment: string): boolean {
  return environment === 'production' || environment === 'prod';
}
