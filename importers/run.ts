import cliProgress from 'cli-progress';
import type { NatsConnection } from '../src/bus/nats.ts';
import { SUBJECTS } from '../src/bus/layout.ts';
import { resolve } from 'node:path';
import { markAbsentHosts, writeFacts, writeHost, writeHostAndFacts, writeShared, type Stamp } from '../src/graph/load.ts';
import type { HostFactsRow, HostGraph } from '../src/graph/model.ts';
import type { Driver, Neo4jSettings } from '../src/graph/neo4j.ts';
import type { Logger } from '../src/log.ts';
import { expandInputs } from './files.ts';
import { formatProblem, type InputProblem } from './problems.ts';
import { isRemote, type FileReading, type NamedReading, type RemoteInput, type RemoteSource, type Source } from './source.ts';

export interface ImportOptions {
  full?: boolean;
  dryRun?: boolean;
  /** Stop at the first bad file instead of importing the others. */
  strict?: boolean;
  /** Host transactions in flight at once. */
  concurrency?: number;
}

/**
 * Four hosts in flight keep a 2-core Neo4j busy while others wait on their commit's disk flush and on round
 * trips: with two it sat a third idle (import bench: 8,600 resources/s with two, 11,100 with three, 11,800 with four).
 */
const DEFAULT_CONCURRENCY = 4;

export interface ImportTargets {
  neo4j: Driver;
  settings: Neo4jSettings;
  /** Told `faultline.topology.changed` after a successful import; optional (a warning when absent). */
  nats?: NatsConnection;
}

export interface ImportSummary {
  source: string;
  /** Files read, or requests made (pages of PuppetDB's API). */
  files: number;
  /** Files, or hosts' documents of a service, rejected whole. */
  failedFiles: number;
  /** Distinct hosts read (a host with a catalog and facts counts once). */
  hosts: number;
  /** Hosts whose content changed and was written; the rest were identical to their last import. */
  written: number;
  /** Hosts a write failed for. */
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
 * failed host is reported and skipped; the rest still import. A remote source (PuppetDB) names its inputs
 * itself (pages of its API) and goes through the same pipeline.
 */
export async function runImport(
  source: Source | RemoteSource,
  paths: string[],
  options: ImportOptions,
  log: Logger,
  targets?: ImportTargets,
): Promise<ImportSummary> {
  const started = performance.now();
  const files = await inputsOf(source, paths);
  const summary: ImportSummary = {
    source: source.name, files: files.length, failedFiles: 0, hosts: 0, written: 0, failedHosts: 0, resources: 0, edges: 0, warnings: 0, unmanaged: [], seconds: 0,
  };
  // A host may come twice (its catalog and its facts): it is counted once.
  const seen = new Set<string>();
  const tally: Tally = { written: new Set(), failed: new Set() };
  const report = (level: 'warn' | 'error', problem: InputProblem) => log[level]({ file: problem.file, path: problem.path, line: problem.line }, formatProblem(problem));

  const write = !options.dryRun && targets ? targets : undefined;
  const stamp = { source: source.name, generation: Date.now() };
  const certnames: string[] = [];
  const shared: { file: string; graph: NonNullable<FileReading['shared']> }[] = [];
  const bar = write ? progressBar(files.length) : undefined;

  // Files are read one at a time (parse → transform) and their hosts written as they come: reading the next
  // catalog overlaps with the database writing the last, and memory holds a few hosts, not the estate.
  async function* units(): AsyncGenerator<Unit> {
    for (const input of files) {
      let readings: NamedReading[];
      try {
        readings = await input.read();
      } catch (err) {
        readings = [{ name: input.name, hosts: [], problems: [{ file: input.name, path: '$', message: (err as Error).message }], warnings: [] }];
      }
      bar?.increment();
      for (const reading of readings) {
        const file = reading.name;
        reading.warnings.forEach((w) => report('warn', w));
        summary.warnings += reading.warnings.length;
        if (reading.problems.length > 0) {
          reading.problems.forEach((p) => report('error', p));
          summary.failedFiles++;
          if (options.strict) throw new Error(`${file}: stopped at the first bad file (--strict)`);
          continue;
        }
        if (reading.shared) {
          shared.push({ file, graph: reading.shared });
          summary.edges += reading.shared.dependencies.length + reading.shared.memberships.length;
        }
        // A host and its facts in one reading (a PuppetDB node) are one unit: one transaction.
        const hostsByName = new Set(reading.hosts.map((g) => g.certname));
        const factsOf = new Map<string, HostFactsRow>();
        for (const row of reading.facts ?? []) {
          seen.add(row.certname);
          if (hostsByName.has(row.certname) && !factsOf.has(row.certname)) factsOf.set(row.certname, row);
          else yield { file, facts: row };
        }
        for (const graph of reading.hosts) {
          seen.add(graph.certname);
          summary.resources += graph.resources.length;
          summary.edges += graph.dependencies.length + graph.memberships.length;
          certnames.push(graph.certname);
          const facts = factsOf.get(graph.certname);
          factsOf.delete(graph.certname);
          yield facts ? { file, host: graph, facts } : { file, host: graph };
        }
      }
    }
  }

  const queue = units();
  // Hosts are independent transactions, a few at once (DEFAULT_CONCURRENCY). The same host twice in one import (one
  // node's catalog in two encodings) is written in turn, never at once: both would take the fresh-host path and
  // CREATE its relations twice.
  const writing = new Map<string, Promise<void>>();
  const worker = async () => {
    for (let next = await queue.next(); !next.done; next = await queue.next()) {
      if (!write) continue;
      const unit = next.value;
      const certname = unit.host?.certname ?? unit.facts!.certname;
      const turn = (writing.get(certname) ?? Promise.resolve()).then(() => writeUnit(unit, write, stamp, tally, log));
      writing.set(certname, turn);
      await turn;
      if (writing.get(certname) === turn) writing.delete(certname);
    }
  };
  await Promise.all(Array.from({ length: write ? (options.concurrency ?? DEFAULT_CONCURRENCY) : 1 }, worker));
  bar?.stop();
  summary.hosts = seen.size;
  summary.written = tally.written.size;
  summary.failedHosts = tally.failed.size;

  if (write) {
    for (const { file, graph } of shared) {
      // A file's shared declarations are owned by the file (by absolute path), as a host's are by its certname.
      const owner = `${source.name}:${file === '-' || isRemote(source) ? file : resolve(file)}`;
      try {
        await writeShared(write.neo4j, write.settings, graph, owner, stamp);
      } catch (err) {
        // One transaction: the file's shared declarations stay as the last import left them; its hosts are written.
        summary.failedFiles++;
        log.error({ file }, `${file}: its shared declarations (services, groups, cross-host dependencies) were not imported (left as they were): ${(err as Error).message.split('\n')[0]}`);
      }
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

type Unit = { file: string; host: HostGraph; facts?: HostFactsRow } | { file: string; facts: HostFactsRow; host?: undefined };

/** Certnames written and failed (sets: a host's catalog and its facts are two writes of one host). */
interface Tally {
  written: Set<string>;
  failed: Set<string>;
}

/** The inputs of a file source (files, directories, `-`) or of a remote one (as it says), read alike. */
async function inputsOf(source: Source | RemoteSource, paths: string[]): Promise<RemoteInput[]> {
  if (isRemote(source)) return source.inputs(paths);
  return expandInputs(paths, source.extensions).map((file) => ({
    name: file.name,
    read: async (): Promise<NamedReading[]> => {
      const reading: FileReading = await source.read(file);
      return [{ ...reading, name: file.name }];
    },
  }));
}

/** One host, its facts, or both, in one transaction; a failure is logged and leaves that host as it was. */
async function writeUnit(unit: Unit, targets: ImportTargets, stamp: Stamp, tally: Tally, log: Logger): Promise<void> {
  const certname = unit.host?.certname ?? unit.facts!.certname;
  try {
    if (unit.host && unit.facts) {
      // Facts are written on every import, as `faultline import facts` does: the host counts as written.
      await writeHostAndFacts(targets.neo4j, targets.settings, unit.host, unit.facts, stamp);
      tally.written.add(certname);
    } else if (unit.host) {
      if ((await writeHost(targets.neo4j, targets.settings, unit.host, stamp)).written) tally.written.add(certname);
    } else {
      await writeFacts(targets.neo4j, targets.settings, unit.facts, stamp);
      tally.written.add(certname);
    }
  } catch (err) {
    tally.failed.add(certname);
    const what = unit.host && unit.facts ? `host ${certname} and its facts were` : unit.host ? `host ${certname} was` : `facts of ${certname} were`;
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
