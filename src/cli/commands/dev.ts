import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';
import { nativeSource } from '../../../importers/native/index.ts';
import { runImport, summaryLine } from '../../../importers/run.ts';
import { startApiServer } from '../../api/server.ts';
import { ensureLayout } from '../../bus/layout.ts';
import { Correlator } from '../../correlator/correlator.ts';
import { startNotifier } from '../../notify/notifier.ts';
import { migrate } from '../../graph/migrate.ts';
import { stackDown, stackUp } from '../../stack/index.ts';
import { PROJECT_ROOT } from '../../stack/process.ts';
import { withoutCredentials } from '../../redact.ts';
import { connectAll, loadRuntime, untilSignalled, watchedTopology, VERSION, type GlobalOptions } from '../runtime.ts';

/**
 * The one command to try faultline: a local Neo4j and NATS when none is configured, the graph schema, the
 * example estate, and everything `serve` runs (API on 127.0.0.1 without auth, correlator, notifier). Ctrl-C stops what it started; data stays in .faultline/dev.
 */
const EXAMPLE_ESTATE = join(PROJECT_ROOT, 'examples', 'estate.yaml');

export async function devCommand(options: { port?: string; import?: boolean }, global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const config = {
    ...loaded.config,
    // Loopback only, auth off (design section 8): dev is for one person on one machine.
    api: { ...loaded.config.api, host: '127.0.0.1', auth: 'none' as const, ...(options.port ? { port: Number(options.port) } : {}) },
    // With no channel configured, pages are printed here, where the person trying faultline is looking.
    notify:
      loaded.config.notify.channels.length > 0
        ? loaded.config.notify
        : { ...loaded.config.notify, channels: [{ name: 'console', type: 'console' as const }], routes: [{ channels: ['console'] }] },
  };

  const want = { neo4j: !loaded.configured.neo4j, nats: !loaded.configured.nats };
  if (want.neo4j) log.info('starting the local Neo4j (the first run fetches it from Maven Central)');
  const stack = await stackUp('dev', want);
  if (stack.neo4jUri) config.neo4j = { ...config.neo4j, uri: stack.neo4jUri };
  if (stack.natsUrl) config.nats = { ...config.nats, url: stack.natsUrl };
  log.info({ neo4j: withoutCredentials(config.neo4j.uri), nats: withoutCredentials(config.nats.url), started: stack.started }, 'stack is up');

  const connections = await connectAll(config, 'faultline-dev');
  try {
    await migrate(connections.neo4j, config.neo4j);
    await ensureLayout(connections.nats);
    if (options.import !== false) {
      const summary = await runImport(nativeSource, [EXAMPLE_ESTATE], {}, log, { neo4j: connections.neo4j, settings: config.neo4j, nats: connections.nats });
      log.info(summaryLine(summary, false));
    }
    const topology = await watchedTopology(connections, config, log);
    const correlator = await Correlator.start({ config, log, nats: connections.nats, topology: topology.store });
    const notifier = await startNotifier({ config, log, nats: connections.nats });
    const server = await startApiServer({ config, log, neo4j: connections.neo4j, nats: connections.nats, topology: topology.store, correlation: correlator.view, version: VERSION, ...(loaded.file ? { configFile: loaded.file } : {}) });
    process.stdout.write(banner(server.url, config));
    await untilSignalled(log);
    topology.stop();
    await server.close();
    await correlator.stop();
    await notifier.stop();
  } finally {
    await connections.close();
    await stackDown('dev', stack.started);
  }
}

function banner(base: string, config: { correlator: { settle: number } }): string {
  const url = `${base}/graphql`;
  const cli = cliCommand();
  const commented = (lines: [string, string][]) => {
    const width = Math.max(...lines.map(([command]) => command.length)) + 2;
    return lines.map(([command, comment]) => `    ${command.padEnd(width)}# ${comment}`);
  };
  return [
    '',
    `faultline ${VERSION} is ready.`,
    `  GraphQL (GraphiQL in a browser): ${url}`,
    '  Try, in another terminal:',
    `    curl -s ${url} -H 'content-type: application/json' \\`,
    `      -d '{"query":"{ impact(ids: [\\"db1.example.com\\", \\"db2.example.com\\"]) { services { id } owners { name contacts } } }"}'`,
    `    ${cli.name} send --host db1.example.com --check mysql --status critical`,
    `    (after the ${Math.round(config.correlator.settle / 1000)} s settle window the page is printed here)`,
    ...commented([
      [`${cli.name} alerts`, 'roots first, and what each suppresses'],
      [`${cli.name} incidents`, 'then: ... incident <id>, ... ack <id>, ... note <id> TEXT --tell'],
      [`${cli.name} incidents --follow`, 'each incident change as it happens'],
      [`${cli.name} maintenance start db2.example.com --for 1h`, 'planned downtime: what it takes down pages nobody'],
      [`${cli.name} silence add db1.example.com/mysql --for 1h -m known`, 'still failing, but its incident pages nobody'],
    ]),
    ...(cli.onPath ? [] : [`  (\`npm link\` here puts \`faultline\` on your PATH; until then it is ${cli.name})`]),
    '  Ctrl-C stops faultline and the services it started.',
    '',
  ].join('\n');
}

/** How the person at this terminal runs faultline: `faultline` when PATH finds this checkout's, else the script's path from here. */
function cliCommand(): { name: string; onPath: boolean } {
  const script = join(PROJECT_ROOT, 'bin', 'faultline.js');
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'faultline');
    try {
      accessSync(candidate, constants.X_OK);
      if (realpathSync(candidate) === realpathSync(script)) return { name: 'faultline', onPath: true };
    } catch {
      // not there, or not this checkout's
    }
  }
  const path = relative(process.cwd(), script);
  if (path.startsWith('..') || isAbsolute(path)) return { name: script, onPath: false };
  return { name: `.${sep}${path}`, onPath: false };
}
