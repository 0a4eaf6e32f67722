import { randomBytes } from 'node:crypto';
import type { AlertRecord } from './alert.ts';
import { spanProblem } from './maintenance.ts';
import { glob } from './mapping.ts';

/**
 * A silence: "we know, stop telling us" for alerts that match it, the way Alertmanager silences and Nagios
 * disables notifications for one service. Unlike a maintenance window it says nothing about the graph: a silenced
 * alert still fails, still counts in F and still suppresses what it explains; only whom it tells changes. An
 * incident whose every root alert is silenced pages nobody (opened silenced, its owners are paged when the silence
 * ends while it is still open) and reminds nobody. Kept in the KV bucket `faultline-silences`; expiring one ends it
 * now and keeps it, so the list says who silenced what, until `correlator.retention` forgets it.
 */
export interface Silence {
  /** `sil-` and 16 hex digits. */
  id: string;
  /** `*` and `?` globs over the alert's host and check; `*` is any. */
  host: string;
  check: string;
  /** Every tag named must have that value on the alert. */
  tags: Record<string, string>;
  /** Milliseconds since the epoch; in force in [start, end). */
  start: number;
  end: number;
  /** Why (required, as in Alertmanager: the next shift reads it). */
  comment: string;
  createdBy: string;
  createdAt: number;
  /** Ended early by someone (`end` moved to that time). */
  expiredBy?: string;
}

export const isSilenceActive = (s: Silence, now: number) => s.start <= now && now < s.end;

/** Whether an alert is one the silence names, in force or not (its globs compiled once). */
export function silenceMatcher(s: Pick<Silence, 'host' | 'check' | 'tags'>): (alert: Pick<AlertRecord, 'host' | 'check' | 'tags'>) => boolean {
  const host = glob(s.host);
  const check = glob(s.check);
  const tags = Object.entries(s.tags);
  return (alert) => host.test(alert.host) && check.test(alert.check) && tags.every(([k, v]) => alert.tags[k] === v);
}

/** The silences in force at one time, compiled once: the planner asks about every root alert. */
export class Silences {
  private readonly active: { silence: Silence; matches: ReturnType<typeof silenceMatcher> }[];

  constructor(silences: Iterable<Silence>, now: number) {
    this.active = [...silences].filter((s) => isSilenceActive(s, now)).map((silence) => ({ silence, matches: silenceMatcher(silence) }));
  }

  get size(): number {
    return this.active.length;
  }

  /** The active silence with that id. */
  get(id: string): Silence | undefined {
    return this.active.find((a) => a.silence.id === id)?.silence;
  }

  /** Ids of the active silences matching the alert, sorted. */
  of(alert: Pick<AlertRecord, 'host' | 'check' | 'tags'>): string[] {
    const ids: string[] = [];
    for (const { silence, matches } of this.active) if (matches(alert)) ids.push(silence.id);
    return ids.sort();
  }

  /**
   * The silences that together cover every one of `alertIds` (sorted), or undefined when one of them is not
   * silenced (or unknown): one unsilenced root alert is news, and its incident tells as usual.
   */
  covering(alertIds: readonly string[], alerts: ReadonlyMap<string, AlertRecord>): string[] | undefined {
    if (this.active.length === 0 || alertIds.length === 0) return undefined;
    const ids = new Set<string>();
    for (const id of alertIds) {
      const alert = alerts.get(id);
      const of = alert ? this.of(alert) : [];
      if (of.length === 0) return undefined;
      for (const s of of) ids.add(s);
    }
    return [...ids].sort();
  }
}

const MAX_COMMENT = 1_000;
const MAX_PATTERN = 300;
const MAX_TAGS = 20;

export class SilenceError extends Error {
  override name = 'SilenceError';
}

export interface SilenceRequest {
  host?: string | null | undefined;
  check?: string | null | undefined;
  tags?: Record<string, string> | null | undefined;
  start: number;
  end: number;
  comment: string;
}

/**
 * A new silence, checked (GraphQL's createSilence and `faultline silence add` both make theirs here). It must name
 * a host or a check: a silence of everything would leave a NOC deaf in the outage it was made for.
 */
export function newSilence(request: SilenceRequest, now: number, by: string): Silence {
  const host = request.host?.trim() || '*';
  const check = request.check?.trim() || '*';
  const tags = request.tags ?? {};
  const comment = request.comment.trim();
  const { start, end } = request;
  // As long as a maintenance window at most: longer is a decommission or a broken check to fix.
  const problem = spanProblem(start, end, now, 'silence');
  if (problem) throw new SilenceError(problem);
  if (/^\**$/.test(host) && /^\**$/.test(check)) throw new SilenceError('a silence must name a host or a check (a glob like web* or disk-*): one of everything would silence the outage too');
  for (const [name, pattern] of [['host', host], ['check', check]] as const) {
    if (pattern.length > MAX_PATTERN) throw new SilenceError(`${name} is longer than ${MAX_PATTERN} characters`);
  }
  if (Object.keys(tags).length > MAX_TAGS) throw new SilenceError(`at most ${MAX_TAGS} tags`);
  if (comment.length === 0) throw new SilenceError('comment is required: say why, for whoever is on call next');
  if (comment.length > MAX_COMMENT) throw new SilenceError(`comment is longer than ${MAX_COMMENT} characters`);
  return { id: `sil-${randomBytes(8).toString('hex')}`, host, check, tags: { ...tags }, start, end, comment, createdBy: by, createdAt: now };
}

/** The silence ended now by `by`; one that has not started yet ends before it begins. */
export function expired(silence: Silence, now: number, by: string): Silence {
  return { ...silence, end: Math.max(silence.start, Math.min(silence.end, now)), expiredBy: by };
}

/** What a silence matches ("web* / disk-*", then its tags), for logs, timelines and tables. */
export function describeSilence(s: Pick<Silence, 'host' | 'check' | 'tags'>): string {
  const tags = Object.entries(s.tags).map(([k, v]) => `${k}=${v}`);
  return `${s.host}/${s.check}${tags.length ? ` (${tags.join(', ')})` : ''}`;
}
