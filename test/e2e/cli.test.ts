import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { freePort, runCli } from '../support/bot-process.ts';
import { startE2e, type CliResult, type E2eBot } from '../support/e2e-fixtures.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The `kevin-deploy` command as a person or a script runs it: a real `serve` process, and each
 * CLI verb as its own process talking to it over $KEVIN_DEPLOY_URL with $KEVIN_DEPLOY_API_TOKEN.
 * Exit codes are part of the contract: 0 ok, 1 refused or failed, 2 usage or configuration.
 */

const DEPLOYMENT_FIELDS = [
  'id',
  'service',
  'environment',
  'stage',
  'version',
  'previousVersion',
  'strategy',
  'split',
  'requestedBy',
  'approvals',
  'reason',
  'createdAt',
  'updatedAt',
];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let e: E2eBot;
let v2: string;

beforeAll(async () => {
  e = await startE2e({ monitorWindow: '400ms' });
  v2 = e.upload('v2');
  e.upload('v3');
}, 120_000);

afterAll(async () => {
  await e?.close();
});

function describeRun(r: CliResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

function parseJson<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${describeRun(r)}`);
  }
}

/** Polls `status ID --json` through the CLI, as a script would. */
async function pollStatus(id: string, stages: string[]): Promise<DeploymentView> {
  let last: DeploymentView | undefined;
  let lastRun: CliResult | undefined;
  await waitFor(
    async () => {
      lastRun = await e.cli(['status', id, '--json']);
      if (lastRun.code !== 0) return false;
      last = parseJson<DeploymentView>(lastRun);
      return stages.includes(last.stage);
    },
    { timeoutMs: 45_000, intervalMs: 100, describe: () => `${id} to reach ${stages.join('|')}; last: ${lastRun ? describeRun(lastRun) : 'none'}` },
  );
  return last!;
}

describe('kevin-deploy CLI against a running serve', { timeout: 300_000 }, () => {
  it('deploys, shows, refuses the requester as approver, approves, and reports history and status', async () => {
    // Human output: the deployment and what to do next; exit 0.
    const human = await e.cli(['deploy', 'kevinstamp', 'v2', '--env', 'production']);
    expect(human.code, describeRun(human)).toBe(0);
    const humanId = /\b(kd-[a-z0-9]+)\b/.exec(human.stdout)?.[1];
    expect(humanId, human.stdout).toBeDefined();
    expect(human.stdout).toContain('kevinstamp/production');
    expect(human.stdout).toContain('requested  by alice');
    // Let the first one go: the requester may cancel her own release before traffic moves.
    const cancelled = await e.cli(['cancel', humanId!, '--json']);
    expect(cancelled.code, describeRun(cancelled)).toBe(0);
    expect(parseJson<DeploymentView>(cancelled).stage).toBe('cancelled');

    // --json prints exactly the API object.
    const created = await e.cli(['deploy', 'kevinstamp', 'v2', '--env', 'production', '--json', '--note', 'new KEVIN gallery']);
    expect(created.code, describeRun(created)).toBe(0);
    expect(created.stderr).toBe('');
    const d = parseJson<DeploymentView>(created);
    for (const field of DEPLOYMENT_FIELDS) expect(d, `field ${field}`).toHaveProperty(field);
    expect(d.id).toMatch(/^kd-[a-z0-9]{6,}$/);
    expect(d).toMatchObject({
      service: 'kevinstamp',
      environment: 'production',
      strategy: 'blue-green',
      requestedBy: 'alice',
      approvals: [],
      note: 'new KEVIN gallery',
    });
    expect(typeof d.reason).toBe('string');
    expect(d.createdAt).toMatch(ISO);
    expect(d.updatedAt).toMatch(ISO);
    expect(d.events).toBeUndefined();
    // Same object, same keys as the API's own single-deployment view (which adds only events).
    const fromApi = await e.api<DeploymentView>('GET', `/api/v1/deployments/${d.id}`);
    const { events: _events, ...apiWithoutEvents } = fromApi.body;
    expect(Object.keys(d).sort()).toEqual(Object.keys(apiWithoutEvents).sort());
    expect(d.createdAt).toBe(fromApi.body.createdAt);

    // status ID --json includes the timeline.
    const shown = await e.cli(['status', d.id, '--json']);
    expect(shown.code, describeRun(shown)).toBe(0);
    const shownView = parseJson<DeploymentView>(shown);
    expect(Array.isArray(shownView.events)).toBe(true);
    expect(shownView.events![0]).toMatchObject({ action: 'requested', actor: 'alice' });

    const awaiting = await pollStatus(d.id, ['awaiting_approval']);
    expect(awaiting.version).toEqual({ id: v2, tag: 'v2' });
    expect(awaiting.previousVersion).toEqual({ id: e.v1, tag: 'v1' });
    expect(awaiting.split).toEqual({ [e.v1]: 100, [v2]: 0 });

    // The human view of a waiting release tells the reader how to approve it.
    const humanShown = await e.cli(['status', d.id]);
    expect(humanShown.code).toBe(0);
    expect(humanShown.stdout).toContain(`kevin-deploy approve ${d.id}`);
    expect(humanShown.stdout).toContain('timeline');

    // Alice deploys but may not approve (she is no approver): refused, exit 1, who may is named.
    const own = await e.cli(['approve', d.id], { token: TOKENS.alice });
    expect(own.code, describeRun(own)).toBe(1);
    expect(own.stderr).toContain('alice may not approve or reject releases of kevinstamp/production');
    expect(own.stdout).toBe('');

    const approved = await e.cli(['approve', d.id, '--json'], { token: TOKENS.bob });
    expect(approved.code, describeRun(approved)).toBe(0);
    expect(parseJson<DeploymentView>(approved)).toMatchObject({ id: d.id, stage: 'switching', approvals: [{ actor: 'bob' }] });

    const done = await pollStatus(d.id, ['succeeded', 'rolled_back', 'failed', 'needs_attention']);
    expect(done.stage, done.reason).toBe('succeeded');
    expect(done.split).toEqual({ [v2]: 100, [e.v1]: 0 });
    expect(e.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [v2]: 100, [e.v1]: 0 });

    const history = await e.cli(['history', 'kevinstamp', '--json']);
    expect(history.code, describeRun(history)).toBe(0);
    const listed = parseJson<{ deployments: DeploymentView[] }>(history).deployments;
    expect(listed.map((x) => x.id)).toEqual([d.id, humanId]); // newest first
    expect(listed.map((x) => x.stage)).toEqual(['succeeded', 'cancelled']);

    const status = await e.cli(['status', '--json']);
    expect(status.code, describeRun(status)).toBe(0);
    const targets = parseJson<{ targets: Array<Record<string, any>> }>(status).targets;
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      service: 'kevinstamp',
      environment: 'production',
      protected: true,
      live: { id: v2, tag: 'v2' },
      active: null,
      lock: null,
      lastFinished: { id: d.id, stage: 'succeeded' },
    });
    const humanStatus = await e.cli(['status']);
    expect(humanStatus.code).toBe(0);
    expect(humanStatus.stdout).toMatch(/kevinstamp\/production \(protected\)/);
    expect(humanStatus.stdout).toMatch(/live\s+v2 \(/);
  });

  it('locks a target (deploys refused with the reason, exit 1) and unlocks it without naming the environment', async () => {
    const locked = await e.cli(['lock', 'kevinstamp', '--env', 'production', '--reason', 'community event tonight'], { token: TOKENS.ops });
    expect(locked.code, describeRun(locked)).toBe(0);
    expect(locked.stdout).toContain('kevinstamp/production locked by ops: community event tonight');

    const refused = await e.cli(['deploy', 'kevinstamp', 'v3', '--env', 'production']);
    expect(refused.code, describeRun(refused)).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('kevinstamp/production is frozen by ops');
    expect(refused.stderr).toContain('community event tonight');
    expect(refused.stderr).toContain('kevin-deploy unlock kevinstamp --env production');

    // With --json, the refusal is the API's problem object, on stderr.
    const refusedJson = await e.cli(['deploy', 'kevinstamp', 'v3', '--env', 'production', '--json']);
    expect(refusedJson.code).toBe(1);
    expect(JSON.parse(refusedJson.stderr)).toMatchObject({ code: 'TARGET_LOCKED', title: 'Target is frozen', status: 409 });

    const status = await e.cli(['status', 'kevinstamp', '--json']);
    expect(parseJson<{ targets: Array<Record<string, any>> }>(status).targets[0]!.lock).toMatchObject({
      holder: 'ops',
      reason: 'community event tonight',
    });

    const unlocked = await e.cli(['unlock', 'kevinstamp'], { token: TOKENS.ops });
    expect(unlocked.code, describeRun(unlocked)).toBe(0);
    expect(unlocked.stdout).toContain('kevinstamp/production unlocked');

    const after = await e.cli(['status', 'kevinstamp', '--json']);
    expect(parseJson<{ targets: Array<Record<string, any>> }>(after).targets[0]!.lock).toBeNull();

    // Unlocking what is not locked is refused (exit 1) — the same answer whether or not --env is given.
    const notLockedNamed = await e.cli(['unlock', 'kevinstamp', '--env', 'production'], { token: TOKENS.ops });
    expect(notLockedNamed.code, describeRun(notLockedNamed)).toBe(1);
    expect(notLockedNamed.stderr).toContain('kevinstamp/production is not locked');
    const notLocked = await e.cli(['unlock', 'kevinstamp'], { token: TOKENS.ops });
    expect(notLocked.stderr).toContain('kevinstamp is not locked');
    expect(notLocked.code, describeRun(notLocked)).toBe(1);
  });

  it('refuses an approval by the requester when four-eyes is on (production is protected)', async () => {
    // ops is an admin, so only the four-eyes rule can stop ops approving an own release.
    e.upload('v5');
    const created = await e.deploy('v5', {}, TOKENS.ops);
    await e.waitForStage(created.id, 'awaiting_approval');
    const own = await e.cli(['approve', created.id], { token: TOKENS.ops });
    expect(own.code, describeRun(own)).toBe(1);
    expect(own.stderr).toContain(`ops requested ${created.id}; four-eyes is on for kevinstamp/production, so someone else must approve it`);
    const ownJson = await e.cli(['approve', created.id, '--json'], { token: TOKENS.ops });
    expect(ownJson.code).toBe(1);
    expect(JSON.parse(ownJson.stderr)).toMatchObject({ code: 'FOUR_EYES', status: 403 });
    expect((await e.show(created.id)).stage).toBe('awaiting_approval');

    const rejected = await e.cli(['reject', created.id, '--comment', 'not today'], { token: TOKENS.bob });
    expect(rejected.code, describeRun(rejected)).toBe(0);
    expect(rejected.stdout).toContain('rejected by bob: not today; traffic untouched');
  });

  it('rolls the live release back to the previous known-good version', async () => {
    const liveBefore = Object.entries(e.standIn.activeSplit(STAND_IN_SCRIPT)).find(([, percent]) => percent === 100)![0];
    const v4 = e.upload('v4');
    const release = await e.deploy('v4');
    await e.waitForStage(release.id, 'awaiting_approval');
    await e.approve(release.id);
    expect((await e.waitForStage(release.id, ['succeeded', 'rolled_back', 'failed'])).stage).toBe('succeeded');

    const started = await e.cli(['rollback', 'kevinstamp', '--env', 'production', '--note', 'gallery bug', '--json']);
    expect(started.code, describeRun(started)).toBe(0);
    const rollback = parseJson<DeploymentView & { kind: string }>(started);
    expect(rollback).toMatchObject({ kind: 'rollback', service: 'kevinstamp', environment: 'production', requestedBy: 'alice' });

    const done = await pollStatus(rollback.id, ['rolled_back', 'failed', 'needs_attention']);
    expect(done.stage, done.reason).toBe('rolled_back');
    expect(done.reason).toContain('manual rollback by alice: gallery bug');
    expect(done.version?.id).toBe(liveBefore);
    expect(done.previousVersion).toEqual({ id: v4, tag: 'v4' });
    expect(e.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [liveBefore]: 100, [v4]: 0 });

    // Rolling back to the version that is already live is refused (exit 1), in words.
    const again = await e.cli(['rollback', 'kevinstamp', '--env', 'production', '--to', liveBefore.slice(0, 8)]);
    expect(again.code, describeRun(again)).toBe(1);
    expect(again.stderr).toContain('is already live on kevinstamp/production');
  });

  it('exits 2 on usage errors and 1 on refusals, saying what to do', async () => {
    const unknownFlag = await e.cli(['deploy', 'kevinstamp', 'v3', '--env', 'production', '--bogus']);
    expect(unknownFlag.code, describeRun(unknownFlag)).toBe(2);
    expect(unknownFlag.stderr).toMatch(/unknown option '--bogus'/);

    const missingArgument = await e.cli(['deploy', 'kevinstamp']);
    expect(missingArgument.code, describeRun(missingArgument)).toBe(2);
    expect(missingArgument.stderr).toMatch(/missing required argument 'version'/);

    const missingReason = await e.cli(['lock', 'kevinstamp', '--env', 'production'], { token: TOKENS.ops });
    expect(missingReason.code, describeRun(missingReason)).toBe(2);

    const badToken = await e.cli(['status'], { token: 'tok-not-a-real-token' });
    expect(badToken.code, describeRun(badToken)).toBe(1);
    expect(badToken.stderr).toContain('not valid');

    const noToken = await e.cli(['status'], { token: null });
    expect(noToken.code, describeRun(noToken)).toBe(2);
    expect(noToken.stderr).toContain('KEVIN_DEPLOY_API_TOKEN is not set');

    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await e.cli(['status'], { env: { KEVIN_DEPLOY_URL: deadUrl } });
    expect(unreachable.code, describeRun(unreachable)).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach kevin-deploy at ${deadUrl}`);
    expect(unreachable.stderr).toContain('KEVIN_DEPLOY_URL');

    // --url overrides the environment.
    const viaFlag = await e.cli(['--url', e.bot.url, 'status', '--json'], { env: { KEVIN_DEPLOY_URL: deadUrl } });
    expect(viaFlag.code, describeRun(viaFlag)).toBe(0);

    // A protected environment is never a default: the API answers ENVIRONMENT_REQUIRED (HTTP 400),
    // which the CLI reports as a usage error (fix the command line: add --env).
    const noEnv = await e.cli(['deploy', 'kevinstamp', 'v3']);
    expect(noEnv.code, describeRun(noEnv)).toBe(2);
    expect(noEnv.stderr).toContain('kevinstamp/production is protected: name it explicitly (--env production)');
    const noEnvJson = await e.cli(['deploy', 'kevinstamp', 'v3', '--json']);
    expect(JSON.parse(noEnvJson.stderr)).toMatchObject({ code: 'ENVIRONMENT_REQUIRED' });

    const unknownService = await e.cli(['deploy', 'kevinstmap', 'v3', '--env', 'production']);
    expect(unknownService.code, describeRun(unknownService)).toBe(1);
    expect(unknownService.stderr).toContain('unknown service "kevinstmap"; known services: kevinstamp');

    const unknownVersion = await e.cli(['deploy', 'kevinstamp', 'v99', '--env', 'production']);
    expect(unknownVersion.code, describeRun(unknownVersion)).toBe(1);
    expect(unknownVersion.stderr).toContain('no version of kevinstamp matches "v99"');

    const notAllowed = await e.cli(['deploy', 'kevinstamp', 'v3', '--env', 'production'], { token: TOKENS.bob });
    expect(notAllowed.code, describeRun(notAllowed)).toBe(1);
    expect(notAllowed.stderr).toContain('bob may not deploy to kevinstamp/production');

    const noSuchDeployment = await e.cli(['approve', 'kd-doesnotexist'], { token: TOKENS.bob });
    expect(noSuchDeployment.code, describeRun(noSuchDeployment)).toBe(1);
    expect(noSuchDeployment.stderr).toContain('no deployment with id "kd-doesnotexist"');

    // None of the refusals above started anything.
    const history = await e.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?service=kevinstamp');
    expect(history.body.deployments.every((x) => x.stage !== 'resolving' && x.versionRef !== 'v3')).toBe(true);
  });

  it('never sends a sandbox token file to another bot; a refused token says which token it was and where it came from', async () => {
    // A checkout where `npm start` ran once: ./data/sandbox-api-token, written by the sandbox at :3000.
    const checkout = mkdtempSync(join(tmpdir(), 'kevin-deploy-checkout-'));
    const data = join(checkout, 'data');
    const sandboxUrl = 'http://127.0.0.1:3000';
    const vouch = (url: string) => writeFileSync(join(data, 'sandbox-bot.json'), JSON.stringify({ url, pid: process.pid, startedAt: new Date().toISOString() }));
    try {
      mkdirSync(data);
      writeFileSync(join(data, 'sandbox-api-token'), 'kd_sandbox_stale-0123456789abcdef\n');
      vouch(sandboxUrl);
      const env = { KEVIN_DEPLOY_URL: e.bot.url };

      // No KEVIN_DEPLOY_API_TOKEN: the sandbox's token is for the sandbox only, so nothing is sent (a 401 would exit 1).
      const noToken = await runCli(['status'], env, { cwd: checkout });
      expect(noToken.code, describeRun(noToken)).toBe(2);
      expect(noToken.stderr).toContain(`KEVIN_DEPLOY_API_TOKEN is not set: export the API token of the bot at ${e.bot.url}`);
      expect(noToken.stderr).toContain(`the sandbox token in ./data/sandbox-api-token belongs to the sandbox at ${sandboxUrl}`);

      // A token file nobody vouches for (left by an older kevin-deploy, or a sandbox that was reset): not sent either.
      rmSync(join(data, 'sandbox-bot.json'));
      const unvouched = await runCli(['status'], env, { cwd: checkout });
      expect(unvouched.code, describeRun(unvouched)).toBe(2);
      expect(unvouched.stderr).toContain('KEVIN_DEPLOY_API_TOKEN is not set');

      // A wrong token from the environment: refused (exit 1), and the message names where it came from.
      const wrong = await runCli(['status'], { ...env, KEVIN_DEPLOY_API_TOKEN: 'tok-not-a-real-token' }, { cwd: checkout });
      expect(wrong.code, describeRun(wrong)).toBe(1);
      expect(wrong.stderr).toContain(`the token from $KEVIN_DEPLOY_API_TOKEN was refused by the bot at ${e.bot.url} (the bearer token is not valid)`);
      expect(wrong.stderr).toContain('KEVIN_DEPLOY_URL');

      // The record names this very URL (a sandbox served here before this bot took the port): the
      // token is sent and refused, and the message says it was the sandbox's and what to do.
      vouch(e.bot.url);
      const stale = await runCli(['status'], env, { cwd: checkout });
      expect(stale.code, describeRun(stale)).toBe(1);
      expect(stale.stderr).toContain(`the sandbox token in ./data/sandbox-api-token (written by the sandbox serving ${e.bot.url}) was refused`);
      expect(stale.stderr).toContain('npm start');
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });

  it('prints its version with --version (exit 0)', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], {});
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('checks the configuration file and prints its JSON Schema (no server needed)', async () => {
    const good = await runCli(['config', 'check', '--config', e.configPath], {});
    expect(good.code, describeRun(good)).toBe(0);
    expect(good.stdout).toContain('ok — 1 target(s): kevinstamp/production');

    const goodJson = await runCli(['config', 'check', '--config', e.configPath, '--json'], {});
    expect(goodJson.code).toBe(0);
    expect(JSON.parse(goodJson.stdout)).toMatchObject({ ok: true, targets: ['kevinstamp/production'] });

    const typoPath = join(e.dir, 'typo.yml');
    const typoText = readFileSync(e.configPath, 'utf8').replace('    health:\n', '    helth:\n');
    writeFileSync(typoPath, typoText);
    const lines = typoText.split('\n');
    const lineIndex = lines.findIndex((l) => l.includes('helth:'));
    const column = lines[lineIndex]!.indexOf('helth') + 1;
    const typo = await runCli(['config', 'check', '--config', typoPath], {});
    expect(typo.code, describeRun(typo)).toBe(2);
    expect(typo.stderr).toContain(`${typoPath}:${lineIndex + 1}:${column}`);
    expect(typo.stderr).toContain('services.kevinstamp.helth');
    expect(typo.stderr).toMatch(/did you mean "health"/);

    const missing = await runCli(['config', 'check', '--config', join(e.dir, 'nope.yml')], {});
    expect(missing.code, describeRun(missing)).toBe(2);

    const schema = await runCli(['config', 'schema'], {});
    expect(schema.code, describeRun(schema)).toBe(0);
    const parsed = JSON.parse(schema.stdout) as Record<string, unknown>;
    expect(parsed.$schema).toMatch(/json-schema\.org/);
    expect(parsed).toHaveProperty('properties.services');
  });
});
