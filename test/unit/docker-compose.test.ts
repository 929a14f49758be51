import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker-compose.yml (Postgres, two replicas, a proxy) cannot be started here — no registry to
 * pull images from — so what makes it work is checked instead: the replicas share one Postgres
 * store and have names of their own, every variable they are given is one the bot reads (named in
 * docs/configuration.md), and the proxy balances over every replica by /readyz.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; command?: string[]; depends_on?: unknown; image?: string; build?: string }>;
};
const caddyfile = readFileSync(`${ROOT}deploy/Caddyfile`, 'utf8');
const configurationDoc = readFileSync(`${ROOT}docs/configuration.md`, 'utf8');
const replicas = Object.entries(compose.services).filter(([, service]) => service.command?.[0] === 'serve');

describe('docker-compose.yml', () => {
  it('runs two replicas of the bot on one Postgres store, each with a name of its own', () => {
    expect(replicas.map(([name]) => name)).toEqual(['kevin-deploy-a', 'kevin-deploy-b']);
    const urls = new Set(replicas.map(([, s]) => s.environment?.DATABASE_URL));
    expect(urls.size).toBe(1);
    expect([...urls][0]).toMatch(/^postgres:\/\/kevin:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/kevin_deploy\?schema=kevin_deploy$/);
    expect(new Set(replicas.map(([, s]) => s.environment?.KEVIN_DEPLOY_INSTANCE)).size).toBe(2);
    for (const [, s] of replicas) expect(s.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
  });

  it('gives the replicas only variables the bot reads, secrets from the environment', () => {
    for (const [, s] of replicas) {
      for (const [name, value] of Object.entries(s.environment ?? {})) {
        if (name.startsWith('KEVIN_DEPLOY_') && name.endsWith('_TOKEN')) continue; // apiTokens[].env names, chosen in kevin-deploy.yml
        expect(configurationDoc, `${name} is documented`).toContain(`\`${name}\``);
        if (/TOKEN|SECRET|KEY|PASSWORD/.test(name)) expect(value, `${name} comes from the environment`).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
      }
    }
  });

  it('puts every replica behind the proxy, which sends requests only to replicas that are ready', () => {
    const upstreams = /reverse_proxy ([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/);
    expect(upstreams).toEqual(replicas.map(([name]) => `${name}:3000`));
    expect(caddyfile).toMatch(/health_uri \/readyz/);
  });
});
