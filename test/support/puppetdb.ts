import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { stackDir } from '../../src/stack/process.ts';
import { ensurePuppetdb, stopPuppetdb } from '../../src/stack/puppetdb.ts';

/**
 * A real PuppetDB for the suites that need one (Debian's `puppetdb`, started by src/stack/puppetdb.ts on port
 * 8091 with its data in `.faultline/test/`), and what a Puppet Server does to it: submit catalogs and facts
 * through the command API, then wait until PuppetDB has processed them. PUPPETDB_URL names an existing one
 * instead (its nodes are deleted!).
 */

export const TEST_PUPPETDB_PORT = 8091;

export interface TestPuppetdb {
  url: string;
  stop(): Promise<void>;
}

export async function startTestPuppetdb(): Promise<TestPuppetdb> {
  if (process.env.PUPPETDB_URL) return { url: process.env.PUPPETDB_URL.replace(/\/+$/, ''), stop: async () => undefined };
  const dir = stackDir('test');
  const pdb = await ensurePuppetdb(dir, TEST_PUPPETDB_PORT);
  return {
    url: pdb.url,
    stop: async () => {
      if (pdb.started && process.env.FAULTLINE_KEEP_STACK !== '1') await stopPuppetdb(dir);
    },
  };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

export function query(base: string, entity: string, body: Record<string, unknown>): Promise<unknown> {
  return post(`${base}/pdb/query/v4/${entity}`, body);
}

/** `POST /pdb/cmd/v1?command=...&version=...&certname=...` with the payload as the body, as the terminus does. */
export async function submitCommand(base: string, command: string, version: number, certname: string, payload: unknown): Promise<void> {
  const params = new URLSearchParams({ command, version: String(version), certname });
  const stamp = (payload as { producer_timestamp?: string }).producer_timestamp;
  if (stamp) params.set('producer-timestamp', stamp);
  await post(`${base}/pdb/cmd/v1?${params}`, payload);
}

/** Removes every node PuppetDB knows (admin `delete` command, processed at once): a suite starts from nothing. */
export async function deleteAllNodes(base: string): Promise<void> {
  const nodes = (await query(base, 'nodes', { query: ['extract', ['certname'], ['=', 'node_state', 'any']] })) as { certname: string }[];
  for (const { certname } of nodes) {
    await post(`${base}/pdb/admin/v1/cmd`, { command: 'delete', version: 1, payload: { certname } });
  }
}

/** Polls until `done` holds (commands are processed asynchronously); fails with what is still missing. */
export async function waitFor(what: string, done: () => Promise<string[]>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = [];
  while (Date.now() < deadline) {
    missing = await done();
    if (missing.length === 0) return;
    await sleep(200);
  }
  throw new Error(`PuppetDB did not process ${what} within ${timeoutMs / 1000} s; still missing: ${missing.slice(0, 10).join(', ')}`);
}

/** Until every certname has exactly this catalog (by catalog_uuid): the commands were processed, not dropped. */
export function waitForCatalogs(base: string, expected: Map<string, string>): Promise<void> {
  return waitFor(`${expected.size} catalogs`, async () => {
    const rows = (await query(base, 'catalogs', { query: ['extract', ['certname', 'catalog_uuid']] })) as { certname: string; catalog_uuid: string }[];
    const have = new Map(rows.map((r) => [r.certname, r.catalog_uuid]));
    return [...expected].filter(([certname, uuid]) => have.get(certname) !== uuid).map(([certname]) => certname);
  });
}

/** Until every certname has facts produced at this time. */
export function waitForFactsets(base: string, expected: Map<string, string>): Promise<void> {
  return waitFor(`${expected.size} factsets`, async () => {
    const rows = (await query(base, 'factsets', { query: ['extract', ['certname', 'producer_timestamp']] })) as { certname: string; producer_timestamp: string }[];
    const have = new Map(rows.map((r) => [r.certname, Date.parse(r.producer_timestamp)]));
    return [...expected].filter(([certname, stamp]) => have.get(certname) !== Date.parse(stamp)).map(([certname]) => certname);
  });
}

type Ref = { type: string; title: string };
type PuppetResource = { type: string; title: string | number; tags?: string[]; exported?: boolean; file?: string; line?: number; parameters?: Record<string, unknown> };
type PuppetCatalog = { name: string; version: string | number; environment: string; code_id?: string | null; catalog_uuid?: string; resources: PuppetResource[]; edges: { source: string; target: string }[] };

/** PuppetDB's relationship for each relationship metaparameter, and whether the edge starts at the referenced resource. */
const METAPARAM_EDGES = {
  require: { relationship: 'required-by', fromTarget: true },
  subscribe: { relationship: 'subscription-of', fromTarget: true },
  before: { relationship: 'before', fromTarget: false },
  notify: { relationship: 'notifies', fromTarget: false },
} as const;

function parseRef(text: string): Ref {
  const open = text.indexOf('[');
  return { type: text.slice(0, open), title: text.slice(open + 1, -1) };
}

/**
 * A Puppet catalog (catalog_format 1 or 2, as the agent caches it) → the catalog wire format v9 that the
 * PuppetDB terminus of a Puppet Server sends with `replace_catalog`: resources without `kind`, containment
 * edges with `relationship: contains`, and one edge per relationship metaparameter (resolved by title or alias,
 * as the terminus does), the metaparameters staying among the parameters.
 */
export function toWireFormat(catalog: PuppetCatalog, producerTimestamp: string): Record<string, unknown> & { certname: string; catalog_uuid: string } {
  const key = (ref: Ref) => `${ref.type.toLowerCase()}[${ref.type === 'Class' ? ref.title.toLowerCase() : ref.title}]`;
  const byKey = new Map<string, Ref>();
  const resources = catalog.resources.map((r) => {
    const ref = { type: r.type, title: String(r.title) };
    byKey.set(key(ref), ref);
    for (const alias of [r.parameters?.alias].flat()) {
      if (typeof alias === 'string') byKey.set(key({ type: r.type, title: alias }), ref);
    }
    return {
      type: r.type,
      title: String(r.title),
      exported: r.exported ?? false,
      tags: r.tags ?? [],
      parameters: r.parameters ?? {},
      ...(r.file ? { file: r.file } : {}),
      ...(r.line !== undefined ? { line: r.line } : {}),
    };
  });
  const edges: { source: Ref; target: Ref; relationship: string }[] = catalog.edges.map((e) => ({
    source: parseRef(e.source),
    target: parseRef(e.target),
    relationship: 'contains',
  }));
  for (const r of catalog.resources) {
    const self = { type: r.type, title: String(r.title) };
    for (const [param, { relationship, fromTarget }] of Object.entries(METAPARAM_EDGES)) {
      for (const text of [r.parameters?.[param] ?? []].flat()) {
        const other = typeof text === 'string' ? byKey.get(key(parseRef(text))) : undefined;
        if (!other) continue;
        edges.push(fromTarget ? { source: other, target: self, relationship } : { source: self, target: other, relationship });
      }
    }
  }
  return {
    certname: catalog.name,
    version: String(catalog.version),
    environment: catalog.environment,
    transaction_uuid: randomUUID(),
    catalog_uuid: randomUUID(),
    code_id: catalog.code_id ?? null,
    job_id: null,
    producer_timestamp: producerTimestamp,
    producer: 'puppet.example.com',
    resources,
    edges,
  };
}
