import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.ts';
import type { DeploymentView, LockView } from '../../src/domain/deployment-view.ts';
import { APPROVER_GROUP, CHANNEL, stageOfText, startSlackHarness, TEAM, U, type SlackHarness } from '../support/slack-harness.ts';
import { slashCommandBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait-for.ts';

/** Slash commands besides the release itself: lock/unlock, help, status, usage errors, and Slack's retries. */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function deployments(harness: SlackHarness): Promise<DeploymentView[]> {
  return (await harness.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments')).body.deployments;
}

async function locks(harness: SlackHarness): Promise<LockView[]> {
  return (await harness.api<{ locks: LockView[] }>('GET', '/api/v1/locks')).body.locks;
}

/** Runs a slash command and returns the text of its ephemeral answer (in the ack or over response_url). */
async function ask(harness: SlackHarness, userId: string, text: string, command = '/deploy'): Promise<string> {
  return (await harness.ask(userId, text, { command })).text;
}

describe('lock and unlock from Slack', () => {
  it('/deploy lock … refuses deploys with the reason until /deploy unlock …', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    expect(await ask(h, U.ops, 'lock kevinstamp production reason words')).toBe(
      ':lock: kevinstamp → production is frozen: reason words. Deploys are refused until unlocked; rollbacks still work.',
    );
    expect(await locks(h)).toEqual([expect.objectContaining({ service: 'kevinstamp', environment: 'production', holder: 'ops', reason: 'reason words' })]);

    const refused = await ask(h, U.alice, 'kevinstamp v2 to production');
    expect(refused).toMatch(/^:no_entry: kevinstamp\/production is frozen by ops since \S+: reason words\./);
    expect(await deployments(h)).toEqual([]);

    const status = await ask(h, U.alice, 'status');
    expect(status).toContain(`:lock: frozen by <@${U.ops}>: reason words`);

    // Only admins may lift it.
    expect(await ask(h, U.alice, 'unlock kevinstamp production')).toBe(
      `:no_entry: alice may not lock or unlock kevinstamp/production; allowed: admins (<@${U.ops}>)`,
    );
    expect(await locks(h)).toHaveLength(1);
    expect(await ask(h, U.ops, 'unlock kevinstamp production')).toBe(':unlock: kevinstamp → production is open again.');
    expect(await locks(h)).toEqual([]);
    expect(await ask(h, U.ops, 'unlock kevinstamp production')).toBe(':no_entry: kevinstamp/production is not locked');

    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    // A lock does not touch the active release, and a second lock is refused naming the first.
    expect(await ask(h, U.ops, 'lock kevinstamp production again')).toMatch(/^:lock: /);
    expect(await ask(h, U.ops, 'lock kevinstamp production twice')).toMatch(/^:no_entry: kevinstamp\/production is frozen by ops since \S+: again\./);
  });

  it('a lock reason cannot mention anyone or format anything, in the confirmation or in refusals', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const reason = '<!channel> *launch* freeze, ask slack:U0BOSS';
    const confirmation = await ask(h, U.ops, `lock kevinstamp production "${reason}"`);
    const refusal = await ask(h, U.alice, 'kevinstamp v2 to production');
    const status = await ask(h, U.alice, 'status kevinstamp');
    for (const text of [confirmation, refusal, status]) {
      expect(text).toContain('launch');
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('*launch*');
      expect(text).not.toContain('<@U0BOSS>');
    }
  });

  it('/deploy lock SERVICE REASON… without an environment locks the default environment', async () => {
    h = await startSlackHarness();
    // kevinstamp's default environment is staging.
    expect(await ask(h, U.ops, 'lock kevinstamp freeze for the launch')).toBe(
      ':lock: kevinstamp → staging is frozen: freeze for the launch. Deploys are refused until unlocked; rollbacks still work.',
    );
    expect(await locks(h)).toEqual([expect.objectContaining({ environment: 'staging', reason: 'freeze for the launch' })]);
  });

  it('/deploy lock SERVICE ENV without a reason is a usage error, not a lock of another environment', async () => {
    h = await startSlackHarness();
    const reply = await ask(h, U.ops, 'lock kevinstamp production');
    expect(reply).not.toMatch(/^:lock:/);
    expect(reply).toMatch(/REASON/);
    expect(await locks(h)).toEqual([]);
  });
});

describe('help, status, history and usage errors', () => {
  it('/deploy with bad text answers at once with the usage, ephemerally, and starts nothing', async () => {
    h = await startSlackHarness();
    for (const [text, problem] of [
      ['kevinstamp', 'SERVICE and VERSION are required'],
      ['kevinstamp v2 production', 'unexpected "production"'],
      ['kevinstamp v2 to production --yes', 'unknown option --yes'],
      ['kevinstamp v2 --note "unclosed', 'a quote is not closed'],
    ] as const) {
      const { response, responseUrl } = await h.slash(U.alice, text);
      expect(response.status, text).toBe(200);
      expect(response.json, text).toMatchObject({ response_type: 'ephemeral' });
      const answer = (response.json as { text: string }).text;
      expect(answer, text).toContain(problem);
      if (!text.includes('unclosed')) expect(answer, text).toContain(`\`${COMMANDS.deploy.chatUsage}\``);
      expect(h.catcher.bodies(responseUrl)).toEqual([]);
    }
    const { response } = await h.slash(U.bob, '', { command: '/rollback' });
    expect((response.json as { text: string }).text).toContain(`\`${COMMANDS.rollback.chatUsage}\``);
    expect(await deployments(h)).toEqual([]);
  });

  it('an unknown service lists the known ones; an unknown version or environment says so', async () => {
    h = await startSlackHarness();
    expect(await ask(h, U.alice, 'kevinstmp v2 to production')).toBe(':no_entry: unknown service "kevinstmp"; known services: kevinstamp');
    expect(await ask(h, U.alice, 'kevinstamp v2 to prod')).toBe(':no_entry: kevinstamp has no environment "prod"; known environments: production, staging');
    expect(await ask(h, U.alice, 'kevinstamp v9 to production')).toMatch(/^:no_entry: .*v9/);
    expect(await ask(h, U.bob, 'kevinstmp', '/rollback')).toBe(':no_entry: unknown service "kevinstmp"; known services: kevinstamp');
    expect(await deployments(h)).toEqual([]);
  });

  it('a deploy by someone without deploy rights names who may', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    expect(await ask(h, U.dave, 'kevinstamp v2 to production')).toBe(
      `:no_entry: <@${U.dave}> may not deploy to kevinstamp/production; allowed: <@${U.alice}>, <@${U.ops}>, admins (<@${U.ops}>)`,
    );
    expect(await deployments(h)).toEqual([]);
  });

  it('/deploy help lists every chat command', async () => {
    h = await startSlackHarness();
    const help = await ask(h, U.dave, 'help');
    expect(help.split('\n')[0]).toBe('*kevin-deploy*');
    for (const c of Object.values(COMMANDS)) if (c.chatUsage) expect(help).toContain(`\`${c.chatUsage}\``);
    expect(help).toContain('buttons');
  });

  it('/deploy status shows every target and the active release; /deploy history the releases', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    expect(await ask(h, U.dave, 'history')).toBe('No releases yet.');
    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    const status = await ask(h, U.dave, 'status');
    const lines = status.split('\n');
    expect(lines[0]).toMatch(/^\*kevinstamp → production\* \(protected\): live /);
    expect(lines[1]).toMatch(new RegExp(`^  active \`${id}\` awaiting approval — `));
    expect(status).toContain('*kevinstamp → staging*');
    expect(await ask(h, U.dave, 'status kevinstmp')).toBe(':no_entry: unknown service "kevinstmp"; known services: kevinstamp');
    const history = await ask(h, U.dave, 'history kevinstamp production');
    expect(history).toMatch(new RegExp(`kevinstamp → production \`v2\` \\(\\w{8}\\) \\*awaiting approval\\* · <@${U.alice}> · \`${id}\`$`));
  });
});

describe('/rollback from Slack', () => {
  it('rolls back the active release while it has traffic, and after it succeeded rolls back to the previous version', async () => {
    h = await startSlackHarness({ monitorWindow: '60s' });
    const v2 = h.upload('v2');
    // Nothing released yet: nothing known-good to go back to.
    expect(await ask(h, U.bob, 'kevinstamp production', '/rollback')).toMatch(/^:no_entry: no earlier known-good version of kevinstamp\/production/);

    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    // Before the switch there is nothing to roll back: the answer says to cancel instead.
    expect(await ask(h, U.bob, 'kevinstamp production', '/rollback')).toMatch(/^:no_entry: .*traffic has not moved.*cancel it/);
    await h.click(U.bob, 'kd_approve', id);
    await h.waitForStage(id, 'monitoring');
    const answer = await h.ask(U.bob, 'kevinstamp production --note "gallery broken"', { command: '/rollback' });
    expect(answer.via).toBe('response_url');
    expect(answer.text).toMatch(new RegExp(`^:rewind: Rolling back kevinstamp → production \\(\`${id}\`\\): all traffic goes back to \`v1\``));
    expect(answer.text).toContain(`<#${CHANNEL}>`);
    const rolledBack = await h.waitForStage(id, 'rolled_back');
    expect(rolledBack.reason).toContain('gallery broken');
    expect(rolledBack.split).toEqual({ [h.v1]: 100, [v2]: 0 });
    await h.waitForCard(id, (c) => stageOfText(c.text) === 'rolled_back');
    expect(await deployments(h)).toHaveLength(1);
  });

  it('dave, without rollback rights, is refused with who may', async () => {
    h = await startSlackHarness();
    expect(await ask(h, U.dave, 'kevinstamp production', '/rollback')).toBe(
      `:no_entry: <@${U.dave}> may not roll back or cancel releases of kevinstamp/production; allowed: role deployer (<@${U.alice}>, viewer), role approver (<@${U.bob}>, <!subteam^${APPROVER_GROUP}>), admins (<@${U.ops}>)`,
    );
  });
});

describe("Slack's retries", () => {
  it('the same slash command re-sent with X-Slack-Retry-Num is acked and starts nothing', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const responseUrl = h.catcher.urlFor('commands');
    // --queue: if the retry were handled, it would queue a second release instead of being refused.
    const body = slashCommandBody({ command: '/deploy', text: 'kevinstamp v2 to production --queue', userId: U.alice, channelId: CHANNEL, teamId: TEAM, responseUrl });
    const first = await h.post(body);
    expect(first.status).toBe(200);
    const retry = await h.post(body, { retryNum: 1, retryReason: 'http_timeout' });
    expect(retry.status).toBe(200);
    const reply = await h.replyTo(responseUrl);
    expect(reply).toMatch(/^:rocket: Started `kd-/);
    const id = /`(kd-[a-z0-9]+)`/.exec(reply)![1]!;
    await waitFor(() => h!.logs.some((l) => l.includes('skipped: Slack retry')));
    // Anything the retry might have started has finished once a later command is answered.
    const status = await ask(h, U.dave, 'status');
    expect(status).toContain(`active \`${id}\``);
    expect(status).not.toContain('queue:');
    const all = await deployments(h);
    expect(all.map((d) => d.id)).toEqual([id]);
    expect(all[0]!.stage).not.toBe('requested');
    expect(h.catcher.bodies(responseUrl)).toHaveLength(1);
  });
});
