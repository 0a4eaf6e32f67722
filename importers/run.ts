import cliProgress from 'cli-progress';
import type { NatsConnection } from '../src/bus/nats.ts';
import { SUBJECTS } from '../src/bus/layout.ts';
import { resolve } from 'node:path';
import { markAbsentHosts, writeFacts, writeHost, writeShared, type Stamp } from '../src/graph/load.ts';
import type { HostFactsRow, HostGraph } from '../src/graph/model.ts';
import type { Driver, Neo4jSettings } from '../src/graph/neo4j.ts';
import type { Logger } from '../src/log.ts';
import { expandInputs } from './files.ts';
import { formatProblem, type InputProblem } from './problems.ts';
import type { FileReading, Source } from './source.ts';

export interface ImportOptions {
  full?: boolean;
  dryRun?: boolean;
  /** Stop at the first bad file instead of importing the others. */
  strict?: boolean;
  /** Host transactions in flight at once. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 2;



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

  const write = !options.dryRun && targets ? targets : undefined;
  const stamp = { source: source.name, generation: Date.now() };
  const certnames: string[] = [];
  const shared: { file: string; graph: NonNullable<FileReading['shared']> }[] = [];
  const bar = write ? progressBar(files.length) : undefined;

  // Files are read one at a time (parse → transform) and their hosts written as they come: reading the next
  // catalog overlaps with the database writing the last, and memory holds a few hosts, not the estate.
  async function* units(): AsyncGenerator<Unit> {
    for (const file of files) {
      let reading: FileReading;
      try {
        reading = await source.read(file);
      } catch (err) {
        reading = { hosts: [], problems: [{ file: file.name, path: '$', message: (err as Error).message }], warnings: [] };
      }
      reading.warnings.forEach((w) => report('warn', w));
      summary.warnings += reading.warnings.length;
      bar?.increment();
      if (reading.problems.length > 0) {
        reading.problems.forEach((p) => report('error', p));
        summary.failedFiles++;
        if (options.strict) throw new Error(`${file.name}: stopped at the first bad file (--strict)`);
        continue;
      }
      if (reading.shared) {
        shared.push({ file: file.name, graph: reading.shared });
        summary.edges += reading.shared.dependencies.length + reading.shared.memberships.length;
      }
      for (const row of reading.facts ?? []) {
        summary.hosts++;
        yield { file: file.name, facts: row };
      }
      for (const graph of reading.hosts) {
        summary.hosts++;
        summary.resources += graph.resources.length;
        summary.edges += graph.dependencies.length + graph.memberships.length;
        certnames.push(graph.certname);
        yield { file: file.name, host: graph };
      }
    }
  }

  const queue = units();
  // Hosts are independent transactions; two at once keep both the database and this process busy (more
  // only queue on the locks of shared vertices on a 2-core machine).
  const worker = async () => {
    for (let next = await queue.next(); !next.done; next = await queue.next()) {
      if (write) await writeUnit(next.value, write, stamp, summary, log);
    }
  };
  await Promise.all(Array.from({ length: write ? (options.concurrency ?? DEFAULT_CONCURRENCY) : 1 }, worker));
  bar?.stop();

  if (write) {
    for (const { file, graph } of shared) {
      // A file's shared declarations are owned by the file (by absolute path), as a host's are by its certname.
      const owner = `${source.name}:${file === '-' ? '-' : resolve(file)}`;
      await writeShared(write.neo4j, write.settings, graph, owner, stamp);
    }
    if (options.full && summary.failedFiles === 0 && summary.failedHosts === 0) {
      summary.unmanaged = await markAbsentHosts(write.neo4j, write.settings, source.name, certnames);
    } else if (options.full) {
      log.warn('--full: some input failed, so no host is marked unmanaged this time');
    }
    await announce(write, summary, stamp.generation, log);
  }
  summary.seconds = Math.round((performance.now() - started) / 10) / 100;
  return summary;
}

type Unit = { file: string; host: HostGraph; facts?: undefined } | { file: string; facts: HostFactsRow; host?: undefined };

/** One host (or one host's facts) in its own transaction; a failure is logged and leaves that host as it was. */
async function writeUnit(unit: Unit, targets: ImportTargets, stamp: Stamp, summary: ImportSummary, log: Logger): Promise<void> {
  const certname = unit.host?.certname ?? unit.facts!.certname;
  try {
    if (unit.host) {
      if ((await writeHost(targets.neo4j, targets.settings, unit.host, stamp)).written) summary.written++;
    } else {
      await writeFacts(targets.neo4j, targets.settings, unit.facts, stamp);
      summary.written++;
    }
  } catch (err) {
    summary.failedHosts++;
    const what = unit.host ? `host ${certname} was` : `facts of ${certname} were`;
    log.error({ file: unit.file, host: certname }, `${unit.file}: ${what} not imported (left as it was): ${(err as Error).message.split('\n')[0]}`);
  }
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
    { format: 'importing {bar} {value}/{total} files  {eta_formatted} left', stream: process.stderr, hideCursor: true },
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
