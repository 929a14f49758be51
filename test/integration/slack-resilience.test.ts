import { afterEach, describe, expect, it } from 'vitest';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';
import { actionIdsOf, CHANNEL, stageOfText, startSlackHarness, U, versionsOf, type SlackHarness } from '../support/slack-harness.ts';
import { waitFor } from '../support/wait-for.ts';

/** Slack failing never touches a release; the card catches up once Slack answers again, even across a restart. */

let h: SlackHarness | undefined;
afterEach(async () => {
  h?.fake.clearFaults();
  await h?.close();
  h = undefined;
});

const THREAD = [
  ':white_check_mark: Green passed every check, before any traffic.',
  `:+1: Approved by <@${U.bob}>.`,
  ':tada: The monitoring window passed clean.',
];

function topLevelPosts(harness: SlackHarness) {
  return harness.fake.calls('chat.postMessage').filter((c) => c.outcome.ok && c.args.thread_ts === undefined);
}

/** The release waiting for approval, its card drawn and Slack idle. */
async function awaitingApproval(harness: SlackHarness): Promise<string> {
  const { id } = await harness.deploy(U.alice, 'kevinstamp v2 to production');
  await harness.waitForStage(id, 'awaiting_approval');
  await harness.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval' && c.replies.length === 1);
  await harness.idle();
  return id;
}

describe('Slack down or rate-limiting during a release', () => {
  it('the release still succeeds while the Web API is down; the card catches up to the final state afterwards', async () => {
    h = await startSlackHarness({ monitorWindow: '300ms' });
    const v2 = h.upload('v2');
    const id = await awaitingApproval(h);

    h.fake.setDown(true);
    const click = await h.click(U.bob, 'kd_approve', id);
    expect(click.response.status).toBe(200);
    const done = await h.waitForStage(id, 'succeeded');
    expect(done.approvals.map((a) => a.actor)).toEqual(['bob']);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [v2]: 100, [h.v1]: 0 });
    // Slack was asked and did not take it; the card still shows what it showed.
    await waitFor(() => h!.fake.calls().some((c) => c.method.startsWith('chat.') && c.outcome.status === 503));
    expect(stageOfText(h.cardOf(id)!.text)).toBe('awaiting_approval');
    expect(h.logs.some((l) => l.includes('Slack did not take the card update; trying again'))).toBe(true);

    h.fake.setDown(false);
    await h.idle();
    const card = h.cardOf(id)!;
    expect(stageOfText(card.text)).toBe('succeeded');
    expect(actionIdsOf(card.blocks)).toEqual(['kd_rollback']);
    expect(JSON.stringify(card.blocks)).toContain(`v2 (${v2.slice(0, 8)}) 100 %`);
    // Nothing lost, nothing doubled: one card, each thread message once.
    expect(h.cards()).toHaveLength(1);
    expect(card.replies.map((r) => r.text)).toEqual(THREAD);
    expect(topLevelPosts(h)).toHaveLength(1);
  });

  it('a 429 on chat.update is honoured: nothing goes to the channel before Retry-After, then the update arrives', async () => {
    h = await startSlackHarness({ monitorWindow: '300ms' });
    h.upload('v2');
    const id = await awaitingApproval(h);
    const before = h.fake.calls().length;

    h.fake.rateLimit('chat.update', { times: 1, retryAfterSeconds: 1 });
    await h.click(U.bob, 'kd_approve', id);
    await h.waitForStage(id, 'succeeded');
    await h.waitForCard(id, (c) => stageOfText(c.text) === 'succeeded');
    await h.idle();

    const calls = h.fake.calls().slice(before).filter((c) => c.method.startsWith('chat.'));
    const limited = calls.find((c) => c.outcome.status === 429)!;
    expect(limited).toMatchObject({ method: 'chat.update', outcome: { ok: false, error: 'ratelimited' } });
    const after = calls.filter((c) => c.at.getTime() > limited.at.getTime());
    expect(after.length).toBeGreaterThan(0);
    // Retry-After: 1 s. (A lower bound the bot must respect, not a speed measurement.)
    for (const c of after) expect(c.at.getTime() - limited.at.getTime(), `${c.method} too early`).toBeGreaterThanOrEqual(950);
    expect(after[0]!.method === 'chat.update' && after[0]!.args.ts === h.cardOf(id)!.ts).toBe(true);
    expect(after[0]!.outcome.ok).toBe(true);
    expect(h.logs.some((l) => l.includes('"err":"ratelimited"') || l.includes('ratelimited'))).toBe(true);

    // Nothing lost: the final state, the whole thread, one card.
    const card = h.cardOf(id)!;
    expect(stageOfText(card.text)).toBe('succeeded');
    expect(card.replies.map((r) => r.text)).toEqual(THREAD);
    expect(h.cards()).toHaveLength(1);
    const stages = versionsOf(card).map((v) => stageOfText(v.text));
    expect(stages.at(-1)).toBe('succeeded');
  });

  it('a permanent Slack error (channel_not_found) is logged and does not touch the release', async () => {
    h = await startSlackHarness({ monitorWindow: '200ms' });
    h.upload('v2');
    h.fake.failNext('chat.postMessage', 'channel_not_found');
    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    await waitFor(() => h!.logs.some((l) => l.includes('Slack refused the deployment card (channel_not_found)')));
    await h.api('POST', `/api/v1/deployments/${id}/approve`, {}, 'tok-bob-0123456789');
    expect((await h.waitForStage(id, 'succeeded')).stage).toBe('succeeded');
  });
});

describe('shutdown while Slack is rate-limiting', () => {
  // The README promises a stop within seconds (SIGTERM: record in-flight steps, release leases, exit).
  // A card update waiting out Slack's Retry-After (or a long back-off while Slack is down) must not
  // hold the shutdown — nor keep the runner working meanwhile (slack.stop() comes first in close()).
  it(
    'stopping the bot does not wait out a long Retry-After',
    async () => {
      h = await startSlackHarness({ monitorWindow: '60s' });
      h.upload('v2');
      const id = await awaitingApproval(h);
      h.fake.rateLimit('chat.update', { times: 1, retryAfterSeconds: 25 });
      await h.click(U.bob, 'kd_approve', id);
      await h.fake.waitForCall('chat.update', (c) => c.outcome.status === 429);
      // Once this is logged, the card queue has gone back to wait out the Retry-After.
      await waitFor(() => h!.logs.some((l) => l.includes('Slack did not take the card update; trying again')));
      // With the publisher asleep for 25 s before its next call, this returns within the test's
      // 15 s only if stopping interrupts the wait.
      await h.bot.close();
      expect(h.logs.some((l) => l.includes('kevin-deploy stopped'))).toBe(true);
    },
    15_000,
  );
});

describe('restart catch-up', () => {
  it('a bot restarted mid-release while Slack is down brings the same card to the final state, without a second card', async () => {
    h = await startSlackHarness({ monitorWindow: '2s' });
    const v2 = h.upload('v2');
    const id = await awaitingApproval(h);
    const cardTs = h.cardOf(id)!.ts;

    h.fake.setDown(true, 'reset');
    await h.click(U.bob, 'kd_approve', id);
    await h.waitForStage(id, 'monitoring');
    await waitFor(() => h!.fake.calls().some((c) => c.method.startsWith('chat.') && c.outcome.status === 0));
    // Stop the bot mid-release (monitoring), Slack still down, and start another on the same database.
    await h.restart();

    const done = await h.waitForStage(id, 'succeeded');
    expect(done.split).toEqual({ [v2]: 100, [h.v1]: 0 });
    expect(stageOfText(h.cardOf(id)!.text)).toBe('awaiting_approval');

    h.fake.setDown(false);
    await waitFor(() => stageOfText(h!.cardOf(id)?.text ?? '') === 'succeeded');
    await h.idle();
    const card = h.cardOf(id)!;
    expect(card.ts).toBe(cardTs);
    expect(h.cards()).toHaveLength(1);
    expect(topLevelPosts(h)).toHaveLength(1);
    expect(card.replies.map((r) => r.text)).toEqual(THREAD);
    expect(h.fake.allMessages(CHANNEL)).toHaveLength(1 + THREAD.length);
  });

  it('a card whose first post never reached Slack is posted once by the next bot', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    h.fake.setDown(true);
    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    await waitFor(() => h!.fake.calls('chat.postMessage').length > 0);
    expect(h.cards()).toEqual([]);
    await h.restart();
    h.fake.setDown(false);
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval' && c.replies.length === 1);
    await h.idle();
    expect(h.cards()).toHaveLength(1);
    expect(topLevelPosts(h)).toHaveLength(1);
    expect(actionIdsOf(card.blocks)).toEqual(['kd_approve', 'kd_reject', 'kd_cancel']);
    expect(card.replies[0]!.text).toBe(THREAD[0]);
  });
});
