import { findRunningEdge, type EdgeInfo } from './edge-info.ts';
import { SandboxEdgeClient } from './sandbox-edge-client.ts';
import { sandboxPaths } from './sandbox-paths.ts';

type Counts = { sent: number; failed: number; byVersion: Record<string, { ok: number; failed: number }> };

/**
 * For `--follow` against a local sandbox: the traffic the edge has measured since the last call
 * (requests, failures, who answered), so the live view shows real figures moving with the split.
 * Undefined when no sandbox edge runs here.
 */
export async function sandboxTrafficProbe(env: NodeJS.ProcessEnv, cwd: string): Promise<(() => Promise<string | undefined>) | undefined> {
  let edge: EdgeInfo | undefined;
  try {
    edge = await findRunningEdge(sandboxPaths(env, cwd).edgeInfoFile);
  } catch {
    return undefined;
  }
  if (!edge) return undefined;
  const client = new SandboxEdgeClient(edge);
  let previous: Counts | undefined;
  return async () => {
    const now = (await client.trafficStats()) as Counts | undefined;
    if (!now) return undefined;
    const before = previous;
    previous = now;
    if (!before) return `${now.sent} requests so far, ${now.failed} failed`;
    const answered = Object.entries(now.byVersion)
      .map(([id, c]) => [id, c.ok + c.failed - ((before.byVersion[id]?.ok ?? 0) + (before.byVersion[id]?.failed ?? 0))] as const)
      .filter(([, n]) => n > 0)
      .map(([id, n]) => `${id === 'none' ? 'no version' : id.slice(0, 8)} ${n}`)
      .join(', ');
    return `${now.sent - before.sent} requests since the last line, ${now.failed - before.failed} failed${answered ? ` — answered by ${answered}` : ''}`;
  };
}
