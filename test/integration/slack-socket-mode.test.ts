import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { CHANNEL, SLACK_SIGNING_SECRET, stageOfText, startSlackHarness, TEAM, U, type SlackHarness } from '../support/slack-harness.ts';
import { blockActionsPayload, postSigned, slashCommandBody } from '../support/slack-requests.ts';

/** Socket Mode: the bot connects out with SLACK_APP_TOKEN; Slack's requests arrive as envelopes on the socket. */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Socket Mode', () => {
  it('connects with the app token; a slash_commands envelope is acked and starts the release; a click envelope approves it', async () => {
    h = await startSlackHarness({ socketMode: true, monitorWindow: '200ms' });
    expect(h.bot.slack?.surface.mode).toBe('socket');
    await h.fake.socketMode!.connected();
    const open = h.fake.calls('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]).toMatchObject({ auth: 'app', outcome: { ok: true } });

    h.upload('v2');
    // The slash command, as an envelope: acked on the socket, answered over response_url.
    const { response, responseUrl } = await h.slash(U.alice, 'kevinstamp v2 to production');
    expect(response.status).toBe(200);
    const acks = h.fake.socketMode!.acks();
    expect(acks).toHaveLength(1);
    expect(acks[0]!.type).toBe('slash_commands');
    const reply = await h.replyTo(responseUrl);
    expect(reply).toMatch(/^:rocket: Started `kd-[a-z0-9]+`: kevinstamp → production/);
    const id = /`(kd-[a-z0-9]+)`/.exec(reply)![1]!;

    // The release is visible through the API and gets its card.
    const list = await h.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments');
    expect(list.body.deployments.map((d) => d.id)).toEqual([id]);
    expect(list.body.deployments[0]).toMatchObject({ requestedBy: 'alice', environment: 'production' });
    await h.waitForStage(id, 'awaiting_approval');
    const card = await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');

    // A click arrives as an interactive envelope.
    const clickAck = await h.fake.socketMode!.sendEnvelope({
      type: 'interactive',
      payload: blockActionsPayload({ actionId: 'kd_approve', value: id, userId: U.bob, channelId: CHANNEL, messageTs: card.ts, responseUrl: h.catcher.urlFor('actions') }),
    });
    expect(clickAck.type).toBe('interactive');
    await h.waitForStage(id, 'succeeded');
    await h.waitForCard(id, (c) => stageOfText(c.text) === 'succeeded');
    expect(h.cards()).toHaveLength(1);
  });

  it('a read-only command is answered in the ack on the socket', async () => {
    h = await startSlackHarness({ socketMode: true });
    await h.fake.socketMode!.connected();
    const { text, via } = await h.ask(U.dave, 'help');
    expect(via).toBe('ack');
    expect(text).toContain('`/deploy status [SERVICE]`');
    const usage = await h.ask(U.dave, 'kevinstamp');
    expect(usage.via).toBe('ack');
    expect(usage.text).toContain('SERVICE and VERSION are required');
  });

  it('does not serve /slack/events over HTTP in Socket Mode, even with a valid signature', async () => {
    h = await startSlackHarness({ socketMode: true });
    await h.fake.socketMode!.connected();
    h.upload('v2');
    const body = slashCommandBody({ command: '/deploy', text: 'kevinstamp v2 to production', userId: U.alice, channelId: CHANNEL, teamId: TEAM, responseUrl: h.catcher.urlFor('commands') });
    const r = await postSigned(h.eventsUrl(), body, { secret: SLACK_SIGNING_SECRET });
    expect(r.status).toBe(404);
    expect((await h.api<{ deployments: unknown[] }>('GET', '/api/v1/deployments')).body.deployments).toEqual([]);
  });
});
