import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { FakeSlackView } from '../fakes/slack-web-api.ts';
import { CHANNEL, stageOfText, startSlackHarness, TEAM, U, type SlackHarness } from '../support/slack-harness.ts';
import { appHomeOpenedEvent, eventCallbackBody, fakeTriggerId, viewSubmissionBody } from '../support/slack-requests.ts';
import { waitFor } from '../support/wait-for.ts';

/** The deploy dialog (`/deploy` with no text) and the App Home tab, against the real server. */

let h: SlackHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Block = Record<string, any>;

function blocksOf(view: FakeSlackView): Block[] {
  return view.view.blocks as Block[];
}

/** The block_actions Slack sends when a select inside a modal changes (dispatch_action). */
function selectInViewBody(view: FakeSlackView, userId: string, value: string): string {
  const selected = { text: { type: 'plain_text', text: value, emoji: true }, value };
  const payload = {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: TEAM },
    api_app_id: 'A0KEVINDEPLOY',
    token: 'fakeVerificationToken0000',
    container: { type: 'view', view_id: view.id },
    trigger_id: fakeTriggerId(),
    team: { id: TEAM, domain: 'kevin-deploy-test' },
    enterprise: null,
    is_enterprise_install: false,
    view: {
      ...view.view,
      state: { values: { kd_target: { kd_modal_target: { type: 'static_select', selected_option: selected } } } },
    },
    actions: [
      {
        type: 'static_select',
        action_id: 'kd_modal_target',
        block_id: 'kd_target',
        selected_option: selected,
        placeholder: { type: 'plain_text', text: 'Choose where to deploy', emoji: true },
        action_ts: `${Math.floor(Date.now() / 1000)}.${randomBytes(3).toString('hex')}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function submission(input: { target?: string; version?: string; note?: string; queue?: boolean }) {
  return {
    kd_target: { kd_modal_target: { type: 'static_select', selected_option: input.target ? { value: input.target } : null } },
    kd_version: { kd_modal_version: { type: 'static_select', selected_option: input.version ? { value: input.version } : null } },
    kd_note: { kd_modal_note: { type: 'plain_text_input', value: input.note ?? null } },
    kd_queue: { kd_modal_queue: { type: 'checkboxes', selected_options: input.queue ? [{ value: 'queue' }] : [] } },
  };
}

describe('the deploy dialog', () => {
  it('/deploy with no text opens it; choosing a target lists its ten newest versions; submitting starts the release', async () => {
    h = await startSlackHarness();
    const ids = Array.from({ length: 11 }, (_, i) => h!.upload(`v${i + 2}`));
    const newest = ids.at(-1)!;

    // /deploy with no text: acked, and a modal with the target select opens on the trigger.
    const { response } = await h.slash(U.alice, '');
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    const open = await h.fake.waitForCall('views.open', (c) => c.outcome.ok);
    expect(open.args.trigger_id).toEqual(expect.any(String));
    const [opened] = h.fake.views().filter((v) => v.kind === 'modal');
    expect(opened!.view.callback_id).toBe('kd_deploy_modal');
    expect(JSON.parse(opened!.view.private_metadata as string)).toEqual({ channelId: CHANNEL });
    const select = blocksOf(opened!).find((b) => b.block_id === 'kd_target')!;
    expect(select.element.options.map((o: Block) => o.value)).toEqual(['kevinstamp/production', 'kevinstamp/staging']);
    expect(blocksOf(opened!).some((b) => b.block_id === 'kd_version')).toBe(false);

    // Choosing a target: the view is updated in place with its versions, newest first, at most ten.
    const chosen = await h.post(selectInViewBody(opened!, U.alice, 'kevinstamp/production'));
    expect(chosen.status).toBe(200);
    const update = await h.fake.waitForCall('views.update', (c) => c.outcome.ok);
    expect(update.args.view_id).toBe(opened!.id);
    const updated = h.fake.views().find((v) => v.id === opened!.id)!;
    expect(updated.updates).toBe(1);
    const versions = blocksOf(updated).find((b) => b.block_id === 'kd_version')!;
    const options = versions.element.options as Block[];
    expect(options).toHaveLength(10);
    expect(options[0]!.value).toBe(newest);
    expect(options[0]!.text.text).toBe(`v12 · release v12`);
    expect(options.map((o) => o.value)).not.toContain(h.v1);
    expect(blocksOf(updated).find((b) => b.block_id === 'kd_target')!.element.initial_option.value).toBe('kevinstamp/production');

    // Submitting: the release starts as alice, and she gets an ephemeral in the channel she typed in.
    const submitted = await h.post(
      viewSubmissionBody({
        callbackId: 'kd_deploy_modal',
        userId: U.alice,
        viewId: opened!.id,
        privateMetadata: opened!.view.private_metadata as string,
        values: submission({ target: 'kevinstamp/production', version: newest, note: 'from the dialog' }),
      }),
    );
    expect(submitted.status).toBe(200);
    expect(submitted.text).toBe('');
    const ephemeral = await h.fake.waitForCall('chat.postEphemeral', (c) => c.outcome.ok);
    expect(ephemeral.args).toMatchObject({ channel: CHANNEL, user: U.alice });
    expect(ephemeral.args.text).toMatch(/^:rocket: Started `kd-[a-z0-9]+`: kevinstamp → production/);
    const id = /`(kd-[a-z0-9]+)`/.exec(String(ephemeral.args.text))![1]!;
    const started = (await h.api<DeploymentView>('GET', `/api/v1/deployments/${id}`)).body;
    expect(started).toMatchObject({ service: 'kevinstamp', environment: 'production', requestedBy: 'alice', versionRef: newest, note: 'from the dialog' });
    const waiting = await h.waitForStage(id, 'awaiting_approval');
    expect(waiting.version).toEqual({ id: newest, tag: 'v12' });
    await h.waitForCard(id, (c) => stageOfText(c.text) === 'awaiting_approval');
  });

  it('an incomplete or refused submission keeps the dialog open with the problem on the field', async () => {
    h = await startSlackHarness();
    const v2 = h.upload('v2');
    const empty = await h.post(viewSubmissionBody({ callbackId: 'kd_deploy_modal', userId: U.alice, privateMetadata: JSON.stringify({ channelId: CHANNEL }), values: submission({}) }));
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ response_action: 'errors', errors: { kd_target: 'Choose a service and environment.' } });

    // dave may not deploy: the refusal shows on the dialog, nothing starts.
    const refused = await h.post(
      viewSubmissionBody({ callbackId: 'kd_deploy_modal', userId: U.dave, privateMetadata: JSON.stringify({ channelId: CHANNEL }), values: submission({ target: 'kevinstamp/production', version: v2 }) }),
    );
    expect(refused.status).toBe(200);
    const errors = (refused.json as { response_action: string; errors: Record<string, string> });
    expect(errors.response_action).toBe('errors');
    expect(errors.errors.kd_target).toMatch(/may not deploy to kevinstamp\/production/);
    expect(errors.errors.kd_target).not.toMatch(/^:/);
    expect((await h.api<{ deployments: unknown[] }>('GET', '/api/v1/deployments')).body.deployments).toEqual([]);
    expect(h.fake.calls('chat.postEphemeral')).toEqual([]);
  });
});

describe('App Home', () => {
  it('app_home_opened publishes a home view with the active release, the locks and the last releases', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    h.upload('v3');
    // One finished release (rejected), one active, one lock.
    const first = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(first.id, 'awaiting_approval');
    await h.click(U.bob, 'kd_reject', first.id);
    await h.waitForStage(first.id, 'rejected');
    const active = await h.deploy(U.alice, 'kevinstamp v3 to production');
    await h.waitForStage(active.id, 'awaiting_approval');
    expect((await h.ask(U.ops, 'lock kevinstamp staging "<!channel> launch freeze"')).text).toMatch(/^:lock:/);

    // The messages tab is not ours to draw.
    const messagesTab = await h.post(eventCallbackBody({ event: appHomeOpenedEvent({ userId: U.alice, tab: 'messages' }) }));
    expect(messagesTab.status).toBe(200);
    const opened = await h.post(eventCallbackBody({ event: appHomeOpenedEvent({ userId: U.alice }) }));
    expect(opened.status).toBe(200);
    await h.fake.waitForCall('views.publish', (c) => c.outcome.ok);
    const home = h.fake.homeView(U.alice)!;
    expect(home.kind).toBe('home');
    const blocks = blocksOf(home);
    const json = JSON.stringify(blocks);

    const activeIndex = blocks.findIndex((b) => b.text?.text === '*Active releases*');
    const frozenIndex = blocks.findIndex((b) => b.text?.text === '*Frozen targets*');
    const lastIndex = blocks.findIndex((b) => b.text?.text === '*Last releases of kevinstamp*');
    expect(activeIndex).toBeGreaterThanOrEqual(0);
    expect(frozenIndex).toBeGreaterThan(activeIndex);
    expect(lastIndex).toBeGreaterThan(frozenIndex);

    const activeBlocks = JSON.stringify(blocks.slice(activeIndex, frozenIndex));
    expect(activeBlocks).toContain(active.id);
    expect(activeBlocks).toContain('awaiting approval');
    expect(activeBlocks).not.toContain(first.id);

    const frozen = JSON.stringify(blocks.slice(frozenIndex, lastIndex));
    expect(frozen).toContain('kevinstamp → staging');
    expect(frozen).toContain(`<@${U.ops}>`);
    expect(frozen).toContain('{"type":"plain_text","text":"<!channel> launch freeze","emoji":false}');

    const last = blocks.slice(lastIndex).map((b) => b.text?.text ?? '').join('\n');
    expect(last).toContain(`production \`v3\` *awaiting approval* · <@${U.alice}>`);
    expect(last).toContain(`production \`v2\` *rejected* · <@${U.alice}>`);
    expect(json).not.toContain('"mrkdwn","text":"<!channel>');

    // Only the home tab was drawn, once.
    expect(h.fake.calls('views.publish')).toHaveLength(1);
    expect(h.fake.calls('views.publish')[0]!.args.user_id).toBe(U.alice);
  });

  it('opening the home again redraws the same view with the current state', async () => {
    h = await startSlackHarness();
    h.upload('v2');
    await h.post(eventCallbackBody({ event: appHomeOpenedEvent({ userId: U.bob }) }));
    await h.fake.waitForCall('views.publish', (c) => c.outcome.ok);
    const before = h.fake.homeView(U.bob)!;
    expect(JSON.stringify(blocksOf(before))).toContain('None right now.');

    const { id } = await h.deploy(U.alice, 'kevinstamp v2 to production');
    await h.waitForStage(id, 'awaiting_approval');
    await h.post(eventCallbackBody({ event: appHomeOpenedEvent({ userId: U.bob }) }));
    await waitFor(() => h!.fake.homeView(U.bob)!.updates === 1);
    const after = h.fake.homeView(U.bob)!;
    expect(after.id).toBe(before.id);
    expect(JSON.stringify(blocksOf(after))).toContain(id);
  });
});
