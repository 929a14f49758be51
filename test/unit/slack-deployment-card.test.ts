import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { buttonActionId } from '../../commands/card-buttons.ts';
import { buttonsFor, renderDeploymentCard } from '../../src/adapters/slack/deployment-card.ts';
import type { Deployment } from '../../src/domain/deployment.ts';
import { STAGES, type Stage } from '../../src/domain/stages.ts';
import { BLUE, GREEN, HEALTHY_CHECKS, inStage, settings } from '../support/domain-fixtures.ts';

const target = settings();

/** The card's action ids, as the command table declares them. */
const ACTIONS = {
  approve: buttonActionId('approve'),
  reject: buttonActionId('reject'),
  cancel: buttonActionId('cancel'),
  rollback: buttonActionId('rollback'),
};

interface Button {
  action_id: string;
  value: string;
  style?: string;
  text: { type: string; text: string };
  confirm?: { title: { type: string; text: string }; text: { type: string; text: string }; confirm: { text: string }; deny: { text: string } };
}

function buttons(d: Deployment): Button[] {
  return buttonsFor(d) as unknown as Button[];
}

function actionIds(d: Deployment): string[] {
  return buttons(d).map((b) => b.action_id);
}

/** Every text object ({type: plain_text|mrkdwn, text}) anywhere in the blocks. */
function textObjects(value: unknown, out: Array<{ type: string; text: string }> = []): Array<{ type: string; text: string }> {
  if (Array.isArray(value)) for (const v of value) textObjects(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if ((o.type === 'plain_text' || o.type === 'mrkdwn') && typeof o.text === 'string') out.push({ type: o.type, text: o.text });
    for (const v of Object.values(o)) textObjects(v, out);
  }
  return out;
}

function mrkdwnTexts(blocks: types.KnownBlock[]): string[] {
  return textObjects(blocks).filter((t) => t.type === 'mrkdwn').map((t) => t.text);
}

function plainTexts(blocks: types.KnownBlock[]): string[] {
  return textObjects(blocks).filter((t) => t.type === 'plain_text').map((t) => t.text);
}

describe('the buttons on a release card, per stage', () => {
  const expected: Record<Stage, string[]> = {
    requested: [ACTIONS.cancel],
    resolving: [ACTIONS.cancel],
    staging: [ACTIONS.cancel],
    verifying: [ACTIONS.cancel],
    awaiting_approval: [ACTIONS.approve, ACTIONS.reject, ACTIONS.cancel],
    switching: [ACTIONS.rollback],
    monitoring: [ACTIONS.rollback],
    succeeded: [ACTIONS.rollback],
    rolling_back: [],
    needs_attention: [ACTIONS.rollback],
    rolled_back: [],
    failed: [],
    rejected: [],
    expired: [],
    cancelled: [],
  };

  for (const stage of STAGES) {
    it(`${stage}: ${expected[stage].join(', ') || 'none'}`, () => {
      const d = inStage(stage);
      expect(actionIds(d)).toEqual(expected[stage]);
      const card = renderDeploymentCard(d, target);
      const actions = card.blocks.filter((b) => b.type === 'actions');
      if (expected[stage].length === 0) expect(actions).toEqual([]);
      else {
        expect(actions).toHaveLength(1);
        expect(actions[0]!.block_id).toBe(`kd_actions_${d.id}`);
      }
    });
  }

  it('every button carries the deployment id as its value', () => {
    for (const stage of STAGES) for (const b of buttons(inStage(stage, { id: 'kd-abcdefghij' }))) expect(b.value).toBe('kd-abcdefghij');
  });

  it('Approve is primary; Reject and Rollback are danger', () => {
    const waiting = buttons(inStage('awaiting_approval'));
    expect(waiting.find((b) => b.action_id === ACTIONS.approve)).toMatchObject({ style: 'primary', text: { text: 'Approve' } });
    expect(waiting.find((b) => b.action_id === ACTIONS.reject)).toMatchObject({ style: 'danger', text: { text: 'Reject' } });
    expect(buttons(inStage('monitoring'))[0]).toMatchObject({ style: 'danger', text: { text: 'Rollback' } });
  });

  it('needs_attention offers "Retry rollback"', () => {
    expect(buttons(inStage('needs_attention'))[0]).toMatchObject({ action_id: ACTIONS.rollback, text: { text: 'Retry rollback' } });
  });

  it('destructive buttons ask for confirmation in plain text that names the version traffic goes to', () => {
    const reject = buttons(inStage('awaiting_approval')).find((b) => b.action_id === ACTIONS.reject)!;
    expect(reject.confirm).toBeDefined();
    expect(reject.confirm!.title.type).toBe('plain_text');
    expect(reject.confirm!.text).toMatchObject({ type: 'plain_text' });
    expect(reject.confirm!.text.text).toContain('v2');

    const cancel = buttons(inStage('verifying')).find((b) => b.action_id === ACTIONS.cancel)!;
    expect(cancel.confirm).toBeDefined();
    expect(cancel.confirm!.text.text).toContain('Traffic stays on v1');

    for (const stage of ['switching', 'monitoring', 'succeeded', 'needs_attention'] as const) {
      const rollback = buttons(inStage(stage))[0]!;
      expect(rollback.confirm, stage).toBeDefined();
      expect(rollback.confirm!.text.text, stage).toContain(`back to v1 (${BLUE.id.slice(0, 8)})`);
      expect(rollback.confirm!.confirm.text).toBe('Roll back');
      expect(rollback.confirm!.deny.text).toBeTruthy();
    }
  });

  it('a rollback deployment can be cancelled before it runs, and never offers Approve or Rollback', () => {
    const rollback = (stage: Stage) => inStage(stage, { kind: 'rollback', version: BLUE, previousVersion: GREEN });
    expect(actionIds(rollback('resolving'))).toEqual([ACTIONS.cancel]);
    for (const stage of ['rolling_back', 'rolled_back', 'needs_attention'] as const) expect(actionIds(rollback(stage)), stage).toEqual([]);
  });
});

describe('the card content', () => {
  it('says what, where, who and the stage, in the fallback text and the blocks', () => {
    const d = inStage('awaiting_approval');
    const card = renderDeploymentCard(d, target);
    expect(card.text).toBe(`kevinstamp → production: v2 (${GREEN.id.slice(0, 8)}) — awaiting approval`);
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: 'Release kevinstamp → production' } });
    const all = JSON.stringify(card.blocks);
    expect(all).toContain('(protected)');
    expect(all).toContain('*Requested by*\\n*alice*');
    expect(all).toContain(`\`${d.id}\``);
    // The checklist marks what is done, what is current and what is to come.
    const checklist = mrkdwnTexts(card.blocks).find((t) => t.includes('awaiting approval') && t.includes('switching'))!;
    expect(checklist).toContain(':raised_hand: *awaiting approval*');
    expect(checklist).toContain(':white_small_square: switching');
    // Checks are listed.
    expect(plainTexts(card.blocks).some((t) => t.includes('✓ health: 200 healthy'))).toBe(true);
  });

  it('a Slack requester and approvers are mentioned; other actors are names', () => {
    const d = inStage('monitoring', { requestedBy: 'slack:U0ALICE', approvals: [{ actor: 'slack:U0BOB', at: '2025-06-01T11:59:00.000Z' }, { actor: 'ops', at: '2025-06-01T11:59:30.000Z' }] });
    const texts = mrkdwnTexts(renderDeploymentCard(d, target).blocks);
    expect(texts.some((t) => t.includes('<@U0ALICE>'))).toBe(true);
    expect(texts.some((t) => t.includes('*Approved by* <@U0BOB>, *ops*'))).toBe(true);
  });

  it('while monitoring, shows the figures against their limits', () => {
    const d = inStage('monitoring', { progress: { attempt: 0, monitorEndsAt: '2025-06-01T12:05:00.000Z', samplesTaken: 4, consecutiveHealthFailures: 1, lastChecks: HEALTHY_CHECKS } });
    const figures = mrkdwnTexts(renderDeploymentCard(d, target).blocks).find((t) => t.startsWith('*Watching*'))!;
    expect(figures).toContain('until 12:05:00 UTC');
    expect(figures).toContain('samples 4');
    expect(figures).toContain('health failures in a row 1/3');
    expect(figures).toContain('KEVIN content ok');
  });

  it('a queued release says its position', () => {
    const card = renderDeploymentCard(inStage('requested'), target, { queuePosition: 2 });
    expect(mrkdwnTexts(card.blocks).some((t) => t.includes('position 2 in the queue'))).toBe(true);
  });

  it('a release that rolled back shows the rollback path in its checklist', () => {
    const d = inStage('rolled_back', { stageTimes: { requested: '2025-06-01T11:50:00.000Z', monitoring: '2025-06-01T11:55:00.000Z', rolling_back: '2025-06-01T11:58:00.000Z', rolled_back: '2025-06-01T12:00:00.000Z' } });
    const checklist = mrkdwnTexts(renderDeploymentCard(d, target).blocks).find((t) => t.includes('rolling back'))!;
    expect(checklist).toContain(':white_check_mark: rolling back');
    expect(checklist).toContain('*rolled back*');
    expect(checklist).not.toContain('succeeded');
  });

  it('stays within Slack limits with very long user text', () => {
    const long = 'K'.repeat(5000);
    const card = renderDeploymentCard(inStage('awaiting_approval', { note: long, reason: long }), target);
    for (const t of textObjects(card.blocks)) expect(t.text.length).toBeLessThanOrEqual(3000);
    expect(card.blocks.length).toBeLessThanOrEqual(50);
  });
});

describe('user text on the card', () => {
  const hostile = '<!channel> <@U0BOSS> *bold* _it_ ~strike~ <https://evil.example|click>';

  it('notes, reasons and check details only appear in plain_text objects', () => {
    const d = inStage('awaiting_approval', {
      note: `note ${hostile}`,
      reason: `reason ${hostile}`,
      progress: { attempt: 0, lastChecks: [{ name: 'content /', ok: false, detail: `detail ${hostile}` }] },
    });
    const card = renderDeploymentCard(d, target);
    for (const text of mrkdwnTexts(card.blocks)) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<@U0BOSS>');
      expect(text).not.toContain('*bold*');
      expect(text).not.toContain('evil.example');
    }
    const plain = plainTexts(card.blocks);
    expect(plain).toContain(`note ${hostile}`);
    expect(plain).toContain(`reason ${hostile}`);
    expect(plain.some((t) => t.includes(`detail ${hostile}`))).toBe(true);
    // Nothing user-written in the notification text either.
    expect(card.text).not.toContain('<!channel>');
    expect(card.text).not.toContain('*bold*');
  });

  it('what the requester typed as the version cannot mention or break out of its code span', () => {
    const d = inStage('resolving', { versionRef: '<!here>`*x*`' });
    const card = renderDeploymentCard(d, target);
    for (const text of mrkdwnTexts(card.blocks)) expect(text).not.toContain('<!here>');
    const version = mrkdwnTexts(card.blocks).find((t) => t.startsWith('*Version*'))!;
    expect(version).toBe("*Version*\n`&lt;!here&gt;'*x*'`");
  });

  it('the fallback text (what notifications show) carries no unescaped version text either', () => {
    // The fallback text of a thread message follows this rule (thread-messages.ts); the card's must too.
    const typed = renderDeploymentCard(inStage('resolving', { versionRef: '<!here>' }), target);
    expect(typed.text).not.toContain('<!here>');
    const tagged = renderDeploymentCard(inStage('awaiting_approval', { version: { id: GREEN.id, tag: '<!channel>' } }), target);
    expect(tagged.text).not.toContain('<!channel>');
  });
});
