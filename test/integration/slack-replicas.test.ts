import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { STAGES } from '../../src/domain/stages.ts';
import { CHANNEL, stageOfText, startSlackHarness, TEAM, U, versionsOf, type SlackHarness } from '../support/slack-harness.ts';
import { blockActionsBody, slashCommandBody } from '../support/slack-requests.ts';
import { TOKENS } from '../support/bot-harness.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Slack with two replicas on one Postgres: requests land on either (Slack's HTTP requests go
 * through a load balancer), each replica hears only its own commits, and yet a release has one
 * card, drawn by one replica at a time, whose stages only ever move forward; a Slack retry that
 * reaches the other replica starts nothing.
 */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function deployments(harness: SlackHarness): Promise<DeploymentView[]> {
  const listed = await harness.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments');
  return listed.body.deployments;
}

describe('Slack on two replicas sharing Postgres', () => {
  it('requested on one replica, approved on the other: one card, its stages in order, ending succeeded', async () => {
    h = await startSlackHarness({ dialect: 'postgres', monitorWindow: '600ms' });
    const other = await h.startReplica();
    h.upload('v2');
    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    const waiting = await h.waitForCard(id, (card) => stageOfText(card.text) === 'awaiting_approval');

    // The approval click reaches the other replica.
    const responseUrl = h.catcher.urlFor('actions');
    const click = blockActionsBody({
      actionId: 'kd_approve',
      value: id,
      blockId: `kd_actions_${id}`,
      userId: U.bob,
      channelId: waiting.channel,
      messageTs: waiting.ts,
      message: { text: waiting.text, blocks: waiting.blocks },
      responseUrl,
    });
    expect((await h.post(click, { url: `${other.url}/slack/events` })).status).toBe(200);
    await h.waitForStage(id, 'succeeded', 30_000);
    const final = await h.waitForCard(id, (card) => stageOfText(card.text) === 'succeeded');

    const cards = h.cards().filter((m) => JSON.stringify(m.blocks ?? []).includes(`\`${id}\``));
    expect(cards).toHaveLength(1);
    const order = versionsOf(final).map((v) => stageOfText(v.text)).filter((stage) => stage !== undefined);
    const ranks = order.map((stage) => STAGES.indexOf(stage));
    expect(ranks, order.join(' → ')).toEqual([...ranks].sort((a, b) => a - b));
    expect(order.at(-1)).toBe('succeeded');
  });

  it('Slack down while both replicas have a change to draw: once it is back, one card is posted, not two', async () => {
    h = await startSlackHarness({ dialect: 'postgres', monitorWindow: '600ms' });
    const harness = h;
    const other = await harness.startReplica();
    harness.upload('v2');
    harness.fake.setDown(true);
    // Requested on the first replica, approved on the second: each has a commit of its own, so
    // each one's publisher wants to post the card, which Slack does not take yet.
    const created = await harness.api<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version: 'v2' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await harness.waitForStage(id, 'awaiting_approval');
    const approved = await fetch(`${other.url}/api/v1/deployments/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.bob}` } });
    expect(approved.status).toBe(200);
    await harness.waitForStage(id, 'succeeded', 30_000);
    await waitFor(() => harness.fake.calls('chat.postMessage').length >= 2, { timeoutMs: 10_000, describe: () => 'both replicas to have tried to post' });
    harness.fake.setDown(false);
    await harness.waitForCard(id, (card) => stageOfText(card.text) === 'succeeded', 30_000);
    await harness.idle();
    await other.slack!.outbound.publisher.idle();
    const cards = harness.cards().filter((m) => JSON.stringify(m.blocks ?? []).includes(`\`${id}\``));
    expect(cards).toHaveLength(1);
  });

  it("a slash command Slack re-sends to the other replica (X-Slack-Retry-Num) starts nothing", async () => {
    h = await startSlackHarness({ dialect: 'postgres' });
    const other = await h.startReplica();
    h.upload('v2');
    const responseUrl = h.catcher.urlFor('commands');
    const body = slashCommandBody({ command: '/deploy', text: 'kevinstamp v2 to production --queue', userId: U.alice, channelId: CHANNEL, teamId: TEAM, responseUrl });
    expect((await h.post(body)).status).toBe(200);
    expect((await h.post(body, { url: `${other.url}/slack/events`, retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    const reply = await h.replyTo(responseUrl);
    expect(reply).toMatch(/^:rocket: Started `kd-/);
    await waitFor(() => h!.logs.some((l) => l.includes('skipped: Slack retry')));
    const all = await deployments(h);
    expect(all).toHaveLength(1);
    expect(h.catcher.bodies(responseUrl)).toHaveLength(1);
  });
});
