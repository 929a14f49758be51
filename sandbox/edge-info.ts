import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { isProcessAlive } from '../src/cli/sandbox-token-record.ts';
import { KevinDeployError } from '../src/errors.ts';

/** What a running sandbox edge tells the bot and the CLI about itself (data/sandbox-edge.json). */
export const edgeInfoSchema = z.object({
  pid: z.number().int(),
  apiBaseUrl: z.string(),
  trafficUrl: z.string(),
  previewUrlTemplate: z.string(),
  accountId: z.string(),
  apiToken: z.string(),
  /** The Worker uploads go to; with `routes`, the one users reach now (see `scripts`). */
  script: z.string(),
  startedAt: z.string(),
  /** `routes`: blue and green as two Workers behind the zone's routes; absent means one Worker. */
  platform: z.enum(['workers', 'routes']).optional(),
  /** `routes`: the zone, its routes, and each Worker's own address (its "workers.dev"). */
  routes: z
    .object({
      zoneId: z.string(),
      patterns: z.array(z.string()),
      scripts: z.array(z.string()),
      scriptUrls: z.record(z.string(), z.string()),
    })
    .optional(),
});

export type EdgeInfo = z.infer<typeof edgeInfoSchema>;

export function writeEdgeInfo(file: string, info: EdgeInfo): void {
  // The token only opens the local stand-in; still, keep it to the owner.
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export function readEdgeInfo(file: string): EdgeInfo | undefined {
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new KevinDeployError('USAGE', `${file} is corrupt (not JSON); stop the sandbox and run \`kevin-deploy sandbox reset\``);
  }
  const parsed = edgeInfoSchema.safeParse(json);
  if (!parsed.success) throw new KevinDeployError('USAGE', `${file} is not a sandbox edge description; run \`kevin-deploy sandbox reset\``);
  return parsed.data;
}

export function removeEdgeInfo(file: string, pid: number): void {
  // Only the edge that wrote the file removes it (a newer edge may have replaced it).
  const current = existsSync(file) ? safeRead(file) : undefined;
  if (current?.pid === pid) rmSync(file, { force: true });
}

function safeRead(file: string): EdgeInfo | undefined {
  try {
    return readEdgeInfo(file);
  } catch {
    return undefined;
  }
}

/** A live edge answering on its API, or undefined. */
export async function findRunningEdge(file: string): Promise<EdgeInfo | undefined> {
  const info = readEdgeInfo(file);
  if (!info || !isProcessAlive(info.pid)) return undefined;
  try {
    const response = await fetch(`${info.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in/state`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? info : undefined;
  } catch {
    return undefined;
  }
}
