import type { ReleaseSettings } from '../domain/release-settings.ts';
import type { TargetCatalog } from '../ports/target-catalog.ts';
import type { KevinDeployConfig } from './schema.ts';
import { lookupTarget, settingsOf } from './target-lookup.ts';

/** The configuration file's targets behind the engine's TargetCatalog port. */
export function targetCatalogOf(config: KevinDeployConfig): TargetCatalog {
  return {
    lookup: (service, environment) => lookupTarget(config, service, environment),
    find: (service, environment) => settingsOf(config, service, environment),
    hasService: (service) => config.services.has(service),
    all: (): ReleaseSettings[] => [...config.services.values()].flatMap((s) => [...s.environments.values()]),
  };
}
