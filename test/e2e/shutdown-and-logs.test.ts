import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Stage } from '../../src/domain/stages.ts';
import { TOKEN_ENV, TOKENS } from '../support/bot-harness.ts';
import { freePort } from '../support/bot-process.ts';
import { expectCompleteAuditTrail, HAPPY_PATH, readStoredDeployment, startE2e, type E2eBot } from '../support/e2e-fixtures.ts';
import { STAND_IN_SCRIPT as SCRIPT } from '../support/stand-in-helpers.ts';
import { duplicateKeys } from '../support/json-lines.ts';
import { waitFor } from '../support/wait-for.ts';

let e: E2eBot | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
});

type Readiness = { status: number } | { error: string };

describe('graceful shutdown on SIGTERM', { timeout: 240_000 }, () => {
  it('drains (readyz 503, writes refused), records the step in flight, exits 0; the next start finishes the release', async () => {
    e = await startE2e({ monitorWindow: '400ms' });
    const green = e.upload('v2');
    const d = await e.deploy('v2');
    await e.waitForStage(d.id, 'awaiting_approval');

    // The switch will take seconds to be answered: the bot is mid-step when SIGTERM arrives.
    e.standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'latency', latencyMs: 4_000, times: 1 });
    const posts = e.standIn.apiRequests().filter((r) => r.method === 'POST').length;
    await e.approve(d.id);
    await waitFor(() => e!.standIn.apiRequests().filter((r) => r.method === 'POST').length > posts, { timeoutMs: 30_000 });

    const exited = e.bot.exited();
    let gone = false;
    void exited.then(() => (gone = true));
    e.bot.child.kill('SIGTERM');

    // Watch the drain from outside, as an orchestrator would.
    const readiness: Readiness[] = [];
    let writeDuringDrain: { status: number; body: any } | undefined;
    while (!gone) {
      try {
        const response = await fetch(`${e.bot.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
        readiness.push({ status: response.status });
        if (response.status === 503 && !writeDuringDrain) {
          const refused = await e.api('POST', `/api/v1/deployments/${d.id}/cancel`, {}, TOKENS.alice).catch(() => undefined);
          if (refused) writeDuringDrain = refused;
        }
      } catch (error) {
        readiness.push({ error: String((error as Error).cause ?? error) });
      }
      await sleep(50);
    }
    const { code, signal } = await exited;
    expect(signal, 'exited by itself, not killed by the signal').toBeNull();
    expect(code).toBe(0);

    // Once it stopped being ready it never claimed to be ready again.
    const firstNotReady = readiness.findIndex((r) => !('status' in r) || r.status !== 200);
    expect(firstNotReady, JSON.stringify(readiness)).toBeGreaterThanOrEqual(0);
    expect(readiness.slice(firstNotReady).every((r) => !('status' in r) || r.status === 503), JSON.stringify(readiness)).toBe(true);
    expect(readiness.some((r) => 'status' in r && r.status === 503), JSON.stringify(readiness)).toBe(true);
    // Writes are refused while draining (and the release was not cancelled by the attempt).
    expect(writeDuringDrain, 'a write was attempted during the drain').toBeDefined();
    expect(writeDuringDrain!.status).toBe(503);
    expect(writeDuringDrain!.body).toMatchObject({ code: 'SHUTTING_DOWN' });

    // The step in flight finished and was recorded before the exit: the switch is in the database.
    const stored = readStoredDeployment(e, d.id);
    expect(stored.stage).toBe('monitoring');
    expect(stored.split).toEqual({ [green]: 100, [e.v1]: 0 });
    expect(e.bot.output.some((line) => line.includes('kevin-deploy stopped'))).toBe(true);

    // The next start picks the release up and finishes it.
    await e.bot.restart();
    const done = await e.waitForStage(d.id, ['succeeded', 'rolled_back', 'failed', 'needs_attention'], 90_000);
    expect(done.stage, done.reason).toBe('succeeded');
    expectCompleteAuditTrail(await e.show(d.id), HAPPY_PATH);
    expect(e.standIn.effectiveSwitches(SCRIPT).slice(1)).toEqual([
      { [e.v1]: 100, [green]: 0 },
      { [green]: 100, [e.v1]: 0 },
    ]);
  });

  it('exits 0 on SIGTERM when idle, quickly enough for an orchestrator', async () => {
    e = await startE2e();
    const { code, signal } = await e.bot.stop('SIGTERM');
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });
});

/** Every secret of the contract, with values no log line could contain by accident. */
function secretEnvironment(deadUrl: string): { env: Record<string, string>; secrets: Record<string, string> } {
  const secrets: Record<string, string> = {
    KEVIN_DEPLOY_API_TOKEN: 'kdapi-SEKRET-1a1a1a1a1a',
    CLOUDFLARE_API_TOKEN: 'cftok-SEKRET-2b2b2b2b2b',
    SLACK_BOT_TOKEN: 'xoxb-SEKRET-3c3c3c3c3c',
    // Short (4 characters): scrubbed where it stands alone, as in a URL path.
    SLACK_SIGNING_SECRET: 'Zq9X',
    SLACK_APP_TOKEN: 'xapp-SEKRET-5e5e5e5e5e',
    DISCORD_BOT_TOKEN: 'dsctok-SEKRET-6f6f6f6f6f',
    DISCORD_WEBHOOK_TOKEN: 'dschook-SEKRET-7a7a7a7a7a',
    PAGERDUTY_ROUTING_KEY: 'pdrk-SEKRET-8b8b8b8b8b',
    PAGERDUTY_API_TOKEN: 'pdapi-SEKRET-9c9c9c9c9c',
    MAILCHANNELS_API_KEY: 'mcKEY-SEKRET-0d0d0d0d0d',
    PAGERDUTY_WEBHOOK_SECRET: 'pdwh-SEKRET-1e1e1e1e1e',
    // During a rotation PAGERDUTY_WEBHOOK_SECRET holds two, comma-separated: each is a secret alone.
    PAGERDUTY_WEBHOOK_SECRET_NEXT: 'pdwh-NEXT-3f3f3f3f3f',
    ...TOKEN_ENV,
  };
  const { DISCORD_WEBHOOK_TOKEN, PAGERDUTY_WEBHOOK_SECRET_NEXT, ...direct } = secrets;
  return {
    secrets,
    env: {
      ...direct,
      PAGERDUTY_WEBHOOK_SECRET: `${direct.PAGERDUTY_WEBHOOK_SECRET},${PAGERDUTY_WEBHOOK_SECRET_NEXT}`,
      // A well-formed webhook URL (config check refuses others); DISCORD_API_URL sends its calls to the dead port.
      DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/112233445566778899/${DISCORD_WEBHOOK_TOKEN}`,
      // Every third-party API the bot might call points at a closed local port: nothing leaves the machine.
      SLACK_API_URL: `${deadUrl}/api/`,
      DISCORD_API_URL: `${deadUrl}/api`,
      PAGERDUTY_EVENTS_HOST: deadUrl.replace('http://', ''),
      PAGERDUTY_API_URL: deadUrl,
      MAILCHANNELS_API_URL: deadUrl,
      LOG_LEVEL: 'debug',
    },
  };
}

describe('logs of a whole release, failed logins and Cloudflare auth failures', { timeout: 240_000 }, () => {
  // One scenario, driven once; each test below reads the same captured output.
  let output: string[] = [];
  let secrets: Record<string, string> = {};
  let webhookUrl = '';
  let release = '';
  let failedRelease = '';

  beforeAll(async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const setup = secretEnvironment(deadUrl);
    secrets = setup.secrets;
    webhookUrl = setup.env.DISCORD_WEBHOOK_URL!;
    const bot = await startE2e({ env: setup.env, standIn: { apiToken: secrets.CLOUDFLARE_API_TOKEN! }, monitorWindow: '400ms' });
    try {
      // A whole release.
      const green = bot.upload('v2');
      const d = await bot.deploy('v2', { note: 'gallery' });
      release = d.id;
      await bot.waitForStage(d.id, 'awaiting_approval');
      await bot.approve(d.id);
      expect((await bot.waitForStage(d.id, ['succeeded', 'rolled_back', 'failed'])).stage).toBe('succeeded');
      expect(bot.standIn.activeSplit(SCRIPT)[green]).toBe(100);

      // Failed authentication, some of it carrying real secrets where they do not belong.
      const raw = (path: string, headers: Record<string, string>, method = 'GET') =>
        fetch(`${bot.bot.url}${path}`, { method, headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
      const attempts = [
        await raw('/api/v1/deployments', { authorization: 'Bearer tok-wrong-0123456789' }),
        // Not an API token when the config lists apiTokens.
        await raw('/api/v1/deployments', { authorization: `Bearer ${secrets.KEVIN_DEPLOY_API_TOKEN}` }),
        await raw('/api/v1/deployments', { authorization: `Bearer ${secrets.CLOUDFLARE_API_TOKEN}` }),
        await raw('/api/v1/deployments', { authorization: `Bearer ${TOKENS.alice}x` }),
        await raw('/api/v1/deployments', { authorization: `Basic ${TOKENS.bob}` }),
        await raw('/api/v1/deployments', { authorization: `Bearer ${secrets.SLACK_SIGNING_SECRET}` }, 'POST'),
      ];
      for (const a of attempts) expect(a.status).toBe(401);
      // A real token in the wrong place: the path and the query string of authenticated requests.
      expect((await bot.api('GET', `/api/v1/deployments/${TOKENS.bob}`)).status).toBe(404);
      // Ignored or refused as an unknown parameter: either way the value must not reach the log.
      expect([200, 400]).toContain((await bot.api('GET', `/api/v1/status?token=${secrets.SLACK_BOT_TOKEN}`)).status);
      expect((await bot.api('GET', `/nothing/${secrets.PAGERDUTY_ROUTING_KEY}`)).status).toBe(404);
      expect((await bot.api('GET', `/nothing/${secrets.PAGERDUTY_WEBHOOK_SECRET_NEXT}`)).status).toBe(404);
      expect((await bot.api('GET', `/nothing/${secrets.SLACK_SIGNING_SECRET}`)).status).toBe(404);
      // A secret pasted as a version.
      const pasted = { service: 'kevinstamp', environment: 'production', version: secrets.MAILCHANNELS_API_KEY };
      expect((await bot.api('POST', '/api/v1/deployments', pasted, TOKENS.alice)).status).toBe(404);

      // Cloudflare rejects the token: once answering a request, once in the runner's own work.
      bot.standIn.injectFault({ method: 'GET', path: '/versions', kind: 'status', status: 401 });
      const cfAuth = await bot.api('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v1' }, TOKENS.alice);
      expect(cfAuth.status).toBe(502);
      expect(cfAuth.body).toMatchObject({ code: 'CLOUDFLARE_AUTH' });
      bot.upload('v3');
      bot.standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'status', status: 401 });
      const d3 = await bot.deploy('v3');
      failedRelease = d3.id;
      const failed = await bot.waitForStage(d3.id, ['failed', 'awaiting_approval']);
      expect(failed.stage).toBe('failed');
      expect(failed.reason).toMatch(/Cloudflare rejected the API token/);

      // Let the last lines reach the pipe, then stop cleanly so everything is flushed.
      await waitFor(() => bot.bot.output.some((l) => l.includes(d3.id) && l.includes('"stage":"failed"')), {
        timeoutMs: 20_000,
        describe: () => `the failed release to be logged; output:\n${bot.tail()}`,
      });
      expect((await bot.bot.stop('SIGTERM')).code).toBe(0);
      output = [...bot.bot.output];
      if (process.env.KD_DUMP_LOGS) writeFileSync(process.env.KD_DUMP_LOGS, output.join('\n'));
    } finally {
      await bot.close();
    }
  }, 240_000);

  const parsed = () =>
    output.map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`output line ${i} is not JSON: ${line}`);
      }
    });

  it('never contain a secret value', () => {
    expect(output.length).toBeGreaterThan(20);
    // Debug logging was on: the test saw everything the bot can say.
    expect(parsed().some((l) => l.level === 20)).toBe(true);
    const leaks = Object.entries(secrets).flatMap(([name, value]) =>
      output.filter((line) => line.includes(value)).map((line) => `${name} in: ${line}`),
    );
    expect(leaks).toEqual([]);
    expect(output.filter((line) => line.includes(webhookUrl))).toEqual([]);
  });

  it('are one JSON object per line, each key once', () => {
    for (const line of parsed()) {
      expect(typeof line.level).toBe('number');
      expect(line).toHaveProperty('time');
      expect(typeof line.msg).toBe('string');
    }
    // JSON.parse keeps the last of two equal keys; log pipelines do not all agree (Elasticsearch rejects the line).
    const withDuplicates = output.map((line) => ({ line, keys: duplicateKeys(line) })).filter((x) => x.keys.length > 0);
    expect(withDuplicates.slice(0, 3).map((x) => `${x.keys.join(', ')} twice in: ${x.line}`)).toEqual([]);
  });

  it('carry deploymentId, service, env and stage on every per-deployment line', () => {
    const perDeployment = parsed().filter((l) => 'deploymentId' in l);
    expect(perDeployment.length).toBeGreaterThan(0);
    for (const line of perDeployment) {
      expect(line, `a per-deployment line: ${JSON.stringify(line)}`).toMatchObject({
        deploymentId: expect.stringMatching(/^kd-/),
        service: 'kevinstamp',
        env: 'production',
        stage: expect.any(String),
      });
    }
    expect(perDeployment.some((l) => l.deploymentId === failedRelease && l.stage === 'failed')).toBe(true);
  });

  it('record every stage change of a release, including the one a person caused (approve → switching)', () => {
    const stagesLogged = parsed()
      .filter((l) => l.deploymentId === release && l.msg === 'stage changed')
      .map((l) => l.stage as Stage);
    for (const stage of ['staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded'] as Stage[]) {
      expect(stagesLogged, `a "stage changed" line for ${stage}`).toContain(stage);
    }
  });
});
