import { z } from 'zod';
import { jsonPath, type InputProblem } from '../problems.ts';

/**
 * Every catalog encoding faultline reads, reduced to one shape (`Catalog`). Detection happens here and only
 * here, by content: the agent / `puppet apply` cache and `puppet catalog find` (catalog_format 1 and 2, the
 * Puppet 3 `document_type`/`data` wrapper), the Puppet Server v4 answer `{catalog}`, PuppetDB wire formats v1 to
 * v9 (edges as `{source:{type,title}, target, relationship}`), the PuppetDB command envelope, PuppetDB query API
 * answers (an array of catalogs, `resources: {data: [...]}`), and PuppetDB's flattened export rows.
 */

export interface CatalogResource {
  type: string;
  title: string;
  parameters: Record<string, unknown>;
  exported: boolean;
}

export interface CatalogEdge {
  source: { type: string; title: string };
  target: { type: string; title: string };
  /** PuppetDB's relationship (contains, before, required-by, notifies, subscription-of); Puppet-format edges have none. */
  relationship?: string;
}

export interface Catalog {
  certname: string;
  environment?: string;
  resources: CatalogResource[];
  edges: CatalogEdge[];
  /** JSON path of this catalog within its file (`$`, `$[3]`, `$.catalog`...), for error messages. */
  at: string;
}

const title = z.union([z.string(), z.number()]).transform(String);
const resource = z.looseObject({
  type: z.string().min(1),
  title,
  parameters: z.record(z.string(), z.unknown()).nullish().transform((p) => p ?? {}),
  // Only a literal true marks an exported resource (a hand-edited fixture in the corpus says "old").
  exported: z.unknown().transform((e) => e === true || e === 'true'),
});
const refObject = z.looseObject({ type: z.string().min(1), title });
/** Puppet-format edges name their ends as "Type[title]" strings. */
const refString = z.string().transform((text, ctx) => {
  const open = text.indexOf('[');
  if (open <= 0 || !text.endsWith(']')) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a Type[title] reference` });
    return z.NEVER;
  }
  return { type: text.slice(0, open), title: text.slice(open + 1, -1) };
});
/** PuppetDB's query API answers edges flattened (`source_type`, `source_title`, ...); the wire format nests them. */
const unflattenEdge = (value: unknown) => {
  if (typeof value !== 'object' || value === null || !('source_type' in value)) return value;
  const e = value as Record<string, unknown>;
  return {
    source: { type: e.source_type, title: e.source_title },
    target: { type: e.target_type, title: e.target_title },
    ...(e.relationship != null ? { relationship: e.relationship } : {}),
  };
};
const edge = z.preprocess(
  unflattenEdge,
  z.looseObject({
    source: z.union([refObject, refString]),
    target: z.union([refObject, refString]),
    relationship: z.string().optional(),
  }),
);
/** A list, or PuppetDB's expanded `{data: [...], href}` form of one; errors keep their exact path. */
const listOrData = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && 'data' in v ? (v as { data: unknown }).data : v), z.array(item));

const flatCatalog = z.looseObject({
  name: z.string().min(1).optional(),
  certname: z.string().min(1).optional(),
  environment: z.string().nullish(),
  resources: listOrData(resource),
  edges: listOrData(edge).nullish().transform((e) => e ?? []),
});

const queryRow = z.looseObject({
  certname: z.string().min(1),
  environment: z.string().nullish(),
  type: z.string().min(1),
  title,
  exported: z.boolean().nullish(),
  parameters: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  source_type: z.string().nullish(),
  source_title: title.nullish(),
  target_type: z.string().nullish(),
  target_title: title.nullish(),
  relationship: z.string().nullish(),
});

export type Reading = { catalogs: Catalog[]; problems: InputProblem[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Finds the catalogs in a parsed JSON document; problems name the file and the JSON path. */
export function catalogsIn(document: unknown, file: string): Reading {
  const problems: InputProblem[] = [];
  const catalogs: Catalog[] = [];

  const visit = (value: unknown, path: PropertyKey[]): void => {
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every((row) => isRecord(row) && 'source_type' in row && 'certname' in row)) {
        catalogs.push(...fromQueryRows(value, path));
        return;
      }
      value.forEach((item, i) => visit(item, [...path, i]));
      return;
    }
    if (!isRecord(value)) {
      problems.push({ file, path: jsonPath(path), message: 'not a Puppet catalog: expected a JSON object or array' });
      return;
    }
    if (isRecord(value.catalog) && !('resources' in value)) return visit(value.catalog, [...path, 'catalog']);
    if (typeof value.command === 'string' && isRecord(value.payload)) {
      if (!/catalog/i.test(value.command)) {
        problems.push({ file, path: jsonPath([...path, 'command']), message: `a PuppetDB "${value.command}" command, not a catalog` });
        return;
      }
      return visit(value.payload, [...path, 'payload']);
    }
    if (isRecord(value.data) && !('resources' in value)) return visit(value.data, [...path, 'data']);
    if (!('resources' in value)) {
      problems.push({ file, path: jsonPath(path), message: `not a Puppet catalog: no "resources" (keys: ${Object.keys(value).slice(0, 8).join(', ') || 'none'})` });
      return;
    }
    const parsed = flatCatalog.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 5)) {
        problems.push({ file, path: jsonPath([...path, ...issue.path]), message: issue.message });
      }
      return;
    }
    const certname = parsed.data.certname ?? parsed.data.name;
    if (!certname) {
      problems.push({ file, path: jsonPath(path), message: 'the catalog names no node (neither "name" nor "certname")' });
      return;
    }
    catalogs.push({
      certname,
      ...(parsed.data.environment ? { environment: parsed.data.environment } : {}),
      resources: parsed.data.resources,
      edges: parsed.data.edges,
      at: jsonPath(path),
    });
  };

  const fromQueryRows = (rows: unknown[], path: PropertyKey[]): Catalog[] => {
    const byHost = new Map<string, Catalog & { seen: Set<string> }>();
    rows.forEach((raw, i) => {
      const row = queryRow.safeParse(raw);
      if (!row.success) {
        const issue = row.error.issues[0]!;
        problems.push({ file, path: jsonPath([...path, i, ...issue.path]), message: issue.message });
        return;
      }
      const r = row.data;
      let host = byHost.get(r.certname);
      if (!host) {
        host = { certname: r.certname, ...(r.environment ? { environment: r.environment } : {}), resources: [], edges: [], at: jsonPath(path), seen: new Set() };
        byHost.set(r.certname, host);
      }
      const key = `${r.type}[${r.title}]`;
      if (!host.seen.has(key)) {
        host.seen.add(key);
        let parameters: Record<string, unknown> = {};
        if (typeof r.parameters === 'string') {
          try {
            parameters = JSON.parse(r.parameters) as Record<string, unknown>;
          } catch {
            problems.push({ file, path: jsonPath([...path, i, 'parameters']), message: 'parameters is not valid JSON' });
          }
        } else if (r.parameters) {
          parameters = r.parameters;
        }
        host.resources.push({ type: r.type, title: r.title, parameters, exported: r.exported ?? false });
      }
      if (r.source_type && r.source_title != null && r.target_type && r.target_title != null) {
        host.edges.push({
          source: { type: r.source_type, title: r.source_title },
          target: { type: r.target_type, title: r.target_title },
          ...(r.relationship ? { relationship: r.relationship } : {}),
        });
      }
    });
    return [...byHost.values()].map(({ seen: _seen, ...catalog }) => catalog);
  };

  visit(document, []);
  if (catalogs.length === 0 && problems.length === 0) {
    problems.push({ file, path: '$', message: 'no catalog found (an empty array?)' });
  }
  return { catalogs, problems };
}
