import type { AlertRecord } from './alert.ts';
import { SEVERITY_RANK, type Status } from './event.ts';
import type { AlertMapper } from './mapping.ts';

const MAX_LOG = 1 << 16;

/** Whether two records of an alert read the same to a decision (status, named entity, failing since). */
export const decidesAlike = (a: AlertRecord, b: AlertRecord): boolean => a.status === b.status && a.entity === b.entity && a.since === b.since;

/**
 * The alert records by id, with the failing ones (at or above the threshold) placed on the graph: on their entity,
 * or on their host when no mapping places them (unmapped). Kept up to date one alert at a time, so an analysis
 * starts from the failing entities and the alerts on them instead of mapping every alert again.
 *
 * `changedSince` says whether the failing alerts on one entity changed after a given `generation`, and
 * `entitiesChangedSince` which entities did: the analysis hands only those to LiveRoots, and builds again only the
 * root units that hold one of them.
 */
export class PlacedAlerts {
  readonly records = new Map<string, AlertRecord>();
  private readonly onEntity = new Map<number, Map<string, AlertRecord>>();
  private readonly onUnmappedHost = new Map<string, Map<string, AlertRecord>>();
  /** Failing alert id → the entity it is placed on (-1: unmapped, on its host). */
  private readonly placement = new Map<string, number>();
  /** Per entity: the generation in which its failing alerts last changed. */
  private readonly changedAt: Uint32Array;
  private current = 1;
  /** Entities whose failing alerts changed, with the generation of each change, since generation `logFrom`. */
  private readonly log: number[] = [];
  private readonly logAt: number[] = [];
  private logFrom = 0;
  private readonly bar: number;

  constructor(
    readonly mapper: AlertMapper,
    readonly threshold: Exclude<Status, 'ok'>,
    records: Iterable<AlertRecord> = [],
  ) {
    this.bar = SEVERITY_RANK[threshold];
    this.changedAt = new Uint32Array(mapper.topology.size);
    for (const record of records) this.set(record);
  }

  /** Increases with every change of what is failing where. */
  get generation(): number {
    return this.current;
  }

  /** Takes an alert's newest record (new, changed or only refreshed). */
  set(record: AlertRecord): void {
    const previous = this.records.get(record.id);
    this.records.set(record.id, record);
    if (previous && decidesAlike(previous, record)) {
      // Only the time (or text) moved: same place, same verdict; the placed copy is refreshed in place.
      const at = this.placement.get(record.id);
      if (at !== undefined) this.listAt(at, record.host)?.set(record.id, record);
      return;
    }
    this.unplace(record.id, previous?.host);
    if (SEVERITY_RANK[record.status] >= this.bar) this.place(record);
  }

  delete(id: string): void {
    const previous = this.records.get(id);
    if (!previous) return;
    this.records.delete(id);
    this.unplace(id, previous.host);
  }

  /** Entities with at least one failing alert. */
  failingEntities(): number[] {
    return [...this.onEntity.keys()];
  }

  /** Whether entity v has a failing alert. */
  isFailing(v: number): boolean {
    return this.onEntity.has(v);
  }

  /** The failing alerts on entity v. */
  failingOn(v: number): Iterable<AlertRecord> {
    return this.onEntity.get(v)?.values() ?? [];
  }

  /** Failing alerts no mapping places, by host. */
  unmapped(): ReadonlyMap<string, ReadonlyMap<string, AlertRecord>> {
    return this.onUnmappedHost;
  }

  /** Whether the failing alerts on entity v changed after `generation`. */
  changedSince(v: number, generation: number): boolean {
    return this.changedAt[v]! > generation;
  }

  private place(record: AlertRecord): void {
    const { entity } = this.mapper.map(record);
    this.placement.set(record.id, entity);
    const key = entity >= 0 ? entity : record.host;
    const lists: Map<number | string, Map<string, AlertRecord>> = entity >= 0 ? this.onEntity : this.onUnmappedHost;
    let list = lists.get(key);
    if (!list) lists.set(key, (list = new Map()));
    list.set(record.id, record);
    this.touched(entity);
  }

  private unplace(id: string, host: string | undefined): void {
    const at = this.placement.get(id);
    if (at === undefined) return;
    this.placement.delete(id);
    const list = this.listAt(at, host);
    list?.delete(id);
    if (list?.size === 0) {
      if (at >= 0) this.onEntity.delete(at);
      else this.onUnmappedHost.delete(host!);
    }
    this.touched(at);
  }

  private listAt(at: number, host: string | undefined): Map<string, AlertRecord> | undefined {
    return at >= 0 ? this.onEntity.get(at) : this.onUnmappedHost.get(host!);
  }

  /**
   * The entities whose failing alerts changed after `generation` (repeats possible), or undefined when that is
   * too long ago to say (the record of changes is bounded).
   */
  entitiesChangedSince(generation: number): Iterable<number> | undefined {
    if (generation < this.logFrom) return undefined;
    let i = this.log.length;
    while (i > 0 && this.logAt[i - 1]! > generation) i--;
    return this.log.slice(i);
  }

  private touched(entity: number): void {
    this.current++;
    if (entity < 0) return;
    this.changedAt[entity] = this.current;
    if (this.log.length >= MAX_LOG) {
      this.logFrom = this.logAt[MAX_LOG / 2 - 1]!;
      this.log.splice(0, MAX_LOG / 2);
      this.logAt.splice(0, MAX_LOG / 2);
    }
    this.log.push(entity);
    this.logAt.push(this.current);
  }
}
