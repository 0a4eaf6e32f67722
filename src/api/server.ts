import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError, type DocumentNode } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { authenticate } from './auth.ts';
import type { ApiContext, ApiServices, HostFacts, Scope } from './context.ts';
import { checkComponents } from './health/resolvers.ts';
import { registry, watch } from '../metrics/metrics.ts';
import { ingestRoute } from './ingest/routes.ts';
import { operationLimitsRule } from './limits.ts';
import { batchLoader } from './loader.ts';
import { buildSchema } from './schema.ts';

export interface ApiServer {
  /** The base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP face of faultline: GraphQL (with GraphiQL) on /graphql, GET /healthz, and the ingest endpoints of
 * design section 6 (POST /ingest/events, /ingest/alertmanager, /ingest/webhook/<name>). Every request passes the
 * size limit first; GraphQL and ingest then check the token.
 */
export async function startApiServer(services: ApiServices): Promise<ApiServer> {
  const { api } = services.config;
  watch({ view: services.correlation, topology: services.topology, nats: services.nats });
  const yoga = createYoga<object, ApiContext>({
    schema: buildSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: false,
    context: ({ request }) => ({
      ...services,
      principal: authenticate(request.headers.get('authorization'), api)!,
      hostFacts: hostFactsLoader(services),
    }),
    plugins: [requireToken(api), operationLimits(api.maxDepth, api.maxCost), requireScope()],
    maskedErrors: {
      maskError(error, message) {
        // Errors a resolver threw on purpose carry a code; anything else is a bug: logged, and masked. (Duck
        // typing, not instanceof: graphql can be loaded twice, as CommonJS by yoga and as ESM by a bundler.)
        const original = isGraphQLError(error) ? (error as GraphQLError).originalError : error;
        if (isGraphQLError(error) && (!original || isGraphQLError(original) || hasCode(original))) return error as Error;
        services.log.error({ err: original }, 'unexpected error in a resolver');
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
  });

  const server = createServer((req, res) => {
    if (!withinSizeLimit(req, res, api.maxBodyBytes)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && req.method === 'GET') {
      void metricsEndpoint(req, res, api);
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      void healthz(services, res);
      return;
    }
    const ingest = ingestRoute(path);
    if (ingest) {
      void ingest(req, res, services);
      return;
    }
    if (path === '/graphql') {
      void yoga(req, res);
      return;
    }
    sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
  });

  return listen(server, api);
}

/** Listens on api.host:api.port (0: any free port) and says where. */
export async function listen(server: Server, api: ApiServices['config']['api']): Promise<ApiServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(api.port, api.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = api.host.includes(':') ? `[${api.host}]` : api.host;
  return { url: `http://${host}:${port}`, close: () => closeServer(server) };
}

function isGraphQLError(err: unknown): boolean {
  return err instanceof Error && err.name === 'GraphQLError';
}

function hasCode(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { extensions?: { code?: unknown } }).extensions?.code === 'string';
}

function hostFactsLoader(services: ApiServices) {
  return batchLoader(async (ids: string[]) => {
    const result = await services.neo4j.executeQuery(
      `UNWIND $ids AS id MATCH (h:Entity {id: id}) WHERE h:Host
       RETURN h.id AS id, h.environment AS environment, h.location AS location, h.rack AS rack, h.az AS az, h.os AS os,
              coalesce(h.classes, []) AS classes`,
      { ids: [...new Set(ids)] },
      services.config.neo4j.database ? { database: services.config.neo4j.database } : {},
    );
    return new Map(result.records.map((r) => [r.get('id') as string, r.toObject() as HostFacts & { id: string }]));
  });
}

function requireToken(api: ApiServices['config']['api']): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (authenticate(request.headers.get('authorization'), api)) return;
      const body = { errors: [{ message: 'a valid bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] };
      endResponse(
        new fetchAPI.Response(JSON.stringify(body), {
          status: 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="faultline"' },
        }),
      );
    },
  };
}

function operationLimits(maxDepth: number, maxCost: number): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(operationLimitsRule(maxDepth, maxCost));
    },
  };
}

/** Queries and subscriptions need the read scope, mutations the write scope. */
function requireScope(): Plugin<ApiContext> {
  // Subscriptions do not pass onExecute: they are checked in onSubscribe, before the source stream is opened.
  const check = ({ args }: { args: { document: DocumentNode; operationName?: string | null | undefined; contextValue: ApiContext } }) => {
    const operation = getOperationAST(args.document, args.operationName);
    const needed: Scope = operation?.operation === 'mutation' ? 'write' : 'read';
    if (!args.contextValue.principal.scopes.includes(needed)) {
      throw new GraphQLError(`this token lacks the ${needed} scope`, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    }
  };
  return { onExecute: check, onSubscribe: check };
}

/** Refuses oversized bodies before reading them; a body of unknown length is refused too, so no limit is bypassed. */
function withinSizeLimit(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return true;
  const length = req.headers['content-length'];
  if (length === undefined) {
    sendJson(res, 411, { error: 'a Content-Length header is required' });
    return false;
  }
  if (Number(length) > maxBytes) {
    sendJson(res, 413, { error: `request body of ${length} bytes exceeds the limit of ${maxBytes}` });
    return false;
  }
  return true;
}

/** Prometheus text; with token auth, a token with the read scope (Prometheus sends it as `authorization`). */
export async function metricsEndpoint(req: IncomingMessage, res: ServerResponse, api: ApiServices['config']['api']): Promise<void> {
  const principal = authenticate(req.headers.authorization ?? null, api);
  if (!principal) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="faultline"' });
    res.end('a valid bearer token is required\n');
    return;
  }
  if (!principal.scopes.includes('read')) {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('this token lacks the read scope\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`metrics could not be collected: ${(err as Error).message}\n`);
  }
}

export async function healthz(services: Pick<ApiServices, 'config' | 'neo4j' | 'nats' | 'version'>, res: ServerResponse): Promise<void> {
  const components = await checkComponents(services);
  const ok = components.every((c) => c.ok);
  sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', version: services.version, components });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
