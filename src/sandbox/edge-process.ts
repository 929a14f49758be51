import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { KevinDeployError } from '../errors.ts';
import { startCloudflareStandIn, type CloudflareStandIn } from './cloudflare-stand-in.ts';
import { removeEdgeInfo, writeEdgeInfo, type EdgeInfo } from './edge-info.ts';
import { EdgeStateStore } from './edge-state-store.ts';
import { SANDBOX_ACCOUNT_ID, SANDBOX_SCRIPT } from './sandbox-config.ts';
import type { SandboxPaths } from './sandbox-paths.ts';
import { startTrafficCollector, type TrafficCollector } from './traffic-collector.ts';

const STATE = 'edge';
const CREDENTIALS = 'edge-credentials';

export interface RunningEdge {
  info: EdgeInfo;
  standIn: CloudflareStandIn;
  collector: TrafficCollector;
  close(): Promise<void>;
}

/**
 * `kevin-deploy sandbox edge`: the local stand-in for Cloudflare — its API, the router that
 * serves KEVINSTAMP traffic per version, and steady synthetic traffic through it. It runs as its
 * own process so the bot can restart (or be killed) without interrupting traffic, and it keeps its
 * state in the store so its own restarts do not move traffic either.
 */
export async function runSandboxEdge(paths: SandboxPaths, logger: Logger): Promise<RunningEdge> {
  mkdirSync(paths.dataDir, { recursive: true });
  const store = await EdgeStateStore.open(paths.databaseUrl);
  let standIn: CloudflareStandIn;
  let token: string;
  try {
    const saved = await store.load(STATE);
    const credentials = (await store.load(CREDENTIALS)) as { apiToken?: string } | undefined;
    token = credentials?.apiToken ?? randomBytes(18).toString('base64url');
    if (!credentials?.apiToken) await store.save(CREDENTIALS, { apiToken: token }, new Date());
    standIn = await startCloudflareStandIn({
      apiToken: token,
      accountId: SANDBOX_ACCOUNT_ID,
      scripts: [SANDBOX_SCRIPT],
      apiPort: paths.apiPort,
      trafficPorts: { [SANDBOX_SCRIPT]: paths.trafficPort },
      ...(saved ? { state: saved as never } : {}),
    });
  } catch (error) {
    await store.close();
    throw explainStartFailure(error, paths);
  }

  // A fresh edge starts with KEVINSTAMP v1 live, as if it had been deployed by hand before.
  if (standIn.versions(SANDBOX_SCRIPT).length === 0) {
    const v1 = standIn.addVersion(SANDBOX_SCRIPT, { tag: 'v1', message: 'KEVINSTAMP as it is today' });
    standIn.deploy(SANDBOX_SCRIPT, { [v1.id]: 100 });
    logger.info({ version: v1.id }, 'seeded v1 as the live version');
  }

  standIn.onChange(() => {
    store.save(STATE, standIn.snapshot(), new Date()).catch((error: unknown) => {
      logger.error({ err: error }, 'could not persist the sandbox edge state');
    });
  });
  await store.save(STATE, standIn.snapshot(), new Date());

  const collector = startTrafficCollector({ url: standIn.trafficUrl(SANDBOX_SCRIPT), ratePerSecond: paths.trafficRate });
  standIn.attachTrafficStats(() => collector.stats());

  const info: EdgeInfo = {
    pid: process.pid,
    apiBaseUrl: standIn.apiBaseUrl,
    trafficUrl: standIn.trafficUrl(SANDBOX_SCRIPT),
    previewUrlTemplate: standIn.previewUrlTemplate(SANDBOX_SCRIPT),
    accountId: SANDBOX_ACCOUNT_ID,
    apiToken: token,
    script: SANDBOX_SCRIPT,
    startedAt: new Date().toISOString(),
  };
  writeEdgeInfo(paths.edgeInfoFile, info);
  logger.info(
    { api: info.apiBaseUrl, traffic: info.trafficUrl, store: store.description, trafficRps: paths.trafficRate },
    'sandbox edge is serving',
  );

  let closing: Promise<void> | undefined;
  return {
    info,
    standIn,
    collector,
    close() {
      closing ??= (async () => {
        await collector.stop();
        removeEdgeInfo(paths.edgeInfoFile, process.pid);
        await store.save(STATE, standIn.snapshot(), new Date()).catch(() => undefined);
        await standIn.close();
        await store.close();
      })();
      return closing;
    },
  };
}

function explainStartFailure(error: unknown, paths: SandboxPaths): Error {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new KevinDeployError(
      'USAGE',
      `a sandbox port is in use (Cloudflare API ${paths.apiPort}, traffic ${paths.trafficPort}); stop what uses it or set KEVIN_DEPLOY_SANDBOX_API_PORT / KEVIN_DEPLOY_SANDBOX_EDGE_PORT`,
    );
  }
  if (error instanceof KevinDeployError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KevinDeployError(
    'USAGE',
    `the sandbox edge state in the store is unreadable (${message}); start over with \`kevin-deploy sandbox reset\``,
  );
}
