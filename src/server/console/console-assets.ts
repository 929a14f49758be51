import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Asset {
  body: Buffer;
  type: string;
  /** Content hash: the URL changes when the file does, so browsers may cache it for a year. */
  hash: string;
}

/**
 * The console's own files sit next to this module in src/ (tsc compiles only TypeScript, so the
 * built module in dist/ looks in src/ too; the Docker image copies them beside the build).
 */
function ownAssetPath(name: string): string {
  const beside = fileURLToPath(new URL(`./assets/${name}`, import.meta.url));
  if (existsSync(beside)) return beside;
  return beside.replace(/([\\/])dist\1src\1/, '$1src$1');
}

const require = createRequire(import.meta.url);
/** uPlot comes from its npm package, served by the bot itself: no CDN, the bot may have no internet. */
const SOURCES: Record<string, { path: () => string; type: string }> = {
  'console.css': { path: () => ownAssetPath('console.css'), type: 'text/css; charset=utf-8' },
  'outbox.css': { path: () => ownAssetPath('outbox.css'), type: 'text/css; charset=utf-8' },
  'console.js': { path: () => ownAssetPath('console.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.iife.min.js': { path: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const loaded = new Map<string, Asset>();

export function consoleAsset(name: string): Asset | undefined {
  const source = SOURCES[name];
  if (!source) return undefined;
  let asset = loaded.get(name);
  if (!asset) {
    const body = readFileSync(source.path());
    asset = { body, type: source.type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
    loaded.set(name, asset);
  }
  return asset;
}

export function assetHref(name: string): string {
  const asset = consoleAsset(name);
  return `/console/assets/${name}?v=${asset?.hash ?? '0'}`;
}
