import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';
import { actionIdsOf, APPROVER_GROUP, stageOfText, startSlackHarness, textOf, U, type SlackHarness } from '../support/slack-harness.ts';
import { waitFor } from '../support/wait-for.ts';

/** The card's buttons, clicked by people who may and may not, at the right and the wrong time. */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function show(harness: SlackHarness, id: string): Promise<DeploymentView> {
  return (await harness.api<DeploymentView>('GET', `/api/v1/deployments/${id}`)).body;
}

function count(view: DeploymentView, action: string): number {
  return view.events!.filter((e) => e.action === action).length;
}

/** The ephemeral answer to a click (Bolt's respond(): never replaces the card). */
async function answerTo(harness: SlackHarness, responseUrl: string): Promise<string> {
  const text = await harness.replyTo(responseUrl);
  const [post] = harness.catcher.bodies(responseUrl);
  expect(post!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  return text;
}

/** A release of `tag` by `by`, waiting for approval, its card drawn. */
async function awaitingApproval(harness: SlackHarness, tag: string, env = 'production', by: string = U.alice): Promise<string> {
  const { id } = await harness.deploy(by, `kevinstamp ${tag} to ${env}`);
  await harness.waitForStage(id, 'awaiting_approval');
  await harness.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');
  return id;
}

describe('approval buttons', () => {
  it('four-eyes: the requester cannot approve their own release on a protected environment', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    // ops is an admin (may do everything) and requested it: four-eyes still applies.
    const id = await awaitingApproval(h, 'v2', 'production', U.ops);
    const { response, responseUrl } = await h.click(U.ops, 'kd_approve', id);
    expect(response.status).toBe(200);
    const answer = await answerTo(h, responseUrl);
    expect(answer).toMatch(/^:no_entry: /);
    expect(answer).toContain('someone else must approve');
    expect(answer).toContain(id);
    const after = await show(h, id);
    expect(after.stage).toBe('awaiting_approval');
    expect(after.approvals).toEqual([]);
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, after.version!.id)).toBe(0);
  });

  it('a non-approver is refused with who may, Slack identities as mentions', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2', 'production');
    const dave = await h.click(U.dave, 'kd_approve', id);
    const answer = await answerTo(h, dave.responseUrl);
    expect(answer).toBe(`:no_entry: <@${U.dave}> may not approve or reject releases of kevinstamp/production; allowed: role approver (<@${U.bob}>, <!subteam^${APPROVER_GROUP}>), admins (<@${U.ops}>)`);
    // The requester herself, a deployer, may not reject either.
    const alice = await h.click(U.alice, 'kd_reject', id);
    expect(await answerTo(h, alice.responseUrl)).toMatch(/^:no_entry: alice may not approve or reject releases of kevinstamp\/production/);
    const after = await show(h, id);
    expect(after.stage).toBe('awaiting_approval');
    expect(after.approvals).toEqual([]);
  });

  it('where approvers are Slack principals, the refusal mentions them (user and user group)', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2', 'staging');
    const dave = await h.click(U.dave, 'kd_approve', id);
    expect(await answerTo(h, dave.responseUrl)).toBe(
      `:no_entry: <@${U.dave}> may not approve or reject releases of kevinstamp/staging; allowed: <@${U.bob}>, <!subteam^${APPROVER_GROUP}>, admins (<@${U.ops}>)`,
    );
    expect((await show(h, id)).approvals).toEqual([]);
  });

  it('a refusal names the Slack holders of the approver role (slack.roles) as mentions', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2', 'production');
    const dave = await h.click(U.dave, 'kd_approve', id);
    const answer = await answerTo(h, dave.responseUrl);
    // slack.roles.approver is [U0BOB, S0APPROVERS]: the person refused in Slack should learn whom to ask in Slack.
    expect(answer).toContain(`<@${U.bob}>`);
    expect(answer).toContain(`<!subteam^${APPROVER_GROUP}>`);
  });

  it('a member of the approvers user group (slack.roles) may approve; the card names them', async () => {
    h = await startSlackHarness({ monitorWindow: '200ms' });
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2', 'production');
    const carol = await h.click(U.carol, 'kd_approve', id);
    expect(carol.response.status).toBe(200);
    const done = await h.waitForStage(id, 'succeeded');
    expect(done.approvals.map((a) => a.actor)).toEqual([`slack:${U.carol}`]);
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'succeeded');
    expect(JSON.stringify(card.blocks)).toContain(`*Approved by* <@${U.carol}>`);
    await h.idle();
    expect(h.cardOf(id)!.replies.map((r) => r.text)).toContain(`:+1: Approved by <@${U.carol}>.`);
    expect(h.fake.calls('usergroups.users.list').some((c) => c.args.usergroup === APPROVER_GROUP)).toBe(true);
  });

  it('a stale Approve (the release already moved on) changes nothing and answers with the real state', async () => {
    h = await startSlackHarness({ monitorWindow: '200ms' });
    h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    await h.click(U.bob, 'kd_approve', id);
    await h.waitForStage(id, 'succeeded');
    // Someone clicks Approve on the old version of the card.
    const late = await h.click(U.carol, 'kd_approve', id);
    expect(late.response.status).toBe(200);
    const answer = await answerTo(h, late.responseUrl);
    expect(answer).toMatch(new RegExp(`^:no_entry: ${id} already ended: it succeeded \\(`));
    const after = await show(h, id);
    expect(after.stage).toBe('succeeded');
    expect(after.approvals.map((a) => a.actor)).toEqual(['bob']);
    expect(count(after, 'approved')).toBe(1);
  });

  it('a double click (two approvers at once) makes one approval; the other gets the real state', async () => {
    h = await startSlackHarness({ monitorWindow: '30s' });
    const v2 = h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    const [bob, carol] = await Promise.all([h.click(U.bob, 'kd_approve', id), h.click(U.carol, 'kd_approve', id)]);
    expect(bob.response.status).toBe(200);
    expect(carol.response.status).toBe(200);
    const paths = [bob.responseUrl, carol.responseUrl].map((u) => new URL(u).pathname);
    const refused = await h.catcher.waitForPost((r) => paths.includes(r.path), 10_000);
    expect(textOf(refused.body)).toMatch(new RegExp(`^:no_entry: nothing to approve: ${id} (is switching traffic|is being monitored) since `));
    await h.waitForStage(id, 'monitoring');
    const after = await show(h, id);
    expect(after.approvals).toHaveLength(1);
    expect(count(after, 'approved')).toBe(1);
    expect(h.standIn.effectiveSwitches(STAND_IN_SCRIPT).filter((s) => s[v2] === 100)).toHaveLength(1);
    expect([...h.catcher.bodies(bob.responseUrl), ...h.catcher.bodies(carol.responseUrl)]).toHaveLength(1);
  });

  it('the same approver double-clicking counts once where two approvals are needed', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    // staging needs two approvals from slack:U0BOB or the S0APPROVERS group.
    const id = await awaitingApproval(h, 'v2', 'staging');
    const clicks = await Promise.all([h.click(U.bob, 'kd_approve', id), h.click(U.bob, 'kd_approve', id)]);
    for (const c of clicks) expect(c.response.status).toBe(200);
    const paths = clicks.map((c) => new URL(c.responseUrl).pathname);
    const refused = await h.catcher.waitForPost((r) => paths.includes(r.path), 10_000);
    expect(textOf(refused.body)).toBe(`:no_entry: bob already approved ${id}; it needs another approver`);
    let after = await show(h, id);
    expect(after.stage).toBe('awaiting_approval');
    expect(after.approvals.map((a) => a.actor)).toEqual(['bob']);
    expect(count(after, 'approved')).toBe(1);
    // And once more, later, on the card: the same answer.
    const third = await h.click(U.bob, 'kd_approve', id);
    expect(await answerTo(h, third.responseUrl)).toBe(`:no_entry: bob already approved ${id}; it needs another approver`);
    expect((await show(h, id)).approvals).toHaveLength(1);
    // A second approver completes it.
    await h.click(U.carol, 'kd_approve', id);
    after = await h.waitForStage(id, ['switching', 'monitoring', 'succeeded']);
    expect(after.approvals.map((a) => a.actor)).toEqual(['bob', `slack:${U.carol}`]);
    expect([...h.catcher.bodies(clicks[0]!.responseUrl), ...h.catcher.bodies(clicks[1]!.responseUrl)]).toHaveLength(1);
  });
});

describe('Rollback and Cancel buttons', () => {
  it('Rollback during monitoring rolls back to blue and the card shows it', async () => {
    h = await startSlackHarness({ monitorWindow: '60s' });
    const v2 = h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    await h.click(U.bob, 'kd_approve', id);
    await h.waitForStage(id, 'monitoring');
    const monitoring = await h.waitForCard(id, (c) => stageOfText(c.text) === 'monitoring');
    expect(actionIdsOf(monitoring.blocks)).toEqual(['kd_rollback']);

    const click = await h.click(U.bob, 'kd_rollback', id);
    expect(click.response.status).toBe(200);
    const rolledBack = await h.waitForStage(id, 'rolled_back');
    expect(rolledBack.reason).toMatch(/manual rollback by bob/);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [h.v1]: 100, [v2]: 0 });
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'rolled_back');
    expect(actionIdsOf(card.blocks)).toEqual([]);
    await h.idle();
    const thread = h.cardOf(id)!.replies.map((r) => r.text);
    expect(thread).toContain(`:rewind: Rolling back — requested by <@${U.bob}>.`);
    expect(thread).toContain(':white_check_mark: Rolled back; blue is verified healthy.');
    expect(h.catcher.bodies(click.responseUrl)).toEqual([]);
    expect(h.cards()).toHaveLength(1);
  });

  it('Rollback on a succeeded card that is no longer live is refused; on the live one it rolls back', async () => {
    h = await startSlackHarness({ monitorWindow: '200ms' });
    const v2 = h.upload('v2');
    const v3 = h.upload('v3');
    const a = await awaitingApproval(h, 'v2');
    await h.click(U.bob, 'kd_approve', a);
    await h.waitForStage(a, 'succeeded');
    const b = await awaitingApproval(h, 'v3');
    await h.click(U.bob, 'kd_approve', b);
    await h.waitForStage(b, 'succeeded');
    await h.waitForCard(a, (c) => stageOfText(c.text) === 'succeeded');
    expect(actionIdsOf(h.cardOf(a)!.blocks)).toEqual(['kd_rollback']);

    const stale = await h.click(U.bob, 'kd_rollback', a);
    const answer = await answerTo(h, stale.responseUrl);
    expect(answer).toBe(`:no_entry: ${a} is no longer the live release of kevinstamp/production (${b} came after it); nothing was changed`);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [v3]: 100, [v2]: 0 });
    let list = await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?service=kevinstamp');
    expect(list.body.deployments).toHaveLength(2);

    // The live release's Rollback starts a rollback deployment back to its blue.
    const live = await h.click(U.bob, 'kd_rollback', b);
    expect(live.response.status).toBe(200);
    await waitFor(async () => {
      list = await h!.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments?service=kevinstamp');
      return list.body.deployments.length === 3;
    });
    const rollback = list.body.deployments.find((d) => d.kind === 'rollback')!;
    const done = await h.waitForStage(rollback.id, 'rolled_back');
    expect(done.version).toEqual({ id: v2, tag: 'v2' });
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)[v2]).toBe(100);
    expect(h.catcher.bodies(live.responseUrl)).toEqual([]);
    // The rollback has its own card.
    await h.waitForCard(rollback.id, (c) => stageOfText(c.text) === 'rolled_back');
    expect(h.cards()).toHaveLength(3);
  });

  it('Cancel before the switch ends the release with traffic untouched', async () => {
    h = await startSlackHarness();
    const v2 = h.upload('v2');
    const id = await awaitingApproval(h, 'v2');
    // dave may not cancel alice's release.
    const dave = await h.click(U.dave, 'kd_cancel', id);
    expect(await answerTo(h, dave.responseUrl)).toMatch(new RegExp(`^:no_entry: <@${U.dave}> may not roll back or cancel releases of kevinstamp/production`));
    expect((await show(h, id)).stage).toBe('awaiting_approval');

    const click = await h.click(U.alice, 'kd_cancel', id);
    expect(click.response.status).toBe(200);
    const cancelled = await h.waitForStage(id, 'cancelled');
    expect(cancelled.reason).toMatch(/^cancelled by alice while awaiting approval; traffic untouched/);
    expect(h.standIn.maxPercentSeen(STAND_IN_SCRIPT, v2)).toBe(0);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)[h.v1]).toBe(100);
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'cancelled');
    expect(actionIdsOf(card.blocks)).toEqual([]);
    await h.idle();
    expect(h.cardOf(id)!.replies.map((r) => r.text)).toContain(`:heavy_multiplication_x: Cancelled by <@${U.alice}>.`);
    // A second Cancel on the old card is refused with the real state.
    const again = await h.click(U.alice, 'kd_cancel', id);
    expect(await answerTo(h, again.responseUrl)).toMatch(new RegExp(`^:no_entry: ${id} already ended: it was cancelled \\(cancelled by alice`));
  });
});
