import type { WebhookMapping } from '../../config/schema.ts';
import { adaptedRunbook } from '../../correlator/event.ts';
import type { Candidate } from './store.ts';

/**
 * A generic JSON webhook into events, by the field mapping configured for it (`ingest.webhooks`), purely. A
 * reference is a path when it starts with `$` (`$.labels.host` into the item, `$$.receiver` into the whole body;
 * a segment of digits indexes an array) and a constant otherwise. host, check and status are required: an item
 * without one is dead-lettered with the reason; text, runbook, time, entity, id and tags are left out when missing
 * (and a runbook that is no http(s) link too).
 */

const MAX_TEXT = 4096;

type Resolved = { found: true; value: unknown } | { found: false };

/** The items of a body: the array at `items`, or the body itself; an error names the path when it is no array. */
export function webhookItems(mapping: WebhookMapping, body: unknown): { ok: true; items: unknown[] } | { ok: false; error: string } {
  if (mapping.items === undefined) return { ok: true, items: [body] };
  const at = resolve(mapping.items, body, body);
  if (!at.found) return { ok: false, error: `${mapping.items} (items of webhook "${mapping.name}") is missing from the body` };
  if (!Array.isArray(at.value)) return { ok: false, error: `${mapping.items} (items of webhook "${mapping.name}") is ${kindOf(at.value)}, not an array` };
  return { ok: true, items: at.value };
}

/** One candidate event per item. */
export function mapWebhook(mapping: WebhookMapping, body: unknown, items: unknown[]): Candidate[] {
  return items.map((item) => {
    const mapped = itemToEvent(mapping, item, body);
    return 'reason' in mapped ? { reason: mapped.reason, body: item } : { event: mapped.event, body: item };
  });
}

export function itemToEvent(mapping: WebhookMapping, item: unknown, body: unknown): { event: Record<string, unknown> } | { reason: string } {
  const problems: string[] = [];
  const required = (field: 'host' | 'check' | 'status'): string | number | boolean | undefined => {
    const ref = mapping[field];
    const at = resolve(ref, item, body);
    if (!at.found || at.value === null || at.value === '') problems.push(`${field}: ${ref} is missing`);
    else if (!isScalar(at.value)) problems.push(`${field}: ${ref} is ${kindOf(at.value)}, not a string`);
    else return at.value;
    return undefined;
  };
  const host = required('host');
  const check = required('check');
  const status = required('status');
  // An optional field, but one that is there and is no time is refused, not replaced by the time of receipt.
  const time = mapping.time === undefined ? undefined : timeOf(resolve(mapping.time, item, body));
  if (typeof time === 'object') problems.push(`time: ${mapping.time} ${time.problem}`);
  if (problems.length > 0) return { reason: problems.join('; ') };

  const event: Record<string, unknown> = {
    source: mapping.source ?? mapping.name,
    host: String(host),
    check: String(check),
    status: mapStatus(status!, mapping.statusMap),
  };
  const text = optionalScalar(mapping.text, item, body);
  if (text !== undefined) event.text = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
  const runbook = adaptedRunbook(optionalScalar(mapping.runbook, item, body));
  if (runbook !== undefined) event.runbook = runbook;
  const entity = optionalScalar(mapping.entity, item, body);
  if (entity !== undefined) event.entity = entity;
  if (time !== undefined) event.time = time;
  if (mapping.id !== undefined) {
    const parts = mapping.id.map((ref) => optionalScalar(ref, item, body));
    // A partial id would merge unrelated events: without every part there is no id (and no de-duplication).
    if (parts.every((p) => p !== undefined)) event.id = parts.join(':');
  }
  const tags = tagsOf(mapping.tags, item, body);
  if (tags !== undefined) event.tags = tags;
  return { event };
}

/**
 * The sender's word through `statusMap` (exact, then case-insensitive); a word not in it goes through as it is,
 * for the event's own status rules to accept (ok, CRITICAL, DOWN, 2...) or refuse with their message.
 */
function mapStatus(value: string | number | boolean, statusMap: Record<string, string>): unknown {
  const word = String(value);
  if (Object.hasOwn(statusMap, word)) return statusMap[word];
  const lower = word.trim().toLowerCase();
  for (const [key, status] of Object.entries(statusMap)) if (key.toLowerCase() === lower) return status;
  return typeof value === 'boolean' ? word : value;
}

/**
 * An ISO 8601 string as it is (the event rules judge it); a number as Unix time, in seconds below 10^12, else
 * milliseconds; what is neither, or a number no date has, as a problem.
 */
function timeOf(at: Resolved): string | undefined | { problem: string } {
  if (!at.found || at.value === null || at.value === '') return undefined;
  if (typeof at.value === 'string') return at.value;
  if (typeof at.value === 'number') {
    const date = new Date(at.value < 1e12 ? at.value * 1000 : at.value);
    if (!Number.isNaN(date.getTime())) return date.toISOString();
    return { problem: `is ${at.value}, which is no date (Unix seconds or milliseconds)` };
  }
  return { problem: `is ${kindOf(at.value)}, not a time (ISO 8601, or Unix seconds or milliseconds)` };
}

function tagsOf(spec: WebhookMapping['tags'], item: unknown, body: unknown): Record<string, string> | undefined {
  if (spec === undefined) return undefined;
  const tags: Record<string, string> = {};
  if (typeof spec === 'string') {
    const at = resolve(spec, item, body);
    if (!at.found || typeof at.value !== 'object' || at.value === null || Array.isArray(at.value)) return undefined;
    for (const [key, value] of Object.entries(at.value)) if (isScalar(value)) tags[key] = String(value);
  } else {
    for (const [key, ref] of Object.entries(spec)) {
      const value = optionalScalar(ref, item, body);
      if (value !== undefined) tags[key] = value;
    }
  }
  return Object.keys(tags).length > 0 ? tags : undefined;
}

function optionalScalar(ref: string | undefined, item: unknown, body: unknown): string | undefined {
  if (ref === undefined) return undefined;
  const at = resolve(ref, item, body);
  if (!at.found || !isScalar(at.value) || at.value === '') return undefined;
  return String(at.value);
}

/** `$.a.0.b` into the item, `$$.a` into the body, anything else a constant. */
export function resolve(ref: string, item: unknown, body: unknown): Resolved {
  if (!ref.startsWith('$')) return { found: true, value: ref };
  const [root, ...segments] = ref.split('.');
  let node: unknown = root === '$$' ? body : item;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment) && Number(segment) < node.length) node = node[Number(segment)];
    else if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.hasOwn(node, segment)) node = (node as Record<string, unknown>)[segment];
    else return { found: false };
  }
  return node === undefined ? { found: false } : { found: true, value: node };
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
