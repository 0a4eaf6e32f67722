import type { FactsMapping } from '../../src/config/schema.ts';
import { teamId } from '../../src/graph/ids.ts';
import type { HostFacts, HostFactsRow } from '../../src/graph/model.ts';
import { isMap, type Issue, type JsonPathKeys, type RawHost } from './detect.ts';
import { lookupFact } from './lookup.ts';

export type FactsTransform = { ok: true; row: HostFactsRow; warnings: Issue[] } | { ok: false; problem: Issue; warnings: Issue[] };

type ScalarKey = Exclude<keyof HostFacts, 'classes'>;
const SCALAR_KEYS: readonly ScalarKey[] = ['environment', 'location', 'rack', 'az', 'os'];

/**
 * Pure: one host's raw facts → the facts faultline keeps (`HostFactsRow`), by the configured mapping. For each
 * kept fact the candidates are tried in order and the first present wins; a candidate that holds a map or a
 * list where one value is wanted is a warning and the next is tried. Numbers, booleans and YAML timestamps
 * become strings. A host the document does not name is named by the `certname` candidates (lower-cased, as
 * Puppet does); with none of them it is a problem.
 */
export function transformFacts(raw: RawHost, mapping: FactsMapping): FactsTransform {
  const warnings: Issue[] = [];
  // The environment a PuppetDB document states beside the facts stands in for an `environment` fact.
  const facts = raw.environment !== undefined && raw.facts.environment === undefined ? { ...raw.facts, environment: raw.environment } : raw.facts;
  const where = (factPath: string): JsonPathKeys => (raw.listed ? raw.factsPath : [...raw.factsPath, ...factPath.split('.')]);
  /** One configured fact's value as text: the first candidate whose every `+` part is present. */
  const pick = (key: string, candidates: readonly string[]): string | undefined => {
    const part = (factPath: string): string | undefined => {
      const value = lookupFact(facts, factPath);
      const text = scalarText(value);
      if (text === null) {
        warnings.push({ path: where(factPath), message: `fact ${factPath} is ${Array.isArray(value) ? 'a list' : 'a map'}, not one value: not used for ${key}` });
        return undefined;
      }
      return text;
    };
    for (const candidate of candidates) {
      const values = candidate.split('+').map((factPath) => part(factPath.trim()));
      if (values.every((v): v is string => v !== undefined)) return values.join(' ');
    }
    return undefined;
  };

  let certname = raw.certname?.trim();
  if (certname === undefined) {
    certname = pick('certname', mapping.certname)?.toLowerCase();
    if (certname === undefined) {
      return {
        ok: false,
        warnings,
        problem: { path: raw.path, message: `no certname: the document names no host and none of the facts ${mapping.certname.join(', ')} is set` },
      };
    }
    if (/\s/.test(certname)) {
      return { ok: false, warnings, problem: { path: raw.path, message: `no certname: "${certname}" (from the facts) is not a certname (it has spaces)` } };
    }
  }

  const kept: HostFacts = {};
  const cleared: (keyof HostFacts)[] = [];
  for (const key of SCALAR_KEYS) {
    const value = pick(key, mapping[key]);
    // A GCE zone is `projects/<number>/zones/<zone>`: the zone is the last part.
    if (value !== undefined) kept[key] = key === 'az' ? value.slice(value.lastIndexOf('/') + 1) : value;
    // Where a host is (location, rack, az) and what it runs are the facts' to say: gone from the facts, gone
    // from the host. The environment is also the catalog's, so a facts file without it leaves it alone.
    else if (key !== 'environment' && mapping[key].length > 0) cleared.push(key);
  }
  const classes = pickList(facts, mapping.classes, where, warnings);
  if (classes !== undefined) kept.classes = classes;

  const row: HostFactsRow = { certname, facts: kept, ...(cleared.length > 0 ? { cleared } : {}) };
  const owner = pick('owner', mapping.owner);
  if (owner !== undefined) {
    if (/\s/.test(owner)) warnings.push({ path: raw.path, message: `owner "${owner}" is not a team name (it has spaces): no owner set from the facts` });
    else row.owner = teamId(owner);
  }
  return { ok: true, row, warnings };
}

/** `classes`: a list of names, or one string of names separated by commas. */
function pickList(facts: RawHost['facts'], candidates: readonly string[], where: (p: string) => JsonPathKeys, warnings: Issue[]): string[] | undefined {
  for (const candidate of candidates) {
    const value = lookupFact(facts, candidate.trim());
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      const names = value.map(scalarText).filter((v): v is string => typeof v === 'string');
      if (names.length < value.length) warnings.push({ path: where(candidate), message: `fact ${candidate} holds maps or lists among its names: those were left out of classes` });
      return names;
    }
    const text = scalarText(value);
    if (text === null) {
      warnings.push({ path: where(candidate), message: `fact ${candidate} is a map, not a list of classes: not used for classes` });
      continue;
    }
    if (text === undefined) continue;
    return text.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  }
  return undefined;
}

/** A fact as one value: text, or undefined when absent or empty, or null when it is a map or a list. */
function scalarText(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (Buffer.isBuffer(value)) return null;
  if (Array.isArray(value) || isMap(value)) return null;
  return undefined;
}
