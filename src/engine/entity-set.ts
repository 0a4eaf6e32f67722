import type { Topology } from './topology.ts';

/** A set of entities of one topology: the indexes (in the order the analysis found them) and id look-ups. */
export class EntitySet implements Iterable<string> {
  private lookup: Set<number> | undefined;

  constructor(
    readonly topology: Topology,
    readonly indexes: Int32Array,
  ) {}

  get size(): number {
    return this.indexes.length;
  }

  has(id: string): boolean {
    const v = this.topology.indexOf(id);
    return v !== undefined && this.hasIndex(v);
  }

  hasIndex(v: number): boolean {
    this.lookup ??= new Set(this.indexes);
    return this.lookup.has(v);
  }

  ids(): string[] {
    return this.topology.idsOf(this.indexes);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.ids()[Symbol.iterator]();
  }
}
