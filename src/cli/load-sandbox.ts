import { CliFailure, EXIT } from './exit-codes.ts';

/** The sandbox's entry (../../sandbox/launch.ts); only its type is known until a sandbox verb runs. */
export type SandboxLauncher = typeof import('../../sandbox/launch.ts');

/**
 * The Cloudflare stand-in is not part of the product: the CLI loads it only when a sandbox verb or
 * the sandbox bot starts, and a build without it (the production image) says so instead of
 * crashing. `why` says what to do instead.
 */
export async function loadSandbox(why: string): Promise<SandboxLauncher> {
  try {
    return await import('../../sandbox/launch.ts');
  } catch (error) {
    // The launcher itself is missing (not a module it imports): this build was made without the sandbox.
    const { code, url } = error as { code?: string; url?: string };
    if (code === 'ERR_MODULE_NOT_FOUND' && /\/sandbox\/launch\.[jt]s$/.test(url ?? '')) {
      throw new CliFailure(EXIT.usage, `the sandbox is not part of this image; ${why}`);
    }
    // The sandbox's own libraries (graphql, structured-headers) are development dependencies: a
    // clone installed with --omit=dev has the launcher but not them.
    const missingPackage = code === 'ERR_MODULE_NOT_FOUND' ? /Cannot find package '([^']+)'/.exec((error as Error).message)?.[1] : undefined;
    if (missingPackage !== undefined) {
      throw new CliFailure(EXIT.usage, `the sandbox needs the development dependencies (${missingPackage} is missing): run \`npm ci\` without --omit=dev`);
    }
    throw error;
  }
}
