import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.ts';
import { errorReply, replyFor } from '../../src/adapters/slack/replies.ts';
import { threadMessage } from '../../src/adapters/slack/thread-messages.ts';
import { toDeploymentView, type LockView } from '../../src/domain/deployment-view.ts';
import type { DeploymentEvent } from '../../src/domain/deployment.ts';
import type { Actor } from '../../src/domain/policy.ts';
import type { ReleaseService } from '../../src/engine/release-service.ts';
import { KevinDeployError } from '../../src/errors.ts';
import { BLUE, GREEN, HEALTHY_CHECKS, inStage, iso } from '../support/domain-fixtures.ts';

const short = (id: string) => id.slice(0, 8);

describe('ephemeral replies to chat commands', () => {
  it('deploy: started, with the id, the version and where its card is', () => {
    const d = toDeploymentView(inStage('resolving', { id: 'kd-started0001' }));
    const text = replyFor('deploy', d, 'C0DEPLOYS');
    expect(text).toMatch(/^:rocket: Started `kd-started0001`: kevinstamp → production `v2`/);
    expect(text).toContain('checked before any traffic');
    expect(text).toContain('<#C0DEPLOYS>');
    // No channel configured: no link.
    expect(replyFor('deploy', d, undefined)).not.toContain('<#');
  });

  it('deploy --queue: queued, with the position and the promise to tell', () => {
    const d = toDeploymentView(inStage('requested', { id: 'kd-queued00001' }), { queuePosition: 2 });
    const text = replyFor('deploy', d, 'C0DEPLOYS');
    expect(text).toMatch(/^:hourglass_flowing_sand: Queued `kd-queued00001`/);
    expect(text).toContain('position 2');
    expect(text).toContain('you will be told');
  });

  it('rollback: where traffic goes back to', () => {
    const release = toDeploymentView(inStage('rolling_back', { id: 'kd-rollback001' }));
    expect(replyFor('rollback', release, 'C0DEPLOYS')).toContain(`all traffic goes back to \`v1\` (${short(BLUE.id)})`);
    const rollbackDeployment = toDeploymentView(inStage('resolving', { kind: 'rollback', version: BLUE, previousVersion: GREEN }));
    expect(replyFor('rollback', rollbackDeployment, undefined)).toContain(`\`v1\` (${short(BLUE.id)})`);
  });

  it('approve, reject, cancel: the new stage in words', () => {
    for (const [command, stage] of [['approve', 'switching'], ['reject', 'rejected'], ['cancel', 'cancelled']] as const) {
      const text = replyFor(command, toDeploymentView(inStage(stage, { id: 'kd-acted000001' })), undefined);
      expect(text).toBe(`:ok_hand: \`kd-acted000001\` is now ${stage.replaceAll('_', ' ')}.`);
    }
  });

  it('status: each target with live version, active release, queue and lock', () => {
    const active = toDeploymentView(inStage('monitoring', { id: 'kd-active00001', reason: 'watching the live site' }));
    const queued = toDeploymentView(inStage('requested', { id: 'kd-queued00001', version: null, versionRef: 'v3' }));
    const lock: LockView = { service: 'kevinstamp', environment: 'staging', holder: 'slack:U0OPS', reason: 'launch', since: iso(), expiresAt: null };
    const text = replyFor(
      'status',
      {
        targets: [
          { service: 'kevinstamp', environment: 'production', protected: true, live: GREEN, active, queue: [queued], lock: null },
          { service: 'kevinstamp', environment: 'staging', protected: false, live: null, active: null, queue: [], lock },
        ],
      },
      undefined,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe(`*kevinstamp → production* (protected): live \`v2\` (${short(GREEN.id)})`);
    expect(lines[1]).toBe('  active `kd-active00001` monitoring — watching the live site');
    expect(lines[2]).toBe('  queue: `kd-queued00001` `v3`');
    expect(lines[3]).toBe('*kevinstamp → staging*: live unknown');
    expect(lines[4]).toBe('  :lock: frozen by <@U0OPS>: launch');
  });

  it('history: one line per deployment, or a clear "none"', () => {
    expect(replyFor('history', { deployments: [] }, undefined)).toBe('No releases yet.');
    const d = toDeploymentView(inStage('succeeded', { id: 'kd-history0001', createdAt: '2026-11-26T09:15:42.000Z', requestedBy: 'slack:U0ALICE' }));
    expect(replyFor('history', { deployments: [d] }, undefined)).toBe(
      `\`2026-11-26 09:15\` kevinstamp → production \`v2\` (${short(GREEN.id)}) *succeeded* · <@U0ALICE> · \`kd-history0001\``,
    );
  });

  it('lock and unlock', () => {
    const lock: LockView = { service: 'kevinstamp', environment: 'production', holder: 'ops', reason: 'launch day', since: iso(), expiresAt: null };
    expect(replyFor('lock', lock, undefined)).toBe(
      ':lock: kevinstamp → production is frozen: launch day. Deploys are refused until unlocked; rollbacks still work.',
    );
    expect(replyFor('unlock', { unlocked: lock }, undefined)).toBe(':unlock: kevinstamp → production is open again.');
  });

  it('help lists every chat command with its usage, the dialog and the buttons', async () => {
    const ctx = { actor: { name: 'x', roles: [], via: 'slack' } as Actor, releases: {} as ReleaseService };
    const text = replyFor('help', await COMMANDS.help.run(ctx, {}), undefined);
    for (const command of Object.values(COMMANDS)) {
      if (command.chatUsage) expect(text).toContain(`\`${command.chatUsage}\` — ${command.summary}`);
    }
    expect(text).toContain('`/deploy` — Pick service, environment and version in a dialog');
    expect(text).toMatch(/buttons/);
  });

  it('errors: a refusal in words, with Slack principals as mentions; anything else without details', () => {
    const refusal = new KevinDeployError(
      'FORBIDDEN',
      'slack:U0DAVE may not approve or reject releases of kevinstamp/staging; allowed: slack:U0BOB, slack-group:S0APPROVERS, admins (ops)',
    );
    expect(errorReply(refusal)).toBe(
      ':no_entry: <@U0DAVE> may not approve or reject releases of kevinstamp/staging; allowed: <@U0BOB>, <!subteam^S0APPROVERS>, admins (ops)',
    );
    const crash = new Error('TypeError: cannot read properties of undefined at /app/src/x.ts:12');
    const text = errorReply(crash);
    expect(text).toBe(':warning: kevin-deploy could not do that; the details are in its log.');
    expect(text).not.toContain('x.ts');
  });
});

describe('thread messages', () => {
  const d = inStage('awaiting_approval', { requestedBy: 'slack:U0ALICE' });
  const event = (action: string, details: Record<string, unknown> = {}, actor = 'kevin-deploy'): DeploymentEvent => ({
    deploymentId: d.id,
    at: iso(),
    actor,
    action,
    fromStage: null,
    toStage: null,
    details,
  });

  it('verified: every check, in plain text', () => {
    const m = threadMessage(event('verified', { checks: HEALTHY_CHECKS }), d)!;
    expect(m.text).toBe(':white_check_mark: Green passed every check, before any traffic.');
    expect(m.blocks[1]).toEqual({ type: 'context', elements: [{ type: 'plain_text', text: HEALTHY_CHECKS.map((c) => `✓ ${c.name}: ${c.detail}`).join('\n'), emoji: false }] });
  });

  it('approved and rejected name who did it; Slack actors as mentions', () => {
    expect(threadMessage(event('approved', {}, 'slack:U0CAROL'), d)!.blocks[0]).toMatchObject({ text: { type: 'mrkdwn', text: ':+1: Approved by <@U0CAROL>.' } });
    expect(threadMessage(event('approved', {}, 'bob'), d)!.blocks[0]).toMatchObject({ text: { text: ':+1: Approved by *bob*.' } });
    expect(threadMessage(event('rejected', { reason: 'not today' }, 'bob'), d)!.text).toBe(':no_entry_sign: Rejected by bob.');
  });

  it('an alert acknowledged in Slack or PagerDuty, and an incident resolved, say by whom in the thread', () => {
    expect(threadMessage(event('alert-acknowledged', { via: 'slack', incidentKey: 'kd-1/error-rate' }, 'slack:U0CAROL'), d)!.blocks[0]).toMatchObject({
      text: { text: ':eyes: Alert acknowledged by <@U0CAROL>.' },
    });
    expect(threadMessage(event('alert-acknowledged', { via: 'pagerduty' }, 'Jane Doe (PagerDuty)'), d)!.text).toBe(':eyes: Alert acknowledged by Jane Doe (PagerDuty).');
    expect(threadMessage(event('alert-resolved', { via: 'pagerduty' }, 'PagerDuty'), d)!.text).toBe(':white_check_mark: Incident resolved by PagerDuty.');
  });

  it('dequeued tells the requester', () => {
    expect(threadMessage(event('dequeued'), d)!.blocks[0]).toMatchObject({ text: { text: ':arrow_forward: <@U0ALICE> your queued release started.' } });
  });

  it('a clean monitoring sample and routine events say nothing; a failing sample says which check', () => {
    expect(threadMessage(event('monitor-sample', { checks: HEALTHY_CHECKS, sample: 3 }), d)).toBeUndefined();
    expect(threadMessage(event('staged'), d)).toBeUndefined();
    const failing = threadMessage(event('monitor-sample', { sample: 4, checks: [{ name: 'content /', ok: false, detail: '"KEVIN" missing' }] }), d)!;
    expect(failing.text).toBe(':warning: Sample 4 failed a check.');
    expect(JSON.stringify(failing.blocks)).toContain('✗ content /: \\"KEVIN\\" missing');
  });

  it('rollbacks say whether a person or kevin-deploy started them', () => {
    expect(threadMessage(event('rollback-started', { reason: '3 failures' }), d)!.text).toBe(':rewind: Rolling back automatically.');
    expect(threadMessage(event('rollback-requested', {}, 'slack:U0BOB'), d)!.blocks[0]).toMatchObject({ text: { text: ':rewind: Rolling back — requested by <@U0BOB>.' } });
  });
});
