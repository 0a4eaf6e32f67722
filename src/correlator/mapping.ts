import type { Config } from '../config/schema.ts';
import type { Topology } from '../engine/index.ts';
import type { AlertRecord } from './alert.ts';

/**
 * Which graph entity an alert is about (design section 6): the `entity` the producer named, else the resource a
 * `faultline::check` maps the alert id to, else the first configured rule naming a known entity, else the host
 * itself. An alert none of these places on the graph is still an alert: unmapped, never dropped.
 */
export type MappedBy = 'entity' | 'check' | 'rule' | 'host' | 'unmapped';

export interface Mapping {
  /** Entity index in the topology, -1 when unmapped. */
  entity: number;
  by: MappedBy;
}

type Rule = Config['correlator']['mappings'][number];

export class AlertMapper {
  private readonly rules: { check: RegExp; host: RegExp | undefined; entity: string }[];
  /** By alert id, with the `entity` the alert named when it was mapped. */
  private readonly cache = new Map<string, { named: string | undefined; mapping: Mapping }>();

  constructor(
    readonly topology: Topology,
    rules: readonly Rule[],
  ) {
    this.rules = rules.map((r) => ({ check: glob(r.check), host: r.host === undefined ? undefined : glob(r.host), entity: r.entity }));
  }

  map(alert: Pick<AlertRecord, 'id' | 'host' | 'check' | 'entity'>): Mapping {
    const cached = this.cache.get(alert.id);
    if (cached && cached.named === alert.entity) return cached.mapping;
    const mapping = this.resolve(alert);
    this.cache.set(alert.id, { named: alert.entity, mapping });
    return mapping;
  }

  private resolve(alert: Pick<AlertRecord, 'id' | 'host' | 'check' | 'entity'>): Mapping {
    const t = this.topology;
    if (alert.entity !== undefined) {
      const v = t.indexOf(alert.entity);
      if (v !== undefined) return { entity: v, by: 'entity' };
    }
    const checked = t.checks.get(alert.id);
    if (checked !== undefined) return { entity: checked, by: 'check' };
    for (const rule of this.rules) {
      if (!rule.check.test(alert.check) || (rule.host && !rule.host.test(alert.host))) continue;
      const v = t.indexOf(rule.entity.replaceAll('{host}', alert.host).replaceAll('{check}', alert.check));
      if (v !== undefined) return { entity: v, by: 'rule' };
    }
    const host = t.indexOf(alert.host);
    if (host !== undefined) return { entity: host, by: 'host' };
    return { entity: -1, by: 'unmapped' };
  }
}

/** `*` and `?` globs, anchored. */
export function glob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}
