import type { ApiServices } from '../../src/api/context.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { ensureLayout } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { CorrelationView } from '../../src/correlator/view.ts';
import type { Logger } from '../../src/log.ts';
import { freshGraph, freshNats, loadedTopology, silentLog, testConfig } from '../support/services.ts';

export const WRITER = 'write-token-0123456789abcdef';
export const READER = 'read-token-0123456789abcdef';

/** A real API server on a free loopback port over the test NATS and Neo4j, with `overrides` in its configuration. */
export async function startIngestApi(overrides: Record<string, unknown> = {}, log: Logger = silentLog): Promise<{ server: ApiServer; services: ApiServices; nc: NatsConnection; close(): Promise<void> }> {
  const config = testConfig({
    api: {
      port: 0,
      auth: 'token',
      tokens: [
        { name: 'monitoring', token: WRITER, scopes: ['write'] },
        { name: 'noc', token: READER, scopes: ['read'] },
      ],
    },
    ...overrides,
  });
  const neo4j = await freshGraph();
  const nc = await freshNats();
  const topology = await loadedTopology(neo4j);
  await ensureLayout(nc);
  const services: ApiServices = { config, log, neo4j, nats: nc, topology, correlation: await CorrelationView.open(nc, topology, config.correlator), version: 'test' };
  const server = await startApiServer(services);
  return {
    server,
    services,
    nc,
    async close() {
      await server.close();
      services.correlation.stop();
      await nc.close();
      await neo4j.close();
    },
  };
}

/** POSTs JSON (or a raw string) and returns the status and the parsed answer. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${WRITER}` }) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}
