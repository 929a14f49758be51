import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakePagerDuty } from '../fakes/pagerduty-fake.ts';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { BotProcess } from '../support/bot-process.ts';
import { expectCompleteAuditTrail, HAPPY_PATH, ROLLED_BACK_PATH } from '../support/e2e-fixtures.ts';
import { instanceOf, startReplicas, type ReplicaSet } from '../support/replica-fixtures.ts';
import { STAND_IN_SCRIPT as SCRIPT } from '../support/stand-in-helpers.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Two real `kevin-deploy serve` replicas on one Postgres. The replica working on a release's step
 * (the one whose name is in the lease table while the step is in flight) is SIGKILLed in each
 * stage; the other takes the release over once the lease (2 s here) has expired and ends it where
 * a release without a crash would have ended: each switch on Cloudflare exactly once, one
 * approval, a complete audit trail.
 *
 * A step is held in flight by a slow Cloudflare (the stand-in delays the deployment POST), so the
 * lease holder can be read from the database and killed while it waits for the answer.
 */

const TERMINAL: Stage[] = ['succeeded', 'rolled_back', 'failed', 'rejected', 'expired', 'cancelled', 'needs_attention'];

const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';

let set: ReplicaSet | undefined;
const closeAfter: Array<() => Promise<void>> = [];
afterEach(async () => {
  await set?.close();
  set = undefined;
  while (closeAfter.length > 0) await closeAfter.pop()!();
});

function postsToDeployments(s: ReplicaSet): number {
  return s.standIn.apiRequests().filter((r) => r.method === 'POST' && r.path.endsWith('/deployments')).length;
}

/**
 * Holds the next deployment POST for 2.5 s, waits until it has reached Cloudflare, and SIGKILLs
 * the replica whose step sent it; checks the database held the release in `stage` at that moment.
 *
 * The other replicas are frozen (SIGSTOP) from just before the kill until the held request has
 * been applied, so what the test sees is the takeover, in a certain order: the dead replica's last
 * request lands, then a survivor takes over. (Were a survivor to act first, the late request would
 * move traffic behind its back — the survivor's read-back after its own switch notices and repairs
 * that, but the count of switches would no longer be exact.)
 */
async function killTheStepHolder(s: ReplicaSet, stage: Stage, start: () => Promise<string>): Promise<BotProcess> {
  const before = postsToDeployments(s);
  s.standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'latency', latencyMs: 2_500, times: 1 });
  const id = await start();
  await waitFor(() => postsToDeployments(s) > before, { timeoutMs: 30_000, describe: () => `a deployment POST for ${id}\n${s.tail()}` });
  let holder: BotProcess | undefined;
  await waitFor(async () => (holder = await s.leaseHolder(id)) !== undefined, { timeoutMs: 5_000, describe: () => `the lease holder of ${id}` });
  const others = s.live().filter((r) => r !== holder);
  for (const r of others) s.freeze(r);
  try {
    holder!.child.kill('SIGKILL');
    await holder!.exited();
    expect(await s.storedStage(id), 'the stage the kill hit').toBe(stage);
    const answered = () => (s.standIn.apiRequests().filter((r) => r.method === 'POST' && r.path.endsWith('/deployments'))[before]?.status ?? 0) !== 0;
    await waitFor(answered, { timeoutMs: 10_000, describe: () => 'the held deployment POST to be applied' });
  } finally {
    for (const r of others) s.thaw(r);
  }
  return holder!;
}

async function finish(s: ReplicaSet, id: string): Promise<DeploymentView> {
  let view = await s.waitForStage(id, ['awaiting_approval', ...TERMINAL], 90_000);
  if (view.stage === 'awaiting_approval') {
    await s.approve(s.live()[0]!, id);
    view = await s.waitForStage(id, TERMINAL, 90_000);
  }
  return view;
}

function expectSwitchedExactly(s: ReplicaSet, green: string, outcome: 'succeeded' | 'rolled_back', view: DeploymentView): void {
  const toBlue = { [s.v1]: 100, [green]: 0 };
  const toGreen = { [green]: 100, [s.v1]: 0 };
  const intended = outcome === 'succeeded' ? [toBlue, toGreen] : [toBlue, toGreen, toBlue];
  expect(view.stage, view.reason).toBe(outcome);
  expect(s.standIn.effectiveSwitches(SCRIPT).slice(s.switchesAtStart)).toEqual(intended);
  expect(s.standIn.activeSplit(SCRIPT)).toEqual(intended.at(-1));
  expect(view.split).toEqual(intended.at(-1));
}

async function expectOneOfEachStep(s: ReplicaSet, id: string, outcome: 'succeeded' | 'rolled_back'): Promise<void> {
  const shown = await s.show(id);
  expectCompleteAuditTrail(shown, outcome === 'succeeded' ? HAPPY_PATH : ROLLED_BACK_PATH);
  expect(shown.approvals.map((a) => a.actor)).toEqual(['bob']);
  expect(shown.events!.filter((e) => e.action === 'approved')).toHaveLength(1);
}

describe('replicas on Postgres: the replica working on a release is SIGKILLed, another finishes it', { timeout: 180_000 }, () => {
  it('killed in staging (its deployment POST in flight): the survivor stages once, and the release succeeds', async () => {
    set = await startReplicas(2);
    const s = set;
    const green = s.upload('v2');
    let id = '';
    const killed = await killTheStepHolder(s, 'staging', async () => {
      const created = await s.deploy(s.replicas[0]!, 'v2');
      expect(created.status).toBe(201);
      id = created.body.id;
      return id;
    });
    expect(s.live().map(instanceOf)).not.toContain(instanceOf(killed));
    const view = await finish(s, id);
    expectSwitchedExactly(s, green, 'succeeded', view);
    await expectOneOfEachStep(s, id, 'succeeded');
  });

  it('killed while awaiting approval: approved through the other replica, which switches', async () => {
    set = await startReplicas(2);
    const s = set;
    const green = s.upload('v2');
    const [a, b] = s.replicas as [BotProcess, BotProcess];
    const id = (await s.deploy(a, 'v2')).body.id;
    await s.waitForStage(id, 'awaiting_approval');
    a.child.kill('SIGKILL');
    await a.exited();
    expect(await s.storedStage(id)).toBe('awaiting_approval');
    await s.approve(b, id);
    const view = await s.waitForStage(id, TERMINAL, 90_000);
    expectSwitchedExactly(s, green, 'succeeded', view);
    await expectOneOfEachStep(s, id, 'succeeded');
  });

  it('killed in switching (the switch POST in flight): switched exactly once, then monitored to success', async () => {
    set = await startReplicas(2);
    const s = set;
    const green = s.upload('v2');
    const id = (await s.deploy(s.replicas[0]!, 'v2')).body.id;
    await s.waitForStage(id, 'awaiting_approval');
    await killTheStepHolder(s, 'switching', async () => (await s.approve(s.replicas[1]!, id)).id);
    const view = await finish(s, id);
    expectSwitchedExactly(s, green, 'succeeded', view);
    await expectOneOfEachStep(s, id, 'succeeded');
  });

  it('killed in monitoring: the window goes on being watched by the other replica and passes', async () => {
    set = await startReplicas(2, { monitorWindow: '4s' });
    const s = set;
    const green = s.upload('v2');
    const id = (await s.deploy(s.replicas[0]!, 'v2')).body.id;
    await s.waitForStage(id, 'awaiting_approval');
    await s.approve(s.replicas[0]!, id);
    await s.waitForStage(id, 'monitoring');
    // Between samples nobody holds the lease; whoever took the last one, or the first replica.
    const victim = (await s.leaseHolder(id)) ?? s.replicas[0]!;
    victim.child.kill('SIGKILL');
    await victim.exited();
    expect(await s.storedStage(id)).toBe('monitoring');
    const view = await s.waitForStage(id, TERMINAL, 90_000);
    expectSwitchedExactly(s, green, 'succeeded', view);
    await expectOneOfEachStep(s, id, 'succeeded');
  });

  it('killed while rolling back (the switch back in flight): rolled back exactly once, paged once and resolved once', async () => {
    const pd = await startFakePagerDuty({ routingKeys: [ROUTING_KEY] });
    closeAfter.push(() => pd.close());
    const caDir = mkdtempSync(join(tmpdir(), 'kevin-deploy-pd-ca-'));
    closeAfter.push(async () => rmSync(caDir, { recursive: true, force: true }));
    const caFile = join(caDir, 'ca.pem');
    writeFileSync(caFile, pd.ca);
    set = await startReplicas(2, {
      monitorWindow: '20s',
      env: { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, PAGERDUTY_EVENTS_HOST: pd.host, NODE_EXTRA_CA_CERTS: caFile },
    });
    const s = set;
    const green = s.standIn.addVersion(SCRIPT, { tag: 'v2', message: 'release v2', behavior: { afterTraffic: { health: 'unhealthy' } } }).id;
    const id = (await s.deploy(s.replicas[0]!, 'v2')).body.id;
    await s.waitForStage(id, 'awaiting_approval');
    await s.approve(s.replicas[0]!, id);
    await s.waitForStage(id, 'monitoring');
    // The next deployment POST is the switch back, sent once three health samples have failed.
    await killTheStepHolder(s, 'rolling_back', async () => id);
    const view = await s.waitForStage(id, TERMINAL, 90_000);
    expectSwitchedExactly(s, green, 'rolled_back', view);
    await expectOneOfEachStep(s, id, 'rolled_back');
    // The page went out once and was resolved once, whichever replica delivered each. When the
    // killed replica was sending the page at that moment, its delivery lease (60 s) has to run
    // out before the other sends it — and the resolution waits behind it, in order.
    await waitFor(() => pd.events().some((e) => e.action === 'resolve'), { timeoutMs: 90_000, describe: () => JSON.stringify(pd.events().map((e) => [e.action, e.dedupKey])) });
    // One incident, opened and resolved. (A replica killed between PagerDuty's answer and recording
    // it means the survivor sends the same event again: PagerDuty folds it into the same incident
    // by its dedup_key, which is what the key is for.)
    const triggers = pd.events().filter((e) => e.action === 'trigger');
    expect(new Set(triggers.map((e) => e.dedupKey)).size).toBe(1);
    expect(pd.incidents()).toHaveLength(1);
    expect(pd.incident(triggers[0]!.dedupKey)).toMatchObject({ status: 'resolved' });
  });
});

describe('replicas on Postgres: a replica cut off mid-step is fenced', { timeout: 120_000 }, () => {
  it('frozen past its lease while switching (as if its network were cut): another finishes the release; back, it commits nothing', async () => {
    set = await startReplicas(2);
    const s = set;
    const green = s.upload('v2');
    const id = (await s.deploy(s.replicas[0]!, 'v2')).body.id;
    await s.waitForStage(id, 'awaiting_approval');
    const before = postsToDeployments(s);
    // The switch is held 1.5 s at Cloudflare (less than the 2 s lease, so it has landed before anyone could take over).
    s.standIn.injectFault({ method: 'POST', path: '/deployments', kind: 'latency', latencyMs: 1_500, times: 1 });
    await s.approve(s.replicas[0]!, id);
    await waitFor(() => postsToDeployments(s) > before, { timeoutMs: 30_000, describe: () => `the switch POST\n${s.tail()}` });
    let holder: BotProcess | undefined;
    await waitFor(async () => (holder = await s.leaseHolder(id)) !== undefined, { timeoutMs: 5_000, describe: () => 'the switch holder' });
    s.freeze(holder!);
    try {
      // The other replica takes over once the frozen one's lease has run out, and finishes.
      const view = await s.waitForStage(id, TERMINAL, 60_000);
      expectSwitchedExactly(s, green, 'succeeded', view);
    } finally {
      s.thaw(holder!);
    }
    // Back, the frozen replica learns its answer and would record the switch: the fence stops it.
    await waitFor(() => holder!.output.some((line) => line.includes('lost the lease')), { timeoutMs: 15_000, describe: () => `the thawed replica to report its lost lease\n${s.tail()}` });
    await expectOneOfEachStep(s, id, 'succeeded');
    const shown = await s.show(id);
    expect(shown.events!.filter((e) => e.to === 'monitoring' && e.from === 'switching')).toHaveLength(1);
    const metrics = await fetch(`${holder!.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^kevin_deploy_lease_losses_total 1$/m);
  });
});

describe('replicas on Postgres: one target, many requests', { timeout: 120_000 }, () => {
  it('100 concurrent deploy requests spread over two replicas start exactly one release; the rest are refused naming it', async () => {
    set = await startReplicas(2);
    const s = set;
    s.upload('v2');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => s.deploy(s.replicas[i % 2]!, 'v2')));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map((a) => a.status)).toEqual(Array.from({ length: 99 }, () => 409));
    const active = created[0]!.body.id;
    for (const answer of refused) expect(JSON.stringify(answer.body)).toContain(active);
    const listed = await s.api<DeploymentView[]>(s.replicas[1]!, 'GET', '/api/v1/deployments');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body).match(/"kind":"release"/g)).toHaveLength(1);
  });
});
