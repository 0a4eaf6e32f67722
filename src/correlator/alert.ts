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
  tags: Record<string, string>;
  /** The graph id the producer named, if any (design section 6: `entity` maps first). */
  entity?: string;
  /** Heartbeat deadline of `raise: +<duration>` (issue 6 acts on it). */
  raiseAt?: number;
  ttlMs?: number;
}

export type Applied =
  /** The event was older than the state (or a redelivery): nothing changes. */
  | { effect: 'ignored' }
  /** Only the time moved: nothing a decision reads changed. */
  | { effect: 'refreshed'; record: AlertRecord }
  /** Status, text, tags or mapping changed. */
  | { effect: 'changed'; record: AlertRecord; statusChanged: boolean };

export function applyEvent(current: AlertRecord | undefined, event: AlertEvent, seq: number): Applied {
  if (current && (event.time < current.time || (event.time === current.time && seq <= current.seq))) return { effect: 'ignored' };
  const status: Status = event.raise.kind === 'now' ? event.status : 'ok';
  const next: AlertRecord = {
    id: alertId(event.host, event.check),
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
  if (event.entity !== undefined) next.entity = event.entity;
  if (event.raise.kind === 'after') next.raiseAt = event.time + event.raise.ms;
  if (event.ttlMs !== undefined && !event.retire) next.ttlMs = event.ttlMs;
  if (!current) return { effect: 'changed', record: next, statusChanged: status !== 'ok' };
  const statusChanged = current.status !== status;
  const same =
    !statusChanged &&
    current.text === next.text &&
    current.entity === next.entity &&
    current.raiseAt === next.raiseAt &&
    current.ttlMs === next.ttlMs &&
    sameTags(current.tags, next.tags);
  return same ? { effect: 'refreshed', record: next } : { effect: 'changed', record: next, statusChanged };
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => a[k] === b[k]);
}

/**
 * A KV key for any alert id. KV keys allow `[-/_=.A-Za-z0-9]` with no empty `.`-separated token; anything
 * else (and `=` itself, and a dot that would make an empty token) becomes `=XX` per UTF-8 byte. Injective, and
 * the usual `mail1.example.com/mailq` stays readable.
 */
export function alertKey(id: string): string {
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
