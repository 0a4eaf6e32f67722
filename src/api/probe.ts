import { createServer } from 'node:http';
import type { ApiServices } from './context.ts';
import { healthz, listen, metricsEndpoint, sendJson, type ApiServer } from './server.ts';

/**
 * What a `faultline serve` process without the api role still answers on api.host:api.port: GET /healthz and
 * GET /metrics (a correlator's lag and decision latency are worth scraping too). Nothing else: no GraphQL, no ingest.
 * Run several roles on one machine with a port each (FAULTLINE_API_PORT).
 */
export async function startProbeServer(services: Pick<ApiServices, 'config' | 'neo4j' | 'nats' | 'version'>): Promise<ApiServer> {
  const { api } = services.config;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return void healthz(services, res);
    if (req.method === 'GET' && path === '/metrics') return void metricsEndpoint(req, res, api);
    sendJson(res, 404, { error: `no such endpoint here: ${req.method} ${path} (this process runs without the api role)` });
  });
  return listen(server, api);
}
