import type { types, ViewOutput } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { appHome, deployModal, DEPLOY_MODAL, MODAL_BLOCKS, MODAL_TARGET_ACTION, parseDeployModal, selectedTarget } from '../../src/adapters/slack/views.ts';
import type { Deployment } from '../../src/domain/deployment.ts';
import type { FreezeLock } from '../../src/domain/freeze-lock.ts';
import type { VersionSummary } from '../../src/ports/traffic-platform.ts';
import { inStage, iso, MINUTE, T0 } from '../support/domain-fixtures.ts';

type Block = Record<string, any>;

const TARGETS = [
  { service: 'kevinstamp', environment: 'production', protected: true },
  { service: 'kevinstamp', environment: 'staging', protected: false },
];

function versions(n: number): VersionSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${String(i).padStart(8, '0')}-aaaa-4aaa-8aaa-aaaaaaaaaaaa`,
    tag: i % 2 === 0 ? `v${n - i}` : null,
    message: i === 0 ? 'M'.repeat(200) : `release ${n - i}`,
    author: i === 1 ? null : 'ci@kevinstamp.example',
    createdAt: i === 2 ? null : new Date(T0.getTime() - (i + 1) * 30 * MINUTE).toISOString(),
  }));
}

function blocksOf(view: types.View): Block[] {
  return view.blocks as Block[];
}

function textObjects(value: unknown, out: Array<{ type: string; text: string }> = []): Array<{ type: string; text: string }> {
  if (Array.isArray(value)) for (const v of value) textObjects(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push({ type: o.type, text: o.text });
    for (const v of Object.values(o)) textObjects(v, out);
  }
  return out;
}

/** state.values as Slack sends them on submission. */
function values(input: { target?: string; version?: string; note?: string | null; queue?: boolean }): ViewOutput['state']['values'] {
  const option = (value: string) => ({ text: { type: 'plain_text' as const, text: value }, value });
  return {
    [MODAL_BLOCKS.target]: { [MODAL_TARGET_ACTION]: { type: 'static_select', selected_option: input.target ? option(input.target) : null } },
    [MODAL_BLOCKS.version]: { kd_modal_version: { type: 'static_select', selected_option: input.version ? option(input.version) : null } },
    [MODAL_BLOCKS.note]: { kd_modal_note: { type: 'plain_text_input', value: input.note ?? null } },
    [MODAL_BLOCKS.queue]: { kd_modal_queue: { type: 'checkboxes', selected_options: input.queue ? [option('queue')] : [] } },
  };
}

describe('the deploy dialog', () => {
  it('without a target chosen: every target to choose from, dispatching its choice, and no version list yet', () => {
    const view = deployModal({ targets: TARGETS, channelId: 'C0DEPLOYS', now: T0 });
    expect(view).toMatchObject({ type: 'modal', callback_id: DEPLOY_MODAL, title: { type: 'plain_text' }, submit: { type: 'plain_text' } });
    expect(JSON.parse(view.private_metadata as string)).toEqual({ channelId: 'C0DEPLOYS' });
    const [target, hint] = blocksOf(view);
    expect(target).toMatchObject({ type: 'input', block_id: MODAL_BLOCKS.target, dispatch_action: true, element: { type: 'static_select', action_id: MODAL_TARGET_ACTION } });
    expect(target!.element.options.map((o: Block) => o.value)).toEqual(['kevinstamp/production', 'kevinstamp/staging']);
    expect(target!.element.options[0].text.text).toBe('kevinstamp → production (protected)');
    expect(target!.element).not.toHaveProperty('initial_option');
    expect(hint).toMatchObject({ type: 'context' });
    expect(blocksOf(view).some((b) => b.block_id === MODAL_BLOCKS.version)).toBe(false);
    // Note and queue are offered and optional.
    expect(blocksOf(view).find((b) => b.block_id === MODAL_BLOCKS.note)).toMatchObject({ optional: true, element: { type: 'plain_text_input' } });
    expect(blocksOf(view).find((b) => b.block_id === MODAL_BLOCKS.queue)).toMatchObject({ optional: true, element: { type: 'checkboxes' } });
  });

  it('with a target chosen: its ten newest versions with tag, message, author and age, within Slack limits', () => {
    const list = versions(12);
    const view = deployModal({ targets: TARGETS, selected: TARGETS[1], versions: list, channelId: 'C0DEPLOYS', now: T0 });
    const target = blocksOf(view).find((b) => b.block_id === MODAL_BLOCKS.target)!;
    expect(target.element.initial_option.value).toBe('kevinstamp/staging');
    const version = blocksOf(view).find((b) => b.block_id === MODAL_BLOCKS.version)!;
    const options = version.element.options as Block[];
    expect(options).toHaveLength(10);
    expect(options.map((o) => o.value)).toEqual(list.slice(0, 10).map((v) => v.id));
    expect(options[1]!.text.text).toBe(`${list[1]!.id.slice(0, 8)} · release 11`);
    expect(options[1]!.description.text).toContain('unknown author');
    expect(options[3]!.description.text).toBe(`${list[3]!.id.slice(0, 8)} · ci@kevinstamp.example · 2 h ago`);
    for (const o of options) {
      expect(o.text.type).toBe('plain_text');
      expect(o.text.text.length).toBeLessThanOrEqual(75);
      expect(o.description.text.length).toBeLessThanOrEqual(75);
    }
  });

  it('a target without versions, or whose versions could not be listed, says so', () => {
    const none = deployModal({ targets: TARGETS, selected: TARGETS[0], versions: [], channelId: 'C1', now: T0 });
    expect(JSON.stringify(blocksOf(none))).toContain('No versions found for this target.');
    const broken = deployModal({ targets: TARGETS, selected: TARGETS[0], versionsProblem: 'Could not list versions: Cloudflare unavailable', channelId: 'C1', now: T0 });
    expect(JSON.stringify(blocksOf(broken))).toContain('Could not list versions: Cloudflare unavailable');
  });

  it('reads the chosen target', () => {
    expect(selectedTarget(values({ target: 'kevinstamp/production' }))).toEqual({ service: 'kevinstamp', environment: 'production' });
    expect(selectedTarget(values({}))).toBeUndefined();
    expect(selectedTarget({})).toBeUndefined();
  });

  it('a complete submission becomes the deploy command\'s arguments', () => {
    expect(parseDeployModal(values({ target: 'kevinstamp/production', version: 'abc', note: '  new gallery  ', queue: true }))).toEqual({
      args: { service: 'kevinstamp', environment: 'production', version: 'abc', note: 'new gallery', queue: true },
    });
    expect(parseDeployModal(values({ target: 'kevinstamp/staging', version: 'abc', note: '   ' }))).toEqual({
      args: { service: 'kevinstamp', environment: 'staging', version: 'abc' },
    });
  });

  it('an incomplete submission names the field to fix', () => {
    expect(parseDeployModal(values({}))).toEqual({ errors: { [MODAL_BLOCKS.target]: 'Choose a service and environment.' } });
    const noVersion = parseDeployModal(values({ target: 'kevinstamp/production' }));
    expect(noVersion).toHaveProperty('errors');
    expect(Object.keys((noVersion as { errors: Record<string, string> }).errors)).toHaveLength(1);
  });
});

describe('App Home', () => {
  const active = inStage('awaiting_approval', { id: 'kd-active00001', requestedBy: 'slack:U0ALICE', reason: 'waiting for <!channel> *approval*' });
  const lock: FreezeLock = { service: 'kevinstamp', environment: 'staging', holder: 'ops', reason: '<!channel> *launch* freeze', since: iso(-MINUTE), expiresAt: iso(2 * 60 * MINUTE) };
  const recent: Deployment[] = [
    active,
    inStage('succeeded', { id: 'kd-finished001', createdAt: '2025-06-01T11:00:00.000Z' }),
    inStage('rolled_back', { id: 'kd-rollback001', kind: 'rollback', createdAt: '2025-06-01T10:00:00.000Z' }),
  ];

  it('lists active releases, freeze locks and the last releases per service', () => {
    const view = appHome({ active: [active], locks: [lock], recent: new Map([['kevinstamp', recent]]), now: T0 });
    expect(view.type).toBe('home');
    const json = JSON.stringify(view);
    expect(json).toContain('*Active releases*');
    expect(json).toContain('kd-active00001');
    expect(json).toContain('awaiting approval');
    expect(json).toContain('<@U0ALICE>');
    expect(json).toContain('*Frozen targets*');
    expect(json).toContain('kevinstamp → staging');
    expect(json).toContain('until 2025-06-01 14:00');
    expect(json).toContain('*Last releases of kevinstamp*');
    const last = blocksOf(view).find((b) => typeof b.text?.text === 'string' && b.text.text.includes('kd-') === false && b.text.text.includes('succeeded'));
    expect(last?.text.text).toContain('(rollback) *rolled back*');
  });

  it('says "none" when there is nothing to list', () => {
    const view = appHome({ active: [], locks: [], recent: new Map([['kevinstamp', []]]), now: T0 });
    const plain = textObjects(blocksOf(view)).filter((t) => t.type === 'plain_text').map((t) => t.text);
    expect(plain).toEqual(expect.arrayContaining(['None right now.', 'None.', 'No releases yet.']));
  });

  it('reasons and lock reasons are plain text only', () => {
    const view = appHome({ active: [active], locks: [lock], recent: new Map([['kevinstamp', recent]]), now: T0 });
    const texts = textObjects(blocksOf(view));
    for (const t of texts.filter((x) => x.type === 'mrkdwn')) {
      expect(t.text).not.toContain('<!channel>');
      expect(t.text).not.toContain('*launch*');
      expect(t.text).not.toContain('*approval*');
    }
    expect(texts).toContainEqual({ type: 'plain_text', text: '<!channel> *launch* freeze' });
    expect(texts).toContainEqual({ type: 'plain_text', text: 'waiting for <!channel> *approval*' });
  });

  it('stays within the 100 blocks of a home view with many services and releases', () => {
    const many = new Map(Array.from({ length: 40 }, (_, i) => [`svc-${i}`, recent] as const));
    const view = appHome({ active: Array.from({ length: 30 }, () => active), locks: Array.from({ length: 30 }, () => lock), recent: many, now: T0 });
    expect(blocksOf(view).length).toBeLessThanOrEqual(100);
  });
});
