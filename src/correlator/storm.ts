import { formatDuration } from '../config/duration.ts';
import { KIND, type Place, type Topology } from '../engine/index.ts';
import { SEVERITY_RANK } from './event.ts';
import { affectedTotal, byOpening, extendTimeline, firstFitting, firstFive, incidentId, listAffected, listAtRisk, newlyAtRisk, pagedTeams, sameAtRisk, someOf, SUPPRESSED_LIMIT, type Incident } from './incident.ts';

/** The most bytes a storm's root, member and affected-service lists take each. */
const STORM_LIST_BYTES = 160 * 1024;

/**
 * Page storms: when one team would be paged more than `pages` times within `window` by incidents the graph cannot
 * tie together (a rack loses power and faultline knows no rack; a bad push reaches a hundred hosts), the pages
 * after that are held, and the team gets one page for the storm instead, then an update at most once a minute as
 * it grows. Each root cause still has its own incident (shown, acknowledged, resolved on its own); only the page is
 * held. Alertmanager's group_by and PagerDuty's alert grouping answer the same flood, by labels and by time.
 *
 * A storm is an incident too (with `storm` set), so it is stored, published, acknowledged and reminded of like one.
 * It takes new members while one joined within the window, and resolves when none of its members is still open.
 *
 * Stakeholder notices storm the same way, in storms of their own (`holds: stakeholder`): when a site loses power,
 * a team whose services ran there is told of each of hundreds of root causes, none of which it owns. Past `pages`
 * notices within the window it gets one stakeholder notice for the storm, then an update at most once a minute,
 * and its resolution; such a storm pages nobody, and nobody acknowledges it for the roots' owners.
 */
export interface StormPolicy {
  pages: number;
  windowMs: number;
}

/** How often a growing storm tells its team how many root causes it holds now. */
export const STORM_UPDATE_EVERY = 60_000;

/** What a storm holds of its team's notifications. */
export type Held = 'page' | 'stakeholder';
const heldOf = (h: { notice?: 'stakeholder' }): Held => h.notice ?? 'page';

/** The teams `kind` told of the incident itself: of `teams`, those whose notice of that kind no storm holds. */
function notHeld<T extends string | null>(incident: Incident, teams: readonly T[], kind: Held): T[] {
  if (incident.untold) return [];
  if (!incident.heldBy?.length) return [...teams];
  const held = new Set(incident.heldBy.filter((h) => heldOf(h) === kind).map((h) => h.team));
  return teams.filter((team) => !held.has(team));
}

/** The teams an incident paged itself: whom it pages, but those whose page a storm holds. */
export const pagedDirectly = (incident: Incident): (string | null)[] => notHeld(incident, pagedTeams(incident), 'page');

/** Everyone who heard of an incident itself: whom it paged and its stakeholders, not through a storm. */
export function toldTeams(incident: Incident): (string | null)[] {
  return [...pagedDirectly(incident), ...notHeld(incident, incident.stakeholders, 'stakeholder')];
}

/** The teams a storm tells: its team, paged, or told as a stakeholder when it holds stakeholder notices. */
export const stormTeams = (storm: Incident): (string | null)[] => (storm.storm?.holds === 'stakeholder' ? storm.stakeholders : pagedTeams(storm));

/**
 * The open incidents acknowledged storms cover, each with the storm that acknowledges it: those every one of whose
 * teams is the team of an acknowledged storm holding it (a held page, or a page sent before the storm began).
 * Acknowledging a storm says its team is on all of it, and each page that went out before the storm stops
 * escalating with it; an incident that paged another team as well stays open for that team to acknowledge.
 */
export function coveredByAcknowledgedStorms(incidents: Iterable<Incident>): { incident: Incident; storm: Incident }[] {
  const all = [...incidents];
  const acknowledged = new Map<string, Incident>();
  // A storm of stakeholder notices acknowledges nothing: its team does not own the roots.
  for (const i of all) if (i.storm && !i.storm.holds && i.status === 'acknowledged') acknowledged.set(i.id, i);
  if (acknowledged.size === 0) return [];
  // Member id → team → the acknowledged storm of that team holding it.
  const holding = new Map<string, Map<string, Incident>>();
  const hold = (member: string, storm: Incident) => {
    let teams = holding.get(member);
    if (!teams) holding.set(member, (teams = new Map()));
    teams.set(teamKey(storm.storm!.team), storm);
  };
  for (const storm of acknowledged.values()) for (const member of storm.storm!.members) hold(member, storm);
  for (const i of all) for (const h of i.heldBy ?? []) if (heldOf(h) === 'page' && acknowledged.has(h.storm)) hold(i.id, acknowledged.get(h.storm)!);
  const out: { incident: Incident; storm: Incident }[] = [];
  for (const incident of all) {
    if (incident.status !== 'open' || incident.storm) continue;
    const teams = holding.get(incident.id);
    const paged = pagedTeams(incident);
    if (!teams || paged.length === 0 || !paged.every((team) => teams.has(teamKey(team)))) continue;
    out.push({ incident, storm: teams.get(teamKey(paged[0]!))! });
  }
  return out;
}

/** A storm being built or grown in this planner run. */
interface Draft {
  storm: Incident;
  members: string[];
  memberSet: Set<string>;
  root: Set<string>;
  services: Set<string>;
  changed: boolean;
  joined: Incident[];
}

export class Storms {
  /** What it holds and the team (`page:` for no owner) → its storm that still takes members. */
  private readonly active = new Map<string, Draft>();
  /** What and the team → the open incidents that paged it (or told it as a stakeholder) within the window, oldest first. */
  private readonly recent = new Map<string, Incident[]>();
  private readonly drafts: Draft[] = [];

  constructor(
    private readonly policy: StormPolicy,
    open: readonly Incident[],
    private readonly now: number,
    private readonly topology: Topology,
  ) {
    for (const incident of [...open].sort(byOpening)) {
      if (incident.status === 'resolved') continue;
      if (incident.storm) {
        if (now - incident.storm.joinedAt < policy.windowMs) this.active.set(stormKey(incident.storm.holds ?? 'page', incident.storm.team), this.draft(incident));
        else this.draft(incident);
        continue;
      }
      if (now - incident.openedAt >= policy.windowMs) continue;
      for (const team of pagedDirectly(incident)) this.recentOf('page', team).push(incident);
      for (const team of notHeld(incident, incident.stakeholders, 'stakeholder')) this.recentOf('stakeholder', team).push(incident);
    }
  }

  /**
   * Which of the run's pages and stakeholder notices (a team, and the incident opening now or newly its) go to a
   * storm instead, by index: all of a team's of that kind when it has a storm of them taking members, or when they
   * would make more than `pages` within the window (a storm begins, with the earlier ones as members); undefined
   * for one to be sent.
   */
  hold(notices: readonly { team: string | null; incident: Incident; kind: Held }[], taken: (id: string) => boolean): (string | undefined)[] {
    const byTeam = new Map<string, number[]>();
    notices.forEach((p, i) => {
      const key = stormKey(p.kind, p.team);
      const list = byTeam.get(key);
      if (list) list.push(i);
      else byTeam.set(key, [i]);
    });
    const out: (string | undefined)[] = notices.map(() => undefined);
    for (const [key, indexes] of byTeam) {
      const { team, kind } = notices[indexes[0]!]!;
      let draft = this.active.get(key);
      if (!draft) {
        const recent = this.recentOf(kind, team);
        if (recent.length + indexes.length <= this.policy.pages) {
          for (const i of indexes) recent.push(notices[i]!.incident);
          continue;
        }
        draft = this.draft(begin(team, kind, [...recent, ...indexes.map((i) => notices[i]!.incident)], this.now, taken));
        for (const earlier of recent) this.join(draft, earlier);
        this.active.set(key, draft);
      }
      for (const i of indexes) {
        this.join(draft, notices[i]!.incident);
        out[i] = draft.storm.id;
      }
    }
    return out;
  }

  /**
   * The storms brought up to date after the run: a new one pages its team, a grown one tells it of the new members
   * (at most every STORM_UPDATE_EVERY), and one with no member open any more is resolved. `current` is every
   * incident as the run leaves it.
   */
  settle(current: ReadonlyMap<string, Incident>): StormOutcome[] {
    const out: StormOutcome[] = [];
    const held = heldByStorm(current);
    for (const draft of this.drafts) {
      let storm = draft.changed ? this.materialise(draft) : draft.storm;
      const s = storm.storm!;
      const members = openMembers(draft, current, held.get(draft.storm.id) ?? []);
      if (members.length === 0 && s.toldMembers > 0) {
        const text = `all ${s.memberCount} of its root causes recovered`;
        out.push({ storm: close(storm, this.now, text), change: 'resolved', tell: { kind: 'resolved', reason: text } });
        continue;
      }
      const risked = withRisk(storm, members, this.now);
      if (risked) storm = risked;
      const changed = draft.changed || risked !== undefined;
      if (s.toldMembers === 0) {
        storm = { ...storm, storm: { ...s, toldMembers: s.memberCount, toldAt: this.now } };
        out.push({ storm, change: 'opened', tell: { kind: s.holds === 'stakeholder' ? 'stakeholder' : 'page' } });
        continue;
      }
      if (s.memberCount > s.toldMembers) {
        const due = s.toldAt + STORM_UPDATE_EVERY;
        if (this.now < due) {
          if (changed) out.push({ storm, change: 'updated', wakeAt: due });
          else out.push({ storm, wakeAt: due });
          continue;
        }
        const added = s.memberCount - s.toldMembers;
        const nth = s.updates + 1;
        storm = { ...storm, storm: { ...s, toldMembers: s.memberCount, toldAt: this.now, updates: nth } };
        const reason = `${added} more root cause${added > 1 ? 's' : ''} in the last ${formatDuration(this.now - s.toldAt)}, ${s.memberCount} in all`;
        out.push({ storm, change: 'updated', tell: { kind: 'update', reason, nth } });
        continue;
      }
      if (changed) out.push({ storm, change: 'updated' });
    }
    return out;
  }

  private join(draft: Draft, incident: Incident): void {
    if (draft.memberSet.has(incident.id)) return;
    draft.memberSet.add(incident.id);
    draft.members.push(incident.id);
    for (const id of incident.root) draft.root.add(id);
    for (const id of incident.affectedServices) draft.services.add(id);
    if (SEVERITY_RANK[incident.severity] > SEVERITY_RANK[draft.storm.severity]) draft.storm = { ...draft.storm, severity: incident.severity };
    draft.joined.push(incident);
    draft.changed = true;
  }

  private draft(storm: Incident): Draft {
    const s = storm.storm!;
    const draft: Draft = {
      storm,
      members: [...s.members],
      memberSet: new Set(s.members),
      root: new Set(storm.root),
      services: new Set(storm.affectedServices),
      changed: false,
      joined: [],
    };
    this.drafts.push(draft);
    return draft;
  }

  private materialise(draft: Draft): Incident {
    const { storm } = draft;
    const s = storm.storm!;
    const added = draft.joined;
    const memberCount = s.memberCount + added.length;
    const timeline =
      added.length === 0
        ? storm.timeline
        : extendTimeline(storm.timeline, {
            at: this.now,
            change: s.memberCount === 0 ? 'opened' : 'updated',
            text: `${s.memberCount === 0 ? 'began with' : 'took in'} ${added.length} root cause${added.length > 1 ? 's' : ''} (${added
              .slice(0, 5)
              .map((i) => someOf(i.root))
              .join('; ')}${added.length > 5 ? '; …' : ''})`,
          });
    const common = commonPlace(this.topology, draft.root);
    return {
      ...storm,
      // Each list bounded in bytes too (ids are as long as their names): the storm is one KV value.
      root: firstFitting([...draft.root], STORM_LIST_BYTES, SUPPRESSED_LIMIT),
      // Of members whose own lists were cut, what they list: the count is then at least.
      ...listAffected([...draft.services].sort(), Math.max(affectedTotal(storm), ...draft.joined.map(affectedTotal))),
      updatedAt: this.now,
      timeline,
      storm: { ...withoutCommon(s), members: firstFitting(draft.members, STORM_LIST_BYTES, SUPPRESSED_LIMIT), memberCount, joinedAt: added.length > 0 ? this.now : s.joinedAt, ...(common ? { common } : {}) },
    };
  }

  private recentOf(kind: Held, team: string | null): Incident[] {
    const key = stormKey(kind, team);
    let list = this.recent.get(key);
    if (!list) this.recent.set(key, (list = []));
    return list;
  }
}

/**
 * Storm id → the open incidents whose page it holds, in one pass: a site that loses power opens tens of thousands
 * of incidents, and a scan of them all per storm took seconds of every planner run.
 */
function heldByStorm(current: ReadonlyMap<string, Incident>): Map<string, Incident[]> {
  const out = new Map<string, Incident[]>();
  for (const i of current.values()) {
    if (i.status === 'resolved' || i.storm || !i.heldBy) continue;
    for (const storm of new Set(i.heldBy.map((h) => h.storm))) {
      const list = out.get(storm);
      if (list) list.push(i);
      else out.set(storm, [i]);
    }
  }
  return out;
}

/** The storm's members still open: those it lists, and those past the list's cut that it holds the page of. */
function openMembers(draft: Draft, current: ReadonlyMap<string, Incident>, held: readonly Incident[]): Incident[] {
  const out = new Map<string, Incident>();
  for (const id of draft.members) {
    const member = current.get(id);
    if (member !== undefined && member.status !== 'resolved') out.set(id, member);
  }
  for (const i of held) out.set(i.id, i);
  return [...out.values()];
}

/**
 * The storm with what its open members leave without a spare, or undefined when that did not change. Each member's
 * lists are worked out against everything down now (plan.ts), so together they are what the storm leaves at risk:
 * a rack that lost power took one replica of many services, and the team should know which are one failure from down.
 */
function withRisk(storm: Incident, members: readonly Incident[], now: number): Incident | undefined {
  const affected = new Set(storm.affectedServices);
  const union = (pick: (i: Incident) => readonly string[] | undefined) => [...new Set(members.flatMap((i) => pick(i) ?? []))];
  // Of members whose own lists were cut, the union of what they list: the storm's counts are then at least.
  const next = listAtRisk({
    servicesAtRisk: union((i) => i.servicesAtRisk).filter((id) => !affected.has(id)),
    criticalAtRisk: union((i) => i.criticalAtRisk),
    groupsWithoutSpare: union((i) => i.groupsWithoutSpare),
    holdingUp: union((i) => i.holdingUp),
  });
  if (sameAtRisk(storm, next)) return undefined;
  const entry = newlyAtRisk(storm, next, now);
  const { atRiskCounts: _before, ...rest } = storm;
  return { ...rest, ...next, updatedAt: now, timeline: entry ? extendTimeline(storm.timeline, entry) : storm.timeline };
}

/** What becomes of one storm after a run: the incident to write (and as what change), whom to tell, when to look again. */
export interface StormOutcome {
  storm: Incident;
  change?: 'opened' | 'updated' | 'resolved';
  tell?: { kind: 'page' | 'stakeholder' | 'update' | 'resolved'; reason?: string; nth?: number };
  wakeAt?: number;
}

/** The one line a storm's notifications lead with. */
export function describeStorm(storm: Incident, verb: string): string {
  const s = storm.storm!;
  const team = s.team ?? 'nobody in particular';
  const roots = firstFive(storm.root);
  const whose = s.holds === 'stakeholder' ? `${team} (services affected)` : team;
  return `storm for ${whose}: ${s.memberCount} root causes ${verb} (${roots})${s.common ? `; ${s.common}` : ''}`;
}

/**
 * What the hosts of a storm's root causes have in common that the graph holds no dependency for: "all 12 of their
 * hosts in rack r7 in dc1, which holds 17". The rack first (named with its location: rack names repeat across
 * sites), then the zone, then the location; undefined when fewer than two hosts, or some host is not known there.
 * The likeliest cause a page storm has is the one thing they share.
 */
export function commonPlace(topology: Topology, roots: Iterable<string>): string | undefined {
  const hosts = new Set<number>();
  for (const id of roots) {
    const v = topology.indexOf(id);
    if (v === undefined) return undefined;
    const h = topology.kinds[v] === KIND.host ? v : topology.host[v]!;
    if (h < 0) return undefined;
    hosts.add(h);
  }
  if (hosts.size < 2) return undefined;
  const places = [...hosts].map((h) => topology.places.get(h));
  for (const [name, key] of PLACE_KEYS) {
    const first = places[0] && key(places[0]);
    if (!first || !places.every((p) => p && key(p) === first)) continue;
    let holds = 0;
    for (const p of topology.places.values()) if (key(p) === first) holds++;
    return `all ${hosts.size} of their hosts in ${name(places[0]!)}, which holds ${holds}`;
  }
  return undefined;
}

/** How each kind of place is named and compared, most telling first. */
const PLACE_KEYS: [name: (p: Place) => string, key: (p: Place) => string | undefined][] = [
  [(p) => `rack ${p.rack}${p.location ? ` in ${p.location}` : ''}`, (p) => (p.rack === undefined ? undefined : `${p.location ?? ''}\u0000${p.rack}`)],
  [(p) => `zone ${p.az}`, (p) => p.az],
  [(p) => `location ${p.location}`, (p) => p.location],
];

const withoutCommon = ({ common: _, ...s }: NonNullable<Incident['storm']>) => s;

const teamKey = (team: string | null): string => team ?? '';
const stormKey = (kind: Held, team: string | null): string => `${kind}:${teamKey(team)}`;


/** A new storm for `team`, named after the first of the incidents it begins with, so every leader names it alike. */
function begin(team: string | null, kind: Held, members: readonly Incident[], now: number, taken: (id: string) => boolean): Incident {
  const first = members[0];
  const stakeholder = kind === 'stakeholder';
  return {
    id: incidentId({ key: `storm:${stakeholder ? 'stakeholder:' : ''}${teamKey(team)}:${first?.id ?? now}`, since: 0 }, taken),
    status: 'open',
    root: [],
    rootAlerts: [],
    severity: 'ok',
    suppressed: [],
    suppressedCount: 0,
    affectedServices: [],
    // Its team is its owner when it holds pages (it is paged, reminded, acknowledges), else a stakeholder of it.
    owners: team === null || stakeholder ? [] : [team],
    stakeholders: team !== null && stakeholder ? [team] : [],
    tags: {},
    openedAt: now,
    updatedAt: now,
    timeline: [],
    storm: { team, ...(stakeholder ? { holds: 'stakeholder' as const } : {}), members: [], memberCount: 0, joinedAt: now, toldMembers: 0, toldAt: now, updates: 0 },
  };
}

function close(storm: Incident, now: number, text: string): Incident {
  return { ...storm, status: 'resolved', resolvedAt: now, updatedAt: now, timeline: extendTimeline(storm.timeline, { at: now, change: 'resolved', text }) };
}
