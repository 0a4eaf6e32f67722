/**
 * Timings of the engine on 100k-entity graphs (not a test: `npx tsx test/engine/measure.ts [entities]`).
 * Two families, each about 3 relations per entity, generated from a fixed seed:
 * - estate: Puppet-like. Hosts with ~12 resources each (RUNS_ON, require chains), cross-host hard needs on
 *   resources and on capability groups (2-3 providers), shards needing 2 of 3, services on service groups, soft
 *   needs on log hosts, in five layers each needing the ones below; 1 in 20 cross-host needs goes up a layer.
 * - uniform: every relation between uniformly random entities (hard, soft, RUNS_ON, memberships with random
 *   minHealthy): a giant strongly connected component, the worst case for anything reachability-based.
 * Prints one JSON line per family; docs/engine.md quotes the figures.
 */
import { compileTopology, impliedIndexes, rootIndexes, spofCounts, spofs, singleCauseComponents, failureComponents, type TopologyInput, type EntityInput } from '../../src/engine/index.ts';
import { prng } from '../support/random.ts';


function estate(size: number, random: () => number): TopologyInput {
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  const entity = (e: Partial<EntityInput> & Pick<EntityInput, 'id' | 'kind'>) => input.entities.push({ name: e.id, managed: true, owners: [], ...e });
  for (let t = 0; t < 60; t++) input.teams.push({ id: `team:t${t}`, name: `t${t}`, contacts: [] });
  // Five layers (storage, databases, middleware, applications, front ends): each needs the layers below it.
  const LAYERS = 5;
  const hosts = Math.round(size / 15);
  const resources: string[][] = Array.from({ length: LAYERS }, () => []);
  const logs: string[] = [];
  let count = 0;
  for (let h = 0; h < hosts; h++) {
    const host = `host${h}.example.com`;
    const layer = h % LAYERS;
    entity({ id: host, kind: 'host', owners: [`team:t${h % 60}`], critical: random() < 0.01 });
    count++;
    const here: string[] = [];
    const n = 8 + Math.floor(random() * 9);
    for (let r = 0; r < n; r++) {
      const id = `${host}::Service[r${r}]`;
      entity({ id, kind: 'resource', host });
      input.runsOn.push({ resource: id, host });
      if (here.length > 0 && random() < 0.8) input.dependencies.push({ from: id, to: pick(here), kind: 'hard' });
      if (here.length > 0 && random() < 0.4) input.dependencies.push({ from: id, to: pick(here), kind: 'hard' });
      here.push(id);
      resources[layer]!.push(id);
      count++;
    }
    if (h % 200 === 0) logs.push(here[0]!);
  }
  // Capabilities: 2-3 providers of one layer; every fourth a shard of 3 needing 2.
  const capabilities: string[][] = Array.from({ length: LAYERS }, () => []);
  for (let c = 0; count < size * 0.93; c++) {
    const id = `group:capability:c${c}`;
    const layer = c % LAYERS;
    const shard = c % 4 === 0;
    entity({ id, kind: 'group', ...(shard ? { minHealthy: 2 } : {}) });
    const k = shard ? 3 : 2 + Math.floor(random() * 2);
    for (let i = 0; i < k; i++) input.members.push({ group: id, member: pick(resources[layer]!) });
    capabilities[layer]!.push(id);
    count++;
  }
  // Cross-host needs: on capabilities of lower layers, on remote resources below; 1 in 20 on any layer (cycles).
  const below = (layer: number) => (random() < 0.05 ? Math.floor(random() * LAYERS) : Math.floor(random() * layer));
  resources.forEach((list, layer) => {
    for (const r of list) {
      if (layer > 0) input.dependencies.push({ from: r, to: pick(capabilities[below(layer)]!), kind: 'hard' });
      if (layer > 0 && random() < 0.4) input.dependencies.push({ from: r, to: pick(capabilities[below(layer)]!), kind: 'hard' });
      if (layer > 0 && random() < 0.1) input.dependencies.push({ from: r, to: pick(resources[below(layer)]!), kind: 'hard' });
      if (random() < 0.3) input.dependencies.push({ from: r, to: pick(logs), kind: 'soft' });
    }
  });
  // Services on service groups of 1-3 front-end resources (one resource: a SPOF), some needing another service.
  const services: string[] = [];
  for (let s = 0; count < size; s++) {
    const id = `service:s${s}`;
    const group = `group:service:s${s}`;
    entity({ id, kind: 'service', tier: 1 + (s % 3), owners: [`team:t${s % 60}`] });
    entity({ id: group, kind: 'group' });
    input.dependencies.push({ from: id, to: group, kind: 'hard' });
    const k = 1 + Math.floor(random() * 3);
    for (let i = 0; i < k; i++) input.members.push({ group, member: pick(resources[LAYERS - 1 - (i % 2)]!) });
    if (services.length > 0 && random() < 0.2) input.dependencies.push({ from: id, to: pick(services), kind: 'hard' });
    services.push(id);
    count += 2;
  }
  return input;
}

function uniform(size: number, random: () => number): TopologyInput {
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  const ids: string[] = [];
  const hosts: string[] = [];
  const groups: string[] = [];
  for (let t = 0; t < 60; t++) input.teams.push({ id: `team:t${t}`, name: `t${t}`, contacts: [] });
  for (let i = 0; i < size; i++) {
    const x = random();
    const kind = x < 0.02 ? 'service' : x < 0.05 ? 'group' : x < 0.15 ? 'host' : 'resource';
    const id = kind === 'service' ? `service:s${i}` : kind === 'group' ? `group:g${i}` : kind === 'host' ? `h${i}` : `h${i}::R[x]`;
    input.entities.push({ id, kind, name: id, managed: true, owners: kind === 'resource' ? [] : [`team:t${i % 60}`], ...(kind === 'group' ? { minHealthy: 1 + Math.floor(random() * 3) } : {}), critical: random() < 0.005 });
    ids.push(id);
    if (kind === 'host') hosts.push(id);
    if (kind === 'group') groups.push(id);
  }
  const pick = (list: string[]) => list[Math.floor(random() * list.length)]!;
  for (const e of input.entities) if (e.kind === 'resource') input.runsOn.push({ resource: e.id, host: pick(hosts) });
  for (let i = 0; i < size * 1.4; i++) input.dependencies.push({ from: pick(ids), to: pick(ids), kind: random() < 0.75 ? 'hard' : 'soft' });
  for (let i = 0; i < size * 0.75; i++) input.members.push({ group: pick(groups), member: pick(ids) });
  return input;
}

function time<T>(work: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const result = work();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

export { estate, uniform, prng };

const size = Number(process.argv[2] ?? 100_000);
if (process.argv[1]?.endsWith('measure.ts')) for (const [family, make] of [
  ['estate', estate],
  ['uniform', uniform],
] as const) {
  const random = prng(20261121);
  const input = make(size, random);
  const [topo, compileMs] = time(() => compileTopology(input));
  const edges = topo.hardDeps.targets.length + topo.softDeps.targets.length + topo.members.targets.length;
  const [, componentsMs] = time(() => [failureComponents(topo), singleCauseComponents(topo)]);

  // implied({x}) for 2,000 random x, and for random sets of 10 and 100.
  const sample = (k: number) => Int32Array.from({ length: k }, () => Math.floor(random() * topo.size));
  const singles = sample(2000);
  let downTotal = 0;
  impliedIndexes(topo, [0]); // warm-up
  const [, singlesMs] = time(() => {
    for (const v of singles) downTotal += impliedIndexes(topo, [v]).length;
  });
  const sets = Array.from({ length: 200 }, () => sample(100));
  const [, setsMs] = time(() => sets.forEach((s) => impliedIndexes(topo, s)));
  const failing = Array.from({ length: 200 }, () => sample(50));
  const [, rootsMs] = time(() => failing.forEach((f) => rootIndexes(topo, f)));

  const [counts, spofMs] = time(() => spofCounts(topo));
  const [, topMs] = time(() => spofs(topo, { limit: 50 }));
  // Listing every SPOF costs one propagation each: fine on the estate, not on a giant component.
  const [, allMs] = family === 'estate' ? time(() => spofs(topo, { limit: Infinity })) : [undefined, undefined];

  console.log(
    JSON.stringify({
      family,
      entities: topo.size,
      relationsPerEntity: +(edges / topo.size).toFixed(2),
      largestFailureComponent: largest(failureComponents(topo).members),
      compileMs: Math.round(compileMs),
      componentsMs: Math.round(componentsMs),
      impliedSingleMeanUs: +((singlesMs * 1000) / singles.length).toFixed(1),
      impliedSingleMeanSize: Math.round(downTotal / singles.length),
      implied100MeanUs: +((setsMs * 1000) / sets.length).toFixed(1),
      roots50MeanUs: +((rootsMs * 1000) / failing.length).toFixed(1),
      spofCountsMs: Math.round(spofMs),
      spofs: counts.length,
      spofsTop50Ms: Math.round(topMs),
      ...(allMs !== undefined ? { spofsAllMs: Math.round(allMs) } : {}),
    }),
  );
}

function largest(members: { offsets: Int32Array }): number {
  let best = 0;
  for (let c = 0; c + 1 < members.offsets.length; c++) best = Math.max(best, members.offsets[c + 1]! - members.offsets[c]!);
  return best;
}
