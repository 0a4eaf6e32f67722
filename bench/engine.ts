import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { failureComponents, impact, singleCauseComponents, spofCounts, spofs } from '../src/engine/index.ts';
import { loadTopology } from '../src/engine/load.ts';
import type { Config } from '../src/config/schema.ts';
import { TopologyStore, type Snapshot } from '../src/engine/store.ts';
import { connectNeo4j, type Driver, type Neo4jSettings } from '../src/graph/neo4j.ts';
import type { Logger } from '../src/log.ts';
import { benchServices, rssMb, runChild, wipe } from './services.ts';
import { prng } from '../test/support/random.ts';

/**
 * `npm run bench -- engine [--entities 100000] [--questions 10000] [--cypher-samples 200] [--cypher-depth auto|N|none]
 * [--cypher-timeout 30] [--seed 1]`: a synthetic estate of N entities written straight into Neo4j (batched
 * `UNWIND ... CREATE`, with the labels and properties the importer writes; setup, not measured, done by a child
 * process so the rows it builds do not count in this process's memory), loaded into the topology engine with
 * `loadTopology`, then:
 * - loadSeconds: the load (one streaming query + compile);
 * - spofSeconds: the first full SPOF analysis of that fresh topology (`spofs(t, { limit: 50 })`; its caches are
 *   per topology, and nothing has touched them yet);
 * - impactP50Ms / impactP95Ms: `impact(t, ids)` for random questions (one entity, one in ten 2-3), each timed;
 * - cypherImpactP95Ms: the same questions on a sample as one plain-Cypher query (a variable-length walk up hard
 *   DEPENDS_ON, RUNS_ON and HAS_MEMBER, then services and effective owners), timed from the client, round trip
 *   included. Cypher cannot count down members against minHealthy: this one crosses every group a down entity is
 *   a member of, an over-approximation with much larger answers; cypherSpareAware* crosses only groups without a
 *   spare, an under-approximation. See cypherImpact. cypherSpeedup = cypherImpactP95Ms / impactP95Ms.
 *   `--cypher-depth auto` tries unbounded paths and bounds them (cypherMaxDepth) when the warm-up hits the timeout.
 */
export async function run(args: Record<string, string>): Promise<Record<string, unknown>> {
  const entities = Number(args.entities ?? 100_000);
  const questions = Number(args.questions ?? 10_000);
  const cypherSamples = Number(args['cypher-samples'] ?? 200);
  const cypherTimeoutMs = Number(args['cypher-timeout'] ?? 30) * 1000;
  const depthArg = args['cypher-depth'] ?? 'auto';
  const seed = Number(args.seed ?? 1);
  if (!Number.isInteger(entities) || entities < 1000) throw new Error('--entities must be an integer >= 1000');

  const { config, neo4j, nats } = await benchServices();
  try {
    // ---- setup (not measured as import), in a child process ----
    const setupStarted = performance.now();
    const { shape } = await setupInChild({ settings: config.neo4j, entities, seed });
    const setupSeconds = seconds(setupStarted);
    const stored = await storedCounts(neo4j, config.neo4j);
    process.stderr.write(`bench engine: setup ${setupSeconds} s, ${JSON.stringify(stored)}\n`);

    // ---- load ----
    collectGarbage();
    const rssBeforeLoadMb = rssMb();
    const loadStarted = performance.now();
    const loaded = await loadTopology(neo4j, config.neo4j);
    const loadSeconds = seconds(loadStarted);
    const topology = loaded.topology;
    const ids = [...topology.ids].sort(); // questions drawn from a fixed order, whatever order the rows came in
    const rssAfterLoadMb = rssMb();
    collectGarbage();
    const heapUsedMb = Math.round(process.memoryUsage().heapUsed / 1_048_576);
    process.stderr.write(`bench engine: loadTopology ${loadSeconds} s (${JSON.stringify(loaded.counts)}), rss ${rssAfterLoadMb} MB\n`);
    if (loaded.counts.entities !== stored.entities) throw new Error(`loaded ${loaded.counts.entities} entities, stored ${stored.entities}`);

    // ---- SPOFs, first computation on the fresh topology ----
    const spofStarted = performance.now();
    const top = spofs(topology, { limit: 50 });
    const spofSeconds = seconds(spofStarted);
    const spofCount = spofCounts(topology).length;
    const largest = (members: { offsets: Int32Array }) => {
      let best = 0;
      for (let c = 0; c + 1 < members.offsets.length; c++) best = Math.max(best, members.offsets[c + 1]! - members.offsets[c]!);
      return best;
    };
    const largestFailureComponent = largest(failureComponents(topology).members);
    const largestSingleCauseComponent = largest(singleCauseComponents(topology).members);
    process.stderr.write(`bench engine: spofs ${spofSeconds} s (${spofCount} SPOFs; top: ${top[0]?.entity} with ${top[0]?.services.length} services)\n`);

    // ---- engine impact ----
    const random = prng(seed + 1);
    const question = () => {
      const k = random() < 0.9 ? 1 : 2 + Math.floor(random() * 2);
      return Array.from({ length: k }, () => ids[Math.floor(random() * ids.length)]!);
    };
    for (let i = 0; i < 500; i++) impact(topology, question()); // warm-up
    const engineMs: number[] = [];
    let engineAffected = 0;
    for (let i = 0; i < questions; i++) {
      const q = question();
      const started = performance.now();
      const result = impact(topology, q);
      engineMs.push(performance.now() - started);
      engineAffected += result.affected.length;
    }
    const impactP50Ms = round3(percentile(engineMs, 0.5));
    const impactP95Ms = round3(percentile(engineMs, 0.95));
    process.stderr.write(`bench engine: impact p50 ${impactP50Ms} ms, p95 ${impactP95Ms} ms, max ${round3(Math.max(...engineMs))} ms, mean affected ${Math.round(engineAffected / questions)}\n`);

    // The same questions with what each leaves without a spare (servicesAtRisk: asked for, not by default).
    const atRiskMs: number[] = [];
    let atRiskServices = 0;
    const again = prng(seed + 1);
    for (let i = 0; i < questions; i++) {
      const k = again() < 0.9 ? 1 : 2 + Math.floor(again() * 2);
      const q = Array.from({ length: k }, () => ids[Math.floor(again() * ids.length)]!);
      const started = performance.now();
      const result = impact(topology, q, { atRisk: true });
      atRiskMs.push(performance.now() - started);
      atRiskServices += result.servicesAtRisk!.length;
    }
    const impactAtRiskP50Ms = round3(percentile(atRiskMs, 0.5));
    const impactAtRiskP95Ms = round3(percentile(atRiskMs, 0.95));
    process.stderr.write(`bench engine: impact with atRisk p50 ${impactAtRiskP50Ms} ms, p95 ${impactAtRiskP95Ms} ms, mean services at risk ${round3(atRiskServices / questions)}\n`);

    // ---- the same questions in Cypher ----
    const warmUp = Array.from({ length: 20 }, question);
    const sample = Array.from({ length: cypherSamples }, question);
    let depth: number | undefined = depthArg === 'auto' || depthArg === 'none' ? undefined : Number(depthArg);
    let warm = await cypherRun(neo4j, config.neo4j, warmUp, { depth, spareAware: false }, cypherTimeoutMs);
    if (depthArg === 'auto') {
      // Unbounded walks that do not finish within the timeout: bound them (each bound re-tried until the warm-up fits).
      for (const bound of [12, 8, 6, 4]) {
        if (warm.timeouts === 0) break;
        process.stderr.write(`bench engine: Cypher warm-up: ${warm.timeouts}/${warmUp.length} timed out at depth ${depth ?? 'unbounded'}, trying ${bound}\n`);
        depth = bound;
        warm = await cypherRun(neo4j, config.neo4j, warmUp, { depth, spareAware: false }, cypherTimeoutMs);
      }
    }
    await cypherRun(neo4j, config.neo4j, warmUp, { depth, spareAware: true }, cypherTimeoutMs);
    const cypher = await cypherRun(neo4j, config.neo4j, sample, { depth, spareAware: false }, cypherTimeoutMs);
    const spareAware = await cypherRun(neo4j, config.neo4j, sample, { depth, spareAware: true }, cypherTimeoutMs);
    const cypherImpactP50Ms = round3(percentile(cypher.ms, 0.5));
    const cypherImpactP95Ms = round3(percentile(cypher.ms, 0.95));
    const spareAwareP50Ms = round3(percentile(spareAware.ms, 0.5));
    const spareAwareP95Ms = round3(percentile(spareAware.ms, 0.95));
    // What the engine answers for exactly these questions, to compare the answers' sizes.
    let sampleEngineAffected = 0;
    let sampleEngineServices = 0;
    for (const q of sample) {
      const r = impact(topology, q);
      sampleEngineAffected += r.affected.length;
      sampleEngineServices += r.services.length;
    }
    const mean = (x: number) => Math.round(x / cypherSamples);
    process.stderr.write(
      `bench engine: Cypher (depth ${depth ?? 'unbounded'}) crossing every group: p50 ${cypherImpactP50Ms} ms, p95 ${cypherImpactP95Ms} ms, ` +
        `${cypher.timeouts} timeouts, mean affected ${mean(cypher.affected)}; crossing groups without spare only: p50 ${spareAwareP50Ms} ms, ` +
        `p95 ${spareAwareP95Ms} ms, ${spareAware.timeouts} timeouts, mean affected ${mean(spareAware.affected)}; engine mean affected ${mean(sampleEngineAffected)}\n`,
    );
    const cypherSpeedup = Math.round((cypherImpactP95Ms / impactP95Ms) * 10) / 10;
    const cypherSpareAwareSpeedup = Math.round((spareAwareP95Ms / impactP95Ms) * 10) / 10;

    return {
      bench: 'engine',
      entities: loaded.counts.entities,
      edges: loaded.counts.dependencies,
      loadSeconds,
      impactP50Ms,
      impactP95Ms,
      impactAtRiskP50Ms,
      impactAtRiskP95Ms,
      cypherImpactP95Ms,
      cypherSpeedup,
      spofSeconds,
      rssMb: rssAfterLoadMb,
      targets: { impactP95Ms: 2, cypherSpeedup: 20, spofSeconds: 10 },
      met: {
        impactP95Ms: impactP95Ms <= 2,
        cypherSpeedup: Math.min(cypherSpeedup, cypherSpareAwareSpeedup) >= 20,
        spofSeconds: spofSeconds <= 10,
      },
      questions,
      impactMeanAffected: Math.round(engineAffected / questions),
      cypherSamples,
      cypherImpactP50Ms,
      cypherTimeouts: cypher.timeouts,
      cypherMaxDepth: depth ?? null,
      cypherMeanAffected: mean(cypher.affected),
      cypherMeanServices: mean(cypher.services),
      cypherSpareAwareP50Ms: spareAwareP50Ms,
      cypherSpareAwareP95Ms: spareAwareP95Ms,
      cypherSpareAwareSpeedup,
      cypherSpareAwareTimeouts: spareAware.timeouts,
      cypherSpareAwareMeanAffected: mean(spareAware.affected),
      cypherSpareAwareMeanServices: mean(spareAware.services),
      sampleEngineMeanAffected: mean(sampleEngineAffected),
      sampleEngineMeanServices: mean(sampleEngineServices),
      spofs: spofCount,
      largestFailureComponent,
      largestSingleCauseComponent,
      setupSeconds,
      shape,
      stored,
      rssBeforeLoadMb,
      heapUsedMb,
      seed,
    };
  } finally {
    await nats.close();
    await neo4j.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The synthetic estate

interface Row {
  [key: string]: unknown;
}
interface Rel {
  a: string;
  b: string;
  props: Row;
}

interface Estate {
  teams: Row[];
  hosts: Row[];
  resources: Row[];
  services: Row[];
  groups: Row[];
  dependsOn: Rel[];
  runsOn: Rel[];
  hasMember: Rel[];
  ownedBy: Rel[];
  shape: Record<string, unknown>;
}

const STAMP = { source: 'bench', generation: 1 };
const LAYERS = 5;
const TYPES = ['Package', 'File', 'Service'] as const;

/**
 * A Puppet-like estate in five layers (0 storage … 4 front ends), each needing the ones below:
 * - hosts (6 %) with 5-17 resources each (70 % of entities), RUNS_ON their host, require chains between them;
 * - capability groups (2-3 providers needing 1; one in ten a single provider) and redundancy groups (3 needing 2,
 *   3 needing 3, 2 needing 2): resources of higher layers hard-depend on groups and on resources of lower layers
 *   (one pick in twenty on any layer: cycles through groups), soft on log resources;
 * - services (8 %, tier 1-3) on their service group `group:service:<name>` of 1-3 front-end resources, some needing
 *   another service (hard or soft), a few pairs needing each other; a few cross-host resource cycles;
 * - teams owning hosts (resources inherit) and services.
 */
function syntheticEstate(n: number, random: () => number): Estate {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const hostCount = Math.round(n * 0.06);
  const resourceCount = Math.round(n * 0.7);
  const serviceCount = Math.round(n * 0.08);
  const otherGroupCount = n - hostCount - resourceCount - 2 * serviceCount;
  const capabilityCount = Math.round(otherGroupCount * 0.6);
  const redundancyCount = otherGroupCount - capabilityCount;
  const teamCount = Math.max(5, Math.round(n / 2000));

  const e: Estate = { teams: [], hosts: [], resources: [], services: [], groups: [], dependsOn: [], runsOn: [], hasMember: [], ownedBy: [], shape: {} };
  const counts = { hardDependsOn: 0, softDependsOn: 0, crossHostHard: 0, cycles: 0, groupsWithSpare: 0, groupsWithoutSpare: 0 };
  const teamId = (t: number) => `team:t${t}`;
  const depend = (a: string, b: string, kind: 'hard' | 'soft', origin: string, owner: string, shared = false) => {
    e.dependsOn.push({ a, b, props: { kind, origin, host: shared ? '' : owner, ...STAMP } });
    if (kind === 'hard') counts.hardDependsOn++;
    else counts.softDependsOn++;
  };
  const member = (g: string, m: string, owner: string) => e.hasMember.push({ a: g, b: m, props: { host: owner, ...STAMP } });

  for (let t = 0; t < teamCount; t++) e.teams.push({ id: teamId(t), name: `t${t}`, contacts: [`email:t${t}@example.com`], ...STAMP });

  // Hosts and their resources: resources spread by random weights (5-17 per host at 100k).
  const weights = Array.from({ length: hostCount }, () => 0.5 + random());
  const total = weights.reduce((a, b) => a + b, 0);
  const byLayer: string[][] = Array.from({ length: LAYERS }, () => []);
  const servicesByLayer: string[][] = Array.from({ length: LAYERS }, () => []);
  const logs: string[] = [];
  const hostOf = new Map<string, string>();
  let cumulative = 0;
  let made = 0;
  for (let h = 0; h < hostCount; h++) {
    const certname = `h${String(h).padStart(6, '0')}.l${h % LAYERS}.bench.example.com`;
    const layer = h % LAYERS;
    e.hosts.push({ id: certname, name: certname, managed: true, critical: random() < 0.01, checks: [], digest: `bench-${h}`, environment: 'production', location: `dc${h % 3}`, ...STAMP });
    e.ownedBy.push({ a: certname, b: teamId(h % teamCount), props: { host: certname, ...STAMP } });
    cumulative += weights[h]!;
    const upto = h === hostCount - 1 ? resourceCount : Math.round((cumulative / total) * resourceCount);
    const here: string[] = [];
    for (let i = 0; made < upto; i++, made++) {
      const type = TYPES[i % 3]!;
      const title = type === 'File' ? `/etc/app-${i}/config` : `app-${i}`;
      const id = `${certname}::${type}[${title}]`;
      e.resources.push({ id, name: `${type}[${title}]`, type, title, host: certname, managed: true, critical: random() < 0.002, checks: type === 'Service' ? [`${certname}/${title}`] : [], ...STAMP });
      e.runsOn.push({ a: id, b: certname, props: { host: certname, ...STAMP } });
      hostOf.set(id, certname);
      // require chains on the host: usually the previous resource, often one more earlier one
      if (here.length > 0 && random() < 0.85) depend(id, here[here.length - 1]!, 'hard', 'require', certname);
      if (here.length > 1 && random() < 0.45) depend(id, pick(here.slice(0, -1)), 'hard', 'before', certname);
      here.push(id);
      byLayer[layer]!.push(id);
      if (type === 'Service') servicesByLayer[layer]!.push(id);
    }
    if (h % 100 === 0 && here.length > 0) logs.push(here[0]!);
    // Hosts soft-need a log collector (their syslog forwarding).
    if (logs.length > 0 && random() < 0.5) depend(certname, pick(logs), 'soft', 'faultline::depends', certname);
  }

  // Capability and redundancy groups, members from one layer's service resources.
  const groupsByLayer: string[][] = Array.from({ length: LAYERS }, () => []);
  const providers = (layer: number) => (servicesByLayer[layer]!.length > 0 ? servicesByLayer[layer]! : byLayer[layer]!);
  const addGroup = (id: string, name: string, kind: string, minHealthy: number, members: string[], spare: boolean) => {
    e.groups.push({ id, name, kind, minHealthy, managed: true, ...STAMP });
    for (const m of new Set(members)) member(id, m, hostOf.get(m) ?? '');
    if (spare && new Set(members).size > minHealthy) counts.groupsWithSpare++;
    else counts.groupsWithoutSpare++;
  };
  for (let c = 0; c < capabilityCount; c++) {
    const layer = c % LAYERS;
    const k = random() < 0.1 ? 1 : 2 + Math.floor(random() * 2);
    addGroup(`group:capability:c${c}`, `capability:c${c}`, 'capability', 1, Array.from({ length: k }, () => pick(providers(layer))), k > 1);
    groupsByLayer[layer]!.push(`group:capability:c${c}`);
  }
  for (let r = 0; r < redundancyCount; r++) {
    const layer = r % LAYERS;
    const x = random();
    const [size, need] = x < 0.6 ? [3, 2] : x < 0.8 ? [3, 3] : [2, 2];
    addGroup(`group:pool${r}`, `pool${r}`, 'member', need, Array.from({ length: size }, () => pick(providers(layer))), size > need);
    groupsByLayer[layer]!.push(`group:pool${r}`);
  }

  // Cross-host needs: resources of layer > 0 on groups and resources of lower layers; one pick in twenty on any
  // layer (which closes cycles through groups); soft needs on log collectors.
  const below = (layer: number) => (random() < 0.05 ? Math.floor(random() * LAYERS) : Math.floor(random() * layer));
  for (let layer = 0; layer < LAYERS; layer++) {
    for (const r of byLayer[layer]!) {
      const owner = hostOf.get(r)!;
      if (layer > 0 && random() < 0.8) {
        depend(r, pick(groupsByLayer[below(layer)]!), 'hard', 'faultline::consumes', owner);
        counts.crossHostHard++;
      }
      if (layer > 0 && random() < 0.18) {
        const target = pick(byLayer[below(layer)]!);
        if (hostOf.get(target) !== owner) {
          depend(r, target, 'hard', 'faultline::depends', owner);
          counts.crossHostHard++;
        }
      }
      if (random() < 0.55) depend(r, pick(logs), 'soft', 'faultline::depends', owner);
    }
  }
  // A few explicit cross-host cycles of 2-4 resources of one layer.
  const cycles = Math.max(3, Math.round(n / 5000));
  for (let c = 0; c < cycles; c++) {
    const ring = Array.from({ length: 2 + (c % 3) }, () => pick(byLayer[1 + (c % (LAYERS - 1))]!));
    if (new Set(ring.map((r) => hostOf.get(r))).size < ring.length) continue;
    ring.forEach((r, i) => depend(r, ring[(i + 1) % ring.length]!, 'hard', 'faultline::depends', hostOf.get(r)!));
    counts.cycles++;
  }

  // Services on their service groups of 1-3 front-end resources (one resource: no spare), some needing another.
  const serviceIds: string[] = [];
  for (let s = 0; s < serviceCount; s++) {
    const id = `service:s${s}`;
    const group = `group:service:s${s}`;
    const team = teamId((s * 7) % teamCount);
    e.services.push({ id, name: `s${s}`, managed: true, critical: false, tier: 1 + (s % 3), ...STAMP });
    e.ownedBy.push({ a: id, b: team, props: { host: '', ...STAMP } });
    const k = 1 + Math.floor(random() * 3);
    addGroup(group, `service:s${s}`, 'service', 1, Array.from({ length: k }, (_, i) => pick(providers(LAYERS - 1 - (i % 2)))), k > 1);
    depend(id, group, 'hard', 'faultline::service', '', true);
    if (serviceIds.length > 0 && random() < 0.15) depend(id, pick(serviceIds), 'hard', 'faultline::depends', '');
    if (serviceIds.length > 0 && random() < 0.3) depend(id, pick(serviceIds), 'soft', 'faultline::depends', '');
    serviceIds.push(id);
  }
  // A few pairs of services that need each other.
  for (let c = 0; c < cycles && serviceIds.length > 2; c++) {
    const a = pick(serviceIds);
    const b = pick(serviceIds);
    if (a === b) continue;
    depend(a, b, 'hard', 'faultline::depends', '');
    depend(b, a, 'hard', 'faultline::depends', '');
    counts.cycles++;
  }

  // Duplicate (from, to) pairs collapse as the importer's mergeDependencies would: hard wins.
  const byPair = new Map<string, Rel>();
  for (const d of e.dependsOn) {
    const key = `${d.a}\u0000${d.b}`;
    const seen = byPair.get(key);
    if (!seen) byPair.set(key, d);
    else if (d.props.kind === 'hard') seen.props.kind = 'hard';
  }
  e.dependsOn = [...byPair.values()];

  e.shape = {
    hosts: e.hosts.length,
    resources: e.resources.length,
    services: e.services.length,
    groups: { service: serviceCount, capability: capabilityCount, redundancy: redundancyCount, withSpare: counts.groupsWithSpare, withoutSpare: counts.groupsWithoutSpare },
    teams: e.teams.length,
    dependsOn: { hard: e.dependsOn.filter((d) => d.props.kind === 'hard').length, soft: e.dependsOn.filter((d) => d.props.kind === 'soft').length, crossHostHard: counts.crossHostHard },
    runsOn: e.runsOn.length,
    hasMember: e.hasMember.length,
    ownedBy: e.ownedBy.length,
    explicitCycles: counts.cycles,
  };
  return e;
}

export interface SetupRequest {
  settings: Neo4jSettings;
  entities: number;
  seed: number;
}
const SETUP_ENV = 'FAULTLINE_BENCH_ENGINE_SETUP';

/** Runs this file as a child (the same Node and tsx loader): it wipes, generates and writes, and prints the shape. */
export function setupInChild(request: SetupRequest): Promise<{ shape: Record<string, unknown> }> {
  return runChild(import.meta.url, SETUP_ENV, request, 'setup');
}

async function setup(request: SetupRequest): Promise<void> {
  const neo4j = await connectNeo4j(request.settings);
  try {
    await wipe(neo4j, request.settings);
    const graph = syntheticEstate(request.entities, prng(request.seed));
    await writeEstate(neo4j, request.settings, graph);
    process.stdout.write(`${JSON.stringify({ shape: graph.shape })}\n`);
  } finally {
    await neo4j.close();
  }
}

/** Vertices first (teams, then entities by label), then relations, in batched UNWIND ... CREATE statements. */
async function writeEstate(driver: Driver, settings: Neo4jSettings, e: Estate): Promise<void> {
  const batch = 10_000;
  const write = async (what: string, cypher: string, rows: unknown[]) => {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += batch) {
      await driver.executeQuery(cypher, { rows: rows.slice(i, i + batch) }, { database: settings.database });
    }
    process.stderr.write(`bench engine: setup ${rows.length} ${what} in ${seconds(started)} s\n`);
  };
  await write('teams', 'UNWIND $rows AS r CREATE (t:Team) SET t = r', e.teams);
  await write('hosts', 'UNWIND $rows AS r CREATE (e:Entity:Host) SET e = r', e.hosts);
  await write('resources', 'UNWIND $rows AS r CREATE (e:Entity:Resource) SET e = r', e.resources);
  await write('services', 'UNWIND $rows AS r CREATE (e:Entity:Service) SET e = r', e.services);
  await write('groups', 'UNWIND $rows AS r CREATE (e:Entity:Group) SET e = r', e.groups);
  const relation = (type: string, to: string) =>
    // -- safe: type and label are constants of this file.
    `UNWIND $rows AS r MATCH (a:Entity {id: r.a}) MATCH (b:${to} {id: r.b}) CREATE (a)-[x:${type}]->(b) SET x = r.props`;
  await write('RUNS_ON', relation('RUNS_ON', 'Entity'), e.runsOn);
  await write('DEPENDS_ON', relation('DEPENDS_ON', 'Entity'), e.dependsOn);
  await write('HAS_MEMBER', relation('HAS_MEMBER', 'Entity'), e.hasMember);
  await write('OWNED_BY', relation('OWNED_BY', 'Team'), e.ownedBy);
}

/**
 * The synthetic estate of `entities` entities in Neo4j (written by a child process, or, with `reuseEstate`, kept
 * when the stored one has exactly that many; it assumes the same seed), loaded with TopologyStore.
 */
export async function benchEstate(
  driver: Driver,
  config: Config,
  request: { entities: number; seed: number; reuseEstate: boolean },
  log: Logger,
  progress: (text: string) => void,
): Promise<{ topology: TopologyStore; snapshot: Snapshot }> {
  const stored = request.reuseEstate ? await storedCounts(driver, config.neo4j) : undefined;
  if (stored?.entities === request.entities) progress(`reusing the stored estate (${JSON.stringify(stored)})`);
  else await setupInChild({ settings: config.neo4j, entities: request.entities, seed: request.seed });
  const topology = new TopologyStore(driver, config.neo4j, log);
  const snapshot = await topology.reload();
  if (snapshot.topology.size < request.entities) throw new Error(`loaded ${snapshot.topology.size} entities, expected ${request.entities}`);
  return { topology, snapshot };
}

export async function storedCounts(driver: Driver, settings: Neo4jSettings) {
  const result = await driver.executeQuery(
    `CALL () { MATCH (e:Entity) RETURN count(e) AS entities }
     CALL () { MATCH ()-[d:DEPENDS_ON]->() RETURN count(d) AS dependsOn }
     CALL () { MATCH ()-[r:RUNS_ON]->() RETURN count(r) AS runsOn }
     CALL () { MATCH ()-[m:HAS_MEMBER]->() RETURN count(m) AS hasMember }
     CALL () { MATCH ()-[o:OWNED_BY]->() RETURN count(o) AS ownedBy }
     RETURN entities, dependsOn, runsOn, hasMember, ownedBy`,
    {},
    { database: settings.database },
  );
  return result.records[0]!.toObject() as { entities: number; dependsOn: number; runsOn: number; hasMember: number; ownedBy: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Impact in Cypher

/**
 * implied(ids) as far as plain Cypher goes: the failed entities and everything that reaches one of them by a walk
 * up hard DEPENDS_ON, RUNS_ON and HAS_MEMBER, then the services among them and the teams owning any of them (a
 * resource without an owner of its own answers with its host's, as in the engine). Cypher cannot count a group's
 * down members against minHealthy, so groups are crossed either
 * - always (`spareAware: false`): a group with any down member counts as down, an over-approximation of implied
 *   (the question the brief names; on a Puppet-like estate its answers are tens of times larger than the engine's);
 * - only when the group has no spare (minHealthy >= its member count, so one down member takes it down): exact for
 *   a group that only one of its members' failures reaches, an under-approximation when several members go down
 *   together (two pool members on one failed host). The engine's answer lies between the two.
 * Both are planned as one pruning breadth-first VarLengthExpand (each entity visited once), not path enumeration.
 */
function cypherImpact(options: { depth: number | undefined; spareAware: boolean }): string {
  const bound = options.depth === undefined ? '' : String(options.depth);
  // The spare-aware walk needs the group at each HAS_MEMBER step, which a quantified path pattern can name (a
  // variable-length relationship cannot); the planner turns both into the same pruning expand.
  const walk = options.spareAware
    ? `MATCH (x)(()<-[r:DEPENDS_ON|RUNS_ON|HAS_MEMBER]-(b)
               WHERE (r.kind IS NULL OR r.kind = 'hard') AND (type(r) <> 'HAS_MEMBER' OR b.minHealthy >= COUNT { (b)-[:HAS_MEMBER]->() })){1,${bound}}(d:Entity)`
    : `MATCH p = (x)<-[:DEPENDS_ON|RUNS_ON|HAS_MEMBER*1..${bound}]-(d:Entity)
        WHERE all(r IN relationships(p) WHERE r.kind IS NULL OR r.kind = 'hard')`;
  return `
    MATCH (x:Entity) WHERE x.id IN $ids
    CALL (x) {
      ${walk}
      RETURN d
      UNION
      RETURN x AS d
    }
    WITH DISTINCT d
    OPTIONAL MATCH (d)-[:OWNED_BY]->(own:Team)
    OPTIONAL MATCH (d)-[:RUNS_ON]->(:Host)-[:OWNED_BY]->(inherited:Team)
    WITH d, collect(DISTINCT own.id) AS owners, collect(DISTINCT inherited.id) AS hostOwners
    WITH d, CASE WHEN size(owners) > 0 THEN owners ELSE hostOwners END AS owners
    UNWIND (CASE WHEN size(owners) = 0 THEN [null] ELSE owners END) AS owner
    WITH collect(DISTINCT d.id) AS affected,
         collect(DISTINCT CASE WHEN d:Service THEN d.id END) AS services,
         collect(DISTINCT owner) AS owners
    RETURN size(affected) AS affected, services, owners`;
}

async function cypherRun(driver: Driver, settings: Neo4jSettings, questions: string[][], options: { depth: number | undefined; spareAware: boolean }, timeoutMs: number) {
  const query = cypherImpact(options);
  const ms: number[] = [];
  let timeouts = 0;
  let affected = 0;
  let services = 0;
  const session = driver.session({ ...(settings.database ? { database: settings.database } : {}), defaultAccessMode: 'READ' });
  try {
    for (const ids of questions) {
      const started = performance.now();
      try {
        const result = await session.executeRead((tx) => tx.run(query, { ids }), { timeout: timeoutMs });
        ms.push(performance.now() - started);
        const row = result.records[0];
        affected += row ? Number(row.get('affected')) : 0;
        services += row ? (row.get('services') as unknown[]).length : 0;
      } catch (err) {
        if (!/timeout|terminated/i.test(String((err as Error).message))) throw err;
        timeouts++;
        ms.push(performance.now() - started);
      }
    }
  } finally {
    await session.close();
  }
  return { ms, timeouts, affected, services };
}

// ---------------------------------------------------------------------------------------------------------------


export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A full collection before measuring memory, so the setup's rows do not count (the flag is set at run time). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

// Run as the setup child (last, so every declaration above is initialised).
if (process.env[SETUP_ENV] && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await setup(JSON.parse(process.env[SETUP_ENV]) as SetupRequest);
}
