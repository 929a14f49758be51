import { loadConfig } from '../config/load-config.ts';
import type { KevinDeployConfig } from '../config/schema.ts';

export const SANDBOX_ACCOUNT_ID = '0123456789abcdef0123456789abcdef';
export const SANDBOX_SCRIPT = 'kevinstamp';

/**
 * The configuration the sandbox runs with when no kevin-deploy.yml exists: the KEVINSTAMP
 * service with short, demo-friendly timings. It goes through the same loader as a real file, so
 * the sandbox can never run with settings a real file could not express.
 */
export function sandboxConfig(options: { productionUrl: string; fast?: boolean }): KevinDeployConfig {
  const text = `
version: 1
services:
  kevinstamp:
    platform:
      type: cloudflare-workers
      accountId: ${SANDBOX_ACCOUNT_ID}
      scriptName: ${SANDBOX_SCRIPT}
    productionUrl: ${options.productionUrl}
    contentChecks:
      - path: /
        contains: KEVIN
    health:
      attempts: 5
      interval: ${options.fast ? '200ms' : '2s'}
      timeout: 3s
    monitor:
      window: ${options.fast ? '3s' : '30s'}
      interval: ${options.fast ? '250ms' : '3s'}
    rollback:
      verifyAttempts: 5
      verifyInterval: ${options.fast ? '200ms' : '1s'}
    switch:
      attempts: 5
      backoff: ${options.fast ? '100ms' : '1s'}
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
