import cliProgress from 'cli-progress';
import type { NatsConnection } from '../src/bus/nats.ts';
import { SUBJECTS } from '../src/bus/layout.ts';
import { resolve } from 'node:path';
import { markAbsentHosts, writeFacts, writeHost, writeShared } from '../src/graph/load.ts';
import type { Driver, Neo4jSettings } from '../src/graph/neo4j.ts';
import type { Logger } from '../src/log.ts';
import { expandInputs } from './files.ts';
import { formatProblem, type InputProblem } from './problems.ts';
import type { Source } from './source.ts';

export interface ImportOptions {
  full?: boolean;
  dryRun?: boolean;
  /** Stop at the first bad file instead of importing the others. */
  strict?: boolean;
  /** Host transactions in flight at once. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 2;

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface ImportTargets {
  neo4j: Driver;
  settings: Neo4jSettings;
  /** Told `faultline.topology.changed` after a successful import; optional (a warning when absent). */
  nats?: NatsConnection;
}

export interface ImportSummary {
  source: string;
  files: number;
  failedFiles: number;
  hosts: number;
  /** Hosts whose content changed and was written; the rest were identical to their last import. */
  written: number;
  failedHosts: number;
  resources: number;
  edges: number;
  warnings: number;
  /** Hosts of this source absent from a --full import, now managed: false. */
  unmanaged: string[];
  seconds: number;
}

/**
 * The sync pipeline every importer shares: read each file (parse → transform, pure), then load each host in
 * its own transaction, mark what a full import no longer contains, and announce the change. A bad file or a
 * failed host is reported and skipped; the rest still import.
 */
export async function runImport(
  source: Source,
  paths: string[],
  options: ImportOptions,
  log: Logger,
  targets?: ImportTargets,
): Promise<ImportSummary> {
  const started = performance.now();
  const files = expandInputs(paths, source.extensions);
  const summary: ImportSummary = {
    source: source.name, files: files.length, failedFiles: 0, hosts: 0, written: 0, failedHosts: 0, resources: 0, edges: 0, warnings: 0, unmanaged: [], seconds: 0,
  };
  const report = (level: 'warn' | 'error', problem: InputProblem) => log[level]({ file: problem.file, path: problem.path, line: problem.line }, formatProblem(problem));

  const readings = [];
  for (const file of files) {
    let reading;
    try {
      reading = await source.read(file);
    } catch (err) {
      reading = { hosts: [], problems: [{ file: file.name, path: '$', message: (err as Error).message }], warnings: [] };
    }
    reading.warnings.forEach((w) => report('warn', w));
    summary.warnings += reading.warnings.length;
    if (reading.problems.length > 0) {
      reading.problems.forEach((p) => report('error', p));
      summary.failedFiles++;
      if (options.strict) throw new Error(`${file.name}: stopped at the first bad file (--strict)`);
      continue;
    }
    readings.push({ file: file.name, ...reading });
  }

  const hosts = readings.flatMap((r) => r.hosts.map((graph) => ({ file: r.file, graph })));
  const facts = readings.flatMap((r) => (r.facts ?? []).map((row) => ({ file: r.file, row })));
  summary.hosts = hosts.length + facts.length;
  summary.resources = hosts.reduce((n, h) => n + h.graph.resources.length, 0);
  summary.edges = hosts.reduce((n, h) => n + h.graph.dependencies.length + h.graph.memberships.length, 0) +
    readings.reduce((n, r) => n + (r.shared ? r.shared.dependencies.length + r.shared.memberships.length : 0), 0);

  if (!options.dryRun && targets) {
    const stamp = { source: source.name, generation: Date.now() };
    const bar = progressBar(hosts.length + facts.length);
    for (const { file, row } of facts) {
      try {
        await writeFacts(targets.neo4j, targets.settings, row, stamp);
        summary.written++;
      } catch (err) {
        summary.failedHosts++;
        log.error({ file, host: row.certname }, `${file}: facts of ${row.certname} were not imported (left as they were): ${(err as Error).message.split('\n')[0]}`);
      }
      bar?.increment();
    }
    // Hosts are independent transactions; a few at once keep both the database and this process busy.
    await inParallel(hosts, options.concurrency ?? DEFAULT_CONCURRENCY, async ({ file, graph }) => {
      try {
        const result = await writeHost(targets.neo4j, targets.settings, graph, stamp);
        if (result.written) summary.written++;
      } catch (err) {
        summary.failedHosts++;
        log.error({ file, host: graph.certname }, `${file}: host ${graph.certname} was not imported (left as it was): ${(err as Error).message.split('\n')[0]}`);
      }
      bar?.increment();
    });
    bar?.stop();
    for (const reading of readings) {
      // A file's shared declarations are owned by the file (by absolute path), as a host's are by its certname.
      const owner = `${source.name}:${reading.file === '-' ? '-' : resolve(reading.file)}`;
      if (reading.shared) await writeShared(targets.neo4j, targets.settings, reading.shared, owner, stamp);
    }
    if (options.full && summary.failedFiles === 0 && summary.failedHosts === 0) {
      summary.unmanaged = await markAbsentHosts(targets.neo4j, targets.settings, source.name, hosts.map((h) => h.graph.certname));
    } else if (options.full) {
      log.warn('--full: some input failed, so no host is marked unmanaged this time');
    }
    await announce(targets, summary, stamp.generation, log);
  }
  summary.seconds = Math.round((performance.now() - started) / 10) / 100;
  return summary;
}

async function announce(targets: ImportTargets, summary: ImportSummary, generation: number, log: Logger): Promise<void> {
  if (!targets.nats) {
    log.warn(`${SUBJECTS.topologyChanged} not published: NATS is not connected; running engines reload at their next start`);
    return;
  }
  targets.nats.publish(SUBJECTS.topologyChanged, JSON.stringify({ source: summary.source, generation, hosts: summary.hosts, written: summary.written }));
  await targets.nats.flush();
}

function progressBar(total: number): cliProgress.SingleBar | undefined {
  if (!process.stderr.isTTY || total < 2) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'importing {bar} {value}/{total} hosts  {eta_formatted} left', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

export function summaryLine(s: ImportSummary, dryRun: boolean): string {
  const parts = [
    `${s.hosts} hosts`,
    `${s.resources} resources`,
    `${s.edges} edges`,
    `${s.warnings} warnings`,
    ...(dryRun ? [] : [`${s.written} written`, `${s.hosts - s.written - s.failedHosts} unchanged`]),
    ...(s.failedFiles ? [`${s.failedFiles} bad files`] : []),
    ...(s.failedHosts ? [`${s.failedHosts} failed hosts`] : []),
    ...(s.unmanaged.length ? [`${s.unmanaged.length} now unmanaged`] : []),
    `${s.seconds} s`,
  ];
  return `${dryRun ? 'validated (dry run, nothing written)' : `imported from ${s.source}`}: ${parts.join(', ')}`;
}
