import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTopology, LiveRoots, rootIndexes, type EntityInput, type RootUnitIndexes } from '../../src/engine/index.ts';
import { estateArbitrary, numRuns } from './oracle.ts';

/**
 * LiveRoots keeps implied(F) and the root units as F changes; after every change its answer must be exactly
 * rootIndexes' for the same F, whatever came before (failures added, ended, both at once, all of them).
 */
const entity = (id: string, kind: EntityInput['kind']): EntityInput => ({ id, kind, name: id, managed: true, owners: [] });
const unitsOf = (units: RootUnitIndexes[]) => units.map((u) => [...u.entities].sort((a, b) => a - b).join(',')).sort();

function sequenceMatches(options: Parameters<typeof estateArbitrary>[0]) {
  return fc.property(
    estateArbitrary(options),
    fc.array(fc.array(fc.nat(), { maxLength: 12 }), { minLength: 1, maxLength: 8 }),
    ({ input, ids }, steps) => {
      const t = compileTopology(input);
      const live = new LiveRoots(t);
      for (const step of [...steps, []]) {
        const failing = t.resolve(step.map((i) => ids[i % ids.length]!)).indexes;
        const expected = rootIndexes(t, failing, { explain: false });
        const state = live.update(failing);
        expect(unitsOf(state.units)).toEqual(unitsOf(expected.units));
        const down = [...state.down.keys()].filter((v) => state.down[v] === 1);
        expect(down).toEqual([...expected.down].sort((a, b) => a - b));
        expect(state.downSize).toBe(expected.down.length);
      }
    },
  );
}

describe('LiveRoots', () => {
  it('answers as rootIndexes after every change, on random estates', () => {
    fc.assert(sequenceMatches({}), numRuns(1500));
  });

  it('answers as rootIndexes on dense estates with groups inside cycles', () => {
    fc.assert(sequenceMatches({ dense: true }), numRuns(1500));
    fc.assert(sequenceMatches({ groupCycles: true }), numRuns(1500));
  });

  it('costs nothing when F does not change, and returns units ordered by their first entity', () => {
    const t = compileTopology({
      entities: [
        entity('h1', 'host'),
        entity('h2', 'host'),
        entity('h1::Service[a]', 'resource'),
        entity('h2::Service[b]', 'resource'),
      ],
      runsOn: [
        { resource: 'h1::Service[a]', host: 'h1' },
        { resource: 'h2::Service[b]', host: 'h2' },
      ],
      dependencies: [],
      members: [],
      teams: [],
    });
    const live = new LiveRoots(t);
    const failing = t.resolve(['h2', 'h1', 'h1::Service[a]']).indexes;
    const first = live.update(failing);
    expect(first.units.map((u) => t.idsOf(u.entities))).toEqual([['h1'], ['h2']].sort((a, b) => t.indexOf(a[0]!)! - t.indexOf(b[0]!)!));
    expect(live.update([...failing].reverse()).units).toBe(first.units);
  });
});
