import { describe, expect, it } from 'vitest';
import { compileTopology, KIND, ownersOf, row, type TopologyInput } from '../../src/engine/index.ts';

const empty = (): TopologyInput => ({ entities: [], dependencies: [], runsOn: [], members: [], teams: [] });

describe('compileTopology', () => {
  it('gives dense indexes and CSR rows both ways', () => {
    const input = empty();
    input.entities.push(
      { id: 'h1', kind: 'host', name: 'h1', managed: true, owners: [] },
      { id: 'h1::Service[a]', kind: 'resource', name: 'a', managed: true, owners: [], host: 'h1' },
      { id: 'service:x', kind: 'service', name: 'x', managed: true, owners: [], tier: 1 },
    );
    input.dependencies.push({ from: 'service:x', to: 'h1::Service[a]', kind: 'hard' });
    const t = compileTopology(input);
    expect(t.size).toBe(3);
    const [h, a, x] = ['h1', 'h1::Service[a]', 'service:x'].map((id) => t.indexOf(id)!);
    expect([...row(t.hardDeps, a!)]).toEqual([h]);
    expect([...row(t.hardDependents, a!)]).toEqual([x]);
    expect(t.host[a!]).toBe(h);
    expect(t.tier[x!]).toBe(1);
    expect(t.tier[h!]).toBe(-1);
    expect(t.kindOf(x!)).toBe('service');
  });

  it('makes entities of unknown endpoints, unmanaged, their kind read from the id', () => {
    const input = empty();
    input.dependencies.push(
      { from: 'mail1.example.com::Service[exim4]', to: 'group:capability:mysql', kind: 'hard' },
      { from: 'service:mail', to: 'gone.example.com', kind: 'soft' },
    );
    const t = compileTopology(input);
    expect(t.size).toBe(4);
    const kinds = Object.fromEntries(t.ids.map((id, v) => [id, t.kindOf(v)]));
    expect(kinds).toEqual({
      'mail1.example.com::Service[exim4]': 'resource',
      'group:capability:mysql': 'group',
      'service:mail': 'service',
      'gone.example.com': 'host',
    });
    expect([...t.managed]).toEqual([0, 0, 0, 0]);
    // An unknown group has no members: never down by membership.
    expect(t.downAt[t.indexOf('group:capability:mysql')!]).toBe(0);
  });

  it('tolerates duplicates: entities merge, relations collapse, hard wins over soft, self-needs vanish', () => {
    const input = empty();
    input.entities.push(
      { id: 'a', kind: 'host', name: 'a', managed: false, owners: ['team:x'] },
      { id: 'a', kind: 'host', name: 'other', managed: true, owners: ['team:y', 'team:x'], critical: true, checks: ['a/ping'] },
      { id: 'b', kind: 'host', name: 'b', managed: true, owners: [] },
    );
    input.dependencies.push(
      { from: 'a', to: 'b', kind: 'hard' },
      { from: 'a', to: 'b', kind: 'hard' },
      { from: 'a', to: 'b', kind: 'soft' },
      { from: 'a', to: 'a', kind: 'hard' },
    );
    const t = compileTopology(input);
    const a = t.indexOf('a')!;
    expect(t.size).toBe(2);
    expect(t.names[a]).toBe('a');
    expect(t.managed[a]).toBe(1);
    expect(t.critical[a]).toBe(1);
    expect(ownersOf(t, 'a')).toEqual(['team:x', 'team:y']);
    expect([...row(t.hardDeps, a)]).toEqual([t.indexOf('b')]);
    expect(t.softDeps.targets.length).toBe(0);
    expect(t.checks.get('a/ping')).toBe(a);
  });

  it('inherits owners from the host unless a resource has its own; creates teams nobody listed', () => {
    const input = empty();
    input.teams.push({ id: 'team:ops', name: 'ops', contacts: ['slack:#ops'] });
    input.entities.push(
      { id: 'h', kind: 'host', name: 'h', managed: true, owners: ['team:ops'] },
      { id: 'h::A[x]', kind: 'resource', name: 'x', managed: true, owners: [] },
      { id: 'h::B[y]', kind: 'resource', name: 'y', managed: true, owners: ['team:dba'] },
      { id: 'service:s', kind: 'service', name: 's', managed: true, owners: [] },
    );
    input.runsOn.push({ resource: 'h::A[x]', host: 'h' }, { resource: 'h::B[y]', host: 'h' });
    const t = compileTopology(input);
    expect(ownersOf(t, 'h::A[x]')).toEqual(['team:ops']);
    expect(ownersOf(t, 'h::B[y]')).toEqual(['team:dba']);
    expect(ownersOf(t, 'service:s')).toEqual([]);
    expect(t.teams).toEqual([
      { id: 'team:ops', name: 'ops', contacts: ['slack:#ops'] },
      { id: 'team:dba', name: 'dba', contacts: [] },
    ]);
  });

  it('groups: downAt from minHealthy, clamped; memberships of non-groups and of itself are ignored and reported', () => {
    const input = empty();
    input.entities.push(
      { id: 'group:shard', kind: 'group', name: 'shard', managed: true, owners: [], minHealthy: 2 },
      { id: 'group:pair', kind: 'group', name: 'pair', managed: true, owners: [] },
      { id: 'group:big', kind: 'group', name: 'big', managed: true, owners: [], minHealthy: 9 },
      { id: 'h', kind: 'host', name: 'h', managed: true, owners: [] },
    );
    for (const m of ['m1', 'm2', 'm3']) input.members.push({ group: 'group:shard', member: m }, { group: 'group:big', member: m });
    input.members.push({ group: 'group:pair', member: 'm1' }, { group: 'group:pair', member: 'm2' }, { group: 'group:pair', member: 'm2' });
    input.members.push({ group: 'h', member: 'm1' }, { group: 'group:pair', member: 'group:pair' });
    const t = compileTopology(input);
    const at = (id: string) => t.downAt[t.indexOf(id)!];
    expect(at('group:shard')).toBe(2);
    expect(at('group:pair')).toBe(2);
    expect(at('group:big')).toBe(1);
    expect(t.kinds[t.indexOf('m1')!]).toBe(KIND.host);
    expect(t.problems).toEqual([
      'h has member m1 but is a host, not a group: membership ignored',
      'group:pair is listed as a member of itself: ignored',
      'group:big needs 9 healthy members but has 3: treated as needing all of them',
    ]);
  });

  it('resolves ids, reporting the unknown once', () => {
    const input = empty();
    input.entities.push({ id: 'a', kind: 'host', name: 'a', managed: true, owners: [] });
    const t = compileTopology(input);
    expect(t.resolve(['a', 'x', 'a', 'x'])).toEqual({ indexes: [0], unknown: ['x'] });
  });
});
