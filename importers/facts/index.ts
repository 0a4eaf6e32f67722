import type { FactsMapping } from '../../src/config/schema.ts';
import type { HostFactsRow } from '../../src/graph/model.ts';
import type { InputFile } from '../files.ts';
import { jsonPath, type InputProblem } from '../problems.ts';
import type { FileReading, Source } from '../source.ts';
import { detectFacts, type Issue } from './detect.ts';
import { parseFacts, type ParsedDocument } from './parse.ts';
import { transformFacts } from './transform.ts';

/**
 * `faultline import facts`: PuppetDB factsets and facts wire format, `facter --json` / `puppet facts` output,
 * Foreman's fact upload and Puppet's YAML facts cache, detected by content (docs/facts.md). Yields facts rows
 * only: they merge into the hosts, never touching their resources. `mapping` (the `facts:` configuration
 * section) says which raw facts become environment, location, rack, az, os, classes and the owner.
 */
export function createFactsSource(mapping: FactsMapping): Source {
  return {
    name: 'facts',
    extensions: ['.json', '.yaml', '.yml'],
    read: (file) => readFacts(file, mapping),
  };
}

export function readFacts(file: InputFile, mapping: FactsMapping): FileReading {
  const parsed = parseFacts(file);
  if (!parsed.ok) return { hosts: [], facts: [], problems: parsed.problems, warnings: [] };

  const rows: HostFactsRow[] = [];
  const problems: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const seen = new Map<string, string>();
  for (const doc of parsed.documents) {
    const located = (issue: Issue): InputProblem => locate(file.name, doc, issue);
    const detection = detectFacts(doc.value);
    if (!detection.ok) {
      problems.push(...detection.issues.map(located));
      continue;
    }
    if (detection.hosts.length === 0) warnings.push(located({ path: [], message: 'an empty list: no hosts in this file' }));
    for (const raw of detection.hosts) {
      const result = transformFacts(raw, mapping);
      warnings.push(...result.warnings.map(located));
      if (!result.ok) {
        problems.push(located(result.problem));
        continue;
      }
      const first = seen.get(result.row.certname);
      const here = jsonPath(raw.path);
      if (first !== undefined) {
        warnings.push(located({ path: raw.path, message: `${result.row.certname} appears again (first at ${first}): the later facts win` }));
        const index = rows.findIndex((r) => r.certname === result.row.certname);
        rows.splice(index, 1);
      }
      seen.set(result.row.certname, here);
      rows.push(result.row);
    }
  }
  // A bad host makes the file bad: nothing of it is written (the same rule as every importer).
  if (problems.length > 0) return { hosts: [], facts: [], problems, warnings };
  return { hosts: [], facts: rows, problems: [], warnings };
}

function locate(file: string, doc: ParsedDocument, issue: Issue): InputProblem {
  const line = doc.lineOf(issue.path);
  return {
    file,
    path: jsonPath(issue.path),
    message: doc.index !== undefined ? `document ${doc.index}: ${issue.message}` : issue.message,
    ...(line ? { line } : {}),
  };
}
