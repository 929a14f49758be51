import { describe, expect, it } from 'vitest';
import { PlatformPerTarget } from '../../src/app/platform-per-target.ts';
import { renderStatus, type TargetStatusView } from '../../src/cli/render.ts';
import type { Target } from '../../src/domain/deployment.ts';
import type { RoutingLine, TrafficPlatform } from '../../src/ports/traffic-platform.ts';

/** The per-target platform: each call goes to the target's own platform, and what status makes of routing. */

function fakePlatform(name: string, calls: string[], routing?: RoutingLine[]): TrafficPlatform {
  const record = (what: string) => (target: Target) => {
    calls.push(`${name}.${what}(${target.service}/${target.environment})`);
  };
  const platform: TrafficPlatform = {
    resolveVersion: async (t) => (record('resolveVersion')(t), { id: `${name}-v`, tag: null }),
    readTraffic: async (t) => (record('readTraffic')(t), { split: {}, versions: [] }),
    resolveWithTraffic: async (t) => (record('resolveWithTraffic')(t), { version: { id: `${name}-v`, tag: null }, live: { split: {}, versions: [] } }),
    applySplit: async (t, split) => (record('applySplit')(t), split),
    greenReach: (t) => (record('greenReach')(t), name === 'routes' ? 'in-split' : 'on-its-own'),
    reachVersion: async (t) => (record('reachVersion')(t), { baseUrl: `https://${name}.example`, headers: {} }),
    checkRollbackReadiness: async (t) => (record('checkRollbackReadiness')(t), { ready: true, detail: name }),
    listVersions: async (t) => (record('listVersions')(t), []),
  };
  if (routing) platform.describeRouting = async (t) => (record('describeRouting')(t), routing);
  return platform;
}

describe('PlatformPerTarget', () => {
  const line: RoutingLine = { kind: 'route', name: 'kevinstamp.com/*', servedBy: 'kevinstamp-green', version: { id: '0123456789abcdef', tag: 'v2' } };

  it('sends every call to the platform of the target it is about', async () => {
    const calls: string[] = [];
    const split = fakePlatform('split', calls);
    const routes = fakePlatform('routes', calls, [line]);
    const platform = new PlatformPerTarget((t) => (t.service === 'shop' ? routes : split));
    const kevinstamp = { service: 'kevinstamp', environment: 'production' };
    const shop = { service: 'shop', environment: 'production' };

    expect(platform.greenReach(kevinstamp)).toBe('on-its-own');
    expect(platform.greenReach(shop)).toBe('in-split');
    await platform.applySplit(shop, { a: 100 }, { force: false, message: 'm' });
    expect((await platform.checkRollbackReadiness(kevinstamp, 'x')).detail).toBe('split');
    expect(await platform.describeRouting(shop)).toEqual([line]);
    // A platform without routing to describe says nothing.
    expect(await platform.describeRouting(kevinstamp)).toBeUndefined();
    expect(calls).toEqual([
      'split.greenReach(kevinstamp/production)',
      'routes.greenReach(shop/production)',
      'routes.applySplit(shop/production)',
      'split.checkRollbackReadiness(kevinstamp/production)',
      'routes.describeRouting(shop/production)',
    ]);
  });

  it('status shows which Worker serves each route, or why that could not be read', () => {
    const base: TargetStatusView = {
      service: 'kevinstamp',
      environment: 'production',
      protected: true,
      live: { id: '0123456789abcdef', tag: 'v2' },
      split: {},
      active: null,
      queue: [],
      lock: null,
      lastFinished: null,
    };
    const text = renderStatus([{ ...base, routing: [line, { kind: 'custom-domain', name: 'shop.kevinstamp.com', servedBy: null, version: null }] }]);
    expect(text).toContain('  routes     kevinstamp.com/* → kevinstamp-green, v2 (01234567)');
    expect(text).toContain('             domain shop.kevinstamp.com → no Worker');
    expect(renderStatus([{ ...base, routingProblem: 'Cloudflare did not answer' }])).toContain('  routes     could not be read: Cloudflare did not answer');
    expect(renderStatus([base])).not.toContain('routes');
  });
});
