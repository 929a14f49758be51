/**
 * The environment the sandbox edge process is started with: an allow-list, not the bot's
 * environment minus its secrets. The edge is a stand-in for Cloudflare and needs none of the
 * bot's tokens, so it never gets them — not in its memory, not in /proc/<pid>/environ, not in a
 * log line of its own.
 */
const EXACT = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'TZ',
  'LANG',
  'LOG_LEVEL',
  // Windows needs these to start a process at all.
  'SYSTEMROOT',
  'SystemRoot',
  'WINDIR',
  'COMSPEC',
]);

/** Node's own settings (NODE_OPTIONS, NODE_EXTRA_CA_CERTS…), locale, and the edge's own settings. */
const PREFIXES = ['NODE_', 'LC_', 'KEVIN_DEPLOY_SANDBOX_'];

export function edgeEnvironment(env: NodeJS.ProcessEnv, databaseUrl: string): NodeJS.ProcessEnv {
  const allowed: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (EXACT.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix))) allowed[name] = value;
  }
  return {
    ...allowed,
    DATABASE_URL: databaseUrl,
    // Its output is a file (data/sandbox-edge.log) that the sandbox reads back: always JSON.
    LOG_FORMAT: 'json',
  };
}
