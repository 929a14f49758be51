import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { CloudflareStandIn } from '../../sandbox/cloudflare-stand-in.ts';
import { apiCaller } from './api-caller.ts';
import { TOKEN_ENV, TOKENS, testConfigYaml, type TestConfigOptions } from './bot-harness.ts';
import { startBotProcess, type BotProcess } from './bot-process.ts';
import { inSchema, newTestSchema, type TestSchema } from './postgres-schema.ts';
import { STAND_IN_SCRIPT, STAND_IN_TOKEN, startTestStandIn } from './stand-in-helpers.ts';
import { waitFor } from './wait-for.ts';

/**
 * Several real `kevin-deploy serve` processes on one Postgres schema, against one Cloudflare
 * stand-in — replicas as an operator runs them. Any live replica answers the API; the lease table
 * says which one is working on a deployment's step right now.
 */
export interface ReplicaSet {
  standIn: CloudflareStandIn;
  v1: string;
  /** Cloudflare's effective switches before any release (v1 made live): a release's are the ones after. */
  switchesAtStart: number;
  schema: TestSchema;
  replicas: BotProcess[];
  /** The replicas still running and not frozen. */
  live(): BotProcess[];
  /** SIGSTOPs a replica (as if cut off: it answers nothing, renews nothing) until thaw. */
  freeze(replica: BotProcess): void;
  thaw(replica: BotProcess): void;
  /** The stage the database holds for a deployment, read past the replicas. */
  storedStage(id: string): Promise<Stage | undefined>;
  /** The replica whose instance name holds the deployment's lease now, if any does. */
  leaseHolder(id: string): Promise<BotProcess | undefined>;
  api<T = any>(via: BotProcess, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  deploy(via: BotProcess, version: string, extra?: Record<string, unknown>): Promise<{ status: number; body: DeploymentView }>;
  approve(via: BotProcess, id: string): Promise<DeploymentView>;
  /** The deployment as any live replica shows it. */
  show(id: string): Promise<DeploymentView>;
  waitForStage(id: string, stages: Stage | Stage[], timeoutMs?: number): Promise<DeploymentView>;
  upload(tag: string): string;
  /** Every replica's output, for failure messages. */
  tail(lines?: number): string;
  close(): Promise<void>;
}

export const instanceOf = (replica: BotProcess) => `test-instance-${replica.port}`;

export async function startReplicas(
  count: number,
  options: Partial<TestConfigOptions> & { leaseTtl?: string; env?: Record<string, string> } = {},
): Promise<ReplicaSet> {
  const standIn = await startTestStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'kevin-deploy-replicas-'));
  const schema = newTestSchema('kd_replicas');
  const v1 = standIn.addVersion(STAND_IN_SCRIPT, { tag: 'v1', message: 'first' }).id;
  standIn.deploy(STAND_IN_SCRIPT, { [v1]: 100 });
  const configPath = join(dir, 'kevin-deploy.yml');
  const { leaseTtl, env: extraEnv, ...configOptions } = options;
  writeFileSync(
    configPath,
    testConfigYaml({ productionUrl: standIn.trafficUrl(STAND_IN_SCRIPT), extraTopYaml: `server: { leaseTtl: ${leaseTtl ?? '2s'} }`, ...configOptions }),
  );
  const env = { ...TOKEN_ENV, DATABASE_URL: schema.url, CLOUDFLARE_API_TOKEN: STAND_IN_TOKEN, CLOUDFLARE_BASE_URL: standIn.apiBaseUrl, ...extraEnv };
  const replicas: BotProcess[] = [];
  const alive = (r: BotProcess) => r.child.exitCode === null && r.child.signalCode === null;
  const frozen = new Set<BotProcess>();
  const callers = new Map<BotProcess, ReturnType<typeof apiCaller>>();
  const callerOf = (r: BotProcess) => callers.get(r) ?? callers.set(r, apiCaller(() => r.url, TOKENS.ops)).get(r)!;
  const tail = (lines = 20) => replicas.map((r) => `— ${instanceOf(r)} —\n${r.output.slice(-lines).join('\n')}`).join('\n');
  try {
    // One after the other: the first migrates, the others find the schema up to date.
    for (let i = 0; i < count; i++) replicas.push(await startBotProcess({ args: ['serve', '--config', configPath], env, readyTimeoutMs: 60_000 }));
  } catch (error) {
    for (const r of replicas) await r.stop('SIGKILL');
    await standIn.close();
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const set: ReplicaSet = {
    standIn,
    v1,
    switchesAtStart: standIn.effectiveSwitches(STAND_IN_SCRIPT).length,
    schema,
    replicas,
    live: () => replicas.filter((r) => alive(r) && !frozen.has(r)),
    freeze(replica) {
      frozen.add(replica);
      replica.child.kill('SIGSTOP');
    },
    thaw(replica) {
      frozen.delete(replica);
      replica.child.kill('SIGCONT');
    },
    storedStage: (id) =>
      inSchema(schema, async (client) => (await client.query<{ stage: Stage }>('SELECT stage FROM deployments WHERE id = $1', [id])).rows[0]?.stage),
    async leaseHolder(id) {
      const owner = await inSchema(schema, async (client) => {
        const rows = await client.query<{ owner: string }>('SELECT owner FROM deployment_leases WHERE deployment_id = $1', [id]);
        return rows.rows[0]?.owner;
      });
      return replicas.find((r) => instanceOf(r) === owner && alive(r));
    },
    api: (via, method, path, body, token) => callerOf(via)(method, path, body, token),
    deploy: (via, version, extra = {}) =>
      callerOf(via)<DeploymentView>('POST', '/api/v1/deployments', { service: 'kevinstamp', environment: 'production', version, ...extra }, TOKENS.alice),
    async approve(via, id) {
      const approved = await callerOf(via)<DeploymentView>('POST', `/api/v1/deployments/${id}/approve`, {}, TOKENS.bob);
      if (approved.status !== 200) throw new Error(`approve ${id} via ${instanceOf(via)} answered ${approved.status}: ${JSON.stringify(approved.body)}`);
      return approved.body;
    },
    async show(id) {
      const via = set.live()[0];
      if (!via) throw new Error('no replica is running');
      const shown = await callerOf(via)<DeploymentView>('GET', `/api/v1/deployments/${id}`);
      if (shown.status !== 200) throw new Error(`GET ${id} answered ${shown.status}: ${JSON.stringify(shown.body)}`);
      return shown.body;
    },
    async waitForStage(id, stages, timeoutMs = 60_000) {
      const wanted = Array.isArray(stages) ? stages : [stages];
      let last: DeploymentView | undefined;
      await waitFor(
        async () => {
          last = await set.show(id).catch(() => last);
          return last !== undefined && wanted.includes(last.stage);
        },
        { timeoutMs, intervalMs: 50, describe: () => `${id} to reach ${wanted.join('|')}; it is ${last?.stage}: ${last?.reason}\n${tail()}` },
      );
      return last!;
    },
    upload: (tag) => standIn.addVersion(STAND_IN_SCRIPT, { tag, message: `release ${tag}` }).id,
    tail,
    async close() {
      for (const r of frozen) set.thaw(r);
      for (const r of replicas) await r.stop('SIGTERM').catch(() => undefined);
      await standIn.close();
      await schema.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return set;
}
