import type { Logger } from 'pino';
import type { RunningEdge } from './edge-process.ts';
import { resetSandbox as reset } from './reset-sandbox.ts';
import { runningEdge } from './running-edge.ts';
import { SandboxEdgeClient, type UploadedVersion } from './sandbox-edge-client.ts';
import { sandboxPaths } from './sandbox-paths.ts';
import type { SandboxServeOptions } from './serve-sandbox.ts';

/**
 * The sandbox's entry: everything `kevin-deploy` needs from the Cloudflare stand-in, and the only
 * module of it the product loads — lazily, from the CLI's sandbox launcher (src/cli/serve-command.ts
 * and src/cli/sandbox-commands.ts), so a build without this folder (the production image) runs
 * without it. Light on purpose: the bot, the edge and the demo load only when they start.
 */

export { BEHAVIOR_PRESETS, parseBehavior } from './sample-site.ts';
export { sandboxTrafficProbe } from './traffic-probe.ts';
export type { SandboxServeOptions } from './serve-sandbox.ts';

/** `serve --sandbox`, and `serve` with no configuration and no Cloudflare token (`npm start`). */
export async function serveSandbox(options: SandboxServeOptions): Promise<void> {
  const { serveSandbox: serve } = await import('./serve-sandbox.ts');
  return serve(options);
}

/** `sandbox edge`: the edge process `serveSandbox` starts and supervises. */
export async function runSandboxEdge(env: NodeJS.ProcessEnv, cwd: string, logger: Logger): Promise<RunningEdge> {
  const paths = sandboxPaths(env, cwd);
  const { runSandboxEdge: run } = await import('./edge-process.ts');
  return run(paths, logger);
}

/** `sandbox demo` (`npm run demo`): the exit code. */
export async function runDemo(io: { out: (text: string) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  const { runDemo: run } = await import('./demo.ts');
  return run(io);
}

/** `sandbox upload`: a new version of the sample site on the running edge, as CI would upload it. */
export async function uploadVersion(
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: { tag: string; message?: string | undefined; behavior?: string | undefined },
): Promise<UploadedVersion> {
  const client = new SandboxEdgeClient(await runningEdge(sandboxPaths(env, cwd).edgeInfoFile));
  return client.upload(options);
}

export interface SandboxStatus {
  edge: { api: string; traffic: string; pid: number };
  /** versionId → percent of the live deployment. */
  split: Record<string, number>;
  versions: Array<{ id: string; number: number; annotations?: Record<string, string | undefined> }>;
  /** The synthetic traffic's counts (traffic-collector.ts), undefined when the edge has none. */
  traffic: unknown;
}

/** `sandbox status`: the running edge, its versions, the live split and the synthetic traffic. */
export async function sandboxStatus(env: NodeJS.ProcessEnv, cwd: string): Promise<SandboxStatus> {
  const edge = await runningEdge(sandboxPaths(env, cwd).edgeInfoFile);
  const client = new SandboxEdgeClient(edge);
  const [versions, split, traffic] = await Promise.all([client.versions(), client.activeSplit(), client.trafficStats()]);
  return { edge: { api: edge.apiBaseUrl, traffic: edge.trafficUrl, pid: edge.pid }, split, versions, traffic };
}

/** `sandbox reset [--all]`: what it did, in words. */
export async function resetSandbox(env: NodeJS.ProcessEnv, cwd: string, options: { all?: boolean | undefined }): Promise<string> {
  return reset(sandboxPaths(env, cwd), options);
}
