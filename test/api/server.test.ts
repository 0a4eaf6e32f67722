import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { ApiServices } from '../../src/api/context.ts';
import { ensureLayout } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import type { Config } from '../../src/config/schema.ts';
import { CorrelationView } from '../../src/correlator/view.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import { createDriver } from '../../src/graph/neo4j.ts';
import { freshGraph, freshNats, loadedTopology, silentLog, testConfig } from '../support/services.ts';

const TOKEN = 'read-token-0123456789abcdef';

/** The correlation view every API needs (empty here: no correlator runs in these suites). */
async function correlationOf(nats: NatsConnection, topology: TopologyStore, config: Config): Promise<CorrelationView> {
  await ensureLayout(nats);
  return CorrelationView.open(nats, topology, config.correlator);
}

async function graphql(server: ApiServer, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

describe('GraphQL API over HTTP', () => {
  const base = testConfig({ api: { port: 0, auth: 'token', tokens: [{ name: 'noc', token: TOKEN, scopes: ['read'] }], maxBodyBytes: 2048, maxDepth: 3 } });
  let services: ApiServices;
  let server: ApiServer;

  beforeAll(async () => {
    const neo4j = await freshGraph();
    const nats = await freshNats();
    const topology = await loadedTopology(neo4j);
    services = { config: base, log: silentLog, neo4j, nats, topology, correlation: await correlationOf(nats, topology, base), version: 'test' };
    server = await startApiServer(services);
  });
  afterAll(async () => {
    await server?.close();
    services?.correlation.stop();
    await services?.nats.close();
    await services?.neo4j.close();
  });

  it('answers the health query from real Neo4j and NATS round trips', async () => {
    const { status, body } = await graphql(server, '{ health { status version components { name ok latencyMs error } } }', {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(status).toBe(200);
    expect(body.data.health.status).toBe('OK');
    expect(body.data.health.components.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['neo4j', true],
      ['nats', true],
    ]);
  });

  it('refuses a request without a valid bearer token', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-token-at-all' }, { authorization: TOKEN }];
    for (const headers of attempts) {
      const { status, body } = await graphql(server, '{ health { status } }', headers);
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('answers the standard introspection query (GraphiQL, codegen) within the default limits', async () => {
    const { body } = await graphql(server, getIntrospectionQuery(), { authorization: `Bearer ${TOKEN}` });
    expect(body.errors).toBeUndefined();
    expect((body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
  });

  it('rejects a query deeper than the limit before running it', async () => {
    const deep = '{ health { components { name } } a: health { components { name } } }';
    expect((await graphql(server, deep, { authorization: `Bearer ${TOKEN}` })).body.errors).toBeUndefined();
    const tooDeep = 'query { ...A } fragment A on Query { health { ...B } } fragment B on Health { components { ...C } } fragment C on ComponentHealth { name }';
    const withLimit2 = await startApiServer({ ...services, config: { ...base, api: { ...base.api, maxDepth: 2 } } });
    try {
      const { body } = await graphql(withLimit2, tooDeep, { authorization: `Bearer ${TOKEN}` });
      expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
      expect(body.data).toBeUndefined();
    } finally {
      await withLimit2.close();
    }
  });

  it('rejects a query selecting more fields than the cost limit, aliases and fragments counted', async () => {
    const cheap = await startApiServer({ ...services, config: { ...base, api: { ...base.api, maxCost: 4, maxBodyBytes: 65_536 } } });
    try {
      const ok = await graphql(cheap, '{ health { status version } }', { authorization: `Bearer ${TOKEN}` });
      expect(ok.body.errors).toBeUndefined();
      const costly = await graphql(cheap, '{ a: health { status version } b: health { status version } }', { authorization: `Bearer ${TOKEN}` });
      expect(costly.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
      // Introspection is counted like any other selection: aliases cannot multiply it for free.
      const schemas = await graphql(cheap, '{ a: __schema { types { name } } b: __schema { types { name } } c: __schema { types { name } } }', { authorization: `Bearer ${TOKEN}` });
      expect(schemas.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
      // Fragments spreading each other ten times over, nine deep: 4e9 fields, measured once per fragment, refused.
      let fragments = 'fragment F0 on Query { health { status } }';
      for (let i = 1; i < 10; i++) fragments += ` fragment F${i} on Query { ${Array.from({ length: 10 }, (_, k) => `a${k}: health { status } ...F${i - 1}`).join(' ')} }`;
      const bomb = await graphql(cheap, `{ ...F9 } ${fragments}`, { authorization: `Bearer ${TOKEN}` });
      expect(bomb.body.errors?.map((e) => e.message)).toContain('query selects 4222222220 fields; the limit is 4');
    } finally {
      await cheap.close();
    }
  });

  it('answers queries only for tokens with the read scope', async () => {
    const writeOnly = 'write-only-token-0123456789';
    const scoped = await startApiServer({ ...services, config: { ...base, api: { ...base.api, tokens: [...base.api.tokens, { name: 'bot', token: writeOnly, scopes: ['write'] }] } } });
    try {
      const { status, body } = await graphql(scoped, '{ health { status } }', { authorization: `Bearer ${writeOnly}` });
      expect(status).toBe(403);
      expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(body.errors?.[0]?.message).toBe('this token lacks the read scope');
    } finally {
      await scoped.close();
    }
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: `{ health { status } } # ${'x'.repeat(4096)}` }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/exceeds the limit of 2048/);
  });

  it('serves GET /healthz and 404 elsewhere', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('reports Neo4j as down, with 503 on /healthz, when the database cannot be reached', async () => {
    const deadNeo4j = { ...base.neo4j, uri: 'bolt://127.0.0.1:1' };
    const nats = await connectNats(base.nats.url);
    const degraded = await startApiServer({ ...services, config: { ...base, neo4j: deadNeo4j }, neo4j: createDriver(deadNeo4j), nats });
    try {
      const res = await fetch(`${degraded.url}/healthz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { components: { name: string; ok: boolean; error: string | null }[] };
      expect(body.components.find((c) => c.name === 'neo4j')).toMatchObject({ ok: false, error: expect.any(String) });
      expect(body.components.find((c) => c.name === 'nats')?.ok).toBe(true);
    } finally {
      await degraded.close();
      await nats.close();
    }
  });
});

describe('GraphQL API with auth: none', () => {
  it('answers without a token', async () => {
    const config = testConfig({ api: { port: 0, auth: 'none' } });
    const neo4j = await freshGraph();
    const nats = await freshNats();
    const topology = await loadedTopology(neo4j);
    const services: ApiServices = { config, log: silentLog, neo4j, nats, topology, correlation: await correlationOf(nats, topology, config), version: 'test' };
    const server = await startApiServer(services);
    try {
      const { status, body } = await graphql(server, '{ health { status } }');
      expect(status).toBe(200);
      expect(body.data.health.status).toBe('OK');
    } finally {
      await server.close();
      services.correlation.stop();
      await services.nats.close();
      await services.neo4j.close();
    }
  });
});
