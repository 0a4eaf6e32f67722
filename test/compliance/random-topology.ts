import type { TopologyInput } from '../../src/engine/index.ts';

import { prng } from '../support/random.ts';


/**
 * A small random graph in the vocabulary of the model: hosts with resources (RUNS_ON and the `host` property),
 * services of tiers 0-3 or none, groups with minHealthy from 0 to 4 (also more than their members), hard and
 * soft dependencies in every direction (cycles included), memberships, nested groups, groups listed as their own member, and placeholders (ids
 * that only end a relation). Returns the rows and the placeholder ids.
 */
export function randomTopology(seed: number, size = 24): { input: TopologyInput; placeholders: Set<string> } {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  const ids: string[] = [];
  const hosts: string[] = [];
  const groups: string[] = [];
  const placeholders = new Set<string>();
  for (let i = 0; i < size; i++) {
    const roll = random();
    if (roll < 0.2 || hosts.length === 0) {
      const id = `h${i}.example.com`;
      input.entities.push({ id, kind: 'host', name: id, managed: true, owners: [] });
      hosts.push(id);
      ids.push(id);
    } else if (roll < 0.5) {
      const host = pick(hosts);
      const id = `${host}::Service[r${i}]`;
      input.entities.push({ id, kind: 'resource', name: id, host, managed: true, owners: [] });
      input.runsOn.push({ resource: id, host });
      ids.push(id);
    } else if (roll < 0.68) {
      const id = `service:s${i}`;
      const tier = random() < 0.8 ? Math.floor(random() * 4) : undefined;
      input.entities.push({ id, kind: 'service', name: id, managed: true, owners: [], ...(tier !== undefined ? { tier } : {}) });
      ids.push(id);
    } else if (roll < 0.93) {
      const id = `group:g${i}`;
      const minHealthy = random() < 0.7 ? Math.floor(random() * 5) : undefined;
      input.entities.push({ id, kind: 'group', name: id, managed: true, owners: [], ...(minHealthy !== undefined ? { minHealthy } : {}) });
      groups.push(id);
      ids.push(id);
    } else {
      const id = random() < 0.5 ? `gone${i}.example.com::Service[x]` : `gone${i}.example.com`;
      placeholders.add(id);
      input.entities.push({ id, kind: id.includes('::') ? 'resource' : 'host', name: id, managed: false, owners: [] });
      ids.push(id);
    }
  }
  const relations = Math.round(size * 1.6);
  for (let i = 0; i < relations; i++) {
    const from = pick(ids);
    const to = pick(ids);
    if (placeholders.has(from)) continue; // nothing is declared from a placeholder
    input.dependencies.push({ from, to, kind: random() < 0.75 ? 'hard' : 'soft' });
  }
  for (const g of groups) {
    const members = Math.floor(random() * 5);
    for (let i = 0; i < members; i++) {
      const m = pick(ids);
      if ((m !== g || random() < 0.3) && !input.members.some((x) => x.group === g && x.member === m)) input.members.push({ group: g, member: m });
    }
  }
  // One relation per pair and kind, as the loader keeps them (MERGE).
  const seen = new Set<string>();
  input.dependencies = input.dependencies.filter((d) => {
    const key = `${d.from}\u0000${d.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { input, placeholders };
}
