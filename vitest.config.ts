import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts (or reuses) a real Neo4j and a real NATS with JetStream; see test/support/global-setup.ts.
    globalSetup: ['test/support/global-setup.ts'],
    // Community Neo4j has one user database and the streams have fixed names: suites take turns and each
    // starts from a clean graph and clean streams.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
