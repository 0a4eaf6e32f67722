import type { HostFactsRow, HostGraph, SharedGraph } from '../src/graph/model.ts';
import type { InputFile } from './files.ts';
import type { InputProblem } from './problems.ts';

/** What reading one input file yields: graph rows, or the problems that stop this file (and only it). */
export interface FileReading {
  hosts: HostGraph[];
  shared?: SharedGraph;
  /** Facts imports yield facts only: merged into the hosts, never replacing their catalogs. */
  facts?: HostFactsRow[];
  /** Fatal for this file: nothing of it is written. */
  problems: InputProblem[];
  /** Written anyway, reported in the summary. */
  warnings: InputProblem[];
}

/** One importer: which files it takes from a directory, and how it reads one (parse → transform, pure). */
export interface Source {
  name: string;
  extensions: readonly string[];
  read(file: InputFile): FileReading | Promise<FileReading>;
}

/**
 * An importer whose input is not files but a service (PuppetDB's HTTP API): it turns the command-line arguments
 * into inputs (pages of a query), which the pipeline reads one at a time, so memory holds a page, not the estate.
 */
export interface RemoteSource {
  name: string;
  /** Fails (naming what it tried to reach) when the service cannot say what there is to read. */
  inputs(args: string[]): Promise<RemoteInput[]>;
}

/** One request's worth of input; each of its readings (one per host, say) is accepted or rejected alone. */
export interface RemoteInput {
  /** What messages name when the whole input fails (the request's URL). */
  name: string;
  read(): Promise<NamedReading[]>;
}

/** A reading and the name its problems are reported under (a file, or the URL of one host's document). */
export interface NamedReading extends FileReading {
  name: string;
}

export function isRemote(source: Source | RemoteSource): source is RemoteSource {
  return 'inputs' in source;
}
