import { describe, expect, it } from 'vitest';
import { actorMention, escapeMrkdwn, mentionPrincipals, mrkdwn, neutralizeMrkdwn, plain, truncate } from '../../src/adapters/slack/mrkdwn.ts';
import { errorReply, replyFor } from '../../src/adapters/slack/replies.ts';
import { threadMessage } from '../../src/adapters/slack/thread-messages.ts';
import { toDeploymentView, type LockView } from '../../src/domain/deployment-view.ts';
import type { DeploymentEvent } from '../../src/domain/deployment.ts';
import { KevinDeployError } from '../../src/errors.ts';
import { inStage, iso } from '../support/domain-fixtures.ts';

/**
 * What someone might type into a note, a lock reason or a comment: a channel-wide ping, a user
 * mention, a user-group mention, a link with a fake label, and formatting.
 */
const HOSTILE = '<!channel> <!here> <@U0BOSS> <!subteam^S0ALL> <https://evil.example|docs> *bold* _it_ ~gone~';

/** Text Slack would turn into a notification or a link. */
function expectNoMentionOrLink(text: string): void {
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<!here>');
  expect(text).not.toContain('<@U0BOSS>');
  expect(text).not.toContain('<!subteam^S0ALL>');
  expect(text).not.toContain('<https://evil.example');
}

/** Text Slack would format: the markers must not survive intact around a word. */
function expectNoFormatting(text: string): void {
  expect(text).not.toContain('*bold*');
  expect(text).not.toContain('_it_');
  expect(text).not.toContain('~gone~');
}

describe('mrkdwn helpers', () => {
  it('escapeMrkdwn escapes exactly Slack\'s three control characters', () => {
    expect(escapeMrkdwn('a & b <!channel> <@U1> c > d')).toBe('a &amp; b &lt;!channel&gt; &lt;@U1&gt; c &gt; d');
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
    expectNoMentionOrLink(escapeMrkdwn(HOSTILE));
  });

  it('neutralizeMrkdwn also keeps formatting markers from formatting, while reading the same', () => {
    const out = neutralizeMrkdwn(HOSTILE);
    expectNoMentionOrLink(out);
    expectNoFormatting(out);
    expect(out.replaceAll('\u200b', '')).toBe(escapeMrkdwn(HOSTILE));
  });

  it('plain and mrkdwn build text objects, never empty, truncated to the limit', () => {
    expect(plain('hi')).toEqual({ type: 'plain_text', text: 'hi', emoji: false });
    expect(plain('').text).toBe(' ');
    expect(mrkdwn('').text).toBe(' ');
    expect(plain('x'.repeat(40), 10).text).toBe(`${'x'.repeat(9)}…`);
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('actorMention mentions Slack actors and neutralizes other names', () => {
    expect(actorMention('slack:U0ALICE')).toBe('<@U0ALICE>');
    expect(actorMention('slack:W0ENTERPRISE')).toBe('<@W0ENTERPRISE>');
    expect(actorMention('alice')).toBe('*alice*');
    const odd = actorMention('<!channel> *x*');
    expectNoMentionOrLink(odd);
    expect(odd).not.toContain('*x*');
    // Not a user id: no mention.
    expect(actorMention('slack:S0GROUP')).not.toContain('<@');
  });

  it('mentionPrincipals turns principals in our own messages into mentions and escapes the rest', () => {
    expect(mentionPrincipals('allowed: slack:U0BOB, slack-group:S0APPROVERS, admins (ops)')).toBe(
      'allowed: <@U0BOB>, <!subteam^S0APPROVERS>, admins (ops)',
    );
    expectNoMentionOrLink(mentionPrincipals(HOSTILE));
  });
});

describe('replies never let user text mention or format', () => {
  const lock: LockView = { service: 'kevinstamp', environment: 'production', holder: 'ops', reason: HOSTILE, since: iso(), expiresAt: null };

  it('the lock confirmation', () => {
    const text = replyFor('lock', lock, 'C0DEPLOYS');
    expect(text).toContain('kevinstamp → production is frozen');
    expectNoMentionOrLink(text);
    expectNoFormatting(text);
  });

  it('status: a lock reason and an active release reason', () => {
    const active = toDeploymentView(inStage('awaiting_approval', { reason: `manual rollback by bob: ${HOSTILE}` }));
    const text = replyFor(
      'status',
      { targets: [{ service: 'kevinstamp', environment: 'production', protected: true, live: null, active, queue: [], lock }] },
      undefined,
    );
    expect(text).toContain('frozen by');
    expectNoMentionOrLink(text);
    expectNoFormatting(text);
  });

  it('a refusal that quotes a lock reason (deploy while frozen)', () => {
    const refusal = new KevinDeployError('TARGET_LOCKED', `kevinstamp/production is frozen by ops since ${iso()}: ${HOSTILE}. Unlock first.`);
    const text = errorReply(refusal);
    expectNoMentionOrLink(text);
    expectNoFormatting(text);
  });

  it('a refusal that quotes a lock reason naming a Slack principal does not turn it into a mention', () => {
    // mentionPrincipals is for principals kevin-deploy itself names (who may); a lock reason or a
    // comment is user text and is quoted in refusals (TARGET_LOCKED, STALE_ACTION quote reasons).
    const refusal = new KevinDeployError('TARGET_LOCKED', 'kevinstamp/production is frozen by ops since 2026-11-26: ask slack:U0BOSS or slack-group:S0ALL. Unlock first.');
    const text = errorReply(refusal);
    expect(text).not.toContain('<@U0BOSS>');
    expect(text).not.toContain('<!subteam^S0ALL>');
  });
});

describe('thread messages keep user text in plain_text', () => {
  const d = inStage('rejected');
  const event = (action: string, details: Record<string, unknown>, actor = 'bob'): DeploymentEvent => ({
    deploymentId: d.id,
    at: iso(),
    actor,
    action,
    fromStage: 'awaiting_approval',
    toStage: 'rejected',
    details,
  });

  for (const action of ['rejected', 'cancelled', 'failed', 'rollback-requested', 'rollback-failed', 'monitoring-passed']) {
    it(`${action}: the reason is plain text; the title and fallback carry none of it`, () => {
      const message = threadMessage(event(action, { reason: `because ${HOSTILE}` }), d)!;
      expect(message).toBeDefined();
      const [title, ...rest] = message.blocks;
      expect(JSON.stringify(title)).not.toContain('because');
      expectNoMentionOrLink(message.text);
      expect(JSON.stringify(rest)).toContain('plain_text');
      expect((rest[0] as { elements: Array<{ type: string; text: string }> }).elements[0]).toEqual({
        type: 'plain_text',
        text: `because ${HOSTILE}`,
        emoji: false,
      });
    });
  }
});
