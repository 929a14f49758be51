import { KevinDeployError } from '../src/errors.ts';
import { findRunningEdge, readEdgeInfo, type EdgeInfo } from './edge-info.ts';

/** The edge `npm start` runs in this data directory, or an error that says how to start one. */
export async function runningEdge(edgeInfoFile: string): Promise<EdgeInfo> {
  const edge = await findRunningEdge(edgeInfoFile);
  if (edge) return edge;
  const stale = (() => {
    try {
      return readEdgeInfo(edgeInfoFile);
    } catch {
      return undefined;
    }
  })();
  throw new KevinDeployError(
    'USAGE',
    stale ? `the sandbox edge (pid ${stale.pid}) is not answering; start it with \`npm start\`` : 'no sandbox is running here; start one with `npm start`',
  );
}
