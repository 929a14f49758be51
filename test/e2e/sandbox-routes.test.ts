import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { createSandbox, type RunResult, type SandboxRun } from '../support/sandbox-process.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * `KEVIN_DEPLOY_SANDBOX_PLATFORM=routes npm start`: the sandbox with blue and green as two
 * Workers behind kevinstamp.com's routes. Uploads go to the Worker without routes, a release
 * moves the routes, a broken one moves them back. The compiled dist/ (`npm run build` first).
 */

const TERMINAL = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

function describeRun(r: RunResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-2000)}`;
}

async function ok(s: SandboxRun, args: string[]): Promise<RunResult> {
  const r = await s.run(args);
  expect(r.code, `kevin-deploy ${args.join(' ')}\n${describeRun(r)}\nbot output:\n${s.tail(15)}`).toBe(0);
  return r;
}

async function release(s: SandboxRun, tag: string): Promise<DeploymentView> {
  const deployed = JSON.parse((await ok(s, ['deploy', 'kevinstamp', tag, '--env', 'production', '--json'])).stdout) as DeploymentView;
  await waitFor(async () => (await s.api<DeploymentView>('GET', `/api/v1/deployments/${deployed.id}`)).body.stage === 'awaiting_approval', {
    timeoutMs: 60_000,
    describe: () => `${deployed.id} to await approval; bot output:\n${s.tail(10)}`,
  });
  await ok(s, ['approve', deployed.id]);
  let last: DeploymentView | undefined;
  await waitFor(
    async () => {
      last = (await s.api<DeploymentView>('GET', `/api/v1/deployments/${deployed.id}`)).body;
      return TERMINAL.includes(last.stage);
    },
    { timeoutMs: 90_000, describe: () => `${deployed.id} to end; it is ${last?.stage}: ${last?.reason}` },
  );
  return last!;
}

async function servedBy(url: string): Promise<string | null> {
  return (await fetch(url)).headers.get('x-kevin-version');
}

describe('the sandbox with blue and green as two Workers (KEVIN_DEPLOY_SANDBOX_PLATFORM=routes)', { timeout: 300_000 }, () => {
  let s: SandboxRun;

  beforeAll(async () => {
    s = await createSandbox();
    s.env.KEVIN_DEPLOY_SANDBOX_PLATFORM = 'routes';
    await s.start(['serve']);
    await waitFor(() => s.stdout.some((line) => line.includes('Ctrl-C stops everything')), {
      timeoutMs: 30_000,
      describe: () => `the banner on stdout; stdout so far:\n${s.stdout.join('\n')}\noutput:\n${s.tail(20)}`,
    });
  }, 120_000);

  afterAll(async () => {
    await s?.close();
  });

  it('says so in the banner, uploads to the idle Worker, moves the routes on release and back on a broken one', async () => {
    const banner = s.stdout.join('\n');
    expect(banner).toMatch(/routes {5}kevinstamp\.com\/\*, www\.kevinstamp\.com\/\* switch between kevinstamp-blue and kevinstamp-green/);
    const edge = s.edgeInfo()!;
    s.track(edge.pid);
    expect(edge.platform).toBe('routes');

    expect((await ok(s, ['sandbox', 'upload', '--tag', 'v2'])).stdout).toContain('to kevinstamp-green');
    const good = await release(s, 'v2');
    expect(good.stage, good.reason).toBe('succeeded');
    expect(await servedBy(edge.trafficUrl)).toBe(good.version!.id);
    const status = await ok(s, ['status', 'kevinstamp']);
    expect(status.stdout).toMatch(/routes {5}kevinstamp\.com\/\* → kevinstamp-green, v2/);
    expect(status.stdout).toMatch(/www\.kevinstamp\.com\/\* → kevinstamp-green, v2/);

    // The next release goes to blue's Worker, now the one without routes; it breaks under users.
    expect((await ok(s, ['sandbox', 'upload', '--tag', 'v3', '--behavior', 'fails-after-traffic'])).stdout).toContain('to kevinstamp-blue');
    const broken = await release(s, 'v3');
    expect(broken.stage, broken.reason).toBe('rolled_back');
    expect(await servedBy(edge.trafficUrl)).toBe(good.version!.id);
    expect((await ok(s, ['status', 'kevinstamp'])).stdout).toMatch(/kevinstamp\.com\/\* → kevinstamp-green, v2/);
  });
});
