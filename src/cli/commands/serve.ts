import { startApiServer } from '../../api/server.ts';
import { ensureLayout } from '../../bus/layout.ts';
import { connectAll, loadRuntime, untilSignalled, watchedTopology, UsageError, VERSION, type GlobalOptions } from '../runtime.ts';

const ROLES = ['api', 'correlator', 'notifier'] as const;
type Role = (typeof ROLES)[number];
/** Roles whose work lands with a later issue; asking for them says so rather than pretending. */
const NOT_YET: Partial<Record<Role, string>> = {
  correlator: 'the correlator is not available yet (issue #5)',
  notifier: 'the notifier is not available yet (issue #5)',
};

export function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim()).filter(Boolean);
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new UsageError(`--role: unknown role "${role}" (expected ${ROLES.join(', ')})`);
    }
  }
  return roles as Role[];
}

export async function serveCommand(options: { role?: string }, global: GlobalOptions): Promise<void> {
  const explicit = options.role !== undefined;
  const roles = parseRoles(options.role ?? ROLES.join(','));
  const { loaded, log } = loadRuntime(global);
  const { config } = loaded;
  for (const role of roles) {
    const missing = NOT_YET[role];
    if (!missing) continue;
    if (explicit) throw new UsageError(missing);
    log.warn({ role }, missing);
  }
  if (roles.includes('api') && config.api.auth === 'token' && config.api.tokens.length === 0) {
    throw new UsageError('api.auth is "token" but api.tokens is empty: add a token, or set api.auth: none to serve without auth');
  }

  const connections = await connectAll(config, 'faultline-serve');
  await ensureLayout(connections.nats);
  const topology = roles.includes('api') ? await watchedTopology(connections, config, log) : undefined;
  const server = topology
    ? await startApiServer({ config, log, neo4j: connections.neo4j, nats: connections.nats, topology: topology.store, version: VERSION, ...(loaded.file ? { configFile: loaded.file } : {}) })
    : undefined;
  if (server) log.info({ url: `${server.url}/graphql`, auth: config.api.auth }, 'API listening');

  const signal = await untilSignalled();
  log.info({ signal }, 'shutting down');
  topology?.stop();
  await server?.close();
  await connections.close();
}
