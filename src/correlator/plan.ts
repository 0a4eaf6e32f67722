import { atRisk, atRiskIds, degradedIndexes, ownerIds, type AtRiskIds } from '../engine/index.ts';
import { formatDuration } from '../config/duration.ts';
import { suppressedCount, type Notification, type NotificationKind, type UpdateChange } from '../notify/notification.ts';
import type { AlertRecord } from './alert.ts';
import { attribute, downBecauseOf, entitiesOfKey, type Analysis, type RootUnit } from './analysis.ts';
import { affectedTotal, atRiskNames, byOpening, extendTimeline, firstFive, firstFitting, fitIncident, incidentId, INCIDENT_BYTES, jsonBytes, listAffected, listAtRisk, listRoot, listSuppressed, newlyAtRisk, pagedTeams, rootAlertTotal, sameAtRisk, sameList, shorterBy, someOf, startsWith, suppressedTotal, type AtRiskCounts, type Incident, type IncidentChange, type IncidentNote } from './incident.ts';
import { notesToTell } from './notes.ts';
import { describeSilence, Silences, type Silence } from './silence.ts';
import { coveredByAcknowledgedStorms, describeStorm, pagedDirectly, stormTeams, Storms, toldTeams, type Held, type StormPolicy } from './storm.ts';

/**
 * From an analysis to incidents and notifications (design sections 5 and 7), as a pure function: what to
 * open, update, fold and resolve, and whom to tell. The reconciler (reconciler.ts) runs it and carries it out.
 *
 * - A root unit with an open incident (their roots overlap) updates it.
 * - A root unit without one waits the settle window from when it was first seen as a root (`rootSeen`), then
 *   opens one: a page for each owner of the root (one with team null when it has none), a stakeholder notice for
 *   each owner of an affected service that does not own the root.
 * - An open incident whose root is now explained by a root that has an incident is folded into it: marked
 *   resolved with `mergedInto`, its teams told with an update, not a new page.
 * - An open incident whose root alerts no longer fail is resolved; its teams are told.
 * - A team paged more than `storm.pages` times within `storm.window` gets one page for the storm instead of the
 *   pages after that (storm.ts), and its members' news goes to that team through the storm alone.
 * - An acknowledged storm acknowledges the incidents it holds for its team.
 * - An acknowledged incident's teams hear who acknowledged it, once; the owners of one that stays open and
 *   unacknowledged are reminded of it every `remindMs`.
 * - An incident whose every root alert is silenced (silence.ts) pages and reminds nobody; one opened silenced
 *   tells nobody until the silence ends, and then pages as if it had just opened.
 * Every notification has a dedup key fixed by the incident, kind and team, so deciding it twice (another
 * correlator, a restart) enqueues it once.
 */
export interface PlanInput {
  analysis: Analysis;
  /** Incidents that are open or acknowledged. */
  open: readonly Incident[];
  alerts: ReadonlyMap<string, AlertRecord>;
  /** Whether an incident id is taken (by any incident, resolved ones included). */
  known: (id: string) => boolean;
  /** Unit key → when this unit was first seen as a root (ms). Units missing here are seen now. */
  rootSeen: ReadonlyMap<string, number>;
  now: number;
  settleMs: number;
  /** Flap detection (correlator.flapping); absent: off. */
  flapping?: { changes: number; windowMs: number } | undefined;
  /** How often the owners of an unacknowledged open incident are reminded (notify.remind); absent: never. */
  remindMs?: number | undefined;
  /** Page storms (notify.storm); absent: off. */
  storm?: StormPolicy | undefined;
  /** Silences, in force or not (those in force at `now` count). */
  silences?: Iterable<Silence> | undefined;
  /**
   * The most one message may carry as JSON: the server's max_payload less room for headers. Incidents and
   * notifications are bounded by it too, below their own bounds (INCIDENT_BYTES, NOTIFICATION_BYTES).
   */
  messageBytes?: number | undefined;
}

export interface IncidentWrite {
  incident: Incident;
  change: IncidentChange;
  /** Bookkeeping only (what its teams were told): stored, not announced as a change of the incident. */
  quiet?: boolean;
}

export interface Plan {
  writes: IncidentWrite[];
  notifications: Notification[];
  /** Unit keys seen as roots now, with when first seen: the reconciler keeps it for the next run. */
  rootSeen: Map<string, number>;
  /** When a settle window ends next (ms), if any is running. */
  wakeAt: number | undefined;
  /**
   * Incidents that could not be made to fit in a message even with every list cut (`fitIncident`; a server whose
   * max_payload is far below NATS's default): not written, and said why, so that the rest of the plan is.
   */
  unwritable: { incident: string; reason: string }[];
}

export function planIncidents(input: PlanInput): Plan {
  const { analysis, now, settleMs } = input;
  const writes = new Map<string, IncidentWrite>();
  const notifications: Notification[] = [];
  const rootSeen = new Map<string, number>();
  let wakeAt: number | undefined;
  const current = new Map(input.open.map((i) => [i.id, i]));
  const write = (incident: Incident, change: IncidentChange, quiet = false) => {
    const before = writes.get(incident.id);
    // An incident opened this run is announced as opened; a quiet write after another keeps that one's change.
    const announced = before && (before.change === 'opened' || quiet) ? before.change : change;
    writes.set(incident.id, { incident, change: announced, ...(quiet && (!before || before.quiet) ? { quiet: true } : {}) });
    current.set(incident.id, incident);
  };
  const contactsOf = (team: string | null): string[] => {
    const t = team === null ? undefined : analysis.topology.teamIndexOf(team);
    return t === undefined ? [] : [...analysis.topology.teams[t]!.contacts];
  };
  // The services each incident affects now, in full (its own list may be cut), and of those, which each team owns:
  // a stakeholder is told which of its services the root takes down.
  const affectedNow = new Map<string, readonly number[]>();
  const ownedByTeam = new Map<string, Map<string, string[]>>();
  const blastOf = (incidentId: string, unit: RootUnit): Blast => {
    const b = blast(analysis, unit);
    affectedNow.set(incidentId, b.serviceIndexes);
    return b;
  };
  const teamServices = (incident: Incident, team: string | null): string[] => {
    if (team === null) return [];
    let owned = ownedByTeam.get(incident.id);
    if (!owned) {
      const t = analysis.topology;
      const services = affectedNow.get(incident.id) ?? incident.affectedServices.flatMap((id) => t.indexOf(id) ?? []);
      ownedByTeam.set(incident.id, (owned = servicesByTeam(analysis, services)));
    }
    return owned.get(team) ?? [];
  };
  const noticeBytes = Math.min(NOTIFICATION_BYTES, input.messageBytes ?? Infinity);
  // What notifications say of an incident, once per incident as it is when told and per bound (the same for every
  // team told alike).
  const bodies = new Map<Incident, Map<number, Notification['incident']>>();
  const tell = (incident: Incident, kind: NotificationKind, teams: (string | null)[], about: About = {}) => {
    const limit = Math.min(kind === 'stakeholder' ? STAKEHOLDER_INCIDENT_BYTES : Infinity, noticeBytes - NOTIFICATION_ROOM);
    let byLimit = bodies.get(incident);
    if (!byLimit) bodies.set(incident, (byLimit = new Map()));
    let body = byLimit.get(limit);
    if (!body) byLimit.set(limit, (body = notifiedIncident(incident, input.alerts, limit)));
    for (const team of teams) notifications.push({ ...notification(incident, kind, team, teamServices(incident, team), body, now, about), contacts: contactsOf(team) });
  };
  const wake = (at: number) => {
    wakeAt = Math.min(wakeAt ?? Infinity, at);
  };
  const taken = (id: string) => input.known(id) || writes.has(id);
  const storms = input.storm ? new Storms(input.storm, input.open, now, analysis.topology) : undefined;
  const silences = new Silences(input.silences ?? [], now);
  const silencedText = (ids: readonly string[]) =>
    `silenced by ${ids
      .map((id) => {
        const s = silences.get(id)!;
        return `${id} (${describeSilence(s)}, until ${new Date(s.end).toISOString()}, ${s.createdBy}: ${s.comment})`;
      })
      .join('; ')}`;
  // The pages and stakeholder notices of the run are decided together, after its incidents: forty hosts failing at
  // once are one storm page, not ten pages and then a storm (and one notice for the teams whose services they ran).
  const pages: { incident: string; team: string | null; kind: Held; about?: About }[] = [];
  const page = (incident: Incident, teams: (string | null)[], about?: About, kind: Held = 'page') => {
    for (const team of teams) pages.push({ incident: incident.id, team, kind, ...(about ? { about } : {}) });
  };
  const notice = (incident: Incident, teams: (string | null)[], about?: About) => page(incident, teams, about, 'stakeholder');

  // Who suppresses what (`attribute`) is read on first need: while every root is still settling (a burst, or the
  // first seconds of an outage), the planner only keeps time and the attribution is not paid for.
  let bySuppressor: string[][] | undefined;
  const suppressedOf = (u: number): string[] => (bySuppressor ??= suppressedByUnit(attribute(analysis)))[u]!;
  const starts = settleStarts(analysis.units, input.rootSeen, now);
  const matched = matchUnits(analysis.units, input.open);
  const claimed = new Set(matched.flatMap((i) => (i ? [i.id] : [])));
  const unitIncident = new Map<number, Incident>();
  analysis.units.forEach((unit, u) => {
    if (unit.maintenance) return;
    const existing = matched[u];
    if (existing) {
      const next = refresh(existing, unit, blastOf(existing.id, unit), suppressedOf(u), input.alerts, now);
      if (next) {
        write(next, 'updated');
        // Teams that were not concerned before hear of it once (their dedup keys are the incident's); an incident
        // nobody was told of tells them all when its silence ends.
        if (!next.untold) {
          page(next, next.owners.filter((team) => !existing.owners.includes(team)));
          notice(next, next.stakeholders.filter((team) => !existing.stakeholders.includes(team) && !existing.owners.includes(team)));
        }
      }
      unitIncident.set(u, current.get(existing.id)!);
      return;
    }
    const seen = starts[u]!;
    rootSeen.set(unit.key, seen);
    if (now - seen < settleMs) {
      wake(seen + settleMs);
      return;
    }
    const calm = flappingUntil(unit.alerts, input, now);
    if (calm > now) {
      wake(calm);
      return;
    }
    const id = incidentId(unit, taken);
    const incident = open(id, unit, blastOf(id, unit), suppressedOf(u), input.alerts, now);
    const silencedBy = silences.covering(incident.rootAlerts, input.alerts);
    if (silencedBy) {
      Object.assign(incident, { silencedBy, untold: true });
      incident.timeline.push({ at: now, change: 'updated', text: `${silencedText(silencedBy)}: nobody paged` });
    }
    write(incident, 'opened');
    unitIncident.set(u, incident);
    if (silencedBy) return;
    page(incident, pagedTeams(incident));
    notice(incident, incident.stakeholders);
  });

  // Silences that began or ended: an incident opened silenced pages when its silence ends while it is still open.
  for (const incident of [...current.values()]) {
    if (incident.status === 'resolved' || incident.storm || writes.get(incident.id)?.change === 'opened') continue;
    const covering = silences.covering(incident.rootAlerts, input.alerts);
    if (sameList(covering ?? [], incident.silencedBy ?? [])) continue;
    if (covering) {
      write({ ...incident, silencedBy: covering, updatedAt: now, timeline: extendTimeline(incident.timeline, { at: now, change: 'updated', text: silencedText(covering) }) }, 'updated');
      continue;
    }
    const { silencedBy: _ended, ...rest } = incident;
    // One whose root recovered meanwhile pages nobody: the resolution below tells nobody either.
    const paging = incident.untold === true && incident.status === 'open' && incident.rootAlerts.some((id) => analysis.decisions.get(id)?.failing);
    const next: Incident = { ...rest, updatedAt: now, timeline: extendTimeline(incident.timeline, { at: now, change: 'updated', text: paging ? 'no longer silenced: paging its owners now' : 'no longer silenced' }) };
    if (paging) {
      delete next.untold;
      // Its reminders count from this page, not from when it opened unheard.
      next.remindedAt = now;
    }
    write(next, 'updated');
    if (paging) {
      // Late by the length of the silence: the page says why, and since when it has been failing.
      const about = { reason: `silenced until now (${incident.silencedBy!.join(', ')}); open since ${new Date(incident.openedAt).toISOString()}` };
      page(next, pagedTeams(next), about);
      notice(next, next.stakeholders, about);
    }
  }

  const storming = storms?.hold(
    pages.map((p) => ({ team: p.team, incident: current.get(p.incident)!, kind: p.kind })),
    taken,
  );
  pages.forEach(({ incident: id, team, kind, about }, i) => {
    const incident = current.get(id)!;
    const storm = storming?.[i];
    if (storm) write({ ...incident, heldBy: [...(incident.heldBy ?? []), { team, storm, ...(kind === 'stakeholder' ? { notice: kind } : {}) }] }, 'updated');
    else tell(incident, kind, [team], about);
  });

  for (const incident of [...current.values()]) {
    if (incident.status === 'resolved' || incident.storm || claimed.has(incident.id) || writes.get(incident.id)?.change === 'opened') continue;
    const decisions = incident.rootAlerts.map((id) => analysis.decisions.get(id));
    const teams = toldTeams(incident);
    if (decisions.every((d) => !d || !d.failing)) {
      // A root that flaps back to ok is not believed until it settles: no resolve, no new page when it fails again.
      const calm = flappingUntil(incident.rootAlerts, input, now);
      if (calm > now) {
        wake(calm);
        continue;
      }
      const resolved = close(incident, now, 'resolved', 'the root recovered');
      write(resolved, 'resolved');
      tell(resolved, 'resolved', teams);
      continue;
    }
    // The units that explain the root and may hold an incident: a unit in maintenance never does, and a root
    // explained by those alone (its host rebooted in the window) is in maintenance itself.
    attribute(analysis);
    const parents = new Set<number>();
    let maintenance = false;
    for (const d of decisions) {
      if (d?.verdict !== 'suppressed') continue;
      if (d.reason === 'maintenance') maintenance = true;
      for (const u of d.suppressedBy) if (!analysis.units[u]!.maintenance) parents.add(u);
    }
    const parent = [...parents].map((u) => unitIncident.get(u)).find((i) => i !== undefined);
    if (parent) {
      const folded = { ...close(incident, now, 'folded', `caused by ${someOf(parent.root)}: folded into ${parent.id}`), mergedInto: parent.id };
      write(folded, 'folded');
      tell(folded, 'update', teams, { reason: `caused by ${someOf(parent.root)}: folded into ${parent.id}`, change: 'folded' });
      const absorbing = current.get(parent.id)!;
      write(
        {
          ...absorbing,
          ...listSuppressed([...absorbing.suppressed, ...incident.rootAlerts, ...incident.suppressed]),
          updatedAt: now,
          timeline: extendTimeline(absorbing.timeline, { at: now, change: 'folded', text: `took over ${incident.id} (${someOf(incident.root)})` }),
        },
        'updated',
      );
    } else if (maintenance && parents.size === 0) {
      const resolved = close(incident, now, 'resolved', 'the root is now in a maintenance window');
      write(resolved, 'resolved');
      tell(resolved, 'resolved', teams, { reason: 'the root is now in a maintenance window' });
    }
    // Otherwise its root is explained by a root still settling: it stays open until that one opens.
  }

  // After the members' news: a storm pages once its members are in, tells of more at most once a minute, and
  // resolves with its last member.
  for (const outcome of storms?.settle(current) ?? []) {
    const { storm, change, tell: told } = outcome;
    if (change) write(storm, change);
    if (told) tell(storm, told.kind, stormTeams(storm), told.kind === 'update' ? { reason: told.reason, change: 'storm', nth: told.nth } : { reason: told.reason });
    if (outcome.wakeAt !== undefined) wake(outcome.wakeAt);
  }

  // An acknowledged storm acknowledges what it holds for its team (the pages sent before it began among them), and
  // their other teams hear that it was acknowledged with the storm.
  for (const { incident, storm } of coveredByAcknowledgedStorms(current.values())) {
    const by = storm.acknowledgedBy ?? 'someone';
    const acknowledged: Incident = {
      ...incident,
      status: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: by,
      acknowledgementTold: true,
      updatedAt: now,
      timeline: extendTimeline(incident.timeline, { at: now, change: 'acknowledged', text: `acknowledged by ${by} with the storm ${storm.id}` }),
    };
    write(acknowledged, 'acknowledged');
    tell(acknowledged, 'update', toldTeams(acknowledged), { reason: `acknowledged by ${by} with the storm ${storm.id}`, change: 'acknowledged' });
  }

  // Someone acknowledged (the API wrote it): every team of the incident hears who, once; PagerDuty stops escalating.
  for (const incident of [...current.values()]) {
    if (incident.status !== 'acknowledged' || incident.acknowledgementTold) continue;
    tell(incident, 'update', toldTeams(incident), { reason: `acknowledged by ${incident.acknowledgedBy ?? 'someone'}`, change: 'acknowledged' });
    write({ ...incident, acknowledgementTold: true }, 'updated', true);
  }

  // Someone wrote a note for the incident's teams: each hears it once (its dedup key ends in the note's number). One
  // that resolved in this run is told too: the note was written while it was open (a resolved one takes no tell).
  for (const incident of [...current.values()]) {
    const due = notesToTell(incident);
    if (due.length === 0) continue;
    for (const note of due) tell(incident, 'update', toldTeams(incident), { reason: `${note.by}: ${note.text}`, change: 'note', nth: note.n, note });
    write({ ...incident, notes: incident.notes!.map((n) => (n.tell && !n.told ? { ...n, told: true } : n)) }, 'updated', true);
  }

  // Open, failing, and nobody has said they are on it: the owners hear of it again (each reminder its own dedup
  // key, so deciding it twice still tells once). The count and time are kept on the incident, so a new leader goes
  // on from there rather than reminding at once.
  const remindMs = input.remindMs;
  if (remindMs !== undefined) {
    for (const incident of [...current.values()]) {
      if (incident.status !== 'open' || incident.silencedBy) continue;
      const due = (incident.remindedAt ?? incident.openedAt) + remindMs;
      if (now < due) {
        wake(due);
        continue;
      }
      const owners = pagedDirectly(incident);
      if (owners.length === 0) continue;
      const nth = (incident.reminders ?? 0) + 1;
      const reason = `open for ${formatDuration(now - incident.openedAt)} and nobody has acknowledged it`;
      tell(incident, 'update', owners, { reason, change: 'reminder', nth });
      write({ ...incident, reminders: nth, remindedAt: now }, 'updated', true);
      wake(now + remindMs);
    }
  }

  const incidentBytes = Math.min(INCIDENT_BYTES, input.messageBytes ?? Infinity);
  const fitted: IncidentWrite[] = [];
  const unwritable: Plan['unwritable'] = [];
  for (const w of writes.values()) {
    try {
      fitted.push({ ...w, incident: fitIncident(w.incident, incidentBytes) });
    } catch (err) {
      unwritable.push({ incident: w.incident.id, reason: (err as Error).message });
    }
  }
  return { writes: fitted, notifications: byUrgency(notifications), rootSeen, wakeAt, unwritable };
}

/**
 * When each unit's settle window started: its own start in `rootSeen`; else the earliest start of the settling
 * units it shares an entity with; else `now`. A dependency cycle that fails in more places (or fewer) is a new unit
 * with each alert, and keeps the window it had: starting one with every alert would put its page off for as long
 * as an outage spreads.
 */
function settleStarts(units: readonly RootUnit[], rootSeen: ReadonlyMap<string, number>, now: number): number[] {
  let byEntity: Map<string, number> | undefined;
  return units.map((unit) => {
    const own = rootSeen.get(unit.key);
    if (own !== undefined || !unit.mapped) return own ?? now;
    if (!byEntity) {
      byEntity = new Map();
      for (const [key, at] of rootSeen) for (const id of entitiesOfKey(key)) byEntity.set(id, Math.min(at, byEntity.get(id) ?? at));
    }
    let start = now;
    for (const id of unit.entities) start = Math.min(start, byEntity.get(id) ?? now);
    return start;
  });
}

/** When the flapping alerts among `ids` settle (now or earlier when none flaps). */
function flappingUntil(ids: readonly string[], input: PlanInput, now: number): number {
  const f = input.flapping;
  if (!f) return now;
  let until = now;
  for (const id of ids) {
    const recent = (input.alerts.get(id)?.changes ?? []).filter((t) => t > now - f.windowMs);
    if (recent.length > f.changes) until = Math.max(until, recent[recent.length - f.changes - 1]! + f.windowMs);
  }
  return until;
}


/**
 * Each unit's incident among `open`: the oldest not resolved whose root overlaps the unit's entities and that no
 * earlier unit took; none for a unit in maintenance.
 */
export function matchUnits(units: readonly RootUnit[], open: readonly Incident[]): (Incident | undefined)[] {
  const byRoot = new Map<string, Incident[]>();
  for (const i of open) {
    if (i.status === 'resolved' || i.storm) continue;
    for (const id of i.root) {
      const on = byRoot.get(id);
      if (on) on.push(i);
      else byRoot.set(id, [i]);
    }
  }
  const claimed = new Set<string>();
  return units.map((unit) => {
    if (unit.maintenance) return undefined;
    const overlapping = [...new Set(unit.entities.flatMap((id) => byRoot.get(id) ?? []))].filter((i) => !claimed.has(i.id)).sort(byOpening);
    const first = overlapping[0];
    if (first) claimed.add(first.id);
    return first;
  });
}

/** For each unit, the alert ids it suppresses, sorted. */
function suppressedByUnit(analysis: Analysis): string[][] {
  const out = analysis.units.map((): string[] => []);
  for (const d of analysis.decisions.values()) if (d.verdict === 'suppressed') for (const u of d.suppressedBy) out[u]!.push(d.id);
  for (const list of out) list.sort();
  return out;
}

/**
 * Pages first, stakeholder notices last, each kind in the order decided (a stable sort). The outbox delivers in the
 * order enqueued, a few at a time: in an outage whose root takes down services of fifty teams, the page would
 * otherwise wait behind their fifty notices.
 */
function byUrgency(notifications: Notification[]): Notification[] {
  const rank = (n: Notification) => (n.kind === 'page' ? 0 : n.kind === 'stakeholder' ? 2 : 1);
  return notifications.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map(({ n }) => n);
}

interface Blast extends AtRiskIds {
  atRiskCounts?: AtRiskCounts;
  /** Every affected service, sorted (the incident lists the first of them), and their indexes. */
  services: string[];
  serviceIndexes: number[];
  owners: string[];
  stakeholders: string[];
}

/** Affected services (down because of the unit, or degraded by a soft need of something that is) and teams. */
function blast(analysis: Analysis, unit: RootUnit): Blast {
  if (!unit.mapped) return { services: [], serviceIndexes: [], servicesAtRisk: [], criticalAtRisk: [], groupsWithoutSpare: [], holdingUp: [], owners: [], stakeholders: [] };
  const t = analysis.topology;
  const down = downBecauseOf(analysis, unit);
  const services = new Set<number>();
  for (const v of down) if (t.isService(v)) services.add(v);
  for (const v of degradedIndexes(t, Int32Array.from(down))) if (t.isService(v) && !analysis.down[v]) services.add(v);
  const risk = atRisk(t, analysis.down, down);
  const owners = ownerIds(t, unit.indexes);
  const stakeholders = ownerIds(t, [...services]).filter((team) => !owners.includes(team));
  return {
    services: t.idsOf(services).sort(),
    serviceIndexes: [...services],
    // A degraded service listed as affected is not listed again as at risk.
    ...listAtRisk(atRiskIds(t, risk, services)),
    owners: owners.sort(),
    stakeholders: stakeholders.sort(),
  };
}

/** Team id → the ids of `services` it owns, sorted. */
function servicesByTeam(analysis: Analysis, services: readonly number[]): Map<string, string[]> {
  const t = analysis.topology;
  const out = new Map<string, string[]>();
  for (const v of services) {
    for (const team of ownerIds(t, [v])) {
      const list = out.get(team);
      if (list) list.push(t.ids[v]!);
      else out.set(team, [t.ids[v]!]);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

function rootTags(unit: RootUnit, alerts: ReadonlyMap<string, AlertRecord>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const id of unit.alerts) Object.assign(tags, alerts.get(id)?.tags);
  return tags;
}

function open(id: string, unit: RootUnit, b: Blast, suppressed: string[], alerts: ReadonlyMap<string, AlertRecord>, now: number): Incident {
  const { services, serviceIndexes: _indexes, ...lists } = b;
  const incident: Incident = {
    id,
    status: 'open',
    ...listRoot(unit),
    severity: unit.severity,
    ...listSuppressed(suppressed),
    ...listAffected(services),
    ...lists,
    tags: rootTags(unit, alerts),
    openedAt: now,
    updatedAt: now,
    timeline: [{ at: now, change: 'opened', text: `${someOf(unit.entities)} failing (${someOf(unit.alerts)})` }],
  };
  const riskEntry = newlyAtRisk({}, b, now);
  if (riskEntry) incident.timeline.push(riskEntry);
  return incident;
}

/** The incident brought up to date with its unit, or undefined when nothing changed. */
function refresh(incident: Incident, unit: RootUnit, b: Blast, suppressed: string[], alerts: ReadonlyMap<string, AlertRecord>, now: number): Incident | undefined {
  const root = listRoot(unit);
  const rootChanged = !sameList(incident.root, root.root) || !sameList(incident.rootAlerts, root.rootAlerts) || incident.rootCount !== root.rootCount || incident.rootAlertCount !== root.rootAlertCount;
  const affected = grownAffected(incident, b.services);
  // Alerts folded in from an earlier incident stay listed while they still fail.
  // Sets: in an outage at its worst an incident suppresses tens of thousands of alerts, and a list scan per alert
  // would block the event loop for seconds.
  const suppressedNow = new Set(suppressed);
  const onRoot = new Set(unit.alerts);
  const kept = incident.suppressed.filter((id) => !suppressedNow.has(id) && !onRoot.has(id) && alerts.get(id) !== undefined);
  const listed = listSuppressed([...suppressed, ...kept]);
  // A prefix: when the whole incident outgrew its KV value, the stored list was cut shorter still (fitIncident).
  const sameSuppressed = startsWith(listed.suppressed, incident.suppressed) && suppressedTotal(incident) === listed.suppressedCount;
  const sameRisk = sameAtRisk(incident, b);
  const newTeams = b.stakeholders.some((team) => !incident.stakeholders.includes(team) && !incident.owners.includes(team));
  if (!rootChanged && !affected && !newTeams && sameSuppressed && sameRisk && incident.severity === unit.severity) return undefined;
  const next: Incident = { ...incident, ...listed, severity: unit.severity, updatedAt: now };
  if (!sameRisk) {
    // What is at risk is what is true now: a spare that came back takes its services off the list.
    const entry = newlyAtRisk(incident, b, now);
    Object.assign(next, { servicesAtRisk: b.servicesAtRisk, criticalAtRisk: b.criticalAtRisk, groupsWithoutSpare: b.groupsWithoutSpare, holdingUp: b.holdingUp });
    if (b.atRiskCounts) next.atRiskCounts = b.atRiskCounts;
    else delete next.atRiskCounts;
    if (entry) next.timeline = extendTimeline(next.timeline, entry);
  }
  if (rootChanged) {
    delete next.rootCount;
    delete next.rootAlertCount;
    Object.assign(next, { ...root, tags: rootTags(unit, alerts) });
    // The same entities with other alerts failing on them (a check more, or fewer) say which alerts fail now.
    const text = sameList(incident.root, root.root) && incident.rootCount === root.rootCount ? `failing on the root now: ${someOf(unit.alerts)}` : `root is now ${someOf(unit.entities)}`;
    next.timeline = extendTimeline(next.timeline, { at: now, change: 'updated', text });
  }
  // Affected services and stakeholders only grow while the incident is open: whoever was told stays listed, and a
  // team that owned the root before is a stakeholder now, so it hears how the incident ends (and its page closes).
  next.owners = rootChanged ? b.owners : incident.owners;
  next.stakeholders = [...new Set([...incident.stakeholders, ...incident.owners, ...b.stakeholders])].filter((t) => !next.owners.includes(t)).sort();
  if (affected) {
    const { text, ...listed } = affected;
    delete next.affectedServiceCount;
    Object.assign(next, listed);
    next.timeline = extendTimeline(next.timeline, { at: now, change: 'updated', text });
  }
  return next;
}

/**
 * What the incident lists of its affected services once `services` (what the root takes down now) joins them, or
 * undefined when that adds none. They only grow while it is open. Sets, not list scans: a core switch takes down
 * tens of thousands of services, and the planner runs every few hundred milliseconds. Of an incident whose list is
 * cut, a service past the cut is not known to be new; it counts only when the total grows.
 */
function grownAffected(incident: Incident, services: readonly string[]): { affectedServices: string[]; affectedServiceCount?: number; text: string } | undefined {
  const listed = new Set(incident.affectedServices);
  const before = affectedTotal(incident);
  const cutAt = before > incident.affectedServices.length ? incident.affectedServices.at(-1)! : undefined;
  const unlisted = services.filter((id) => !listed.has(id));
  // Past the cut, what was listed before is not known: the count is then at least what both lists hold.
  const total = Math.max(before, listed.size + unlisted.length);
  const added = cutAt === undefined ? unlisted : unlisted.filter((id) => id < cutAt);
  if (added.length === 0 && total === before) return undefined;
  const text = added.length > 0 ? `now also affects ${someOf(added)}` : `now affects ${total} services`;
  return { ...listAffected([...incident.affectedServices, ...unlisted].sort(), total), text };
}

function close(incident: Incident, now: number, change: IncidentChange, text: string): Incident {
  return { ...incident, status: 'resolved', resolvedAt: now, updatedAt: now, timeline: extendTimeline(incident.timeline, { at: now, change, text }) };
}

/**
 * Suppressed alert ids a notification lists (`suppressedCount` says how many there are): a message has to fit in
 * NATS's max_payload (1 MB by default) to be enqueued at all, and thirty thousand ids would not. The page matters
 * more than the list.
 */
export const NOTIFIED_SUPPRESSED = 1_000;

/** A notification's `teamServices`, in bytes (the summary counts them all). */
const TEAM_SERVICES_BYTES = 16 * 1024;

/**
 * The most one notification takes as JSON. Every list on it is bounded, but together they can pass what is worth
 * sending: an outage of the whole estate tells two hundred teams, and each notice is encoded, stored and delivered.
 * What it says of the incident is the same for every team told (`notifiedIncident`) and takes all but
 * NOTIFICATION_ROOM, which holds the rest: the team's services, summary, reason and note, each bounded.
 */
export const NOTIFICATION_BYTES = 256 * 1024;
const NOTIFICATION_ROOM = 32 * 1024;

/**
 * What a stakeholder notice says of the incident, in bytes: the team's own services are listed beside it, and
 * every list is counted; the long lists are for those who act on the root. A large outage tells dozens of teams,
 * and their notices are stored and delivered after the pages.
 */
const STAKEHOLDER_INCIDENT_BYTES = 32 * 1024;

/**
 * The incident as notifications tell it, within `limit` bytes of JSON. The longest lists give way, each counted:
 * suppressed alerts, then what is at risk, then affected services, then root alerts.
 */
export function notifiedIncident(incident: Incident, alerts: ReadonlyMap<string, AlertRecord>, limit = NOTIFICATION_BYTES - NOTIFICATION_ROOM): Notification['incident'] {
  const body: Notification['incident'] = {
    id: incident.id,
    status: incident.status,
    root: incident.root,
    suppressed: incident.suppressed.slice(0, NOTIFIED_SUPPRESSED),
    suppressedCount: suppressedTotal(incident),
    affectedServices: incident.affectedServices,
    ...(incident.affectedServiceCount !== undefined ? { affectedServiceCount: incident.affectedServiceCount } : {}),
    servicesAtRisk: incident.servicesAtRisk ?? [],
    criticalAtRisk: incident.criticalAtRisk ?? [],
    holdingUp: incident.holdingUp ?? [],
    ...(incident.atRiskCounts ? { atRiskCounts: incident.atRiskCounts } : {}),
    owners: incident.owners,
    stakeholders: incident.stakeholders,
    rootAlerts: incident.rootAlerts.map((id) => {
      const a = alerts.get(id);
      return { id, status: a?.status ?? 'ok', ...(a?.text !== undefined ? { text: a.text } : {}), ...(a?.runbook !== undefined ? { runbook: a.runbook } : {}) };
    }),
    ...(incident.rootAlertCount !== undefined ? { rootAlertCount: incident.rootAlertCount } : {}),
    openedAt: new Date(incident.openedAt).toISOString(),
    updatedAt: new Date(incident.updatedAt).toISOString(),
    ...(incident.mergedInto ? { mergedInto: incident.mergedInto } : {}),
    ...(incident.acknowledgedBy !== undefined ? { acknowledgedBy: incident.acknowledgedBy } : {}),
    ...(incident.storm
      ? { storm: { members: incident.storm.members.slice(0, NOTIFIED_SUPPRESSED), memberCount: incident.storm.memberCount, ...(incident.storm.holds ? { holds: incident.storm.holds } : {}) } }
      : {}),
  };
  let excess = jsonBytes(body) - limit;
  if (excess <= 0) return body;
  const shorten = (ids: readonly string[]): string[] => {
    const kept = shorterBy(ids, excess);
    excess -= jsonBytes(ids) - jsonBytes(kept);
    return kept;
  };
  body.suppressed = shorten(body.suppressed);
  if (excess > 0) {
    body.atRiskCounts ??= { servicesAtRisk: body.servicesAtRisk!.length, criticalAtRisk: body.criticalAtRisk!.length, groupsWithoutSpare: incident.groupsWithoutSpare?.length ?? 0, holdingUp: body.holdingUp!.length };
    for (const list of ['holdingUp', 'criticalAtRisk', 'servicesAtRisk'] as const) if (excess > 0) body[list] = shorten(body[list]!);
  }
  if (excess > 0) {
    body.affectedServiceCount ??= body.affectedServices.length;
    body.affectedServices = shorten(body.affectedServices);
  }
  if (excess > 0) {
    // Root alerts last, each with its text: the first stays, whatever it takes.
    body.rootAlertCount = rootAlertTotal(incident);
    let keep = body.rootAlerts.length;
    while (keep > 1 && excess > 0) excess -= jsonBytes(body.rootAlerts[--keep]) + 1;
    body.rootAlerts = body.rootAlerts.slice(0, keep);
  }
  return body;
}

/** What a notification says beyond its kind: why, which change an update tells, and which reminder it is. */
interface About {
  reason?: string;
  change?: UpdateChange;
  nth?: number;
  note?: IncidentNote;
}

function notification(
  incident: Incident,
  kind: NotificationKind,
  team: string | null,
  mine: readonly string[],
  body: Notification['incident'],
  now: number,
  { reason, change, nth, note }: About,
): Notification {
  const services = incident.affectedServices;
  const total = affectedTotal(incident);
  const verb = kind === 'resolved' ? 'recovered' : 'is failing';
  const atRiskNow = kind === 'resolved' ? [] : atRiskNames(incident.servicesAtRisk ?? [], incident.criticalAtRisk ?? []);
  const atRiskPart = atRiskNow.length === 0 ? '' : `; ${firstFive(atRiskNow)} at risk (no spare left)`;
  // A stakeholder hears first which of its own services the root takes down: that is why it is told.
  const inAll = total > mine.length ? `; ${total} services in all` : '';
  const affected =
    (kind === 'stakeholder' && mine.length > 0
      ? `${mine.length === 1 ? `your ${mine[0]} is affected` : `${mine.length} of your services affected (${firstFive(mine)})`}${inAll}`
      : total === 0
        ? 'no service affected'
        : `${total} service${total > 1 ? 's' : ''} affected (${firstFive(services)})`) + atRiskPart;
  const n: Notification = {
    kind,
    team,
    contacts: [],
    teamServices: firstFitting(mine, TEAM_SERVICES_BYTES),
    severity: incident.severity,
    incident: body,
    summary: incident.storm ? describeStorm(incident, kind === 'resolved' ? 'recovered' : 'failing') + atRiskPart : `${someOf(incident.root)} ${verb}: ${affected}`,
    tags: incident.tags,
    dedupKey: [incident.id, kind, team ?? 'unowned', change, nth].filter(Boolean).join('/'),
    createdAt: new Date(now).toISOString(),
  };
  if (reason) n.reason = reason;
  if (change) n.change = change;
  if (note) n.note = { by: note.by, text: note.text, at: new Date(note.at).toISOString() };
  return n;
}
