import { describe, expect, it } from 'vitest';
import { compileTopology, implied, roots, spofs, type TopologyInput } from '../../src/engine/index.ts';

/** Small graphs for the corner cases of design section 5: cycles, groups inside cycles, empty groups. */
function graph(spec: { hard?: [string, string][]; soft?: [string, string][]; groups?: Record<string, { members: string[]; minHealthy?: number }>; services?: string[] }): TopologyInput {
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  for (const [from, to] of spec.hard ?? []) input.dependencies.push({ from, to, kind: 'hard' });
  for (const [from, to] of spec.soft ?? []) input.dependencies.push({ from, to, kind: 'soft' });
  for (const [g, { members, minHealthy }] of Object.entries(spec.groups ?? {})) {
    input.entities.push({ id: g, kind: 'group', name: g, managed: true, owners: [], ...(minHealthy !== undefined ? { minHealthy } : {}) });
    for (const m of members) input.members.push({ group: g, member: m });
  }
  for (const s of spec.services ?? []) input.entities.push({ id: s, kind: 'service', name: s, managed: true, owners: [] });
  return input;
}
const units = (r: ReturnType<typeof roots>) => r.roots.map((u) => [...u.entities].sort().join('+')).sort();

describe('cycles', () => {
  it('a hard cycle terminates and goes down as one', () => {
    const t = compileTopology(graph({ hard: [['a', 'b'], ['b', 'a'], ['c', 'a']] }));
    expect([...implied(t, ['b'])].sort()).toEqual(['a', 'b', 'c']);
    expect([...implied(t, ['c'])]).toEqual(['c']);
    expect([...implied(t, [])]).toEqual([]);
  });

  it('a failing cycle is one root; what depends on it is suppressed by it', () => {
    const t = compileTopology(graph({ hard: [['a', 'b'], ['b', 'a'], ['c', 'a']] }));
    const r = roots(t, ['a', 'b', 'c']);
    expect(units(r)).toEqual(['a+b']);
    expect(r.suppressedBy.get('c')!.map((u) => [...u.entities].sort())).toEqual([['a', 'b']]);
  });

  it('a cycle explained from below is not a root', () => {
    const t = compileTopology(graph({ hard: [['a', 'b'], ['b', 'a'], ['b', 'z']] }));
    expect(units(roots(t, ['a', 'b', 'z']))).toEqual(['z']);
  });

  it('groups needing each other: one unit, not zero roots', () => {
    // a needs g1 = {b, c} with both needed; b needs g2 = {a, c} with both needed. Without the group → member edges
    // in the components, a and b would explain each other and nothing would be a root.
    const t = compileTopology(graph({ hard: [['a', 'g1'], ['b', 'g2']], groups: { g1: { members: ['b', 'c'], minHealthy: 2 }, g2: { members: ['a', 'c'], minHealthy: 2 } } }));
    expect(units(roots(t, ['a', 'b']))).toEqual(['a+b']);
  });

  it('a group inside a cycle: the member explained from outside is suppressed, the other is a root', () => {
    // g = {a, b} (one of them is enough); a and b both need g, so {a, b, g} is one component. z takes a down, nothing
    // outside takes b down. The literal rule would call the whole component "explained" and leave b unexplained.
    const t = compileTopology(graph({ hard: [['a', 'g'], ['b', 'g'], ['a', 'z']], groups: { g: { members: ['a', 'b'] } } }));
    const r = roots(t, ['a', 'b', 'z']);
    expect(units(r)).toEqual(['b', 'z']);
    expect(r.suppressedBy.get('a')!.map((u) => u.entities)).toEqual([['z']]);
  });

  it('inside a component, independent failures are separate roots; one that takes the other down is the only one', () => {
    const t = compileTopology(graph({ hard: [['a', 'g'], ['b', 'g']], groups: { g: { members: ['a', 'b'] } } }));
    expect(units(roots(t, ['a', 'b']))).toEqual(['a', 'b']);
    // a needs b too: b's failure explains a's, not the other way round.
    const t2 = compileTopology(graph({ hard: [['a', 'g'], ['b', 'g'], ['a', 'b']], groups: { g: { members: ['a', 'b'] } } }));
    const r = roots(t2, ['a', 'b']);
    expect(units(r)).toEqual(['b']);
    expect(r.suppressedBy.get('a')!.map((u) => u.entities)).toEqual([['b']]);
  });

  it('a group with no members is never down by membership; one with minHealthy 0 neither', () => {
    const t = compileTopology(graph({ hard: [['s', 'empty'], ['s2', 'lax']], groups: { empty: { members: [] }, lax: { members: ['x'], minHealthy: 0 } } }));
    expect([...implied(t, ['x'])]).toEqual(['x']);
    expect([...implied(t, ['empty'])].sort()).toEqual(['empty', 's']);
  });

  it('a group asking for more members than it has needs all of them', () => {
    const input = graph({ hard: [['s', 'g']], groups: { g: { members: ['x', 'y'], minHealthy: 5 } }, services: ['s'] });
    const t = compileTopology(input);
    expect(t.problems).toEqual(['g needs 5 healthy members but has 2: treated as needing all of them']);
    expect([...implied(t, [])]).toEqual([]);
    expect([...implied(t, ['x'])].sort()).toEqual(['g', 's', 'x']);
  });

  it('soft dependencies never propagate, even around a cycle', () => {
    const t = compileTopology(graph({ hard: [['a', 'b']], soft: [['b', 'a'], ['c', 'a']] }));
    expect([...implied(t, ['b'])].sort()).toEqual(['a', 'b']);
    expect([...implied(t, ['a'])]).toEqual(['a']);
  });

  it('SPOFs: a member with a spare is not one, its group is; a cycle member is', () => {
    const t = compileTopology(
      graph({
        hard: [['s', 'g'], ['s2', 'c1'], ['c1', 'c2'], ['c2', 'c1']],
        groups: { g: { members: ['m1', 'm2'] } },
        services: ['s', 's2'],
      }),
    );
    expect(spofs(t, { limit: Infinity }).map((s) => s.entity).sort()).toEqual(['c1', 'c2', 'g']);
  });
});

describe('root units inside one component', () => {
  it('a failure two roots of the same cycle explain together is suppressed by both', () => {
    // a needs h1 = {c, y}, b needs h2 = {c, z} (one member is enough for each), c needs g = {a, b} (one is enough):
    // a, b, c, g, h1, h2 are one component. No single failure takes another down, but a and b together take g and
    // so c down.
    const t = compileTopology(
      graph({
        hard: [['a', 'h1'], ['b', 'h2'], ['c', 'g']],
        groups: { g: { members: ['a', 'b'] }, h1: { members: ['c', 'y'] }, h2: { members: ['c', 'z'] } },
      }),
    );
    const r = roots(t, ['c', 'a', 'b']);
    expect(units(r)).toEqual(['a', 'b']);
    expect(r.suppressedBy.get('c')!.map((u) => u.entities.join()).sort()).toEqual(['a', 'b']);
  });
});
