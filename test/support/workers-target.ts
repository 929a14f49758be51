import { loadConfig } from '../../src/config/load-config.ts';
import type { TargetSettings } from '../../src/config/schema.ts';
import type { Target } from '../../src/domain/deployment.ts';
import { STAND_IN_ACCOUNT, STAND_IN_SCRIPT } from './stand-in-helpers.ts';

/**
 * Settings of kevinstamp/production as the config loader produces them, for adapter tests that
 * need a TargetSettings but no bot. Goes through loadConfig so the defaults are the real ones.
 */
export function workersTarget(options: { productionUrl: string; reach?: string }): TargetSettings {
  const text = `
version: 1
services:
  kevinstamp:
    platform:
      type: cloudflare-workers
      accountId: ${STAND_IN_ACCOUNT}
      scriptName: ${STAND_IN_SCRIPT}
      reach: ${options.reach ?? '{ mode: version-override }'}
    productionUrl: ${options.productionUrl}
    environments:
      production: {}
`;
  const result = loadConfig({ path: 'workers-target.yml', text, env: {} });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const target = result.config.services.get('kevinstamp')?.environments.get('production');
  if (!target) throw new Error('kevinstamp/production missing from the test configuration');
  return target;
}

/**
 * For adapter tests: the targets a test hands the adapter are the full settings objects (made by
 * workersTarget, varied by withPlatform), so the adapter reads them off the target itself. The bot
 * looks them up in its configuration by service and environment instead.
 */
export function settingsCarriedByTarget(target: Target): TargetSettings {
  return target as TargetSettings;
}

/** The same target on another account or script (the "misconfigured" cases). */
export function withPlatform(target: TargetSettings, platform: { accountId?: string; scriptName?: string }): TargetSettings {
  return { ...target, platform: { ...target.platform, ...platform } } as TargetSettings;
}
