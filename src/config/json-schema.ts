import { z } from 'zod';
import { DURATION_BOUNDS, durationKindOf, formatBound } from './duration.ts';
import { configFileSchema } from './schema.ts';

export const CONFIG_SCHEMA_ID = 'https://kevin-deploy.dev/schema/kevin-deploy.schema.json';

type JsonSchema = Record<string, unknown>;

/** Carries a duration's bound from generation to `annotate`, which writes it into the description. */
const MAX_DURATION = 'x-kevin-deploy-max-duration';

/** Descriptions by path; settings keys are listed once and apply at service and environment level. */
const DESCRIPTIONS: Record<string, string> = {
  version: 'Version of this file format. Only 1 exists.',
  server: "The bot's own HTTP server.",
  'server.port': 'Port to listen on; --port and $PORT win over this; 3000 when none is set.',
  'server.host': 'Address to listen on.',
  'server.publicUrl': 'Where people reach the bot; used in links in chat messages.',
  apiTokens: 'Bearer tokens for the CLI and the HTTP API. The secret is read from an environment variable, never from this file.',
  'apiTokens.[].env': 'Name of the environment variable holding the token, e.g. KEVIN_DEPLOY_API_TOKEN.',
  'apiTokens.[].actor': 'Who this token acts as: the name used in approvals, four-eyes checks and the audit trail.',
  'apiTokens.[].roles': 'Roles granted to the actor: deployer, approver, admin.',
  slack: 'Slack: where deployment cards go and which Slack users and groups hold which roles.',
  'slack.channel': 'Channel id (C…) for deployment cards, unless a target sets slackChannel.',
  'slack.roles': 'Roles for Slack users (U…) and user groups (S…).',
  'slack.users': 'Slack user id → actor name, so one person is one actor on every surface (four-eyes).',
  'slack.minUpdateInterval': 'Least time between two messages or updates in one channel (Slack allows about 1 per second).',
  'settings.slackChannel': 'Channel id (C…) for this target’s deployment cards; defaults to slack.channel.',
  services: 'The services kevin-deploy releases, by name.',
  'services.*': 'A service: settings shared by its environments, plus the environments.',
  'services.*.defaultEnvironment': 'Environment used when a command names none. Must not be a protected environment.',
  'services.*.environments': 'The environments of this service; each overrides the service settings (deep merge).',
  'services.*.environments.*': 'Overrides for one environment. Empty (or null) means: the service settings as they are.',
  'settings.platform': 'Where the service runs.',
  'settings.platform.type':
    'cloudflare-workers (default): one Worker, a release splits its traffic between versions. cloudflare-workers-routes: blue and green as two Workers, a release moves the routes.',
  'settings.platform.accountId': 'Cloudflare account id. Falls back to $CLOUDFLARE_ACCOUNT_ID.',
  'settings.platform.scriptName': 'Name of the Worker script.',
  'settings.platform.reach': 'How the checks reach the new version (green) before it has traffic.',
  'settings.platform.zoneId': 'cloudflare-workers-routes: the zone whose Workers routes move (32 hex characters).',
  'settings.platform.scripts': 'cloudflare-workers-routes: the two Workers, blue and green; the routes point at one of them.',
  'settings.platform.routes': 'cloudflare-workers-routes: route patterns (e.g. kevinstamp.com/*) that move, all of them, at each switch.',
  'settings.platform.customDomains': 'cloudflare-workers-routes: Workers custom domains (hostnames) that move with the routes.',
  'settings.platform.stagingUrls': 'cloudflare-workers-routes: where each Worker is checked before it has users; default https://<script>.<subdomain>.workers.dev.',
  'settings.productionUrl': 'The public URL of this environment; health and content checks run against it.',
  'settings.protected': 'Protected environments must be named explicitly and default to four-eyes approval. Default: true for environments named production or prod.',
  'settings.health': "Checks of the new version's health endpoints before any traffic moves.",
  'settings.health.paths': 'Health endpoint paths; null skips the detailed or readiness check.',
  'settings.health.timeout': 'Timeout of one health request (duration).',
  'settings.health.attempts': 'How many times the checks are tried before the release fails.',
  'settings.health.interval': 'Pause between attempts (duration).',
  'settings.contentChecks': 'Pages that must contain a text, e.g. KEVIN on /. Replaces the default list when written.',
  'settings.approval': 'Who must approve a release before traffic switches.',
  'settings.approval.mode': 'manual: wait for approvers; auto: approve as soon as checks pass.',
  'settings.approval.approvers': 'Principals who may approve: actor names, role:deployer|approver|admin, or *.',
  'settings.approval.fourEyes': 'The requester may not approve their own release. Defaults to the value of protected.',
  'settings.approval.required': 'Number of distinct approvals needed.',
  'settings.approval.expiresAfter': 'An unanswered approval request expires after this duration.',
  'settings.monitor': 'Watching the new version after the switch; a trigger rolls back.',
  'settings.monitor.window': 'How long to watch after the switch (duration).',
  'settings.monitor.interval': 'How often to sample health and metrics (duration).',
  'settings.monitor.triggers': 'Conditions that roll back automatically.',
  'settings.switch': 'Retries of traffic changes when Cloudflare answers 429/5xx or not at all.',
  'settings.rollback': 'Verifying the previous version after a rollback.',
  'settings.strategy': 'Release strategy: blue-green (all at once after approval) or canary (steps of rising traffic, each watched).',
  'settings.access': 'Who may deploy, roll back and lock: actor names, role:<role>, or *.',
};

/**
 * The JSON Schema of kevin-deploy.yml (draft 2020-12), for editors and `kevin-deploy config
 * schema`. It describes the file as written (`io: 'input'`): durations are strings. Refinements
 * the format cannot express (environment names unique…) are left to
 * `kevin-deploy config check`.
 */
export function configJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configFileSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: (context) => {
      // zod names startsWith as format "starts_with", which no validator knows; the pattern says it.
      if (context.jsonSchema.format === 'starts_with') delete context.jsonSchema.format;
      // A pattern cannot say "at most 1h"; the description does, so editors show the bound.
      const kind = durationKindOf(context.zodSchema);
      if (kind) context.jsonSchema[MAX_DURATION] = formatBound(DURATION_BOUNDS[kind]);
    },
  }) as JsonSchema;
  annotate(generated, []);
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'kevin-deploy configuration (kevin-deploy.yml)',
    description: 'Services, environments and release policy of the kevin-deploy release bot.',
    ...rest,
  };
}

/**
 * Adds descriptions, and mirrors the loader's merge rule: inside a service's or environment's
 * settings a mapping may be partial (the other layer completes it), so nested `required` lists
 * are dropped there, except inside lists, which replace rather than merge.
 */
function annotate(node: unknown, path: readonly string[]): void {
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  const joined = path.join('.');
  const settingsPath = toSettingsPath(joined);
  const description = DESCRIPTIONS[joined] ?? (settingsPath ? DESCRIPTIONS[`settings.${settingsPath}`] : undefined);
  if (description && typeof schema.description !== 'string' && path.length > 0) schema.description = description;
  const maxDuration = schema[MAX_DURATION];
  if (typeof maxDuration === 'string') {
    delete schema[MAX_DURATION];
    const text = typeof schema.description === 'string' ? schema.description.replace(/\.?$/, '.') : 'A duration.';
    schema.description = `${text} At most ${maxDuration}.`;
  }

  if (settingsPath && !path.includes('[]')) {
    delete schema.required;
    // Partial variants of a discriminated union may match more than one branch.
    if (Array.isArray(schema.oneOf)) {
      schema.anyOf = schema.oneOf;
      delete schema.oneOf;
    }
  }
  if (joined === 'services' || joined === 'services.*.environments') schema.minProperties = 1;

  if (typeof schema.properties === 'object' && schema.properties !== null) {
    for (const [key, child] of Object.entries(schema.properties)) annotate(child, [...path, key]);
  }
  if (typeof schema.additionalProperties === 'object') annotate(schema.additionalProperties, [...path, '*']);
  if (schema.items !== undefined) annotate(schema.items, [...path, '[]']);
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[keyword];
    if (Array.isArray(branches)) for (const branch of branches) annotate(branch, path);
  }
}

/** 'services.*.environments.*.health.attempts' → 'health.attempts'; '' outside settings mappings. */
function toSettingsPath(path: string): string {
  const match = /^services\.\*\.environments\.\*\.(.+)$/.exec(path) ?? /^services\.\*\.(?!environments$|environments\.|defaultEnvironment$)(.+)$/.exec(path);
  return match?.[1] ?? '';
}
