import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadResult } from '../../src/config/load-config.ts';
import type { KevinDeployConfig, TargetSettings } from '../../src/config/schema.ts';
import { expectOk, expectProblems, targetOf } from '../support/config-results.ts';

/** platform type cloudflare-workers-routes: blue and green as two Workers, switched by route. */

const ENV = { CLOUDFLARE_ACCOUNT_ID: 'acc-123' };

function load(text: string): LoadResult {
  return loadConfig({ path: 'kevin-deploy.yml', text, env: ENV });
}

function production(config: KevinDeployConfig): TargetSettings {
  return targetOf(config, 'kevinstamp', 'production');
}

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`"${needle}" not in text`);
  return text.slice(0, index).split('\n').length;
}

const ROUTES = `
services:
  kevinstamp:
    platform:
      type: cloudflare-workers-routes
      zoneId: 0123456789abcdef0123456789abcdef
      scripts: [kevinstamp-blue, kevinstamp-green]
      routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*']
    environments:
      production:
        productionUrl: https://kevinstamp.com
`;

describe('platform type cloudflare-workers-routes', () => {
  it('loads zone, scripts, routes, custom domains and staging URLs, with the account from the environment', () => {
    const text = ROUTES.replace(
      "      routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*']\n",
      "      routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*']\n      customDomains: [shop.kevinstamp.com]\n      stagingUrls:\n        kevinstamp-green: https://green.kevinstamp.dev\n",
    );
    expect(production(expectOk(load(text))).platform).toEqual({
      type: 'cloudflare-workers-routes',
      accountId: 'acc-123',
      zoneId: '0123456789abcdef0123456789abcdef',
      scripts: ['kevinstamp-blue', 'kevinstamp-green'],
      routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*'],
      customDomains: ['shop.kevinstamp.com'],
      stagingUrls: { 'kevinstamp-green': 'https://green.kevinstamp.dev' },
    });
  });

  it('still defaults a platform without a type to cloudflare-workers', () => {
    const text = `
services:
  kevinstamp:
    platform: { scriptName: kevinstamp }
    environments:
      production: { productionUrl: https://kevinstamp.com }
`;
    expect(production(expectOk(load(text))).platform).toMatchObject({ type: 'cloudflare-workers', scriptName: 'kevinstamp' });
  });

  it('refuses strategy canary, saying routes move all traffic at once, at the strategy line', () => {
    const text = ROUTES.replace('    environments:\n', '    strategy:\n      type: canary\n      steps: [10, 100]\n    environments:\n');
    const problems = expectProblems(load(text));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'services.kevinstamp.strategy.type', line: lineOf(text, 'type: canary') });
    expect(problems[0]!.message).toContain('moves all traffic at once');
    expect(problems[0]!.message).toContain('blue-green');
  });

  it('refuses canary written in an environment over a routes platform of the service, where the environment wrote it', () => {
    const text = ROUTES.replace('      production:\n', '      production:\n        strategy: { type: canary, steps: [50] }\n');
    const problems = expectProblems(load(text));
    expect(problems.map((p) => p.path)).toEqual(['services.kevinstamp.environments.production.strategy.type']);
  });

  it('names each mistake with its key and line', () => {
    const text = ROUTES.replace('zoneId: 0123456789abcdef0123456789abcdef', 'zoneId: kevinstamp.com')
      .replace('scripts: [kevinstamp-blue, kevinstamp-green]', 'scripts: [kevinstamp-blue]')
      .replace("routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*']", "routes: ['kevinstamp.com/*', 'kevinstamp.com/*']\n      stagingUrls: { kevinstamp-purple: https://x.example }\n      scriptName: kevinstamp");
    const problems = expectProblems(load(text));
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['services.kevinstamp.platform.zoneId']).toMatchObject({ line: lineOf(text, 'zoneId:') });
    expect(byPath['services.kevinstamp.platform.zoneId']!.message).toContain('32 hexadecimal');
    expect(byPath['services.kevinstamp.platform.scripts']!.message).toContain('exactly two Workers');
    expect(byPath['services.kevinstamp.platform.routes']!.message).toContain('once');
    expect(byPath['services.kevinstamp.platform.stagingUrls.kevinstamp-purple']!.message).toContain('not one of scripts');
    // A key of the other platform type is unknown here.
    expect(byPath['services.kevinstamp.platform.scriptName']).toMatchObject({ line: lineOf(text, 'scriptName:') });
  });

  it('needs at least one route or custom domain', () => {
    const text = ROUTES.replace("      routes: ['kevinstamp.com/*', 'www.kevinstamp.com/*']\n", '');
    const problems = expectProblems(load(text));
    expect(problems.map((p) => p.path)).toEqual(['services.kevinstamp.platform.routes']);
    expect(problems[0]!.message).toContain('at least one route');
  });

  it('names the platform types when the type is unknown', () => {
    const text = ROUTES.replace('type: cloudflare-workers-routes', 'type: cloudflare-routes');
    const problems = expectProblems(load(text));
    const typeProblem = problems.find((p) => p.path === 'services.kevinstamp.platform.type');
    expect(typeProblem?.message).toContain('"cloudflare-workers-routes"');
    expect(typeProblem?.message).not.toContain('undefined');
  });

  it('refuses {script} in Prometheus queries: there are two scripts', () => {
    const text = ROUTES.replace(
      '    environments:\n',
      "    monitor:\n      metrics:\n        source: prometheus\n        url: http://prom:9090\n        errorRate: 'e{version}{script}'\n        avgResponseTime: 'a{version}'\n        requests: 'r{version}'\n    environments:\n",
    );
    const problems = expectProblems(load(text));
    expect(problems.map((p) => p.path)).toEqual(['services.kevinstamp.monitor.metrics.errorRate']);
  });
});
