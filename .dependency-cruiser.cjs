/**
 * The layer arrows, checked on every `npm test` (see docs/architecture.md, "Layers").
 *
 *   domain  ←  ports  ←  engine  ←  app (composition root)  ←  cli
 *      ↑         ↑                      ↑
 *   config   commands  ←  adapters, server (the edges)  ─────┘
 *
 * Each rule names what a layer must NOT reach; anything not forbidden is allowed.
 */
const OUTER = {
  engine: '^src/engine/',
  adapters: '^src/adapters/',
  server: '^src/server/',
  app: '^src/app/',
  cli: '^src/cli/',
  config: '^src/config/',
  commands: '^commands/',
  sandbox: '^sandbox/',
};
const any = (...layers) => layers.map((l) => OUTER[l]);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle makes load order matter and layers meaningless.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-the-core',
      comment: 'src/domain imports only src/domain: no library, no Node API, no I/O. It is what decide() runs on.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'ports-speak-domain',
      comment: 'Ports are interfaces in domain terms: they import the domain (and the error type), nothing that implements them.',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { pathNot: ['^src/domain/', '^src/ports/', '^src/errors\\.ts$'] },
    },
    {
      name: 'engine-knows-only-ports',
      comment: 'The engine drives the domain through ports; it never sees config files, adapters, HTTP or chat.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: any('adapters', 'server', 'app', 'cli', 'config', 'commands', 'sandbox') },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'Config parses kevin-deploy.yml into domain settings; it never reaches into what uses them.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: any('engine', 'adapters', 'server', 'app', 'cli', 'commands', 'sandbox') },
    },
    {
      name: 'commands-are-the-vocabulary',
      comment: 'The command table is declared in domain terms and runs against the Releases port; surfaces derive from it.',
      severity: 'error',
      from: { path: '^commands/' },
      to: { path: any('engine', 'adapters', 'server', 'app', 'cli', 'sandbox') },
    },
    {
      name: 'adapters-stay-at-the-edge',
      comment: 'Adapters implement ports or translate a surface into commands; they never import engine internals or the wiring.',
      severity: 'error',
      from: { path: ['^src/adapters/', '^src/server/'] },
      to: { path: any('engine', 'app', 'cli', 'sandbox') },
    },
    {
      name: 'only-the-cli-starts-things',
      comment: 'The composition root builds the app; only the CLI (serve) and tests call it.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { path: any('cli', 'sandbox') },
    },
    {
      name: 'the-stand-in-is-not-the-product',
      comment: 'Nothing in the product imports sandbox/ except the CLI launcher, and that only lazily, so a build without it runs.',
      severity: 'error',
      from: { path: ['^src/', '^commands/'], pathNot: '^src/cli/load-sandbox\\.ts$' },
      to: { path: '^sandbox/' },
    },
    {
      name: 'the-launcher-loads-the-sandbox-lazily',
      comment: 'A static import would make the production image (no sandbox/) fail to start.',
      severity: 'error',
      from: { path: '^src/cli/(load-sandbox|sandbox-commands)\\.ts$' },
      to: { path: '^sandbox/', dynamic: false, dependencyTypesNot: ['type-only', 'type-import'] },
    },
    {
      name: 'product-uses-runtime-dependencies',
      comment: 'The production image installs only "dependencies": a devDependency in product code breaks it.',
      severity: 'error',
      from: { path: ['^src/', '^commands/'] },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'resolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
