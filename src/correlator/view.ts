import type { NatsConnection } from '@nats-io/nats-core';
import { KV_BUCKETS } from '../bus/layout.ts';
import { KvMirror } from '../bus/kv-mirror.ts';
import type { Config } from '../config/schema.ts';
import { LiveRoots } from '../engine/index.ts';
import type { TopologyStore } from '../engine/store.ts';
import type { AlertRecord } from './alert.ts';
import { analyse, attribute, type Analysis } from './analysis.ts';
import type { Incident } from './incident.ts';
import { maintenanceMask, nextStartOrEnd, type MaintenanceWindow } from './maintenance.ts';
import { AlertMapper } from './mapping.ts';
import { decidesAlike, PlacedAlerts } from './placed.ts';
import { Silences, type Silence } from './silence.ts';

/**
 * The correlation state as every role sees it: alerts, incidents, maintenance windows and silences mirrored from their KV
 * buckets, the topology snapshot, and the analysis over them (recomputed only after something changed). The
 * correlator decides on it; the API answers `alerts`, `incidents` and `incident` from it.
 */
export class CorrelationView {
  /** The alert records, the failing ones placed on the graph (the analysis starts from it). */
  private placed: PlacedAlerts;
  /** The root units of the last analysis, kept up to date between analyses (see LiveRoots). */
  private live: LiveRoots;
  private memo: Analysis | undefined;
  private last: Analysis | undefined;
  private maskValidUntil = Infinity;
  private silenced: { matcher: Silences; validUntil: number } | undefined;
  private readonly listeners: (() => void)[] = [];

  private constructor(
    readonly alerts: KvMirror<AlertRecord>,
    readonly incidents: KvMirror<Incident>,
    readonly maintenance: KvMirror<MaintenanceWindow>,
    readonly silences: KvMirror<Silence>,
    topology: TopologyStore,
    config: Config['correlator'],
    readonly clock: () => number,
  ) {
    this.placed = new PlacedAlerts(new AlertMapper(topology.current.topology, config.mappings), config.threshold, [...alerts.values()].map((e) => e.value));
    this.live = new LiveRoots(topology.current.topology);
    const changed = () => {
      this.memo = undefined;
      for (const listener of this.listeners) listener();
    };
    alerts.onChange((_, entry, previous) => {
      if (entry) this.placed.set(entry.value);
      else if (previous) this.placed.delete(previous.value.id);
      // A refresh (only the time moved) changes no decision: the analysis stays valid.
      if (!entry || !previous || !decidesAlike(entry.value, previous.value)) changed();
    });
    maintenance.onChange(changed);
    incidents.onChange(() => {
      for (const listener of this.listeners) listener();
    });
    // A silence changes whom an incident tells, not a verdict: the analysis stays valid.
    silences.onChange(() => {
      this.silenced = undefined;
      for (const listener of this.listeners) listener();
    });
    topology.onSwap((snapshot) => {
      this.placed = new PlacedAlerts(new AlertMapper(snapshot.topology, config.mappings), config.threshold, this.placed.records.values());
      this.live = new LiveRoots(snapshot.topology);
      changed();
    });
  }

  /** Mirrors the buckets (created by ensureLayout) and resolves once all of them are loaded. */
  static async open(nats: NatsConnection, topology: TopologyStore, config: Config['correlator'], clock: () => number = Date.now): Promise<CorrelationView> {
    const [alerts, incidents, maintenance, silences] = await Promise.all([
      KvMirror.open<AlertRecord>(nats, KV_BUCKETS.alerts),
      KvMirror.open<Incident>(nats, KV_BUCKETS.incidents),
      KvMirror.open<MaintenanceWindow>(nats, KV_BUCKETS.maintenance),
      KvMirror.open<Silence>(nats, KV_BUCKETS.silences),
    ]);
    await Promise.all([alerts.ready, incidents.ready, maintenance.ready, silences.ready]);
    return new CorrelationView(alerts, incidents, maintenance, silences, topology, config, clock);
  }

  /** Called after any change of alerts, incidents, windows, silences or topology. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The analysis of the current state, with who suppresses what (cached until something changes). */
  analysis(): Analysis {
    return attribute(this.decide());
  }

  /**
   * The verdicts (root, suppressed, active, ok) of the current state, without who suppresses what: what the
   * correlator needs after every batch. Cached until something changes or a window starts or ends.
   */
  decide(): Analysis {
    const now = this.clock();
    if (this.memo && now < this.maskValidUntil) return this.memo;
    this.memo = this.analyse(now);
    this.last = this.memo;
    return this.memo;
  }

  /**
   * The analysis computed last, even if something changed since (the correlator decides again right after a
   * change and then runs the planner): the planner does not pay for an analysis of its own.
   */
  latest(): Analysis {
    return this.last ?? this.decide();
  }

  private analyse(now: number): Analysis {
    const windows = [...this.maintenance.values()].map((e) => e.value);
    this.maskValidUntil = nextStartOrEnd(windows, now) ?? Infinity;
    return analyse({ alerts: this.placed, maintenance: maintenanceMask(this.placed.mapper.topology, windows, now), live: this.live });
  }

  /** Alert records by alert id (a live map: do not change it). */
  records(): ReadonlyMap<string, AlertRecord> {
    return this.placed.records;
  }

  /** The silences in force now, compiled (cached until one changes, starts or ends). */
  activeSilences(): Silences {
    const now = this.clock();
    if (this.silenced && now < this.silenced.validUntil) return this.silenced.matcher;
    const all = this.silenceList();
    this.silenced = { matcher: new Silences(all, now), validUntil: nextStartOrEnd(all, now) ?? Infinity };
    return this.silenced.matcher;
  }

  silenceList(): Silence[] {
    return [...this.silences.values()].map((e) => e.value);
  }

  /** When the next window or silence starts or ends, if any: the planner runs again then. */
  nextStartOrEnd(): number | undefined {
    return nextStartOrEnd([...[...this.maintenance.values()].map((e) => e.value), ...this.silenceList()], this.clock());
  }

  stop(): void {
    this.alerts.stop();
    this.incidents.stop();
    this.maintenance.stop();
    this.silences.stop();
  }
}
