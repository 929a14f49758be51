import { loadConfig } from '../../src/config/load-config.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import type { CloudflareStandIn, StandInOptions } from '../../sandbox/cloudflare-stand-in.ts';
import { STAND_IN_ACCOUNT, startTestStandIn } from './stand-in-helpers.ts';

/**
 * Fixtures for the route-switched strategy (platform type cloudflare-workers-routes): blue and
 * green as two Workers, the zone's routes pointing at one of them.
 */

export const ZONE_ID = 'abcdef0123456789abcdef0123456789';
export const ZONE_NAME = 'kevinstamp.com';
export const BLUE_SCRIPT = 'kevinstamp-blue';
export const GREEN_SCRIPT = 'kevinstamp-green';
export const APEX_ROUTE = 'kevinstamp.com/*';
export const WWW_ROUTE = 'www.kevinstamp.com/*';
export const ROUTES = [APEX_ROUTE, WWW_ROUTE];
export const SHOP_DOMAIN = 'shop.kevinstamp.com';

export interface RoutesStandInOptions {
  /** Also a custom domain (shop.kevinstamp.com) on blue. */
  customDomain?: boolean;
  /** Extra routes of the zone that are not the target's (they must never be touched). */
  otherRoutes?: Array<{ pattern: string; script: string | null }>;
  standIn?: Partial<StandInOptions>;
}

/**
 * A stand-in with both scripts and the zone's routes on blue; blue runs v1 at 100 %, green has
 * nothing yet (CI uploads the release there). Returns the stand-in and blue's v1.
 */
export async function startRoutesStandIn(options: RoutesStandInOptions = {}): Promise<{ standIn: CloudflareStandIn; v1: string }> {
  const standIn = await startTestStandIn({
    scripts: [BLUE_SCRIPT, GREEN_SCRIPT],
    zones: [
      {
        id: ZONE_ID,
        name: ZONE_NAME,
        scripts: [BLUE_SCRIPT, GREEN_SCRIPT],
        routes: [...ROUTES.map((pattern) => ({ pattern, script: BLUE_SCRIPT })), ...(options.otherRoutes ?? [])],
        customDomains: options.customDomain ? [{ hostname: SHOP_DOMAIN, service: BLUE_SCRIPT }] : [],
      },
    ],
    ...options.standIn,
  });
  const v1 = standIn.addVersion(BLUE_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(BLUE_SCRIPT, { [v1]: 100 });
  return { standIn, v1 };
}

/** The platform section of a routes target, as YAML lines indented under `platform:`. */
export function routesPlatformYaml(standIn: CloudflareStandIn, options: { customDomain?: boolean; indent?: string } = {}): string {
  const pad = options.indent ?? '      ';
  return [
    'type: cloudflare-workers-routes',
    `accountId: ${STAND_IN_ACCOUNT}`,
    `zoneId: ${ZONE_ID}`,
    `scripts: [${BLUE_SCRIPT}, ${GREEN_SCRIPT}]`,
    `routes: ['${APEX_ROUTE}', '${WWW_ROUTE}']`,
    ...(options.customDomain ? [`customDomains: [${SHOP_DOMAIN}]`] : []),
    'stagingUrls:',
    `  ${BLUE_SCRIPT}: ${standIn.trafficUrl(BLUE_SCRIPT)}`,
    `  ${GREEN_SCRIPT}: ${standIn.trafficUrl(GREEN_SCRIPT)}`,
  ]
    .map((line) => `${pad}${line}`)
    .join('\n');
}

/** Settings of kevinstamp/production on the routes platform, as the loader makes them (for adapter tests). */
export function routesTarget(standIn: CloudflareStandIn, options: { customDomain?: boolean } = {}): TargetSettings {
  const text = `
version: 1
services:
  kevinstamp:
    platform:
${routesPlatformYaml(standIn, options)}
    productionUrl: ${standIn.hostUrl(ZONE_NAME)}
    environments:
      production: {}
`;
  const result = loadConfig({ path: 'routes-target.yml', text, env: {} });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const target = result.config.services.get('kevinstamp')?.environments.get('production');
  if (!target) throw new Error('kevinstamp/production missing from the test configuration');
  return target;
}

/** Which script each of the target's routes (and the custom domain, if any) runs now. */
export function scriptsServing(standIn: CloudflareStandIn): Record<string, string | null> {
  const routes = Object.fromEntries(standIn.workerRoutes(ZONE_ID).filter((r) => ROUTES.includes(r.pattern)).map((r) => [r.pattern, r.script]));
  const domains = Object.fromEntries(standIn.customDomains().map((d) => [d.hostname, d.service]));
  return { ...routes, ...domains };
}

/** Effective changes of the script behind a route or domain made through the API. */
export function apiRouteChanges(standIn: CloudflareStandIn): Array<{ name: string; from: string | null; to: string | null }> {
  return standIn
    .routingChanges()
    .filter((c) => c.source === 'api')
    .map(({ name, from, to }) => ({ name, from, to }));
}

/**
 * testConfigYaml's file with the version-split platform replaced by the routes platform, and the
 * production URL by the zone apex's edge: the same fast timings and actors.
 */
export function toRoutesYaml(yaml: string, standIn: CloudflareStandIn, options: { customDomain?: boolean } = {}): string {
  const replaced = yaml.replace(/ {4}platform:\n(?: {6}.*\n)+ {4}productionUrl: .*\n/, `    platform:\n${routesPlatformYaml(standIn, options)}\n    productionUrl: ${standIn.hostUrl(ZONE_NAME)}\n`);
  if (replaced === yaml) throw new Error('no platform section to replace in the test configuration');
  return replaced;
}
