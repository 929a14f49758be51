import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import { CHANNEL, SLACK_SIGNING_SECRET, startSlackHarness, TEAM, U, type SlackHarness } from '../support/slack-harness.ts';
import { blockActionsBody, signSlackRequest, slashCommandBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait-for.ts';

/** What reaches /slack/events without being Slack, or broken: refused or survived, never acted on. */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function deployments(harness: SlackHarness): Promise<DeploymentView[]> {
  return (await harness.api<{ deployments: DeploymentView[] }>('GET', '/api/v1/deployments')).body.deployments;
}

/** A release of v2 waiting for approval, and a signed-to-be click of `actionId` by bob on its card. */
async function clickOnAwaitingRelease(harness: SlackHarness, actionId: string): Promise<{ id: string; body: string; responseUrl: string }> {
  harness.upload('v2');
  const { id } = await harness.deploy(U.alice, 'kevinstamp v2 to production');
  await harness.waitForStage(id, 'awaiting_approval');
  const responseUrl = harness.catcher.urlFor('actions');
  const body = blockActionsBody({ actionId, value: id, userId: U.bob, channelId: CHANNEL, messageTs: '1700000000.000100', responseUrl });
  return { id, body, responseUrl };
}

async function healthy(harness: SlackHarness): Promise<boolean> {
  const r = await fetch(`${harness.bot.url}/healthz`);
  return r.status === 200;
}

describe('request authenticity', () => {
  it('a forged or tampered signature, missing headers, a wrong secret and a replayed (old) timestamp get 401 and change nothing', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    const responseUrl = h.catcher.urlFor('commands');
    const body = slashCommandBody({ command: '/deploy', text: 'kevinstamp v2 to production', userId: U.alice, channelId: CHANNEL, teamId: TEAM, responseUrl });
    const now = Math.floor(Date.now() / 1000);

    const attempts: Array<[string, () => Promise<{ status: number }>]> = [
      ['forged signature', () => h!.post(body, { headers: { 'x-slack-signature': `v0=${'ab'.repeat(32)}` } })],
      ['tampered body', () => h!.post(body.replace('v2', 'v1'), { signBody: body })],
      ['wrong secret', () => h!.post(body, { secret: 'not-the-signing-secret' })],
      ['old timestamp (replay)', () => h!.post(body, { timestamp: now - 6 * 60 })],
      [
        'missing headers',
        () => fetch(h!.eventsUrl(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
      ],
      [
        'signature without timestamp',
        () => {
          const headers: Record<string, string> = { ...signSlackRequest(SLACK_SIGNING_SECRET, body) };
          delete headers['x-slack-request-timestamp'];
          return fetch(h!.eventsUrl(), { method: 'POST', headers, body });
        },
      ],
    ];
    for (const [what, send] of attempts) {
      const r = await send();
      expect(r.status, what).toBe(401);
    }

    // A refused request is answered only after it was refused: nothing was started, said or asked.
    expect(await deployments(h)).toEqual([]);
    expect(h.catcher.bodies()).toEqual([]);
    expect(h.fake.calls()).toEqual([]);
    expect(h.logs.some((l) => l.includes('Failed to parse and verify the request data'))).toBe(true);

    // The same body, properly signed, works: the refusals were about authenticity alone.
    const ok = await h.post(body);
    expect(ok.status).toBe(200);
    expect(await h.replyTo(responseUrl)).toMatch(/^:rocket: Started/);
    expect(await deployments(h)).toHaveLength(1);
  });

  it('a signed click replayed after five minutes is refused too', async () => {
    h = await startSlackHarness();
    const { id, body } = await clickOnAwaitingRelease(h, 'kd_approve');
    const old = await h.post(body, { timestamp: Math.floor(Date.now() / 1000) - 301 - 60 });
    expect(old.status).toBe(401);
    const after = (await h.api<DeploymentView>('GET', `/api/v1/deployments/${id}`)).body;
    expect(after.stage).toBe('awaiting_approval');
    expect(after.approvals).toEqual([]);
  });
});

describe('replays within the signature window', () => {
  it('the same signed /deploy … --queue sent again verbatim (no retry header) is acked and acted on once, also after a restart', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    h.upload('v3');
    const first = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(first.id, 'awaiting_approval');

    const responseUrl = h.catcher.urlFor('commands');
    const body = slashCommandBody({ command: '/deploy', text: 'kevinstamp v3 to production --queue', userId: U.alice, channelId: CHANNEL, teamId: TEAM, responseUrl });
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await h.post(body, { timestamp })).status).toBe(200);
    expect(await h.replyTo(responseUrl)).toMatch(/queued/i);
    // Byte for byte the same request, signature and timestamp included, within Slack's 5 minutes.
    expect((await h.post(body, { timestamp })).status).toBe(200);
    await waitFor(() => h!.logs.some((l) => l.includes('a Slack request already handled was sent again')));
    await h.restart();
    expect((await h.post(body, { timestamp })).status).toBe(200);
    await waitFor(() => h!.logs.filter((l) => l.includes('a Slack request already handled was sent again')).length >= 2);

    const all = await deployments(h);
    expect(all.filter((d) => d.versionRef === 'v3')).toHaveLength(1);
    // One answer for the one request that ran.
    expect(h.catcher.bodies().filter((b) => b.path === new URL(responseUrl).pathname)).toHaveLength(1);
  });

  it('a replayed Approve click approves once and answers nothing the second time', async () => {
    h = await startSlackHarness();
    const { id, body, responseUrl } = await clickOnAwaitingRelease(h, 'kd_approve');
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await h.post(body, { timestamp })).status).toBe(200);
    await h.waitForStage(id, ['switching', 'monitoring', 'succeeded']);
    expect((await h.post(body, { timestamp })).status).toBe(200);
    await waitFor(() => h!.logs.some((l) => l.includes('a Slack request already handled was sent again')));
    const after = (await h.api<DeploymentView>('GET', `/api/v1/deployments/${id}`)).body;
    expect(after.approvals.map((a) => a.actor)).toEqual(['bob']);
    // The replay got no "already approved" answer: it was not handled at all.
    expect(h.catcher.bodies().filter((b) => b.path === new URL(responseUrl).pathname)).toEqual([]);
  });
});

describe('malformed and unknown requests', () => {
  it('a payload that is not JSON is refused without a crash, and logged', async () => {
    h = await startSlackHarness();
    const r = await h.post('payload=%7Bnot-json');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(await healthy(h)).toBe(true);
    expect(h.logs.some((l) => /Malformed request body/.test(l))).toBe(true);
    // And it still serves Slack.
    expect((await h.ask(U.dave, 'help')).text).toContain('*kevin-deploy*');
  });

  it('a click with an unknown action_id does not crash the bot, is logged, and changes nothing', async () => {
    h = await startSlackHarness();
    const { id, body } = await clickOnAwaitingRelease(h, 'kd_launch_rockets');
    const r = await h.post(body);
    expect(r.status).toBeLessThan(500);
    await waitFor(() => h!.logs.some((l) => /not acknowledged|unhandled|no listener|kd_launch_rockets/i.test(l)));
    expect(await healthy(h)).toBe(true);
    const after = (await h.api<DeploymentView>('GET', `/api/v1/deployments/${id}`)).body;
    expect(after.stage).toBe('awaiting_approval');
    expect(after.approvals).toEqual([]);
  });

  it('a known button carrying an unknown deployment id answers that there is none', async () => {
    h = await startSlackHarness();
    const responseUrl = h.catcher.urlFor('actions');
    const r = await h.post(blockActionsBody({ actionId: 'kd_approve', value: 'kd-doesnotexist', userId: U.bob, channelId: CHANNEL, messageTs: '1700000000.000100', responseUrl }));
    expect(r.status).toBe(200);
    expect(await h.replyTo(responseUrl)).toBe(':no_entry: no deployment with id "kd-doesnotexist"');
    expect(await healthy(h)).toBe(true);
  });

  it('a slash command Slack does not know about for this app is not acted on', async () => {
    h = await startSlackHarness();
    const responseUrl = h.catcher.urlFor('commands');
    const body = slashCommandBody({ command: '/approve-everything', text: 'now', userId: U.dave, channelId: CHANNEL, teamId: TEAM, responseUrl });
    const r = await h.post(body);
    expect(r.status).toBeLessThan(500);
    expect(await healthy(h)).toBe(true);
    expect(await deployments(h)).toEqual([]);
    expect(h.catcher.bodies(responseUrl)).toEqual([]);
  });
});
