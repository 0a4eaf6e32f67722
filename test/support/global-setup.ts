import type { TestProject } from 'vitest/node';
import { stackDown, stackUp } from '../../src/stack/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    neo4jUri: string;
    natsUrl: string;
  }
}

/**
 * Real services for every suite. NEO4J_URI / NATS_URL name existing ones (the suites wipe their data!);
 * otherwise the `test` stack is started on side ports (Neo4j 7688, NATS 4223) with its own data folder, so
 * a developer's `faultline dev` graph is never touched. What this started is stopped at the end unless
 * FAULTLINE_KEEP_STACK=1 (faster re-runs).
 */
export default async function setup(project: TestProject) {
  const given = { neo4j: process.env.NEO4J_URI, nats: process.env.NATS_URL };
  const stack = await stackUp('test', { neo4j: !given.neo4j, nats: !given.nats });
  project.provide('neo4jUri', given.neo4j ?? stack.neo4jUri!);
  project.provide('natsUrl', given.nats ?? stack.natsUrl!);
  return async () => {
    if (process.env.FAULTLINE_KEEP_STACK === '1') return;
    await stackDown('test', stack.started);
  };
}
