import { randomBytes } from 'node:crypto';
import type { AlertRecord } from './alert.ts';
import { someOf, type Incident } from './incident.ts';
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
  /**
   * A silence of one incident (`incidentSilence`): exactly these alert ids, its root alerts when it was made, not
   * globs (host and check are `*`). A check added to the host later is news and pages.
   */
  alertIds?: string[];
  incident?: string;
}

export const isSilenceActive = (s: Silence, now: number) => s.start <= now && now < s.end;

/** Whether an alert is one the silence names, in force or not (its globs compiled once). */
export function silenceMatcher(s: Pick<Silence, 'host' | 'check' | 'tags' | 'alertIds'>): (alert: Pick<AlertRecord, 'id' | 'host' | 'check' | 'tags'>) => boolean {
  if (s.alertIds) {
    const ids = new Set(s.alertIds);
    return (alert) => ids.has(alert.id);
  }
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
  of(alert: Pick<AlertRecord, 'id' | 'host' | 'check' | 'tags'>): string[] {
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
  /** Exact alert ids (incidentSilence) instead of globs. */
  alertIds?: readonly string[];
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
  if (!request.alertIds?.length && /^\**$/.test(host) && /^\**$/.test(check)) throw new SilenceError('a silence must name a host or a check (a glob like web* or disk-*): one of everything would silence the outage too');
  for (const [name, pattern] of [['host', host], ['check', check]] as const) {
    if (pattern.length > MAX_PATTERN) throw new SilenceError(`${name} is longer than ${MAX_PATTERN} characters`);
  }
  if (Object.keys(tags).length > MAX_TAGS) throw new SilenceError(`at most ${MAX_TAGS} tags`);
  if (comment.length === 0) throw new SilenceError('comment is required: say why, for whoever is on call next');
  if (comment.length > MAX_COMMENT) throw new SilenceError(`comment is longer than ${MAX_COMMENT} characters`);
  return { id: `sil-${randomBytes(8).toString('hex')}`, host, check, tags: { ...tags }, start, end, comment, createdBy: by, createdAt: now };
}

/** The most root alerts a silence of one incident names: one of more is better said with a glob. */
export const INCIDENT_SILENCE_ALERTS = 1_000;

/**
 * A silence of an incident's root alerts, as they are now: "we know db1 is flapping, stop paging it for two hours",
 * without writing the globs. Checked as `newSilence` checks (span, comment); refused for an incident that is
 * resolved, is a storm (its root causes are many incidents: silence their hosts with a glob), or lists only part
 * of its root alerts.
 */
export function incidentSilence(
  incident: Pick<Incident, 'id' | 'status' | 'rootAlerts' | 'rootAlertCount' | 'storm'>,
  request: Omit<SilenceRequest, 'host' | 'check' | 'tags'>,
  now: number,
  by: string,
): Silence {
  if (incident.status === 'resolved') throw new SilenceError(`${incident.id} is resolved: nothing of it pages`);
  if (incident.storm) throw new SilenceError(`${incident.id} is a storm of ${incident.storm.memberCount} root causes: silence their hosts with a glob (faultline silence add 'web*')`);
  const total = incident.rootAlertCount ?? incident.rootAlerts.length;
  if (total === 0) throw new SilenceError(`${incident.id} has no root alert to silence`);
  if (total > INCIDENT_SILENCE_ALERTS || total > incident.rootAlerts.length) throw new SilenceError(`${incident.id} has ${total} root alerts: silence them with a glob over their host instead`);
  const silence = newSilence({ ...request, host: '*', check: '*', tags: {}, alertIds: incident.rootAlerts }, now, by);
  return { ...silence, alertIds: [...incident.rootAlerts], incident: incident.id };
}

/** The silence ended now by `by`; one that has not started yet ends before it begins. */
export function expired(silence: Silence, now: number, by: string): Silence {
  return { ...silence, end: Math.max(silence.start, Math.min(silence.end, now)), expiredBy: by };
}

/** What a silence matches ("web* / disk-*", then its tags; the root alerts of an incident), for logs, timelines and tables. */
export function describeSilence(s: Pick<Silence, 'host' | 'check' | 'tags' | 'alertIds' | 'incident'>): string {
  if (s.alertIds) return `${someOf(s.alertIds)}${s.incident ? ` (the root of ${s.incident})` : ''}`;
  const tags = Object.entries(s.tags).map(([k, v]) => `${k}=${v}`);
  return `${s.host}/${s.check}${tags.length ? ` (${tags.join(', ')})` : ''}`;
}
