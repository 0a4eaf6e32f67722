import { createHash } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS } from '../bus/layout.ts';
import type { AtRiskIds } from '../engine/index.ts';
import type { Status } from './event.ts';

/**
 * An incident (design section 7): one per root cause, with what it suppresses, what it affects and who owns
 * it. Kept in the KV bucket `faultline-incidents` under its id (compare-and-set on revision) and published on
 * `faultline.incidents.<id>.<change>` at every change.
 */
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export const INCIDENT_CHANGES = ['opened', 'updated', 'folded', 'acknowledged', 'noted', 'resolved'] as const;
export type IncidentChange = (typeof INCIDENT_CHANGES)[number];

export interface TimelineEntry {
  /** Milliseconds since the epoch. */
  at: number;
  change: IncidentChange;
  text: string;
}

/**
 * The AtRiskIds fields (engine/at-risk.ts) say what one more failure would take down because the root left a
 * redundancy group without a spare (of a storm: its open members together); kept current while open, absent in
 * incidents stored before they were added.
 */
export interface Incident extends Partial<AtRiskIds> {
  /** `inc-` and 16 hex digits, derived from the root and when it began, so every correlator names it alike. */
  id: string;
  status: IncidentStatus;
  /** Entity ids of the root cause (the host name as given for an alert on an unknown host); the first ROOT_BYTES. */
  root: string[];
  /** Alert ids (`<host>/<check>`) on the root, sorted; the first ROOT_BYTES. */
  rootAlerts: string[];
  /** How many root entities and root alerts there are, present only when the list is cut short (`listRoot`). */
  rootCount?: number;
  rootAlertCount?: number;
  /** The worst status among the root alerts. */
  severity: Status;
  /** Alert ids the root explains: kept, shown, paging nobody. Sorted; at most SUPPRESSED_LIMIT (see `listSuppressed`). */
  suppressed: string[];
  /** How many alerts the root explains, listed or not (absent in incidents stored before it was added). */
  suppressedCount?: number;
  /** How many ids each at-risk list holds in all, when one of them is cut short (`listAtRisk`). */
  atRiskCounts?: AtRiskCounts;
  /** Services down or degraded because of the root, sorted: the first that fit in AFFECTED_BYTES (`listAffected`). */
  affectedServices: string[];
  /** How many services it affects, listed or not; present only when `affectedServices` is cut short. */
  affectedServiceCount?: number;
  /** Team ids owning the root: they get the page. */
  owners: string[];
  /** Team ids owning affected services and not the root: one stakeholder notice each. */
  stakeholders: string[];
  /** Tags of the root alerts, merged (routes match on them). */
  tags: Record<string, string>;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  /** The incident's teams were told of the acknowledgement (an update each), so it is not told again. */
  acknowledgementTold?: boolean;
  /** How many times its owners were reminded that it is open and nobody acknowledged it, and when last. */
  reminders?: number;
  remindedAt?: number;
  resolvedAt?: number;
  /** What people wrote on it, oldest first (at most NOTES_LIMIT: the newest). */
  notes?: IncidentNote[];
  /** The silences (silence.ts) that cover every root alert now: it pages and reminds nobody while they last. */
  silencedBy?: string[];
  /**
   * Opened while silenced: nobody has been told of it. When the silence ends and it is still open, its owners are
   * paged and its stakeholders told, and this goes; resolved before that, it tells nobody.
   */
  untold?: boolean;
  /** Set when a later-arriving parent's incident took this one over. */
  mergedInto?: string;
  /** A page storm (storm.ts): this incident stands for many root causes that each would have paged one team. */
  storm?: StormState;
  /**
   * The storms that hold this incident's page (or, `notice: stakeholder`, its stakeholder notice) to a team: that
   * team heard of it through the storm alone.
   */
  heldBy?: { team: string | null; storm: string; notice?: 'stakeholder' }[];
  timeline: TimelineEntry[];
}

/**
 * A note someone wrote on an incident ("failing over to db2, 10 minutes"): kept on it, in its timeline, and, when
 * `tell`, sent to every team that heard of the incident as an update (`change: note`), once.
 */
export interface IncidentNote {
  /** Its number on the incident, from 1: the dedup key of the update that tells it. */
  n: number;
  at: number;
  /** The API token's name, or the operator at a terminal. */
  by: string;
  text: string;
  tell: boolean;
  /** Its teams were told (set by the leader with a write that is not announced). */
  told?: boolean;
}

/** How many notes an incident keeps (the newest), and how long one may be: the incident is one KV value. */
export const NOTES_LIMIT = 50;
export const NOTE_CHARS = 1_000;

export interface StormState {
  /** The team whose pages it holds; null for roots that have no owner. */
  team: string | null;
  /**
   * `stakeholder`: it holds the team's stakeholder notices, not its pages (the team owns services the root causes
   * take down, not the roots). Such a storm pages nobody: its team hears of it with one stakeholder notice.
   */
  holds?: 'stakeholder';
  /** Ids of the incidents in it in the order they joined, those that paged before it began first (at most SUPPRESSED_LIMIT). */
  members: string[];
  memberCount: number;
  /** When the last member joined (ms): a storm takes new members while one joined within the window. */
  joinedAt: number;
  /** How many members its team has been told of (the page, then an update at most once a minute), and when last. */
  toldMembers: number;
  toldAt: number;
  updates: number;
  /** What the members' hosts have in common, when they share a place ("all 12 of their hosts in rack r7 …"). */
  common?: string;
}

/**
 * `inc-` + 16 hex digits of the root and when its first alert failed, so every correlator derives the same id; when
 * that id is taken (the same failure roots again after a parent recovered), the next of a numbered sequence.
 */
export function incidentId(unit: { key: string; since: number }, taken: (id: string) => boolean = () => false): string {
  for (let n = 0; ; n++) {
    const id = `inc-${createHash('sha256').update(`${unit.key}|${unit.since}${n > 0 ? `|${n}` : ''}`).digest('hex').slice(0, 16)}`;
    if (!taken(id)) return id;
  }
}

/**
 * Incidents in the order they opened (then by id): the older one is the one a unit keeps. Ids are `inc-` and hex
 * digits, compared by code unit: the order a collation gives them, at a fraction of its cost.
 */
export const byOpening = (a: Incident, b: Incident) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Whom an incident pages: its owners, or nobody in particular (team null, the routes without a team) when the root has none. */
export const pagedTeams = (incident: Incident): (string | null)[] => (incident.storm?.holds === 'stakeholder' ? [] : incident.owners.length > 0 ? incident.owners : [null]);

/**
 * Suppressed alert ids an incident lists. The incident is one KV value and must fit in NATS's max_payload (1 MB by
 * default): thirty thousand ids would not, and an outage that large is when the incident matters most. Ids are as
 * long as their hosts' and checks' names, so the list is bounded in bytes as well as in count.
 */
export const SUPPRESSED_LIMIT = 10_000;
export const SUPPRESSED_BYTES = 512 * 1024;

/**
 * Each at-risk list an incident keeps (AtRiskIds), in bytes: a storm, or a root that empties a cluster, leaves
 * thousands of members each holding up a group, and together the lists would outgrow the KV value.
 */
export const AT_RISK_BYTES = 48 * 1024;

/**
 * The services an incident lists, in bytes: a core switch or a storage array can take down tens of thousands, and
 * the list would not fit in the KV value beside the others; nobody reads past the first screen of it anyway, and
 * `impact` answers for the rest.
 */
export const AFFECTED_BYTES = 96 * 1024;

/**
 * The root's entities and its alerts an incident lists, each in bytes. A node whose every pod's check maps to the
 * host has thousands of root alerts; a failing dependency cycle, as many root entities.
 */
export const ROOT_BYTES = 128 * 1024;

/**
 * The most an incident takes as one KV value (JSON), the last bound after each list's: NATS's default max_payload
 * is 1 MiB, and the KV headers and the outbox's envelope need a little of it. See `fitIncident`.
 */
export const INCIDENT_BYTES = 1_000_000;

/** The JSON size of a value, in bytes. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** The first ids of `ids` that fit in `bytes` as a JSON array (and at most `limit` of them). */
export function firstFitting(ids: readonly string[], bytes: number, limit = Infinity): string[] {
  // Most lists fit by far, and the planner lists the same ones every run: a bound on their size (six bytes a
  // character, what JSON takes for an escaped control character) says so without encoding an id.
  if (ids.length <= limit) {
    let bound = 2;
    for (const id of ids) bound += 6 * id.length + 3;
    if (bound <= bytes) return ids.slice();
  }
  let used = 2;
  let n = 0;
  while (n < ids.length && n < limit) {
    // Each id costs its quotes and comma; an id needing escapes costs more, and is counted as JSON writes it.
    const cost = jsonBytes(ids[n]!) + 1;
    if (used + cost > bytes) break;
    used += cost;
    n++;
  }
  return ids.slice(0, n);
}

/** The start of `ids` that takes at least `excess` bytes less as JSON (empty when nothing less will do). */
export const shorterBy = (ids: readonly string[], excess: number): string[] => firstFitting(ids, Math.max(2, jsonBytes(ids) - excess));

/** What an incident says of the alerts its root explains: the ids (sorted, the first that fit) and how many. */
export function listSuppressed(ids: Iterable<string>): { suppressed: string[]; suppressedCount: number } {
  const all = [...new Set(ids)].sort();
  return { suppressed: firstFitting(all, SUPPRESSED_BYTES, SUPPRESSED_LIMIT), suppressedCount: all.length };
}

/**
 * What an incident says of the services it affects: the first of `sorted` that fit, and how many there are when
 * that is not all of them (`total`, when the caller knows of more than it lists).
 */
export function listAffected(sorted: readonly string[], total = sorted.length): { affectedServices: string[]; affectedServiceCount?: number } {
  const affectedServices = firstFitting(sorted, AFFECTED_BYTES);
  const count = Math.max(total, sorted.length);
  return count > affectedServices.length ? { affectedServices, affectedServiceCount: count } : { affectedServices };
}

/** What an incident lists of its root unit: its entities and alerts (sorted), the first that fit, and how many when cut. */
export function listRoot(unit: { entities: readonly string[]; alerts: readonly string[] }): Pick<Incident, 'root' | 'rootAlerts' | 'rootCount' | 'rootAlertCount'> {
  const root = firstFitting(unit.entities, ROOT_BYTES);
  const rootAlerts = firstFitting(unit.alerts, ROOT_BYTES);
  return {
    root,
    rootAlerts,
    ...(root.length < unit.entities.length ? { rootCount: unit.entities.length } : {}),
    ...(rootAlerts.length < unit.alerts.length ? { rootAlertCount: unit.alerts.length } : {}),
  };
}

/** How many alerts fail on an incident's root, listed or not. */
export const rootAlertTotal = (incident: Pick<Incident, 'rootAlerts' | 'rootAlertCount'>): number => incident.rootAlertCount ?? incident.rootAlerts.length;

/** How many services an incident affects, listed or not. */
export const affectedTotal = (incident: Pick<Incident, 'affectedServices' | 'affectedServiceCount'>): number => incident.affectedServiceCount ?? incident.affectedServices.length;

/**
 * An incident's at-risk lists, each sorted and cut to AT_RISK_BYTES; `atRiskCounts` says how many each holds in
 * all, present only when one was cut. Worked out afresh each time (what is at risk is what is true now), so the
 * same state always gives the same lists, and comparing them says whether anything changed.
 */
export function listAtRisk(lists: AtRiskIds): AtRiskIds & { atRiskCounts?: AtRiskCounts } {
  const cut = (ids: readonly string[]) => firstFitting([...ids].sort(), AT_RISK_BYTES);
  const out = {
    servicesAtRisk: cut(lists.servicesAtRisk),
    criticalAtRisk: cut(lists.criticalAtRisk),
    groupsWithoutSpare: cut(lists.groupsWithoutSpare),
    holdingUp: cut(lists.holdingUp),
  };
  const whole = AT_RISK_LISTS.every((k) => out[k].length === lists[k].length);
  return whole ? out : { ...out, atRiskCounts: Object.fromEntries(AT_RISK_LISTS.map((k) => [k, lists[k].length])) as AtRiskCounts };
}

const AT_RISK_LISTS = ['servicesAtRisk', 'criticalAtRisk', 'groupsWithoutSpare', 'holdingUp'] as const;
export type AtRiskCounts = Record<(typeof AT_RISK_LISTS)[number], number>;

/** How many alerts an incident suppresses, listed or not. */
export const suppressedTotal = (incident: Incident): number => incident.suppressedCount ?? incident.suppressed.length;

/** Whether the incident lists only the first of the alerts it suppresses, or of those on its root. */
export const listsPart = (incident: Incident): boolean => suppressedTotal(incident) > incident.suppressed.length || rootAlertTotal(incident) > incident.rootAlerts.length;

/** Whether `list` begins with every id of `prefix`, in order. */
export function startsWith(list: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= list.length && prefix.every((x, i) => x === list[i]);
}

/**
 * The incident as it can be stored: within `limit` bytes of JSON, the KV value's bound. Each list is bounded on its
 * own, but notes, a long timeline and thousands of root alerts add up; when they do, the suppressed list gives way
 * first (it is counted, and only its start is listed anyway), then the timeline's middle (its first entry and the
 * newest stay), then the oldest notes. An incident that cannot be stored would be planned again and again, and the
 * outage it stands for would page nobody. Cutting a sorted list keeps its start, so planning the same state again
 * finds what is stored (plan.ts compares the suppressed list as a prefix) and writes nothing.
 */
export function fitIncident(incident: Incident, limit = INCIDENT_BYTES): Incident {
  const whole = jsonBytes(incident);
  if (whole <= limit) return incident;
  let next: Incident = { ...incident, suppressedCount: suppressedTotal(incident) };
  next.suppressed = shorterBy(next.suppressed, whole - limit);
  while (jsonBytes(next) > limit && next.timeline.length > 2) next = { ...next, timeline: [next.timeline[0]!, ...next.timeline.slice(Math.max(2, Math.ceil(next.timeline.length / 4)))] };
  while (jsonBytes(next) > limit && next.notes?.length) next = { ...next, notes: next.notes.slice(Math.ceil(next.notes.length / 4)) };
  const size = jsonBytes(next);
  if (size > limit) throw new Error(`incident ${incident.id} takes ${size} bytes of JSON with its lists cut (${incident.root.length} root entities, ${incident.rootAlerts.length} root alerts); a KV value takes ${limit}`);
  return next;
}

/** Two lists with the same ids in the same order. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether the at-risk lists stored on an incident are `next`. */
export function sameAtRisk(stored: Partial<AtRiskIds> & { atRiskCounts?: AtRiskCounts }, next: AtRiskIds & { atRiskCounts?: AtRiskCounts }): boolean {
  return (
    AT_RISK_LISTS.every((k) => stored.atRiskCounts?.[k] === next.atRiskCounts?.[k]) &&
    sameList(stored.servicesAtRisk ?? [], next.servicesAtRisk) &&
    sameList(stored.criticalAtRisk ?? [], next.criticalAtRisk) &&
    sameList(stored.groupsWithoutSpare ?? [], next.groupsWithoutSpare) &&
    sameList(stored.holdingUp ?? [], next.holdingUp)
  );
}

/** The timeline entry for what `next` puts at risk that `stored` did not, if anything. */
export function newlyAtRisk(stored: Partial<AtRiskIds>, next: AtRiskIds, at: number): TimelineEntry | undefined {
  const before = new Set(atRiskNames(stored.servicesAtRisk ?? [], stored.criticalAtRisk ?? []));
  const added = atRiskNames(next.servicesAtRisk, next.criticalAtRisk).filter((name) => !before.has(name));
  return added.length === 0 ? undefined : { at, change: 'updated', text: atRiskText(added, next.groupsWithoutSpare) };
}

/** What is left at risk, as one list: the services, then the critical equipment, marked so. */
export const atRiskNames = (services: readonly string[], critical: readonly string[] = []): string[] => [...services, ...critical.map((id) => `${id} (critical)`)];

/** "service:mail at risk: no spare left in group:service:mail" (the first five of each). */
function atRiskText(services: readonly string[], groups: readonly string[]): string {
  return `${firstFive(services)} at risk: no spare left in ${firstFive(groups)}`;
}

/** "a, b, c, d, e and 475 more": a list in a sentence of a timeline or a reason, which must stay short (`total`: how many there are, when `ids` lists only the first). */
export const someOf = (ids: readonly string[], total = ids.length): string => (total <= 5 && ids.length === total ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${total - Math.min(5, ids.length)} more`);

/** "a, b, c, d, e, …": the first five ids of a list. */
export const firstFive = (ids: readonly string[]): string => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '');

/**
 * How many timeline entries an incident keeps: the first (it opened) and the newest. A root whose alerts flap for
 * days adds an entry per flap; unbounded, the incident would outgrow what a KV value may hold (1 MB by default)
 * and could no longer be written. Every change stays on `faultline.incidents.<id>.<change>` in full.
 */
export const TIMELINE_LIMIT = 200;

/** `timeline` (in time order) with `entries` added after it, kept to TIMELINE_LIMIT: its first entry and the newest. */
export function extendTimeline(timeline: readonly TimelineEntry[], ...entries: TimelineEntry[]): TimelineEntry[] {
  const all = [...timeline, ...entries];
  return all.length <= TIMELINE_LIMIT ? all : [all[0]!, ...all.slice(all.length - TIMELINE_LIMIT + 1)];
}

/**
 * Publishes one change of an incident (the incident as it is after it) on `faultline.incidents.<id>.<change>`,
 * once: a repeat of the same change at the same time (a retry, another correlator) is dropped by the stream.
 */
export async function publishIncidentChange(nc: NatsConnection, incident: Incident, change: IncidentChange): Promise<void> {
  await jetstream(nc).publish(SUBJECTS.incident(incident.id, change), JSON.stringify(incident), { msgID: `${incident.id}/${change}/${incident.updatedAt}` });
}
