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
