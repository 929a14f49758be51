import { KevinDeployError } from '../errors.ts';
import type { KevinDeployConfig, TargetSettings } from './schema.ts';

/**
 * Finds a target's settings, or says exactly what exists. When no environment is named, the
 * service's default environment is used — protected environments are never a default, so a bare
 * command can never deploy to production by accident.
 */
export function lookupTarget(config: KevinDeployConfig, service: string, environment?: string | null): TargetSettings {
  const svc = config.services.get(service);
  if (!svc) {
    const known = [...config.services.keys()].sort().join(', ');
    throw new KevinDeployError('UNKNOWN_SERVICE', `unknown service "${service}"; known services: ${known || 'none'}`, {
      knownServices: [...config.services.keys()],
    });
  }
  const environments = [...svc.environments.keys()];
  const envName = environment ?? svc.defaultEnvironment ?? (environments.length === 1 ? environments[0] : undefined);
  if (!envName) {
    throw new KevinDeployError(
      'ENVIRONMENT_REQUIRED',
      `name the environment of ${service}: one of ${environments.join(', ')} (e.g. --env ${environments[0]})`,
      { knownEnvironments: environments },
    );
  }
  const settings = svc.environments.get(envName);
  if (!settings) {
    throw new KevinDeployError(
      'UNKNOWN_ENVIRONMENT',
      `${service} has no environment "${envName}"; known environments: ${environments.join(', ')}`,
      { knownEnvironments: environments },
    );
  }
  if (!environment && settings.protected) {
    throw new KevinDeployError(
      'ENVIRONMENT_REQUIRED',
      `${service}/${envName} is protected: name it explicitly (--env ${envName})`,
      { knownEnvironments: environments },
    );
  }
  return settings;
}

/** Settings for a deployment already stored, or undefined when the config no longer has its target. */
export function settingsOf(config: KevinDeployConfig, service: string, environment: string): TargetSettings | undefined {
  return config.services.get(service)?.environments.get(environment);
}
