#!/usr/bin/env node
// The CLI entry. The TypeScript is compiled to dist/ by `npm run build`, which `npm ci` runs
// through the `prepare` script, so `npx kevin-deploy` works right after `npm ci`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('kevin-deploy is not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
const { runCli } = await import(entry.href);
await runCli();
