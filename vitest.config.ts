import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and e2e tests start real servers and processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Test files share their worker's loaded modules instead of loading the product again for each
    // file: importing the bot (the Cloudflare SDK, fastify, zod…) cost ~80 s of the run, ~12 s
    // shared. It is sound because no test mocks a module or stubs a global (ESLint refuses
    // vi.mock and friends) and every file closes what it starts.
    isolate: false,
  },
});
