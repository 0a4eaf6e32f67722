import { z } from 'zod';

/**
 * Which facts format a document is in, decided by content (never by file name), in this one place. Every
 * format comes down to the same thing: a host's name (when the document says it) and its raw fact map.
 *
 * | format               | shape                                                                          |
 * | -------------------- | ------------------------------------------------------------------------------ |
 * | `puppetdb-factset`   | `{certname, environment, facts: {data: [{name, value}], href} | [...] | {map}}`, alone or in a list (`/pdb/query/v4/factsets`, `/inventory`) |
 * | `puppetdb-wire`      | `{certname | name, environment, values, producer...}` (facts wire format v3-v5) |
 * | `puppet-node-facts`  | `{name, values, timestamp?, expiration?}` (`puppet facts`, YAML facts cache)    |
 * | `foreman`            | `{name, facts: {map}}` (Foreman's fact upload)                                  |
 * | `puppetdb-fact-rows` | `[{certname, name, value}]` (`/pdb/query/v4/facts`), grouped by certname       |
 * | `fact-hash`          | a bare fact hash (`facter --json`, `puppet facts show`, octofacts)             |
 *
 * A PuppetDB command (`{command: "replace facts", payload}`) is unwrapped. Anything else is not facts, with
 * the reason (a catalog, a report, a native topology file, or no fact Facter writes).
 */

export type FactsFormat = 'puppetdb-factset' | 'puppetdb-wire' | 'puppet-node-facts' | 'foreman' | 'puppetdb-fact-rows' | 'fact-hash';
export type FactMap = Record<string, unknown>;
export type JsonPathKeys = (string | number)[];

/** One host found in a document, before any mapping. */
export interface RawHost {
  format: FactsFormat;
  /** Where this host's document is in the file. */
  path: JsonPathKeys;
  /** Where its facts are in the file (problems about a fact name this path). */
  factsPath: JsonPathKeys;
  /** The facts are a list of {name, value} (PuppetDB), so a fact's own path in the file is not `factsPath.<name>`. */
  listed?: boolean;
  /** The host's name as the document states it (certname / name); absent for bare fact hashes. */
  certname?: string;
  /** The environment the document states beside the facts (PuppetDB), used when the facts have none. */
  environment?: string;
  facts: FactMap;
}

export interface Issue {
  path: JsonPathKeys;
  message: string;
}

export type Detection = { ok: true; hosts: RawHost[] } | { ok: false; issues: Issue[] };

const NOT_FACTS = 'not a facts document';
/** A list with many bad entries reports the first ones; the rest are usually the same mistake. */
const MAX_ISSUES = 10;

/** Facts that Facter (any version) or Puppet writes: a map with none of them is not a fact hash. */
const FACTER_KEYS = new Set([
  'facterversion', 'clientcert', 'clientversion', 'trusted', 'fqdn', 'hostname', 'domain', 'networking', 'os', 'kernel',
  'kernelrelease', 'kernelversion', 'architecture', 'hardwaremodel', 'operatingsystem', 'osfamily', 'ipaddress', 'macaddress',
  'processors', 'processorcount', 'memory', 'memorysize', 'uptime', 'system_uptime', 'timezone', 'is_virtual', 'virtual',
  'puppetversion', 'aio_agent_version', 'identity', 'dmi', 'disks', 'ec2_metadata', 'gce', 'azure_metadata',
]);

/** Keys a facts envelope may carry beside its facts: with only these, `values`/`facts` is the fact map. */
const ENVELOPE_KEYS = new Set([
  'certname', 'name', 'environment', 'values', 'facts', 'trusted', 'timestamp', 'expiration', 'producer', 'producer_timestamp',
  'producer-timestamp', 'package_inventory', 'hash', 'href', 'transaction_uuid', 'transaction-uuid', 'latest_report_hash',
]);

const text = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${what} is missing` : `${what} must be text, found ${describe(issue.input)}`) });
const certname = text('the certname').trim().min(1, { error: 'the certname is empty' }).regex(/^\S+$/, { error: 'a certname has no spaces' });
const factMap = z.record(z.string(), z.unknown(), { error: 'expected a map of fact names to values' });
const factEntries = z.array(z.looseObject({ name: text("the fact's name").min(1, { error: "the fact's name is empty" }), value: z.unknown() }), {
  error: 'expected a list of {name, value}',
});
const envelope = z.looseObject({
  certname: certname.optional(),
  name: certname.optional(),
  environment: text('the environment').nullish(),
});
const factRow = z.looseObject({ certname, name: text("the fact's name").min(1, { error: "the fact's name is empty" }), value: z.unknown(), environment: text('the environment').nullish() });

export function detectFacts(value: unknown): Detection {
  if (Array.isArray(value)) return detectList(value);
  const issues: Issue[] = [];
  const hosts = detectOne(value, [], issues);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, hosts };
}

function detectList(list: unknown[]): Detection {
  if (list.length === 0) return { ok: true, hosts: [] };
  if (list.every((row) => isMap(row) && 'certname' in row && 'name' in row && 'value' in row && !('values' in row) && !('facts' in row))) {
    return detectFactRows(list);
  }
  const issues: Issue[] = [];
  const hosts = list.flatMap((entry, i) => detectOne(entry, [i], issues));
  if (issues.length === 0) return { ok: true, hosts };
  const prefix = `${NOT_FACTS}: `;
  if (hosts.length === 0 && issues.length === list.length && issues.every((issue) => issue.message.startsWith(prefix))) {
    // A list of something else (catalog rows, resources): one reason, not one per entry.
    const first = issues[0]!.message.slice(prefix.length);
    return { ok: false, issues: [{ path: [], message: `${prefix}a list of ${list.length} entries, none of them facts (the first: ${first})` }] };
  }
  if (issues.length > MAX_ISSUES) {
    return { ok: false, issues: [...issues.slice(0, MAX_ISSUES), { path: [], message: `and ${issues.length - MAX_ISSUES} more problems in this list` }] };
  }
  return { ok: false, issues };
}

/** `/pdb/query/v4/facts`: one row per fact, grouped into one host per certname (in order of appearance). */
function detectFactRows(list: unknown[]): Detection {
  const byHost = new Map<string, RawHost>();
  const issues: Issue[] = [];
  list.forEach((entry, i) => {
    const row = factRow.safeParse(entry);
    if (!row.success) {
      if (issues.length < MAX_ISSUES) issues.push(...zodIssues(row.error, [i]));
      return;
    }
    let host = byHost.get(row.data.certname);
    if (!host) {
      host = { format: 'puppetdb-fact-rows', path: [i], factsPath: [i], listed: true, certname: row.data.certname, facts: {} };
      if (row.data.environment) host.environment = row.data.environment;
      byHost.set(row.data.certname, host);
    }
    host.facts[row.data.name] = row.data.value;
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, hosts: [...byHost.values()] };
}

function detectOne(value: unknown, path: JsonPathKeys, issues: Issue[]): RawHost[] {
  if (!isMap(value)) {
    issues.push({ path, message: `${NOT_FACTS}: expected a map of facts or a facts envelope, found ${describe(value)}` });
    return [];
  }
  if (typeof value.command === 'string' && 'payload' in value) {
    if (!/facts/i.test(value.command)) {
      issues.push({ path, message: `${NOT_FACTS}: this is a PuppetDB "${value.command}" command` });
      return [];
    }
    if (typeof value.payload === 'string') {
      // Old PuppetDB commands carry the payload as a JSON string.
      try {
        return detectOne(JSON.parse(value.payload), [...path, 'payload'], issues);
      } catch {
        issues.push({ path: [...path, 'payload'], message: 'the command payload is a string that is not JSON' });
        return [];
      }
    }
    return detectOne(value.payload, [...path, 'payload'], issues);
  }
  const other = notFacts(value);
  if (other) {
    issues.push({ path, message: `${NOT_FACTS}: ${other}` });
    return [];
  }

  const named = 'certname' in value || 'name' in value;
  const onlyEnvelope = Object.keys(value).every((key) => ENVELOPE_KEYS.has(key));
  if ('values' in value && (named || onlyEnvelope)) return envelopeHost(value, path, 'values', issues);
  if ('facts' in value && (named || onlyEnvelope)) return envelopeHost(value, path, 'facts', issues);

  if (!Object.keys(value).some((key) => FACTER_KEYS.has(key))) {
    const keys = Object.keys(value);
    issues.push({
      path,
      message: `${NOT_FACTS}: a map with none of the facts Facter writes (facterversion, fqdn, os, networking, kernel, ...) and no facts envelope ({certname|name, values} or {certname|name, facts}); its keys: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`,
    });
    return [];
  }
  return [{ format: 'fact-hash', path, factsPath: path, facts: value }];
}

function envelopeHost(value: FactMap, path: JsonPathKeys, key: 'values' | 'facts', issues: Issue[]): RawHost[] {
  const head = envelope.safeParse(value);
  if (!head.success) {
    issues.push(...zodIssues(head.error, path));
    return [];
  }
  const name = head.data.certname ?? head.data.name;
  const found = key === 'values' ? valuesMap(value.values, [...path, key], issues) : factsetMap(value.facts, [...path, key], issues);
  if (!found) return [];
  const { facts } = found;
  if (key === 'facts' && isMap(value.trusted) && !('trusted' in facts)) facts.trusted = value.trusted; // /inventory
  const format: FactsFormat =
    key === 'facts'
      ? 'certname' in value || 'environment' in value || found.listed ? 'puppetdb-factset' : 'foreman'
      : 'certname' in value || 'producer' in value || 'environment' in value ? 'puppetdb-wire' : 'puppet-node-facts';
  return [
    {
      format,
      path,
      factsPath: found.path,
      ...(found.listed ? { listed: true } : {}),
      ...(name ? { certname: name } : {}),
      ...(head.data.environment ? { environment: head.data.environment } : {}),
      facts,
    },
  ];
}

interface FoundFacts {
  facts: FactMap;
  path: JsonPathKeys;
  listed: boolean;
}

function valuesMap(values: unknown, path: JsonPathKeys, issues: Issue[]): FoundFacts | undefined {
  const parsed = factMap.safeParse(values);
  if (parsed.success) return { facts: { ...parsed.data }, path, listed: false };
  issues.push({ path, message: `expected a map of fact names to values, found ${describe(values)}` });
  return undefined;
}

/** A factset's `facts`: `{data: [{name, value}], href}` (PuppetDB, expanded), a bare list of them, or a map. */
function factsetMap(facts: unknown, path: JsonPathKeys, issues: Issue[]): FoundFacts | undefined {
  if (isMap(facts) && 'href' in facts && !('data' in facts) && Object.keys(facts).length === 1) {
    issues.push({ path, message: `the facts were not included, only a link to them (${String(facts.href)}); query PuppetDB for factsets with their facts` });
    return undefined;
  }
  const inner = isMap(facts) && Object.keys(facts).every((key) => key === 'data' || key === 'href') ? facts.data : facts;
  const listPath = inner === facts ? path : [...path, 'data'];
  if (Array.isArray(inner)) {
    const entries = factEntries.safeParse(inner);
    if (!entries.success) {
      issues.push(...zodIssues(entries.error, listPath));
      return undefined;
    }
    return { facts: Object.fromEntries(entries.data.map((entry) => [entry.name, entry.value])), path: listPath, listed: true };
  }
  const parsed = factMap.safeParse(inner);
  if (parsed.success) return { facts: { ...parsed.data }, path: listPath, listed: false };
  issues.push({ path: listPath, message: `expected a map of facts, a list of {name, value} or {data: [{name, value}]}, found ${describe(inner)}` });
  return undefined;
}

/** Documents that are something else faultline or Puppet writes, with what they are. */
function notFacts(value: FactMap): string | undefined {
  const inner = isMap(value.data) ? value.data : isMap(value.catalog) ? value.catalog : value;
  if (value.document_type === 'Catalog' || ('resources' in inner && ('edges' in inner || 'version' in inner || 'catalog_format' in inner || 'catalog_uuid' in inner || 'classes' in inner))) {
    return 'this is a Puppet catalog (it has resources); import it with `faultline import puppet`';
  }
  if ('resource_statuses' in value || ('logs' in value && 'metrics' in value)) return 'this is a Puppet report';
  if ('hosts' in value && ['teams', 'services', 'groups', 'dependencies'].some((key) => key in value)) {
    return 'this is a native topology file; import it with `faultline import native`';
  }
  if ('hosts' in value && Object.keys(value).length === 1) return 'this is a native topology file; import it with `faultline import native`';
  return undefined;
}

function zodIssues(error: z.ZodError, base: JsonPathKeys): Issue[] {
  return error.issues.map((issue) => ({
    path: [...base, ...issue.path.map((key) => (typeof key === 'number' ? key : String(key)))],
    message: issue.message,
  }));
}

export function isMap(value: unknown): value is FactMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !Buffer.isBuffer(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp';
  if (typeof value === 'string') return `a string ("${value.length > 40 ? `${value.slice(0, 40)}...` : value}")`;
  return `a ${typeof value}`;
}
