import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { StoredAlert } from '../../src/ports/alert-outbox.ts';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord-fake.ts';
import { startFakeMailChannels, type FakeMailChannels } from '../fakes/mailchannels-fake.ts';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty-fake.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-web-api.ts';
import { createSandbox, type RunResult, type SandboxRun } from '../support/sandbox-process.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The "done when", end to end: the real `kevin-deploy serve --sandbox` process, with every
 * alert channel configured only through the environment and pointed at loopback fakes —
 * PagerDuty over HTTPS (its generated CA trusted through NODE_EXTRA_CA_CERTS, as an operator
 * behind a TLS-inspecting proxy would), MailChannels, Discord (a webhook URL) and Slack. A good
 * release, then one that breaks under traffic and is rolled back automatically: PagerDuty is
 * paged once and resolved once with the same dedup key, the team is mailed, the Slack alert is
 * posted and marked resolved in place, and the community gets one calm Discord message that is
 * edited when the incident is over. Nothing here asserts how long anything took.
 */

const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';
const MAILCHANNELS_KEY = 'mc-e2e-key';
const WEBHOOK = { id: '112233445566778899', token: 'e2e-Webhook_Token-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS', channelId: '998877665544332211' };
const SLACK_CHANNEL = 'C0DEPLOYS';

const TERMINAL = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

describe('alerts from a real sandbox release', { timeout: 240_000 }, () => {
  let s: SandboxRun;
  let pd: FakePagerDuty;
  let mail: FakeMailChannels;
  let discord: FakeDiscord;
  let slack: FakeSlack;

  beforeAll(async () => {
    pd = await startFakePagerDuty({ routingKeys: [ROUTING_KEY] });
    mail = await startFakeMailChannels({ apiKey: MAILCHANNELS_KEY });
    discord = await startFakeDiscord({ webhooks: [WEBHOOK], channels: [{ id: WEBHOOK.channelId }] });
    slack = await startFakeSlack({ botToken: 'xoxb-e2e' });
    s = await createSandbox();
    const caFile = join(s.root, 'pagerduty-fake-ca.pem');
    writeFileSync(caFile, pd.ca);
    Object.assign(s.env, {
      SLACK_BOT_TOKEN: 'xoxb-e2e',
      SLACK_SIGNING_SECRET: 'e2e-signing-secret',
      SLACK_API_URL: slack.apiUrl,
      KEVIN_DEPLOY_SLACK_CHANNEL: SLACK_CHANNEL,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_HOST: pd.host,
      NODE_EXTRA_CA_CERTS: caFile,
      MAILCHANNELS_API_KEY: MAILCHANNELS_KEY,
      MAILCHANNELS_API_URL: mail.apiUrl,
      DISCORD_WEBHOOK_URL: `https://discord.com/api/webhooks/${WEBHOOK.id}/${WEBHOOK.token}`,
      DISCORD_API_URL: discord.api,
    });
    await s.start(['serve', '--sandbox']);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    await Promise.all([pd?.close(), mail?.close(), discord?.close(), slack?.close()]);
  });

  async function run(args: string[]): Promise<RunResult> {
    const r = await s.run(args);
    expect(r.code, `kevin-deploy ${args.join(' ')}\n${r.stdout}\n${r.stderr}\nbot:\n${s.tail(20)}`).toBe(0);
    return r;
  }

  async function stageOf(id: string): Promise<DeploymentView | undefined> {
    try {
      const r = await s.api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
      return r.status === 200 ? r.body : undefined;
    } catch {
      return undefined;
    }
  }

  async function release(tag: string, behavior: string | undefined, expected: string): Promise<DeploymentView> {
    await run(['sandbox', 'upload', '--tag', tag, ...(behavior ? ['--behavior', behavior] : [])]);
    const deployed = JSON.parse((await run(['deploy', 'kevinstamp', tag, '--env', 'production', '--json'])).stdout) as DeploymentView;
    let last: DeploymentView | undefined;
    await waitFor(async () => (last = await stageOf(deployed.id))?.stage === 'awaiting_approval', { timeoutMs: 60_000, describe: () => `awaiting_approval; is ${last?.stage}: ${last?.reason}` });
    await run(['approve', deployed.id]);
    await waitFor(
      async () => {
        last = await stageOf(deployed.id);
        if (last && TERMINAL.includes(last.stage) && last.stage !== expected) throw new Error(`${deployed.id} ended ${last.stage}: ${last.reason}`);
        return last?.stage === expected;
      },
      { timeoutMs: 90_000, describe: () => `${expected}; is ${last?.stage}: ${last?.reason}\n${s.tail(20)}` },
    );
    return last!;
  }

  async function alerts(deploymentId: string): Promise<StoredAlert[]> {
    const r = await run(['alerts', '--deployment', deploymentId, '--json']);
    return (JSON.parse(r.stdout) as { alerts: StoredAlert[] }).alerts;
  }

  it('a good release tells the community once; a rollback pages once, resolves once, mails, updates Slack and edits one Discord message', async () => {
    const good = await release('v2', undefined, 'succeeded');
    await waitFor(() => discord.messages(WEBHOOK.channelId).length === 1, { timeoutMs: 30_000, describe: () => `the release announcement; messages: ${JSON.stringify(discord.messages())}\n${s.tail(30)}` });
    // A production switch is a PagerDuty change event (a deploy marker), never a page.
    expect(pd.changeEvents().length).toBeGreaterThanOrEqual(1);
    expect(pd.events()).toHaveLength(0);
    expect((await alerts(good.id)).map((a) => a.kind).sort()).toEqual(['community-released', 'deploy-marker', 'release-started', 'release-succeeded']);

    const bad = await release('v3', 'fails-after-traffic', 'rolled_back');
    expect(bad.reason).toMatch(/trigger/);

    // PagerDuty: one trigger, later one resolve, the same dedup key; the incident ends resolved.
    await waitFor(() => pd.events().some((e) => e.action === 'resolve'), { timeoutMs: 30_000, describe: () => `a resolve; events: ${JSON.stringify(pd.events().map((e) => [e.action, e.dedupKey]))}` });
    const events = pd.events();
    const triggers = events.filter((e) => e.action === 'trigger');
    const resolves = events.filter((e) => e.action === 'resolve');
    expect(triggers).toHaveLength(1);
    expect(resolves).toHaveLength(1);
    expect(resolves[0]!.dedupKey).toBe(triggers[0]!.dedupKey);
    expect(triggers[0]!.dedupKey).toContain(bad.id);
    expect((triggers[0]!.body.payload as { severity: string }).severity).toBe('error');
    expect(pd.incident(triggers[0]!.dedupKey)).toMatchObject({ status: 'resolved', triggers: 1, resolves: 1 });

    // Email: the critical alert and its resolution, to the target's recipients.
    await waitFor(() => mail.messages().length >= 2, { timeoutMs: 30_000, describe: () => `two emails; got ${JSON.stringify(mail.messages().map((m) => m.subject))}` });
    const subjects = mail.messages().map((m) => m.subject);
    expect(subjects.filter((subject) => subject.startsWith('[CRITICAL]'))).toHaveLength(1);
    expect(mail.messages().every((m) => m.to.some((to) => to.email === 'ops@sandbox.kevinstamp.invalid'))).toBe(true);

    // Slack: the alert was posted in the alerts channel and, once resolved, edited in place (no Acknowledge left).
    const alertMessages = slack.messages(SLACK_CHANNEL).filter((m) => (m.metadata as { event_type?: string } | undefined)?.event_type === 'kevin_deploy_alert');
    expect(alertMessages).toHaveLength(1);
    await waitFor(() => JSON.stringify(slack.messages(SLACK_CHANNEL).find((m) => m.ts === alertMessages[0]!.ts)?.blocks).includes('RESOLVED'), {
      timeoutMs: 30_000,
      describe: () => `the Slack alert marked resolved: ${JSON.stringify(slack.messages(SLACK_CHANNEL).find((m) => m.ts === alertMessages[0]!.ts)?.blocks)}`,
    });
    expect(JSON.stringify(slack.messages(SLACK_CHANNEL).find((m) => m.ts === alertMessages[0]!.ts)?.blocks)).not.toContain('kd_alert_ack');

    // Discord: exactly one incident message for the community, edited on resolution, with no internals.
    await waitFor(() => discord.messages(WEBHOOK.channelId).some((m) => m.edits > 0), { timeoutMs: 30_000, describe: () => `an edited incident message: ${JSON.stringify(discord.messages())}` });
    const community = discord.messages(WEBHOOK.channelId);
    expect(community).toHaveLength(2);
    const incident = community.find((m) => m.edits > 0)!;
    expect(incident.edits).toBe(1);
    const everything = JSON.stringify(community.map((m) => [m.content, m.embeds, m.history]));
    for (const secret of [bad.version!.id, bad.version!.id.slice(0, 8), 'v3', 'v2', '127.0.0.1', 'fails-after-traffic', 'error rate', bad.requestedBy]) {
      expect(everything, `community text must not contain ${secret}`).not.toContain(secret);
    }
    expect(community.every((m) => JSON.stringify(m.allowedMentions) === JSON.stringify({ parse: [] }))).toBe(true);

    // Everything is recorded: every delivery of the rollback's alerts ended, none is left pending or failed.
    const recorded = await alerts(bad.id);
    const deliveries = recorded.flatMap((a) => a.deliveries.map((d) => `${a.kind}:${d.channel}:${d.status}`));
    expect(deliveries).toEqual(expect.arrayContaining(['rolled-back:pagerduty:delivered', 'rolled-back:email:delivered', 'rolled-back:slack:delivered', 'community-incident:discord:delivered', 'resolved:pagerduty:delivered', 'community-resolved:discord:delivered']));
    expect(deliveries.filter((d) => d.endsWith(':pending') || d.endsWith(':failed'))).toEqual([]);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/kevin_deploy_alert_deliveries\{channel="pagerduty",status="delivered"\} [1-9]/);
  });

  it('PagerDuty down through a rollback and a SIGKILL: once it is back, the page and its resolution arrive once each, in order, with the original time', async () => {
    pd.setDown(503);
    const before = pd.events().length;
    const bad = await release('v4', 'fails-after-traffic', 'rolled_back');
    // The rollback did not wait for PagerDuty; its alerts wait in the outbox.
    await waitFor(async () => (await alerts(bad.id)).some((a) => a.kind === 'resolved'), { timeoutMs: 30_000, describe: () => 'the resolution in the outbox' });
    const pending = (await alerts(bad.id)).filter((a) => a.deliveries.some((d) => d.channel === 'pagerduty' && d.status === 'pending'));
    // The switch's and the rollback's deploy markers wait too, ahead of the page, in order.
    expect(pending.map((a) => a.kind).sort()).toEqual(['deploy-marker', 'deploy-marker', 'resolved', 'rolled-back']);
    const markersBefore = pd.changeEvents().length;
    const raisedAt = pending.find((a) => a.kind === 'rolled-back')!.createdAt;

    const killed = await s.stopBot('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    pd.setUp();
    await s.start(['serve', '--sandbox']);

    await waitFor(() => pd.events().slice(before).some((e) => e.action === 'resolve'), {
      timeoutMs: 60_000,
      describe: () => `the resolve after the restart; events: ${JSON.stringify(pd.events().slice(before).map((e) => [e.action, e.dedupKey]))}\n${s.tail(20)}`,
    });
    const after = pd.events().slice(before).filter((e) => !e.dropped);
    expect(after.map((e) => e.action)).toEqual(['trigger', 'resolve']);
    expect(after[0]!.dedupKey).toBe(after[1]!.dedupKey);
    expect((after[0]!.body.payload as { timestamp?: string }).timestamp).toBe(raisedAt);
    expect(pd.incident(after[0]!.dedupKey)).toMatchObject({ status: 'resolved', triggers: 1, resolves: 1 });
    expect(pd.changeEvents().length - markersBefore).toBe(2);
  });
});
