import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `performance.now()` when the request had arrived whole. */
  at: number;
}

/**
 * A real HTTP receiver on loopback (port 0) standing in for a webhook endpoint. `answer(n)` (n counts requests
 * from 1) decides each response: a status, or 'hang' to never answer; `delayMs` slows every answer down.
 */
export async function startCollector(answer: (n: number, request: Received) => number | 'hang' = () => 200, options: { delayMs?: number } = {}) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      received.push(request);
      const status = answer(received.length, request);
      if (status === 'hang') {
        hanging.push(res);
        return;
      }
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        // Like many frameworks' error pages, the refusal names the path it refused.
        res.end(status < 300 ? 'ok' : `refused with ${status} (POST ${request.path})`);
      }, options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** The JSON bodies received, parsed. */
    bodies: () => received.map((r) => JSON.parse(r.body) as Record<string, unknown>),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Collector = Awaited<ReturnType<typeof startCollector>>;

/** A loopback port nothing listens on: bound, noted, released. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
