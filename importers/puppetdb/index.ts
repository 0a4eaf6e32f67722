import type { FactsMapping } from '../../src/config/schema.ts';
import { detectFacts, isMap } from '../facts/detect.ts';
import { transformFacts } from '../facts/transform.ts';
import { jsonPath, type InputProblem } from '../problems.ts';
import { catalogsIn } from '../puppet/envelope.ts';
import { transformCatalog } from '../puppet/transform.ts';
import type { NamedReading, RemoteInput, RemoteSource } from '../source.ts';
import { PuppetdbClient, PuppetdbError, type ClientOptions } from './client.ts';

/**
 * `faultline import puppetdb URL`: the catalogs and factsets of every active node of a PuppetDB, read through
 * its query API (v4) and turned into graph rows by the same code as catalog and facts files
 * (`puppet/envelope.ts` + `puppet/transform.ts`, `facts/detect.ts` + `facts/transform.ts`).
 *
 * First the node list (`/pdb/query/v4/nodes`, paged with limit/offset, ordered by certname), then the nodes
 * in pages of `pageSize`: one query for the page's catalogs and one for its factsets (`["in", "certname",
 * ...]`). Fetching by name rather than by offset keeps a page exact while PuppetDB changes under the import:
 * a node replaced meanwhile is read in its newest state, never skipped or read twice. A node's catalog and its
 * facts are one reading, written in one transaction and rejected together when either is bad; each problem names
 * its document by URL (`…/pdb/query/v4/catalogs/<certname>`), which gives the same document.
 */

export const DEFAULT_PAGE_SIZE = 50;
const NODE_LIST_PAGE = 1000;

export interface PuppetdbOptions extends ClientOptions {
  /** Nodes per request: PuppetDB sends one page's catalogs in one answer (a catalog is often 0.5-2 MB). */
  pageSize?: number;
}

interface NodeRow {
  certname: string;
  catalog: boolean;
  facts: boolean;
}

export function createPuppetdbSource(mapping: FactsMapping, options: PuppetdbOptions = {}): RemoteSource {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`puppetdb: the page size must be a positive integer, not ${pageSize}`);
  return {
    name: 'puppetdb',
    async inputs(args: string[]): Promise<RemoteInput[]> {
      if (args.length !== 1) {
        throw new PuppetdbError(`import puppetdb takes one URL, the PuppetDB's base (such as http://puppetdb:8080); got ${args.length} arguments`);
      }
      const client = new PuppetdbClient(args[0]!, options);
      const nodes = await listNodes(client);
      const inputs: RemoteInput[] = [];
      for (let start = 0; start < nodes.length; start += pageSize) {
        const page = nodes.slice(start, start + pageSize);
        inputs.push({
          name: `${client.base}: nodes ${start + 1}-${start + page.length} of ${nodes.length} (${page[0]!.certname} to ${page.at(-1)!.certname})`,
          read: () => readPage(client, page, mapping),
        });
      }
      return inputs;
    },
  };
}

/** Every active node, by certname, with whether PuppetDB holds its catalog and its facts. */
async function listNodes(client: PuppetdbClient): Promise<NodeRow[]> {
  const byName = new Map<string, NodeRow>();
  for (let offset = 0; ; offset += NODE_LIST_PAGE) {
    const answer = await client.query('nodes', {
      query: ['extract', ['certname', 'catalog_timestamp', 'facts_timestamp']],
      order_by: [{ field: 'certname', order: 'asc' }],
      limit: NODE_LIST_PAGE,
      offset,
    });
    if (!Array.isArray(answer)) throw new PuppetdbError(`${client.endpoint('nodes')}: expected a JSON array of nodes, got ${describe(answer)}`);
    for (const row of answer) {
      if (!isMap(row) || typeof row.certname !== 'string') {
        throw new PuppetdbError(`${client.endpoint('nodes')}: expected nodes with a certname, got ${JSON.stringify(row)?.slice(0, 120)}`);
      }
      // A node that arrived meanwhile shifts the pages by one: the Map reads it once.
      byName.set(row.certname, { certname: row.certname, catalog: row.catalog_timestamp != null, facts: row.facts_timestamp != null });
    }
    if (answer.length < NODE_LIST_PAGE) break;
  }
  return [...byName.values()].sort((a, b) => (a.certname < b.certname ? -1 : a.certname > b.certname ? 1 : 0));
}

async function readPage(client: PuppetdbClient, page: NodeRow[], mapping: FactsMapping): Promise<NamedReading[]> {
  const byName = (entity: string, names: string[]): Promise<Documents> =>
    names.length === 0 ? Promise.resolve({ byCertname: new Map(), malformed: [] }) : fetchDocuments(client, entity, names);
  const [catalogs, factsets] = await Promise.all([
    byName('catalogs', page.filter((n) => n.catalog).map((n) => n.certname)),
    byName('factsets', page.filter((n) => n.facts).map((n) => n.certname)),
  ]);
  const readings: NamedReading[] = [];
  for (const [entity, { malformed }] of [['catalogs', catalogs], ['factsets', factsets]] as const) {
    if (malformed.length > 0) readings.push({ name: client.endpoint(entity), hosts: [], problems: malformed, warnings: [] });
  }
  // A node deactivated since the list was made has no document now: it is absent, as it would be next time.
  for (const node of page) {
    const catalog = catalogs.byCertname.get(node.certname);
    const factset = factsets.byCertname.get(node.certname);
    const parts = [
      ...(catalog ? [readCatalog(catalog, `${client.endpoint('catalogs')}/${node.certname}`)] : []),
      ...(factset ? [readFactset(factset, `${client.endpoint('factsets')}/${node.certname}`, mapping)] : []),
    ];
    if (parts.length > 0) readings.push(oneNode(parts));
  }
  return readings;
}

/**
 * A node's catalog and factset as one reading, so that they are written in one transaction, or neither when
 * either is bad: an import that fails for a node changes nothing of it. Each problem still names its document.
 */
function oneNode(parts: NamedReading[]): NamedReading {
  const [first] = parts;
  if (parts.length === 1) return first!;
  const problems = parts.flatMap((p) => p.problems);
  const warnings = parts.flatMap((p) => p.warnings);
  if (problems.length > 0) return { name: first!.name, hosts: [], facts: [], problems, warnings };
  return { name: first!.name, hosts: parts.flatMap((p) => p.hosts), facts: parts.flatMap((p) => p.facts ?? []), problems: [], warnings };
}

/** A query's documents by certname, and a problem for each one without a certname (reported, not dropped). */
interface Documents {
  byCertname: Map<string, unknown>;
  malformed: InputProblem[];
}

async function fetchDocuments(client: PuppetdbClient, entity: string, certnames: string[]): Promise<Documents> {
  const answer = await client.query(entity, {
    query: ['in', 'certname', ['array', certnames]],
    order_by: [{ field: 'certname', order: 'asc' }],
  });
  if (!Array.isArray(answer)) throw new PuppetdbError(`${client.endpoint(entity)}: expected a JSON array, got ${describe(answer)}`);
  const documents: Documents = { byCertname: new Map(), malformed: [] };
  answer.forEach((doc, i) => {
    if (isMap(doc) && typeof doc.certname === 'string') documents.byCertname.set(doc.certname, doc);
    else documents.malformed.push({ file: client.endpoint(entity), path: `[${i}]`, message: `expected a ${entity.slice(0, -1)} with a certname, got ${JSON.stringify(doc)?.slice(0, 120)}` });
  });
  return documents;
}

/** One catalog of the query API → one host graph, by the catalog importer's own parser and transform. */
function readCatalog(document: unknown, name: string): NamedReading {
  const { catalogs, problems } = catalogsIn(document, name);
  if (problems.length > 0) return { name, hosts: [], problems, warnings: [] };
  const warnings: InputProblem[] = [];
  const hosts = catalogs.map((catalog) => transformCatalog(catalog, (path, message) => warnings.push({ file: name, path, message })));
  return { name, hosts, problems: [], warnings };
}

/** One factset → one facts row, by the facts importer's detection and mapping. */
function readFactset(document: unknown, name: string, mapping: FactsMapping): NamedReading {
  const problem = (path: (string | number)[], message: string): InputProblem => ({ file: name, path: jsonPath(path), message });
  const detection = detectFacts(document);
  if (!detection.ok) return { name, hosts: [], facts: [], problems: detection.issues.map((i) => problem(i.path, i.message)), warnings: [] };
  const warnings: InputProblem[] = [];
  const problems: InputProblem[] = [];
  const facts = detection.hosts.flatMap((raw) => {
    const result = transformFacts(raw, mapping);
    warnings.push(...result.warnings.map((w) => problem(w.path, w.message)));
    if (!result.ok) {
      problems.push(problem(result.problem.path, result.problem.message));
      return [];
    }
    return [result.row];
  });
  if (problems.length > 0) return { name, hosts: [], facts: [], problems, warnings };
  return { name, hosts: [], facts, problems: [], warnings };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return `an object with keys ${Object.keys(value).slice(0, 6).join(', ')}`;
  return `a ${typeof value}`;
}
