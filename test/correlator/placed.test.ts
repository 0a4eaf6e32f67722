import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../src/correlator/alert.ts';
import { analyse, type Analysis } from '../../src/correlator/analysis.ts';
import { STATUSES, type Status } from '../../src/correlator/event.ts';
import { AlertMapper } from '../../src/correlator/mapping.ts';
import { PlacedAlerts } from '../../src/correlator/placed.ts';
import { compileTopology, LiveRoots } from '../../src/engine/index.ts';
import { estateArbitrary, numRuns } from '../engine/oracle.ts';

/**
 * The view keeps its PlacedAlerts and LiveRoots across analyses, changing them one alert at a time; the root
 * units (with their alerts, severity and start) and every verdict must be exactly those of an analysis built from
 * scratch over the same records, after every step.
 */
interface Step {
  alert: number;
  status: Status;
  /** Index into the estate's ids to name in `entity`, or -1: none (mapped by host, or unmapped). */
  entity: number;
  delete: boolean;
}

const step: fc.Arbitrary<Step> = fc.record({
  alert: fc.nat(9),
  status: fc.constantFrom(...STATUSES),
  entity: fc.integer({ min: -1, max: 20 }),
  delete: fc.nat(4).map((n) => n === 0),
});

// Unit order is the engine's (LiveRoots orders by first entity, rootIndexes by first failure): compared as sets.
const summary = (a: Analysis) => ({
  units: [...a.units].sort((x, y) => x.key.localeCompare(y.key)).map((u) => ({ key: u.key, alerts: u.alerts, severity: u.severity, since: u.since, mapped: u.mapped, maintenance: u.maintenance })),
  verdicts: [...a.decisions.values()].map((d) => `${d.id}:${d.verdict}:${d.entity}:${d.mappedBy}`).sort(),
  down: [...a.down.keys()].filter((v) => a.down[v] === 1),
});

describe('PlacedAlerts', () => {
  it('an analysis over alerts kept up to date one change at a time equals one built from scratch', () => {
    fc.assert(
      fc.property(estateArbitrary({}), fc.array(step, { minLength: 1, maxLength: 25 }), fc.constantFrom<'critical' | 'warning'>('critical', 'warning'), ({ input, ids }, steps, threshold) => {
        const topology = compileTopology(input);
        const hosts = input.entities.filter((e) => e.kind === 'host').map((e) => e.id);
        const mapper = new AlertMapper(topology, []);
        const placed = new PlacedAlerts(mapper, threshold);
        const live = new LiveRoots(topology);
        const records = new Map<string, AlertRecord>();
        let time = 1_000;
        for (const s of steps) {
          // Alerts 0-5 on the estate's hosts (when it has any), the others on hosts it does not know: unmapped.
          const host = s.alert < 6 && hosts.length > 0 ? hosts[s.alert % hosts.length]! : `elsewhere-${s.alert % 3}`;
          const id = `${host}/check-${s.alert}`;
          const before = records.get(id);
          if (s.delete) {
            records.delete(id);
            placed.delete(id);
          } else {
            time += 1_000;
            const record: AlertRecord = {
              id,
              host,
              check: `check-${s.alert}`,
              status: s.status,
              since: before?.status === s.status ? before.since : time,
              time,
              seq: time,
              source: 'test',
              tags: {},
              ...(s.entity >= 0 ? { entity: ids[s.entity % ids.length]! } : {}),
            };
            records.set(id, record);
            placed.set(record);
          }
          const kept = analyse({ alerts: placed, live });
          const fresh = analyse({ alerts: new PlacedAlerts(new AlertMapper(topology, []), threshold, records.values()) });
          expect(summary(kept)).toEqual(summary(fresh));
        }
      }),
      numRuns(600),
    );
  });

  it('says which entities changed since a generation, and that it cannot once its record of changes moved on', () => {
    const topology = compileTopology({ entities: ['h1', 'h2'].map((id) => ({ id, kind: 'host', name: id, managed: true, owners: [] })), dependencies: [], runsOn: [], members: [], teams: [] });
    const placed = new PlacedAlerts(new AlertMapper(topology, []), 'critical');
    const record = (host: string, status: Status, time: number, since = time): AlertRecord => ({ id: `${host}/ping`, host, check: 'ping', status, since, time, seq: time, source: 'test', tags: {} });
    placed.set(record('h1', 'critical', 1));
    const start = placed.generation;
    placed.set(record('h2', 'critical', 2));
    placed.set(record('h1', 'critical', 3, 1)); // a refresh: nothing moved
    expect([...placed.entitiesChangedSince(start)!]).toEqual([topology.indexOf('h2')]);
    expect([...placed.entitiesChangedSince(placed.generation)!]).toEqual([]);
    // Far more changes than the record keeps: the old generation can no longer be answered, a recent one can.
    for (let t = 10; t < 70_000; t += 1) placed.set(record('h1', t % 2 ? 'critical' : 'ok', t));
    expect(placed.entitiesChangedSince(start)).toBeUndefined();
    const recent = placed.generation;
    placed.set(record('h2', 'ok', 80_000));
    expect([...placed.entitiesChangedSince(recent)!]).toEqual([topology.indexOf('h2')]);
  });
});
