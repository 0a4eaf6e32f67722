import type { AlertEvent, Status } from './event.ts';
import { alertId } from './event.ts';

/**
 * The state of one alert identity `<host>/<check>` (design section 6), as kept in the KV bucket
 * `faultline-alerts`. Update on receive: the newest event wins; an older one (by event time, then by stream
 * sequence) changes nothing, so a redelivered or late event can never roll an alert back.
 */
export interface AlertRecord {
  id: string;
  host: string;
  check: string;
  /** The status in force: `raise: clear` means ok whatever the event said. */
  status: Status;
  /** When `status` last changed (ms since the epoch, event time). */
  since: number;
  /** Time of the newest event applied (ms since the epoch). */
  time: number;
  /** Stream sequence of the newest event applied: orders events with equal times. */
  seq: number;
  source: string;
  text?: string;
  /** The runbook link of the newest event, if it gave one. */
  runbook?: string;
  tags: Record<string, string>;
  /** The graph id the producer named, if any (design section 6: `entity` maps first). */
  entity?: string;
  /** `raise: +<duration>`: at this time (ms) the alert takes `pendingStatus` unless an event came first. */
  raiseAt?: number;
  pendingStatus?: Status;
  /** `ttl`: when no event arrives within it after `time`, the alert goes stale (critical). `retire` ends it. */
  ttlMs?: number;
  /** Raised by the ttl, not by an event. */
  stale?: boolean;
  /** Times (ms) of the last status changes, newest last, for flapping (at most FLAP_MEMORY). */
  changes?: number[];
}

/** How many status changes an alert remembers (the flapping threshold cannot be larger). */
const FLAP_MEMORY = 20;

export type Applied =
  /** The event was older than the state (or a redelivery): nothing changes. */
  | { effect: 'ignored' }
  /** Only the time moved: nothing a decision reads changed (see `takeRefresh`). */
  | { effect: 'refreshed' }
  /** Status, text, tags or mapping changed. */
  | { effect: 'changed'; record: AlertRecord; statusChanged: boolean };

const IGNORED: Applied = Object.freeze({ effect: 'ignored' });
const REFRESHED: Applied = Object.freeze({ effect: 'refreshed' });

export function applyEvent(current: AlertRecord | undefined, event: AlertEvent, seq: number): Applied {
  if (current && (event.time < current.time || (event.time === current.time && seq <= current.seq))) return IGNORED;
  const status: Status = event.raise.kind === 'now' ? event.status : 'ok';
  const raiseAt = event.raise.kind === 'after' ? event.time + event.raise.ms : undefined;
  const pendingStatus = event.raise.kind === 'after' ? event.status : undefined;
  // A ttl holds until an event retires it; an event that does not repeat it keeps the one in force.
  const ttl = event.retire ? undefined : (event.ttlMs ?? current?.ttlMs);
  const statusChanged = current ? current.status !== status : status !== 'ok';
  // Four events in five only repeat the state: told apart before anything is built for them.
  if (
    current &&
    !statusChanged &&
    !current.stale &&
    current.text === event.text &&
    current.runbook === event.runbook &&
    current.entity === event.entity &&
    current.raiseAt === raiseAt &&
    current.pendingStatus === pendingStatus &&
    current.ttlMs === ttl &&
    sameTags(current.tags, event.tags)
  )
    return REFRESHED;
  const next: AlertRecord = {
    // The same id as the state's: one string object per alert, hashed once by the maps that hold it.
    id: current?.id ?? alertId(event.host, event.check),
    host: event.host,
    check: event.check,
    status,
    since: current && current.status === status ? current.since : event.time,
    time: event.time,
    seq,
    source: event.source,
    tags: event.tags,
  };
  if (event.text !== undefined) next.text = event.text;
  if (event.runbook !== undefined) next.runbook = event.runbook;
  if (event.entity !== undefined) next.entity = event.entity;
  if (raiseAt !== undefined) {
    next.raiseAt = raiseAt;
    next.pendingStatus = pendingStatus;
  }
  if (ttl !== undefined) next.ttlMs = ttl;
  const changes = current?.changes ?? [];
  next.changes = statusChanged ? [...changes, event.time].slice(-FLAP_MEMORY) : changes;
  return { effect: 'changed', record: next, statusChanged };
}

/**
 * Takes a refresh into the record it refreshes, in place: its time, sequence and source, the only fields in which
 * the two differ and fields no decision reads. Whoever holds the record (the bucket's copy, the placed alerts, an
 * analysis) sees the newest time, and nothing is kept per refresh: a new record for each one was most of what the
 * young generation had to copy in a garbage collection.
 */
export function takeRefresh(record: AlertRecord, event: AlertEvent, seq: number): void {
  record.time = event.time;
  record.seq = seq;
  record.source = event.source;
}

/**
 * What the clock does to an alert with no event: `raise: +<duration>` comes due, or the ttl runs out. Returns the
 * record as it is at `now`, or undefined when nothing is due. A ttl runs out `ttlGraceMs` late: refreshes are
 * stored every few seconds, so another correlator (or this one after a restart) may not have seen the newest yet.
 */
export function dueAt(record: AlertRecord, now: number, ttlGraceMs = 0): AlertRecord | undefined {
  if (record.raiseAt !== undefined && record.pendingStatus !== undefined && record.raiseAt <= now) {
    const { raiseAt, pendingStatus, ...rest } = record;
    return { ...rest, ...becomes(record, pendingStatus, raiseAt), text: `not refreshed within the time its last event gave${record.text ? `: ${record.text}` : ''}` };
  }
  if (record.ttlMs !== undefined && !record.stale && record.time + record.ttlMs + ttlGraceMs <= now) {
    return { ...record, ...becomes(record, 'critical', now), stale: true, text: `stale: no event for ${Math.round(record.ttlMs / 1000)} s` };
  }
  return undefined;
}

/** Status, since and change history of an alert that takes `status` at `at`. */
function becomes(record: AlertRecord, status: Status, at: number): Pick<AlertRecord, 'status' | 'since' | 'changes'> {
  const changed = status !== record.status;
  return {
    status,
    since: changed ? at : record.since,
    changes: changed ? [...(record.changes ?? []), at].slice(-FLAP_MEMORY) : (record.changes ?? []),
  };
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a[k] === b[k]);
}

/** Ids that are keys as they are: the allowed characters but `=`, dots only between non-empty tokens. */
const PLAIN_KEY = /^[A-Za-z0-9_/-]+(?:\.[A-Za-z0-9_/-]+)*$/;

/**
 * A KV key for any alert id. KV keys allow `[-/_=.A-Za-z0-9]` with no empty `.`-separated token; anything
 * else (and `=` itself, and a dot that would make an empty token) becomes `=XX` per UTF-8 byte. Injective, and
 * the usual `mail1.example.com/mailq` stays readable.
 */
export function alertKey(id: string): string {
  if (PLAIN_KEY.test(id)) return id; // what the loop below would give, without its cost on every event
  let out = '';
  const bytes = new TextEncoder().encode(id);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    const plain = /[A-Za-z0-9_/-]/.test(c);
    const dot = c === '.' && i > 0 && i < bytes.length - 1 && bytes[i - 1] !== 0x2e && bytes[i + 1] !== 0x2e;
    out += plain || dot ? c : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
