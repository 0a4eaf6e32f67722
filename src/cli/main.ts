import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/load.ts';
import { UsageError, VERSION, type GlobalOptions } from './runtime.ts';

const program = new Command('faultline')
  .description('Dependency-aware alert correlation backed by the graph configuration management already knows.')
  .version(VERSION)
  .option('-c, --config <file>', 'configuration file (default: $FAULTLINE_CONFIG, else ./faultline.yaml)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .showHelpAfterError()
  .exitOverride();

const global = (): GlobalOptions => program.opts<GlobalOptions>();
// Commands load on use: `faultline send` from a Nagios hook should not pay for the GraphQL server's imports.
const commands = {
  dev: () => import('./commands/dev.ts'),
  graph: () => import('./commands/graph.ts'),
  import: () => import('./commands/import.ts'),
  migrate: () => import('./commands/migrate.ts'),
  serve: () => import('./commands/serve.ts'),
  stack: () => import('./commands/stack.ts'),
  check: () => import('./commands/check.ts'),
  send: () => import('./commands/send.ts'),
  maintenance: () => import('./commands/maintenance.ts'),
  silence: () => import('./commands/silence.ts'),
  incidents: () => import('./commands/incidents.ts'),
  incidentChanges: () => import('./commands/incident-changes.ts'),
  alerts: () => import('./commands/alerts.ts'),
  routes: () => import('./commands/routes.ts'),
  deadLetters: () => import('./commands/dead-letters.ts'),
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

program
  .command('dev')
  .description('local stack: Neo4j + NATS if not configured, example import, API on 127.0.0.1 without auth')
  .option('--port <port>', 'API port (default: api.port, 4000)')
  .option('--no-import', 'do not import the example estate (examples/estate.yaml)')
  .action(async (options: { port?: string; import?: boolean }) => (await commands.dev()).devCommand(options, global()));

program
  .command('migrate')
  .description('create the graph constraints and indexes (idempotent)')
  .action(async () => (await commands.migrate()).migrateCommand(global()));

program
  .command('import')
  .description('import configuration-management data into the graph')
  .argument('<source>', 'puppet | puppetdb | facts | native')
  .argument('<paths...>', 'files, directories, a URL (puppetdb) or - for stdin')
  .option('--full', 'a full import of the source: hosts it no longer contains become managed: false')
  .option('--dry-run', 'validate only; write nothing')
  .option('--strict', 'stop at the first bad file')
  .option('--concurrency <n>', 'host transactions in flight at once (default 4)')
  .action(async (source: string, paths: string[], options: import('./commands/import.ts').ImportCommandOptions) =>
    (await commands.import()).importCommand(source, paths, options, global()),
  );

program
  .command('serve')
  .description('run the API, correlator and notifier (all by default)')
  .option('--role <roles>', 'comma-separated subset of api,correlator,notifier')
  .action(async (options: { role?: string }) => (await commands.serve()).serveCommand(options, global()));

program
  .command('send')
  .description('send one monitoring event (like Nagios send-alert)')
  .requiredOption('--host <host>', 'host (certname)')
  .requiredOption('--check <check>', 'check name')
  .requiredOption('--status <status>', 'ok | warning | critical | unknown, 0-3, or a Nagios/Icinga host state UP | DOWN | UNREACHABLE (any case)')
  .option('--raise <when>', 'now | clear | +<duration>', 'now')
  .option('--ttl <duration>', 'raise "stale" when no event arrives within it')
  .option('--text <text>', 'free text')
  .option('--runbook <url>', 'what to do about it: a link the page carries')
  .option('--tag <key=value>', 'a tag (repeatable)', collect)
  .option('--entity <id>', 'the graph entity the alert is about (default: mapped from host and check)')
  .option('--id <id>', 'producer id: a repeat within 10 minutes is stored once')
  .option('--source <source>', 'the sending system: events go to faultline.events.<source>', 'cli')
  .option('--retire', 'end the expectation set by --ttl')
  .action(async (options: import('./commands/send.ts').SendOptions) => (await commands.send()).sendCommand(options, global()));

program
  .command('impact')
  .description('what fails, and who to call, when these entities fail')
  .argument('<ids...>', 'entity ids')
  .option('--json', 'JSON instead of a table')
  .option('--soft', 'also list degraded soft dependents')
  .action(async (ids: string[], options: { json?: boolean; soft?: boolean }) => (await commands.graph()).impactCommand(ids, options, global()));

program
  .command('spof')
  .description('single points of failure, ranked by services and teams affected')
  .option('--json', 'JSON instead of a table')
  .option('--limit <n>', 'how many, worst first', '50')
  .action(async (options: { json?: boolean; limit?: string }) => (await commands.graph()).spofCommand(options, global()));

program
  .command('check')
  .description('run compliance rules; exit 1 on a violation of severity error')
  .option('--rules <path>', 'a rule file or a folder of them, run with the built-in rules (repeatable)', collect)
  .option('--junit <file>', 'also write JUnit XML for CI')
  .option('--json', 'JSON instead of a table')
  .option('--only <ids>', 'comma-separated rule ids: run only these')
  .option('--no-builtin', 'do not run the built-in rules (queries/compliance/)')
  .option('--param <name=value>', 'a parameter for the rules that declare it (repeatable)', collect)
  .action(async (options: import('./commands/check.ts').CheckOptions) => (await commands.check()).checkCommand(options, global()));

program
  .command('incidents')
  .description('open and acknowledged incidents, newest first')
  .option('--all', 'resolved ones too (until correlator.retention forgets them)')
  .option('--json', 'the incidents as stored, as JSON (with --since or --follow: one change per line)')
  .option('--since <duration>', 'instead, the changes of incidents in the last 30m, 12h, 7d, one per line (kept 90 days)')
  .option('--follow', 'instead, each change as it happens (after those of --since); Ctrl-C stops')
  .action(async (options: { all?: boolean; json?: boolean; since?: string; follow?: boolean }) => {
    if (options.since === undefined && !options.follow) return (await commands.incidents()).incidentsCommand(options, global());
    const sinceMs = options.since === undefined ? undefined : (await import('./runtime.ts')).sinceOption(options.since);
    return (await commands.incidentChanges()).incidentChangesCommand({ sinceMs, follow: options.follow ?? false, json: options.json ?? false }, global());
  });

program
  .command('alerts')
  .description('alerts as the correlator decides them now: roots, suppressed (by what), below the threshold')
  .option('--state <state>', 'firing (not ok), root, suppressed, ok or all', 'firing')
  .option('--host <host>', "only this host's")
  .option('--json', 'the alerts with their verdicts, as JSON')
  .action(async (options: import('./commands/alerts.ts').AlertsOptions) => (await commands.alerts()).alertsCommand(options, global()));

program
  .command('incident')
  .description('one incident: its root alerts now, what it takes down, who was told, its timeline')
  .argument('<id>', 'the incident id (inc-...)')
  .option('--json', 'the incident as stored, as JSON')
  .action(async (id: string, options: { json?: boolean }) => (await commands.incidents()).incidentCommand(id, options, global()));

program
  .command('ack')
  .description('acknowledge an incident: its teams are told who is on it')
  .argument('<id>', 'the incident id (inc-...)')
  .option('--by <name>', 'who (default user@host)')
  .action(async (id: string, options: { by?: string }) => (await commands.incidents()).ackCommand(id, options, global()));

program
  .command('note')
  .description("write a note on an incident (in its timeline); --tell sends it to the incident's teams")
  .argument('<id>', 'the incident id (inc-...)')
  .argument('<text...>', 'the note ("failing over to db2, back in 10 minutes")')
  .option('--tell', 'send it to every team that heard of the incident, as an update')
  .option('--by <name>', 'who (default user@host)')
  .action(async (id: string, text: string[], options: { tell?: boolean; by?: string }) => (await commands.incidents()).noteCommand(id, text.join(' '), options, global()));

const maintenance = program.command('maintenance').description('maintenance windows: downtime that pages nobody');
maintenance
  .command('start')
  .description('put entities (and all they take down) in maintenance, now or later')
  .argument('<ids...>', 'entity ids (a host certname, service:mail, ...)')
  .option('--for <duration>', 'how long: 30m, 2h, 1h30m')
  .option('--until <time>', 'or until when (ISO 8601)')
  .option('--from <time>', 'when it starts (ISO 8601)', 'now')
  .option('--reason <text>', 'why, for whoever looks')
  .option('--by <name>', 'who, as shown with the window (default user@host)')
  .option('--json', 'the window and its downtime as JSON')
  .action(async (ids: string[], options: import('./commands/maintenance.ts').StartOptions) => (await commands.maintenance()).maintenanceStartCommand(ids, options, global()));
maintenance
  .command('plan')
  .description('what start would put in downtime, and what else is down then (failing now, other windows); creates nothing')
  .argument('<ids...>', 'entity ids (a host certname, service:mail, ...)')
  .option('--for <duration>', 'how long: 30m, 2h, 1h30m')
  .option('--until <time>', 'or until when (ISO 8601)')
  .option('--from <time>', 'when it starts (ISO 8601)', 'now')
  .option('--json', 'the plan as JSON')
  .action(async (ids: string[], options: import('./commands/maintenance.ts').StartOptions) => (await commands.maintenance()).maintenancePlanCommand(ids, options, global()));
maintenance
  .command('list')
  .description('windows in force or planned')
  .option('--all', 'ended ones too (until correlator.retention forgets them)')
  .option('--json', 'JSON instead of a table')
  .action(async (options: { all?: boolean; json?: boolean }) => (await commands.maintenance()).maintenanceListCommand(options, global()));
maintenance
  .command('cancel')
  .description('end a window now')
  .argument('<id>', 'the window id (mw-...)')
  .action(async (id: string) => (await commands.maintenance()).maintenanceCancelCommand(id, global()));

const silence = program.command('silence').description("silences: alerts whose incidents page nobody while they last (\"we know\")");
silence
  .command('add')
  .description('silence the alerts matching HOST[/CHECK] (globs: web*, web3.example.com/disk-*, */ntp), or an incident\'s root alerts')
  .argument('[matcher]', 'host glob, optionally /check glob')
  .option('--incident <id>', 'instead: the root alerts of this open incident, as they are now (inc-...)')
  .requiredOption('-m, --comment <text>', 'why, for whoever is on call next (required)')
  .option('--for <duration>', 'how long: 30m, 2h, 1h30m')
  .option('--until <time>', 'or until when (ISO 8601)')
  .option('--from <time>', 'when it starts (ISO 8601)', 'now')
  .option('--tag <key=value>', 'the alert must have this tag (repeatable)', collect)
  .option('--by <name>', 'who, as shown with the silence (default user@host)')
  .option('--json', 'the silence and the alerts it matches as JSON')
  .action(async (matcher: string | undefined, options: import('./commands/silence.ts').AddOptions) => (await commands.silence()).silenceAddCommand(matcher, options, global()));
silence
  .command('list')
  .description('silences in force or planned')
  .option('--all', 'ended and expired ones too (until correlator.retention forgets them)')
  .option('--json', 'JSON instead of a table')
  .action(async (options: { all?: boolean; json?: boolean }) => (await commands.silence()).silenceListCommand(options, global()));
silence
  .command('expire')
  .description('end a silence now (it is kept, with who ended it)')
  .argument('<id>', 'the silence id (sil-...)')
  .option('--by <name>', 'who (default user@host)')
  .action(async (id: string, options: { by?: string }) => (await commands.silence()).silenceExpireCommand(id, options, global()));

program
  .command('routes')
  .description("where notify.routes send a team's notifications, each kind or one; exit 1 if one has no route")
  .option('--team <id>', 'the team (team:dba); without it, a root nobody owns')
  .option('--severity <status>', 'ok, warning, critical or unknown', 'critical')
  .option('--kind <kind>', 'page, stakeholder, update or resolved (default: each)')
  .option('--change <change>', 'for an update: acknowledged, folded, reminder, storm or note')
  .option('--tag <key=value>', 'a tag of the root alerts (repeatable)', collect)
  .option('--at <time>', 'when (ISO 8601), for routes with a time of day (default now)')
  .option('--send', 'enqueue one test notification (needs --kind) through the outbox to those channels')
  .action(async (options: import('./commands/routes.ts').RoutesOptions) => (await commands.routes()).routesCommand(options, global()));

const deadLetters = program.command('dead-letters').description('what faultline refused or could not deliver, and putting notifications back');
deadLetters
  .command('list', { isDefault: true })
  .description('dead letters, newest first (kept 30 days)')
  .option('--since <duration>', 'how far back', '24h')
  .option('--events', 'only refused events')
  .option('--notifications', 'only notifications that were not delivered')
  .option('--limit <n>', 'at most this many, the newest', '20')
  .option('--json', 'the dead letters as stored, as JSON')
  .action(async (options: import('./commands/dead-letters.ts').ListOptions) => (await commands.deadLetters()).deadLettersListCommand(options, global()));
deadLetters
  .command('redeliver')
  .description('put dead-lettered notifications back into the outbox, once what failed them is fixed; exit 1 if one cannot go')
  .option('--since <duration>', 'dead letters stored this far back', '24h')
  .option('--seq <n>', 'only this one (repeatable; SEQ in the list)', collect)
  .option('--channel <name>', 'only those that failed on this channel')
  .option('--incident <id>', 'only those of this incident')
  .option('--stale', 'also those whose incident has resolved since (default: left alone; resolutions always go)')
  .option('--dry-run', 'say what would be redelivered, change nothing')
  .option('--json', 'the outcome of each, as JSON')
  .action(async (options: import('./commands/dead-letters.ts').RedeliverOptions) => (await commands.deadLetters()).deadLettersRedeliverCommand(options, global()));

const stack = program.command('stack').description('start or stop the local Neo4j and NATS used by dev and the tests');
type StackOptions = import('./commands/stack.ts').StackOptions;
const withStackOptions = (command: Command) =>
  command
    .addOption(new Option('--profile <profile>', 'dev (ports 7687/4222), test (7688/4223) or a name of your own (data in .faultline/<name>)').default('dev'))
    .option('--neo4j-port <port>', "override the profile's Neo4j port")
    .option('--nats-port <port>', "override the profile's NATS port");
withStackOptions(stack.command('up').description('start them (reuses running ones)')).action(async (o: StackOptions) => (await commands.stack()).stackUpCommand(o));
withStackOptions(stack.command('down').description('stop the ones faultline started')).action(async (o: StackOptions) => (await commands.stack()).stackDownCommand(o));
withStackOptions(stack.command('status').description('say whether they answer')).action(async (o: StackOptions) => (await commands.stack()).stackStatusCommand(o));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

/** One clear line per problem on stderr; the exit code says whether the user (2) or the world (1) must change. */
function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode; // commander has printed its own message
  if (err instanceof ConfigError) {
    for (const problem of err.problems) process.stderr.write(`faultline: ${problem}\n`);
    return 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`faultline: ${err.message}\n`);
    return 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`faultline: ${message}\n`);
  if (process.env.FAULTLINE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
