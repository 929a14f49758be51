import { existsSync, readFileSync } from 'node:fs';
import { freePort } from '../support/bot-process.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { corruptEdgeState, createSandbox, isAlive, storedStage, type RunResult, type SandboxRun } from '../support/sandbox-process.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The sandbox as a person meets it on a fresh clone: `kevin-deploy serve` from a directory with
 * no kevin-deploy.yml and no Cloudflare token starts the local edge (its own process) and the
 * bot against it; every other step is a `kevin-deploy …` command, as the README tells it. The
 * processes are the compiled dist/ (run `npm run build` first), each test on its own ports and
 * its own SQLite file, with the fast timing profile. Nothing asserts how long anything took: each
 * step polls for the state it needs.
 */

interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  byVersion: Record<string, { ok: number; failed: number }>;
  lastFailures: unknown[];
  since: string;
}

interface SandboxStatus {
  edge: { api: string; traffic: string; pid: number };
  split: Record<string, number>;
  versions: Array<{ id: string; number: number; annotations?: Record<string, string | undefined> }>;
  traffic: TrafficStats;
}

const TERMINAL = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

function describeRun(r: RunResult): string {
  const tail = (text: string) => (text.length > 2500 ? `…${text.slice(-2500)}` : text);
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' — did not exit by itself, killed' : ''}\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`;
}

function parseJson<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${describeRun(r)}`);
  }
}

async function ok(s: SandboxRun, args: string[]): Promise<RunResult> {
  const r = await s.run(args);
  expect(r.code, `kevin-deploy ${args.join(' ')}\n${describeRun(r)}\nbot output:\n${s.tail(15)}`).toBe(0);
  return r;
}

async function sandboxStatus(s: SandboxRun): Promise<SandboxStatus> {
  const status = parseJson<SandboxStatus>(await ok(s, ['sandbox', 'status', '--json']));
  s.track(status.edge.pid);
  return status;
}

function versionId(status: SandboxStatus, tag: string): string {
  const version = status.versions.find((v) => v.annotations?.['workers/tag'] === tag);
  if (!version) throw new Error(`no version tagged ${tag} on the edge: ${JSON.stringify(status.versions.map((v) => v.annotations))}`);
  return version.id;
}

/** Several requests to KEVINSTAMP through the edge, one after the other: status and who answered. */
async function askEdge(trafficUrl: string, times = 5): Promise<Array<{ status: number; version: string | null }>> {
  const answers: Array<{ status: number; version: string | null }> = [];
  for (let i = 0; i < times; i++) {
    const response = await fetch(trafficUrl);
    await response.arrayBuffer();
    answers.push({ status: response.status, version: response.headers.get('x-kevin-version') });
  }
  return answers;
}

async function trafficNow(s: SandboxRun): Promise<TrafficStats> {
  const edge = s.edgeInfo();
  if (!edge) throw new Error('no sandbox-edge.json');
  const response = await fetch(`${edge.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in/traffic`);
  expect(response.status).toBe(200);
  return (await response.json()) as TrafficStats;
}

async function waitForStage(s: SandboxRun, id: string, stages: string[], timeoutMs = 60_000): Promise<DeploymentView> {
  let last: DeploymentView | undefined;
  await waitFor(
    async () => {
      try {
        const r = await s.api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
        if (r.status !== 200) return false;
        last = r.body;
      } catch {
        return false; // the bot is (re)starting
      }
      if (!stages.includes(last.stage) && TERMINAL.includes(last.stage)) {
        throw new Error(`${id} ended ${last.stage} while waiting for ${stages.join('|')}: ${last.reason}`);
      }
      return stages.includes(last.stage);
    },
    { timeoutMs, intervalMs: 25, describe: () => `${id} to reach ${stages.join('|')}; it is ${last?.stage}: ${last?.reason}\nbot output:\n${s.tail(15)}` },
  );
  return last!;
}

/** `deploy kevinstamp TAG --env production --json`, then waits until it asks for approval. */
async function deployAndWaitForApproval(s: SandboxRun, tag: string): Promise<string> {
  const deployed = parseJson<DeploymentView>(await ok(s, ['deploy', 'kevinstamp', tag, '--env', 'production', '--json']));
  expect(deployed.id).toMatch(/^kd-[a-z0-9]+$/);
  await waitForStage(s, deployed.id, ['awaiting_approval']);
  return deployed.id;
}

async function processGroupIsEmpty(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('the sandbox, started as a user would', { timeout: 300_000 }, () => {
  let s: SandboxRun;
  let v1 = '';
  let v2 = '';

  beforeAll(async () => {
    s = await createSandbox();
    // `npm start`: plain `serve` — no --sandbox, no kevin-deploy.yml in cwd, no CLOUDFLARE_API_TOKEN.
    await s.start(['serve']);
    await waitFor(() => s.stdout.some((line) => line.includes('Ctrl-C stops everything')), {
      timeoutMs: 20_000,
      describe: () => `the banner on stdout; stdout so far:\n${s.stdout.join('\n')}`,
    });
  }, 120_000);

  afterAll(async () => {
    await s?.close();
  });

  it('starts the sandbox from plain `serve`: a banner with what to try, /readyz 200, the edge described, v1 live at 100 %', async () => {
    expect(existsSync(`${s.cwd}/kevin-deploy.yml`)).toBe(false);
    expect(s.env.CLOUDFLARE_API_TOKEN).toBeUndefined();

    const edge = s.edgeInfo();
    expect(edge, `sandbox-edge.json in ${s.dataDir}`).toBeDefined();
    expect(existsSync(s.edgeInfoFile)).toBe(true);
    expect(edge!.trafficUrl).toBe(`http://127.0.0.1:${s.edgePort}`);
    expect(edge!.apiBaseUrl).toContain(`:${s.apiPort}`);
    expect(edge!.pid).not.toBe(s.bot!.pid); // the edge is its own process
    expect(isAlive(edge!.pid)).toBe(true);

    const banner = s.stdout.join('\n');
    expect(banner).toContain('kevin-deploy sandbox is running');
    expect(banner).toContain(edge!.trafficUrl);
    expect(banner).toContain(s.url);
    expect(banner).toContain('sandbox upload --tag v2');
    expect(banner).toContain('deploy kevinstamp v2 --env production');
    expect(banner).toContain('approve <id>');
    expect(banner).toContain('status <id> --follow');
    // The sandbox's choices are said, once and in words: four-eyes is off, alerts without an account stay local.
    expect(banner).toMatch(/approvals\s+four-eyes is off in the sandbox: you may approve your own release/);
    expect(banner).toContain(`  console    ${s.url}/console   (sign in with the API token in `);
    expect(banner).toContain(
      `  alerts     Slack, email, PagerDuty, Discord and SMS have no account here, so they go to local sinks, seen in the console's Outbox at ${s.url}/console/outbox`,
    );
    expect(s.output.filter((line) => line.includes('but it is not configured')), 'warnings about channels without an account').toEqual([]);
    // The token file is vouched for, for this bot's URL only (the CLI sends it nowhere else).
    expect(JSON.parse(readFileSync(`${s.dataDir}/sandbox-bot.json`, 'utf8'))).toMatchObject({ url: s.url, pid: s.bot!.pid });

    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);

    const status = await sandboxStatus(s);
    expect(status.edge.pid).toBe(edge!.pid);
    expect(status.edge.traffic).toBe(edge!.trafficUrl);
    expect(status.versions.map((v) => v.annotations?.['workers/tag'])).toEqual(['v1']);
    v1 = versionId(status, 'v1');
    expect(status.split).toEqual({ [v1]: 100 });

    // The site answers, served by v1; the CLI reaches the bot with the token from the data dir.
    for (const answer of await askEdge(edge!.trafficUrl)) expect(answer).toEqual({ status: 200, version: v1 });
    const targets = parseJson<{ targets: Array<{ service: string; environment: string }> }>(await ok(s, ['status', '--json']));
    expect(targets.targets.map((t) => `${t.service}/${t.environment}`)).toContain('kevinstamp/production');
  });

  it('releases a good version through the CLI: upload, deploy, approve, follow to success; the edge then serves it', async () => {
    const uploaded = await ok(s, ['sandbox', 'upload', '--tag', 'v2']);
    expect(uploaded.stdout).toContain('uploaded v2');

    const id = await deployAndWaitForApproval(s, 'v2');
    await ok(s, ['approve', id]);
    const followed = await s.run(['status', id, '--follow']);
    expect(followed.code, describeRun(followed)).toBe(0);
    expect(followed.stdout).toContain('succeeded');

    const shown = parseJson<DeploymentView>(await ok(s, ['status', id, '--json']));
    expect(shown.stage).toBe('succeeded');

    const status = await sandboxStatus(s);
    v2 = versionId(status, 'v2');
    expect(shown.version?.id).toBe(v2);
    expect(status.split[v2]).toBe(100);
    for (const answer of await askEdge(status.edge.traffic)) expect(answer).toEqual({ status: 200, version: v2 });
  });

  it('rolls a version that breaks under traffic back by itself: follow exits 1, rolled_back by a trigger, v2 serves again', async () => {
    expect(v2, 'the good release ran first').not.toBe('');
    const uploaded = await ok(s, ['sandbox', 'upload', '--tag', 'v3', '--behavior', 'fails-after-traffic']);
    expect(uploaded.stdout).toContain('fails-after-traffic');

    const id = await deployAndWaitForApproval(s, 'v3');
    await ok(s, ['approve', id]);
    const followed = await s.run(['status', id, '--follow']);
    expect(followed.code, describeRun(followed)).toBe(1);
    expect(followed.stdout).toContain('rolled_back');

    const shown = parseJson<DeploymentView>(await ok(s, ['status', id, '--json']));
    expect(shown.stage).toBe('rolled_back');
    expect(shown.reason).toMatch(/trigger/);

    const status = await sandboxStatus(s);
    expect(shown.version?.id).toBe(versionId(status, 'v3'));
    expect(status.split[v2]).toBe(100);
    for (const answer of await askEdge(status.edge.traffic)) expect(answer).toEqual({ status: 200, version: v2 });
  });

  it('keeps serving while the bot is SIGKILLed mid-monitoring; the next start attaches to the same edge and finishes the release', async () => {
    await ok(s, ['sandbox', 'upload', '--tag', 'v4']);
    const id = await deployAndWaitForApproval(s, 'v4');
    await ok(s, ['approve', id]);
    await waitForStage(s, id, ['monitoring']);

    const edge = s.edgeInfo()!;
    const before = await trafficNow(s);
    const killed = await s.stopBot('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    // Where the kill landed, from the database itself.
    expect(storedStage(s.dbFile, id), 'the kill hit the monitoring window').toBe('monitoring');
    await expect(fetch(`${s.url}/readyz`)).rejects.toThrow();

    // The bot is down: the edge keeps serving v4, on its own, in the same process.
    const down = await sandboxStatus(s);
    const v4 = versionId(down, 'v4');
    expect(down.edge.pid).toBe(edge.pid);
    expect(isAlive(edge.pid)).toBe(true);
    expect(down.split[v4]).toBe(100);
    for (const answer of await askEdge(edge.trafficUrl, 8)) expect(answer).toEqual({ status: 200, version: v4 });
    expect(down.traffic.failed, JSON.stringify(down.traffic.lastFailures)).toBe(before.failed);

    // Start again, as `npm start --sandbox` would: same environment, same data directory.
    await s.start(['serve', '--sandbox']);
    expect(s.output.some((line) => line.includes('attached to the running sandbox edge')), s.tail()).toBe(true);
    expect(s.edgeInfo()?.pid).toBe(edge.pid);
    expect(s.edgeInfo()?.startedAt).toBe(edge.startedAt);
    expect(isAlive(edge.pid)).toBe(true);

    const done = await waitForStage(s, id, ['succeeded']);
    expect(done.version?.id).toBe(v4);
    const after = await sandboxStatus(s);
    expect(after.edge.pid).toBe(edge.pid);
    expect(after.split[v4]).toBe(100);
    expect(after.traffic.since).toBe(before.since); // the same collector, never restarted
    expect(after.traffic.sent).toBeGreaterThan(before.sent); // traffic kept flowing
    expect(after.traffic.failed, `new failures: ${JSON.stringify(after.traffic.lastFailures)}`).toBe(before.failed);
    for (const answer of await askEdge(edge.trafficUrl)) expect(answer).toEqual({ status: 200, version: v4 });
  });

  it('refuses a behaviour or a tag that cannot be right as a usage error (exit 2), before asking the edge', async () => {
    const before = await sandboxStatus(s);
    const missingNumber = await s.run(['sandbox', 'upload', '--tag', 'v9', '--behavior', 'erroring']);
    expect(missingNumber.code, describeRun(missingNumber)).toBe(2);
    expect(missingNumber.stderr).toContain("option '--behavior <preset>' argument 'erroring' is invalid");
    expect(missingNumber.stderr).toContain('erroring:N');
    expect(missingNumber.stderr).toContain('--help');
    const unknown = await s.run(['sandbox', 'upload', '--tag', 'v9', '--behavior', 'flaky']);
    expect(unknown.code, describeRun(unknown)).toBe(2);
    expect(unknown.stderr).toContain('Allowed presets: healthy');
    const badTag = await s.run(['sandbox', 'upload', '--tag', 'v 9']);
    expect(badTag.code, describeRun(badTag)).toBe(2);
    expect(badTag.stderr).toContain('a tag is 1 to 64 characters without spaces');
    expect((await sandboxStatus(s)).versions.map((v) => v.id)).toEqual(before.versions.map((v) => v.id));
  });

  it('refuses a duplicate tag and an unknown version with a clear message, and changes nothing', async () => {
    const before = await sandboxStatus(s);
    const duplicate = await s.run(['sandbox', 'upload', '--tag', 'v2']);
    expect(duplicate.code, describeRun(duplicate)).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    const after = await sandboxStatus(s);
    expect(after.versions.map((v) => v.id)).toEqual(before.versions.map((v) => v.id));
    expect(after.split).toEqual(before.split);

    const history = parseJson<{ deployments: DeploymentView[] }>(await ok(s, ['history', '--json']));
    const unknown = await s.run(['deploy', 'kevinstamp', 'v99', '--env', 'production']);
    expect(unknown.code, describeRun(unknown)).toBe(1);
    expect(unknown.stderr).toContain('no version');
    const historyAfter = parseJson<{ deployments: DeploymentView[] }>(await ok(s, ['history', '--json']));
    expect(historyAfter.deployments.map((d) => d.id)).toEqual(history.deployments.map((d) => d.id));
  });

  it('refuses a second `serve --sandbox` on a port that is taken (exit 2, "in use") without disturbing the running one', async () => {
    const edge = s.edgeInfo()!;
    const second = await s.run(['serve', '--sandbox'], { timeoutMs: 45_000 });
    expect(second.timedOut, describeRun(second)).toBe(false);
    expect(second.code, describeRun(second)).toBe(2);
    expect(second.stderr).toMatch(/in use/);
    expect(second.stderr).toContain(String(s.port));

    expect(s.bot!.exitCode).toBeNull();
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    expect(s.edgeInfo()?.pid).toBe(edge.pid);
    expect(isAlive(edge.pid)).toBe(true);
    for (const answer of await askEdge(edge.trafficUrl)) expect(answer.status).toBe(200);
  });

  it("refuses a second sandbox whose edge port is taken (exit 2, names the variable) without disturbing the running one", async () => {
    const edge = s.edgeInfo()!;
    const other = await createSandbox({ ports: { edgePort: s.edgePort } });
    try {
      const r = await other.run(['serve', '--sandbox'], { timeoutMs: 45_000 });
      expect(r.timedOut, `serve --sandbox must exit when its edge cannot start\n${describeRun(r)}`).toBe(false);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(/in use/);
      expect(r.stderr).toContain('KEVIN_DEPLOY_SANDBOX_EDGE_PORT');
    } finally {
      await other.close();
    }
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    expect(s.edgeInfo()?.pid).toBe(edge.pid);
    for (const answer of await askEdge(edge.trafficUrl)) expect(answer.status).toBe(200);
  });
});

describe('Ctrl-C', { timeout: 300_000 }, () => {
  let s: SandboxRun | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('SIGINT to the bot stops it with exit code 0 and stops the edge it started', async () => {
    s = await createSandbox();
    const bot = await s.start(['serve']);
    const edge = s.edgeInfo()!;
    expect(isAlive(edge.pid)).toBe(true);

    const stopped = await s.stopBot('SIGINT');
    expect(stopped, s.tail()).toEqual({ code: 0, signal: null });
    await waitFor(() => !isAlive(edge.pid), { timeoutMs: 10_000, describe: () => `the edge (pid ${edge.pid}) to be gone` });
    expect(existsSync(s.edgeInfoFile)).toBe(false);
    await expect(fetch(edge.trafficUrl)).rejects.toThrow();
    await waitFor(() => processGroupIsEmpty(bot.pid!), { timeoutMs: 10_000, describe: () => 'no process of the sandbox left' });
  });

  it('Ctrl-C in a terminal (SIGINT to the whole process group) mid-release stops everything; the next start finishes the release', async () => {
    s = await createSandbox();
    const bot = await s.start(['serve']);
    const edge = s.edgeInfo()!;
    await ok(s, ['sandbox', 'upload', '--tag', 'v2']);
    const id = await deployAndWaitForApproval(s, 'v2');
    await ok(s, ['approve', id]);
    await waitForStage(s, id, ['monitoring']);

    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => bot.once('exit', (code, signal) => resolve([code, signal])));
    process.kill(-bot.pid!, 'SIGINT'); // the terminal sends it to the bot and the edge at once
    expect(await exited, s.tail()).toEqual([0, null]);
    await waitFor(() => processGroupIsEmpty(bot.pid!), {
      timeoutMs: 10_000,
      describe: () => `no process of the sandbox left (edge ${edge.pid} alive: ${isAlive(edge.pid)}); ${s!.tail(10)}`,
    });
    expect(existsSync(s.edgeInfoFile)).toBe(false);

    // The next start launches a new edge with the same state and finishes the release.
    await s.start(['serve']);
    const restarted = s.edgeInfo()!;
    expect(restarted.pid).not.toBe(edge.pid);
    const done = await waitForStage(s, id, ['succeeded']);
    const status = await sandboxStatus(s);
    expect(done.version?.id).toBe(versionId(status, 'v2'));
    expect(status.split[versionId(status, 'v2')]).toBe(100);
  });
});

describe('a corrupt sandbox state', { timeout: 300_000 }, () => {
  let s: SandboxRun | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('stops the start with a message that says so and names `sandbox reset`; after the reset a new start works', async () => {
    s = await createSandbox();
    await s.start(['serve']);
    const edge = s.edgeInfo()!;
    expect(await s.stopBot('SIGINT')).toEqual({ code: 0, signal: null });
    await waitFor(() => !isAlive(edge.pid), { timeoutMs: 10_000, describe: () => `the edge (pid ${edge.pid}) to be gone` });

    corruptEdgeState(s.edgeStateFile);

    const refused = await s.run(['serve', '--sandbox'], { timeoutMs: 45_000 });
    expect(refused.timedOut, `serve --sandbox must exit when the edge state is corrupt\n${describeRun(refused)}`).toBe(false);
    expect(refused.code, describeRun(refused)).not.toBe(0);
    expect(refused.stderr).toMatch(/corrupt|unreadable/);
    expect(refused.stderr).toContain('sandbox reset');
    expect(existsSync(s.edgeInfoFile)).toBe(false);
    await expect(fetch(`${s.url}/readyz`)).rejects.toThrow();

    const reset = await s.run(['sandbox', 'reset']);
    expect(reset.code, describeRun(reset)).toBe(0);

    await s.start(['serve']);
    const status = await sandboxStatus(s);
    const v1 = versionId(status, 'v1');
    expect(status.versions).toHaveLength(1);
    expect(status.split).toEqual({ [v1]: 100 });
    for (const answer of await askEdge(status.edge.traffic)) expect(answer).toEqual({ status: 200, version: v1 });
  });
});

describe('secrets in the sandbox', { timeout: 300_000 }, () => {
  let s: SandboxRun | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const WEBHOOK_TOKEN = 'dschook-SANDBOX-7a7a7a7a7a7a7a7a';
  const PAGERDUTY_WEBHOOK_PARTS = ['pdwh-SANDBOX-old-1e1e1e1e', 'pdwh-SANDBOX-new-2f2f2f2f', 'Hv3m'];
  /** Every secret variable, some of them short (4 and 5 characters), one a comma list as during a rotation. */
  const SECRETS: Record<string, string> = {
    KEVIN_DEPLOY_API_TOKEN: 'kdapi-SANDBOX-1a1a1a1a1a',
    CLOUDFLARE_API_TOKEN: 'cftok-SANDBOX-2b2b2b2b2b',
    SLACK_BOT_TOKEN: 'xoxb-SANDBOX-3c3c3c3c3c',
    SLACK_SIGNING_SECRET: 'Zq9x',
    SLACK_APP_TOKEN: 'xapp-SANDBOX-5e5e5e5e5e',
    DISCORD_BOT_TOKEN: 'dsctok-SANDBOX-6f6f6f6f6f',
    DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/112233445566778899/${WEBHOOK_TOKEN}`,
    PAGERDUTY_ROUTING_KEY: 'pdrk-SANDBOX-8b8b8b8b8b',
    PAGERDUTY_API_TOKEN: 'pdapi-SANDBOX-9c9c9c9c9c',
    PAGERDUTY_WEBHOOK_SECRET: PAGERDUTY_WEBHOOK_PARTS.join(','),
    MAILCHANNELS_API_KEY: 'k7Wp2',
  };
  const VALUES = [...Object.values(SECRETS), ...PAGERDUTY_WEBHOOK_PARTS, WEBHOOK_TOKEN];

  it('refuses a secret too short to keep out of the logs (exit 2, names the variable) before starting anything', async () => {
    s = await createSandbox();
    const r = await s.run(['serve', '--sandbox'], { env: { PAGERDUTY_WEBHOOK_SECRET: 'pdwh-long-enough-1,x' }, timeoutMs: 45_000 });
    expect(r.timedOut, describeRun(r)).toBe(false);
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr).toContain('PAGERDUTY_WEBHOOK_SECRET has a part that is 1 character long: a secret needs at least 4');
    expect(existsSync(s.edgeInfoFile)).toBe(false);
  });

  it("never writes one to the bot's output or the edge's log, and never hands one to the edge process", async () => {
    s = await createSandbox();
    const dead = `http://127.0.0.1:${await freePort()}`;
    Object.assign(s.env, SECRETS, {
      // Every third-party API points at a closed local port: nothing leaves the machine.
      SLACK_API_URL: `${dead}/api/`,
      DISCORD_API_URL: `${dead}/api`,
      PAGERDUTY_EVENTS_HOST: dead.replace('http://', ''),
      PAGERDUTY_API_URL: dead,
      MAILCHANNELS_API_URL: dead,
      LOG_LEVEL: 'debug',
    });
    await s.start(['serve', '--sandbox']);
    const edge = s.edgeInfo()!;

    // The edge was started with its own short environment: none of the values, none of the names.
    const environ = readFileSync(`/proc/${edge.pid}/environ`, 'utf8').split('\0');
    for (const value of VALUES) expect(environ.filter((entry) => entry.includes(value)), value).toEqual([]);
    for (const name of Object.keys(SECRETS)) expect(environ.some((entry) => entry.startsWith(`${name}=`)), name).toBe(false);
    expect(environ.some((entry) => entry.startsWith('KEVIN_DEPLOY_SANDBOX_EDGE_PORT='))).toBe(true);

    // Make the bot log each value: every request's path is logged at debug.
    for (const value of VALUES) await (await fetch(`${s.url}/nothing/${encodeURIComponent(value)}`)).arrayBuffer();
    await waitFor(() => s!.output.filter((line) => line.includes('"url":"/nothing/')).length >= VALUES.length, {
      timeoutMs: 20_000,
      describe: () => `a request line per secret; output:\n${s!.tail(20)}`,
    });
    expect(await s.stopBot('SIGTERM')).toEqual({ code: 0, signal: null });

    const requestLines = s.output.filter((line) => line.includes('"url":"/nothing/'));
    expect(requestLines.every((line) => line.includes('/nothing/[redacted]')), requestLines.join('\n')).toBe(true);
    const edgeLog = readFileSync(`${s.dataDir}/sandbox-edge.log`, 'utf8');
    expect(edgeLog.length).toBeGreaterThan(0);
    // As written, and percent-encoded as it stood in the request path.
    for (const value of VALUES.flatMap((v) => [v, encodeURIComponent(v)])) {
      expect(s.output.filter((line) => line.includes(value)), `${value} in the bot's output`).toEqual([]);
      expect(edgeLog.includes(value), `${value} in sandbox-edge.log`).toBe(false);
    }
  });
});

describe('LOG_FORMAT', { timeout: 300_000 }, () => {
  let s: SandboxRun | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('pretty: readable log lines around an intact banner; an unknown format is a usage error', async () => {
    s = await createSandbox();
    const bad = await s.run(['serve'], { env: { LOG_FORMAT: 'yaml' }, timeoutMs: 30_000 });
    expect(bad.code, describeRun(bad)).toBe(2);
    expect(bad.stderr).toContain('LOG_FORMAT must be json or pretty; got "yaml"');

    s.env.LOG_FORMAT = 'pretty';
    await s.start(['serve']);
    await waitFor(() => s!.stdout.some((line) => line.includes('kevin-deploy is serving')), { timeoutMs: 20_000, describe: () => s!.tail() });
    expect(s.output.filter((line) => line.trimStart().startsWith('{')), 'JSON lines').toEqual([]);
    expect(s.stdout.some((line) => /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z\] INFO: store ready/.test(line)), s.tail()).toBe(true);
    // The banner is one block: the start-up lines come before it, none in the middle.
    const first = s.stdout.findIndex((line) => line.includes('kevin-deploy sandbox is running'));
    const last = s.stdout.findIndex((line) => line.includes('Ctrl-C stops everything'));
    expect(first, s.tail()).toBeGreaterThan(0);
    expect(s.stdout.slice(first, last + 1).filter((line) => /^\[\d{4}-/.test(line))).toEqual([]);
  });
});
