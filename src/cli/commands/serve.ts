import { startProbeServer } from '../../api/probe.ts';
import { startApiServer } from '../../api/server.ts';
import { ensureLayout } from '../../bus/layout.ts';
import { Correlator } from '../../correlator/correlator.ts';
import { CorrelationView } from '../../correlator/view.ts';
import { startNotifier } from '../../notify/notifier.ts';
import { connectAll, loadRuntime, untilSignalled, watchedTopology, UsageError, VERSION, type GlobalOptions } from '../runtime.ts';

const ROLES = ['api', 'correlator', 'notifier'] as const;
type Role = (typeof ROLES)[number];
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
  const roles = parseRoles(options.role ?? ROLES.join(','));
  const { loaded, log } = loadRuntime(global);
  const { config } = loaded;
  if (roles.includes('api') && config.api.auth === 'token' && config.api.tokens.length === 0) {
    throw new UsageError('api.auth is "token" but api.tokens is empty: add a token, or set api.auth: none to serve without auth');
  }

  // Without Neo4j at start, the roles that need the graph start from its copy in NATS (watchedTopology); without
  // NATS, nothing can be decided or sent, so serve waits for it.
  const connections = await connectAll(config, 'faultline-serve', { neo4jMayBeDown: true, waitForNats: log });
  await ensureLayout(connections.nats);
  const needsTopology = roles.includes('api') || roles.includes('correlator');
  const topology = needsTopology ? await watchedTopology(connections, config, log) : undefined;
  const correlator = topology && roles.includes('correlator') ? await Correlator.start({ config, log, nats: connections.nats, topology: topology.store }) : undefined;
  const notifier = roles.includes('notifier') ? await startNotifier({ config, log, nats: connections.nats }) : undefined;
  // The API answers alerts and incidents from the correlator's view when both run here, else from its own mirror.
  const ownView = topology && roles.includes('api') && !correlator ? await CorrelationView.open(connections.nats, topology.store, config.correlator) : undefined;
  const correlation = correlator?.view ?? ownView;
  const server = topology && correlation && roles.includes('api')
    ? await startApiServer({ config, log, neo4j: connections.neo4j, nats: connections.nats, topology: topology.store, correlation, version: VERSION, ...(loaded.file ? { configFile: loaded.file } : {}) })
    : undefined;
  if (server) log.info({ url: `${server.url}/graphql`, auth: config.api.auth }, 'API listening');
  // Without the api role, the process still answers /healthz and /metrics.
  const probe = server ? undefined : await startProbeServer({ config, neo4j: connections.neo4j, nats: connections.nats, version: VERSION });
  if (probe) log.info({ url: probe.url, roles }, 'health and metrics listening');

  const signal = await untilSignalled(log);
  log.info({ signal }, 'shutting down');
  topology?.stop();
  await server?.close();
  await probe?.close();
  ownView?.stop();
  await correlator?.stop();
  await notifier?.stop();
  await connections.close();
}
