import type { ComponentHealth, QueryResolvers } from '../generated/resolvers.ts';
import type { ApiServices } from '../context.ts';
import { pingNeo4j } from '../../graph/neo4j.ts';

export const health: QueryResolvers['health'] = async (_parent, _args, ctx) => {
  const components = await checkComponents(ctx);
  return { status: components.every((c) => c.ok) ? 'OK' : 'DEGRADED', version: ctx.version, components };
};

/** Round trips to Neo4j and NATS; shared by the `health` query and GET /healthz. */
export function checkComponents(services: Pick<ApiServices, 'config' | 'neo4j' | 'nats'>): Promise<ComponentHealth[]> {
  return Promise.all([
    probe('neo4j', () => pingNeo4j(services.neo4j, services.config.neo4j)),
    probe('nats', () => services.nats.flush()),
  ]);
}

async function probe(name: string, roundTrip: () => Promise<unknown>): Promise<ComponentHealth> {
  const start = performance.now();
  try {
    await roundTrip();
    return { name, ok: true, latencyMs: Math.round((performance.now() - start) * 100) / 100, error: null };
  } catch (err) {
    return { name, ok: false, latencyMs: null, error: (err as Error).message.split('\n')[0] ?? 'failed' };
  }
}
