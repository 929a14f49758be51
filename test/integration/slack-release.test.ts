import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import { STAND_IN_SCRIPT } from '../support/stand-in-helpers.ts';
import {
  actionIdsOf,
  CHANNEL,
  stageOfText,
  STAGING_CHANNEL,
  startSlackHarness,
  U,
  versionsOf,
  type SlackHarness,
} from '../support/slack-harness.ts';

/** A whole release driven from Slack: the slash command, the one card kept current, its thread. */

const RELEASE_PATH: Stage[] = ['resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded'];

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Every text object anywhere in blocks, with its type. */
function textObjects(value: unknown, out: Array<{ type: string; text: string }> = []): Array<{ type: string; text: string }> {
  if (Array.isArray(value)) for (const v of value) textObjects(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push({ type: o.type, text: o.text });
    for (const v of Object.values(o)) textObjects(v, out);
  }
  return out;
}

describe('a release from /deploy to succeeded, in Slack', () => {
  it('answers ephemerally, keeps ONE card current through every stage, and puts the details in its thread', async () => {
    h = await startSlackHarness({ monitorWindow: '1500ms' });
    const v2 = h.upload('v2');

    const { response, responseUrl } = await h.slash(U.alice, 'kevinstamp v2 to production');
    expect(response.status).toBe(200);
    const reply = await h.replyTo(responseUrl);
    const [answer] = h.catcher.bodies(responseUrl);
    expect(answer!.body).toMatchObject({ response_type: 'ephemeral' });
    expect(reply).toMatch(/^:rocket: Started `kd-[a-z0-9]+`: kevinstamp → production `v2`/);
    expect(reply).toContain(`<#${CHANNEL}>`);
    const id = /`(kd-[a-z0-9]+)`/.exec(reply)![1]!;

    // The card waits for approval with Approve, Reject and Cancel.
    const waiting = await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');
    expect(actionIdsOf(waiting.blocks)).toEqual(['kd_approve', 'kd_reject', 'kd_cancel']);
    expect(JSON.stringify(waiting.blocks)).toContain(`*Requested by*\\n<@${U.alice}>`);

    const click = await h.click(U.bob, 'kd_approve', id);
    expect(click.response.status).toBe(200);
    // Wait until the card has shown the switch or the monitoring, then for the end.
    await h.waitForCard(id, (c) => ['switching', 'monitoring', 'succeeded'].includes(stageOfText(c.text) ?? ''));
    const done = await h.waitForStage(id, 'succeeded');
    await h.idle();

    // ONE top-level message in the channel: the card; everything else is in its thread.
    const cards = h.cards();
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.user).toBe(h.fake.botUserId);
    for (const m of h.fake.allMessages(CHANNEL)) if (m.ts !== card.ts) expect(m.thread_ts).toBe(card.ts);
    expect(h.fake.calls('chat.postMessage').filter((c) => c.outcome.ok && c.args.thread_ts === undefined)).toHaveLength(1);

    // Its successive versions go through the stages in order.
    const versions = versionsOf(card);
    const stages = versions.map((v) => stageOfText(v.text));
    expect(stages.every((s) => s !== undefined && RELEASE_PATH.includes(s)), stages.join(',')).toBe(true);
    const positions = stages.map((s) => RELEASE_PATH.indexOf(s!));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(['resolving', 'staging', 'verifying']).toContain(stages[0]);
    expect(stages).toContain('awaiting_approval');
    expect(stages.some((s) => s === 'switching' || s === 'monitoring')).toBe(true);
    expect(stages.at(-1)).toBe('succeeded');
    for (const [i, v] of versions.entries()) {
      const ids = actionIdsOf(v.blocks);
      if (stages[i] === 'awaiting_approval') expect(ids).toEqual(['kd_approve', 'kd_reject', 'kd_cancel']);
      else if (['resolving', 'staging', 'verifying'].includes(stages[i]!)) expect(ids).toEqual(['kd_cancel']);
      else expect(ids, stages[i]).toEqual(['kd_rollback']);
    }

    // The final card shows the final state.
    expect(card.text).toBe(`kevinstamp → production: v2 (${v2.slice(0, 8)}) — succeeded`);
    const finalTexts = textObjects(card.blocks).map((t) => t.text);
    // The stage line, and the checklist with every stage of the path done.
    expect(finalTexts).toContain(':white_check_mark: *succeeded*');
    const checklist = finalTexts.find((t) => t.includes('awaiting approval') && t.includes('monitoring'))!;
    for (const stage of ['resolving', 'staging', 'verifying', 'awaiting approval', 'switching', 'monitoring']) {
      expect(checklist).toMatch(new RegExp(`:white_check_mark: ${stage} \\d\\d:\\d\\d:\\d\\d`));
    }
    expect(finalTexts.some((t) => t.includes(`v2 (${v2.slice(0, 8)}) 100 %`))).toBe(true);
    expect(finalTexts.some((t) => t === `*Approved by* <@${U.bob}>`)).toBe(true);
    expect(finalTexts).toContain(done.reason);
    expect(finalTexts.some((t) => t.includes(`\`${id}\``))).toBe(true);

    // The thread has the details: the checks green passed, who approved, the clean window.
    const thread = card.replies.map((r) => r.text);
    expect(thread).toEqual([
      ':white_check_mark: Green passed every check, before any traffic.',
      `:+1: Approved by <@${U.bob}>.`,
      ':tada: The monitoring window passed clean.',
    ]);
    const verified = JSON.stringify(card.replies[0]!.blocks);
    for (const check of ['health', 'detailed', 'ready', 'content /']) expect(verified).toContain(`✓ ${check}`);

    // One ephemeral answer, nothing else over response_url; the release really happened.
    expect(h.catcher.bodies(responseUrl)).toHaveLength(1);
    expect(h.catcher.bodies(click.responseUrl)).toEqual([]);
    expect(h.standIn.activeSplit(STAND_IN_SCRIPT)).toEqual({ [v2]: 100, [h.v1]: 0 });
    const shown = await h.api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
    expect(shown.body.requestedBy).toBe('alice');
    expect(shown.body.events!.find((e) => e.action === 'requested')!.details).toMatchObject({ via: 'slack', identity: `slack:${U.alice}` });
    expect(shown.body.events!.find((e) => e.action === 'approved')!.details).toMatchObject({ via: 'slack', identity: `slack:${U.bob}` });
  });

  it('user text (a note with <!channel> *x*) appears only inside plain_text objects of the card, nowhere in mrkdwn', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const note = '<!channel> *x* <@U0BOB> _y_';
    const { id, reply } = await h.deploy(U.alice, `kevinstamp v2 to production --note "${note}"`);
    expect(reply).not.toContain('<!channel>');
    await h.waitForStage(id, 'awaiting_approval');
    await h.idle();
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');

    for (const version of [...versionsOf(card), ...card.replies]) {
      const texts = textObjects(version.blocks);
      for (const t of texts.filter((x) => x.type === 'mrkdwn')) {
        expect(t.text).not.toContain('<!channel>');
        expect(t.text).not.toContain('*x*');
        expect(t.text).not.toContain('<@U0BOB>');
      }
      expect(version.text).not.toContain('<!channel>');
      expect(version.text).not.toContain('*x*');
    }
    expect(textObjects(card.blocks)).toContainEqual({ type: 'plain_text', text: note });
    // And the card as Slack stored it went out in the calls exactly so.
    for (const call of h.fake.calls().filter((c) => c.method.startsWith('chat.'))) {
      for (const t of textObjects(call.args.blocks).filter((x) => x.type === 'mrkdwn')) expect(t.text).not.toContain('<!channel>');
    }
  });
});

describe('per-target card channels', () => {
  it("a target's own slackChannel gets its cards; the reply links it; the default channel stays quiet", async () => {
    h = await startSlackHarness();
    h.upload('v2');
    // No environment named: kevinstamp's default environment, staging.
    const { id, reply } = await h.deploy(U.alice, 'kevinstamp v2');
    expect(reply).toMatch(/: kevinstamp → staging /);
    expect(reply).toContain(`<#${STAGING_CHANNEL}>`);
    await h.waitForStage(id, 'awaiting_approval');
    await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');
    await h.idle();
    expect(h.fake.messages(STAGING_CHANNEL)).toHaveLength(1);
    expect(h.fake.messages(STAGING_CHANNEL)[0]!.text).toMatch(/^kevinstamp → staging: v2 /);
    expect(h.fake.messages(CHANNEL)).toEqual([]);
    expect(h.fake.calls('chat.postMessage').every((c) => c.args.channel === STAGING_CHANNEL)).toBe(true);
  });
});

describe('the queue, in Slack', () => {
  it('a second /deploy --queue answers with its position; when the first ends, the queued card and thread announce the start', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    h.upload('v3');
    const first = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(first.id, 'awaiting_approval');

    const second = await h.deploy(U.alice, 'kevinstamp v3 to production --queue');
    expect(second.reply).toMatch(/^:hourglass_flowing_sand: Queued `kd-[a-z0-9]+`: kevinstamp → production `v3` \([0-9a-f]{8}\), position 1\./);
    expect(second.reply).toContain('you will be told');
    const queuedCard = await h.waitForCard(second.id, (c) => stageOfText(c.text) === 'requested' && c.replies.length > 0);
    expect(JSON.stringify(queuedCard.blocks)).toContain('position 1 in the queue');
    expect(actionIdsOf(queuedCard.blocks)).toEqual(['kd_cancel']);
    expect(queuedCard.replies[0]!.text).toBe(':hourglass_flowing_sand: Queued: another release of this target is active.');

    // A third, not queued, is refused naming the active one.
    const { responseUrl } = await h.slash(U.alice, 'kevinstamp v3 to production');
    const refusal = await h.replyTo(responseUrl);
    expect(refusal).toMatch(/^:no_entry: kevinstamp\/production already has an active release: /);
    expect(refusal).toContain(first.id);
    expect(refusal).toContain('--queue');

    // The first ends (rejected with its button); the queued one starts.
    const reject = await h.click(U.bob, 'kd_reject', first.id);
    expect(reject.response.status).toBe(200);
    await h.waitForStage(first.id, 'rejected');
    await h.waitForStage(second.id, 'awaiting_approval');
    const started = await h.waitForCard(second.id, (c) => stageOfText(c.text) === 'awaiting_approval' && c.replies.some((r) => r.text.includes('queued release started')));
    expect(started.replies.map((r) => r.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^:arrow_forward: .*your queued release started\.$/)]),
    );
    expect(JSON.stringify(started.blocks)).not.toContain('in the queue');
    const firstCard = h.cardOf(first.id)!;
    await h.waitForCard(first.id, (c) => stageOfText(c.text) === 'rejected');
    expect(h.cardOf(first.id)!.replies.map((r) => r.text)).toContain(`:no_entry_sign: Rejected by <@${U.bob}>.`);
    expect(actionIdsOf(h.cardOf(first.id)!.blocks)).toEqual([]);
    expect(firstCard.ts).not.toBe(started.ts);
    // Two releases, two cards, no other top-level message.
    expect(h.cards()).toHaveLength(2);
  });

  it('the start of a queued release notifies its requester with a Slack mention', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    h.upload('v3');
    const first = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(first.id, 'awaiting_approval');
    const second = await h.deploy(U.alice, 'kevinstamp v3 to production --queue');
    await h.click(U.alice, 'kd_cancel', first.id);
    await h.waitForStage(first.id, 'cancelled');
    const started = await h.waitForCard(second.id, (c) => c.replies.some((r) => r.text.includes('queued release started')));
    const announcement = started.replies.find((r) => r.text.includes('queued release started'))!;
    // "you will be told": alice asked from Slack as U0ALICE; a name in bold notifies nobody.
    expect(JSON.stringify(announcement.blocks)).toContain(`<@${U.alice}>`);
  });
});
