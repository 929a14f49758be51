import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { KevinDeployError } from '../src/errors.ts';
import { startCloudflareStandIn, type CloudflareStandIn, type StandInStateSnapshot } from './cloudflare-stand-in.ts';
import { removeEdgeInfo, writeEdgeInfo, type EdgeInfo } from './edge-info.ts';
import { EdgeStateFile, type EdgeState } from './edge-state-file.ts';
import { readLegacyEdgeState } from './legacy-edge-state.ts';
import { SANDBOX_ACCOUNT_ID, SANDBOX_BLUE, SANDBOX_GREEN, SANDBOX_ROUTES, SANDBOX_SCRIPT, SANDBOX_ZONE, SANDBOX_ZONE_ID } from './sandbox-config.ts';
import type { SandboxPaths } from './sandbox-paths.ts';
import { startTrafficCollector, type TrafficCollector } from './traffic-collector.ts';

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
 * state in its own file (data/sandbox-edge-state.json) so its own restarts do not move traffic either.
 */
export async function runSandboxEdge(paths: SandboxPaths, logger: Logger): Promise<RunningEdge> {
  mkdirSync(paths.dataDir, { recursive: true });
  const stateFile = new EdgeStateFile(paths.edgeStateFile);
  const routes = paths.platform === 'routes';
  let standIn: CloudflareStandIn;
  let token: string;
  try {
    const saved = loadState(stateFile, paths, logger);
    token = saved?.apiToken ?? randomBytes(18).toString('base64url');
    standIn = await startCloudflareStandIn({
      apiToken: token,
      accountId: SANDBOX_ACCOUNT_ID,
      ...(routes ? routesLayout(paths) : { scripts: [SANDBOX_SCRIPT], trafficPorts: { [SANDBOX_SCRIPT]: paths.trafficPort } }),
      apiPort: paths.apiPort,
      ...(saved?.standIn !== undefined ? { state: saved.standIn as StandInStateSnapshot } : {}),
    });
  } catch (error) {
    throw explainStartFailure(error, paths);
  }

  // A fresh edge starts with KEVINSTAMP v1 live, as if it had been deployed by hand before
  // (with routes: on blue's Worker, which the zone's routes point at).
  const liveScript = routes ? SANDBOX_BLUE : SANDBOX_SCRIPT;
  if (standIn.versions(liveScript).length === 0) {
    const v1 = standIn.addVersion(liveScript, { tag: 'v1', message: 'KEVINSTAMP as it is today' });
    standIn.deploy(liveScript, { [v1.id]: 100 });
    logger.info({ version: v1.id, script: liveScript }, 'seeded v1 as the live version');
  }

  const save = () => stateFile.save({ apiToken: token, standIn: standIn.snapshot() }, new Date());
  standIn.onChange(() => {
    try {
      save();
    } catch (error) {
      logger.error({ err: error }, 'could not persist the sandbox edge state');
    }
  });
  try {
    save();
  } catch (error) {
    await standIn.close();
    throw explainStartFailure(error, paths);
  }

  // Production traffic: the one Worker's address, or with routes the zone apex (whichever Worker its route points at).
  const productionUrl = routes ? standIn.hostUrl(SANDBOX_ZONE) : standIn.trafficUrl(SANDBOX_SCRIPT);
  const collector = startTrafficCollector({ url: productionUrl, ratePerSecond: paths.trafficRate });
  standIn.attachTrafficStats(() => collector.stats());

  const info: EdgeInfo = {
    pid: process.pid,
    apiBaseUrl: standIn.apiBaseUrl,
    trafficUrl: productionUrl,
    previewUrlTemplate: standIn.previewUrlTemplate(routes ? SANDBOX_BLUE : SANDBOX_SCRIPT),
    accountId: SANDBOX_ACCOUNT_ID,
    apiToken: token,
    script: routes ? SANDBOX_BLUE : SANDBOX_SCRIPT,
    startedAt: new Date().toISOString(),
    ...(routes
      ? {
          platform: 'routes' as const,
          routes: {
            zoneId: SANDBOX_ZONE_ID,
            patterns: SANDBOX_ROUTES,
            scripts: [SANDBOX_BLUE, SANDBOX_GREEN],
            scriptUrls: Object.fromEntries([SANDBOX_BLUE, SANDBOX_GREEN].map((script) => [script, standIn.trafficUrl(script)])),
          },
        }
      : {}),
  };
  writeEdgeInfo(paths.edgeInfoFile, info);
  logger.info(
    { api: info.apiBaseUrl, traffic: info.trafficUrl, state: paths.edgeStateFile, trafficRps: paths.trafficRate },
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
        try {
          save();
        } catch {
          // the last change was saved when it was made
        }
        await standIn.close();
      })();
      return closing;
    },
  };
}

/**
 * KEVIN_DEPLOY_SANDBOX_PLATFORM=routes: blue and green as two Workers, each on its own port (its
 * "workers.dev"), and the zone kevinstamp.com whose routes point at blue; the zone apex answers
 * on the sandbox's traffic port, www on the next free one after the Workers'. A state saved in the
 * other mode keeps its scripts; the zone and the two Workers are added beside them.
 */
function routesLayout(paths: SandboxPaths) {
  return {
    scripts: [SANDBOX_SCRIPT, SANDBOX_BLUE, SANDBOX_GREEN],
    trafficPorts: { [SANDBOX_BLUE]: paths.trafficPort + 1, [SANDBOX_GREEN]: paths.trafficPort + 2 },
    hostPorts: { [SANDBOX_ZONE]: paths.trafficPort, [`www.${SANDBOX_ZONE}`]: paths.trafficPort + 3 },
    zones: [
      {
        id: SANDBOX_ZONE_ID,
        name: SANDBOX_ZONE,
        scripts: [SANDBOX_BLUE, SANDBOX_GREEN],
        routes: SANDBOX_ROUTES.map((pattern) => ({ pattern, script: SANDBOX_BLUE })),
      },
    ],
  };
}

function explainStartFailure(error: unknown, paths: SandboxPaths): Error {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new KevinDeployError(
      'USAGE',
      `a sandbox port is in use (Cloudflare API ${paths.apiPort}, traffic ${paths.trafficPort}${paths.platform === 'routes' ? ` to ${paths.trafficPort + 3}` : ''}); stop what uses it or set KEVIN_DEPLOY_SANDBOX_API_PORT / KEVIN_DEPLOY_SANDBOX_EDGE_PORT`,
    );
  }
  if (error instanceof KevinDeployError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KevinDeployError(
    'USAGE',
    `the sandbox edge state in ${paths.edgeStateFile} is unreadable (${message}); start over with \`kevin-deploy sandbox reset\``,
  );
}

/**
 * The state file; with none, the state an earlier kevin-deploy kept in the bot's database, once:
 * the edge saves it to its own file as soon as it serves, and the bot then drops that table.
 */
function loadState(stateFile: EdgeStateFile, paths: SandboxPaths, logger: Logger): Partial<EdgeState> | undefined {
  const saved = stateFile.load();
  if (saved) return saved;
  const databaseFile = paths.databaseUrl.slice('sqlite:'.length);
  let legacy: ReturnType<typeof readLegacyEdgeState>;
  try {
    legacy = readLegacyEdgeState(databaseFile);
  } catch (error) {
    if (error instanceof KevinDeployError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new KevinDeployError(
      'USAGE',
      `the sandbox edge state an earlier kevin-deploy kept in ${paths.databaseUrl} is unreadable (${message}); start over with \`kevin-deploy sandbox reset\``,
    );
  }
  if (!legacy) return undefined;
  logger.info({ from: paths.databaseUrl, to: paths.edgeStateFile }, 'moved the sandbox edge state from the bot database to its own file');
  return { standIn: legacy.standIn, ...(legacy.apiToken ? { apiToken: legacy.apiToken } : {}) };
}
