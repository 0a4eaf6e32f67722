import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import {
  decommissionCheck,
  impact,
  impactAtRisk,
  maintenanceDowntime,
  ownerIndexes,
  row,
  spofs,
  type Topology,
} from '../../engine/index.ts';
import { configuredRules } from '../../compliance/configured.ts';
import { RuleFileError, type Rule } from '../../compliance/rules.ts';
import { runRules } from '../../compliance/run.ts';
import type { ApiContext } from '../context.ts';
import type { Resolvers } from '../generated/resolvers.ts';
import { concurrentWith } from '../correlation/maintenance.ts';
import { refOf, refsOf, teamsOf, type EntityRef } from './refs.ts';

/** Limits that keep one question cheap: how many ids one may ask about, how deep and how many SPOFs. */
const MAX_IDS = 1_000;
const MAX_DEPTH = 10;
const MAX_SPOFS = 1_000;

const KIND_ENUM = ['HOST', 'RESOURCE', 'SERVICE', 'GROUP'] as const;
const TYPE_NAME = ['Host', 'Resource', 'Service', 'Group'] as const;

function snapshot(ctx: ApiContext): Topology {
  return ctx.topology.current.topology;
}

/** Every id must be known: an operator who mistypes a certname gets told, not an empty answer. */
function knownIds(topology: Topology, ids: readonly string[]): string[] {
  if (ids.length === 0) throw new GraphQLError('ids must name at least one entity', { extensions: { code: 'BAD_USER_INPUT' } });
  if (ids.length > MAX_IDS) throw new GraphQLError(`at most ${MAX_IDS} ids per question`, { extensions: { code: 'BAD_USER_INPUT' } });
  const unknown = ids.filter((id) => topology.indexOf(id) === undefined);
  if (unknown.length > 0) {
    throw new GraphQLError(`unknown entit${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.slice(0, 10).join(', ')}`, {
      extensions: { code: 'NOT_FOUND', ids: unknown },
    });
  }
  return [...new Set(ids)];
}

const entityFields = {
  id: (ref: EntityRef) => ref.topology.ids[ref.index]!,
  kind: (ref: EntityRef) => KIND_ENUM[ref.topology.kinds[ref.index]!]!,
  name: (ref: EntityRef) => ref.topology.names[ref.index]!,
  managed: (ref: EntityRef) => ref.topology.managed[ref.index] === 1,
  owners: (ref: EntityRef) => ownerIndexes(ref.topology, [ref.index]).map((t) => ref.topology.teams[t]!),
  owner: (ref: EntityRef) => {
    const [first] = ownerIndexes(ref.topology, [ref.index]);
    return first === undefined ? null : ref.topology.teams[first]!;
  },
};

const hostFact = (field: 'environment' | 'location' | 'rack' | 'az' | 'os') => async (ref: EntityRef, _args: unknown, ctx: ApiContext) =>
  (await ctx.hostFacts.load(ref.topology.ids[ref.index]!))?.[field] ?? null;

export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date and time with a time zone',
  serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
  parseValue: (value) => parseDateTime(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('a DateTime is a string such as "2026-11-24T02:00:00Z"', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDateTime(ast.value);
  },
});

function parseDateTime(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError(`not an ISO-8601 date and time with a time zone: ${JSON.stringify(value)}`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return new Date(value).toISOString();
}

export const topologyResolvers: Resolvers = {
  DateTime,
  Query: {
    entity: (_p, { id }, ctx) => {
      const topology = snapshot(ctx);
      const index = topology.indexOf(id);
      return index === undefined ? null : refOf(topology, index);
    },
    dependencies: (_p, { id, direction, depth }, ctx) => {
      const topology = snapshot(ctx);
      const [known] = knownIds(topology, [id]);
      const steps = depth ?? 1;
      if (steps < 1 || steps > MAX_DEPTH) throw new GraphQLError(`depth must be between 1 and ${MAX_DEPTH}`, { extensions: { code: 'BAD_USER_INPUT' } });
      // DOWN: what it needs (hard, soft, its host, a group's members); UP: what needs it.
      const next = direction === 'UP'
        ? [topology.hardDependents, topology.softDependents, topology.memberOf]
        : [topology.hardDeps, topology.softDeps, topology.members];
      const start = topology.indexOf(known!)!;
      const seen = new Set([start]);
      const found: number[] = [];
      let frontier = [start];
      for (let level = 0; level < steps && frontier.length > 0; level++) {
        const following: number[] = [];
        for (const v of frontier) {
          for (const csr of next) {
            for (const w of row(csr, v)) {
              if (seen.has(w)) continue;
              seen.add(w);
              found.push(w);
              following.push(w);
            }
          }
        }
        frontier = following;
      }
      return found.map((v) => refOf(topology, v));
    },
    impact: (_p, { ids, includeSoft }, ctx) => {
      const topology = snapshot(ctx);
      const result = impact(topology, knownIds(topology, ids), { includeSoft: includeSoft ?? false });
      let risk: ReturnType<typeof impactAtRisk> | undefined;
      const atRiskOf = () => (risk ??= impactAtRisk(topology, result));
      return {
        affected: refsOf(topology, result.affected),
        services: refsOf(topology, result.services),
        owners: teamsOf(topology, result.owners),
        degraded: refsOf(topology, result.degraded),
        explanations: result.explanations.map((e) => ({ service: refsOf(topology, [e.service])[0]!, path: refsOf(topology, e.path), degraded: e.degraded })),
        // Worked out only when asked for (getters: graphql's default resolver reads them when selected).
        get servicesAtRisk() {
          return refsOf(topology, atRiskOf().servicesAtRisk);
        },
        get criticalAtRisk() {
          return refsOf(topology, atRiskOf().criticalAtRisk);
        },
        get groupsWithoutSpare() {
          return refsOf(topology, atRiskOf().groupsWithoutSpare);
        },
        get holdingUp() {
          return refsOf(topology, atRiskOf().holdingUp);
        },
      };
    },
    spofs: (_p, { limit }, ctx) => {
      const topology = snapshot(ctx);
      const wanted = limit ?? 50;
      if (wanted < 0 || wanted > MAX_SPOFS) throw new GraphQLError(`limit must be between 0 and ${MAX_SPOFS}`, { extensions: { code: 'BAD_USER_INPUT' } });
      return spofs(topology, { limit: wanted }).map((s) => ({
        entity: refsOf(topology, [s.entity])[0]!,
        services: refsOf(topology, s.services),
        critical: refsOf(topology, s.critical),
        teams: teamsOf(topology, s.teams),
        affected: s.affected,
      }));
    },
    maintenancePlan: (_p, { ids, start, end }, ctx) => {
      if (Date.parse(end) <= Date.parse(start)) throw new GraphQLError('end must be after start', { extensions: { code: 'BAD_USER_INPUT' } });
      const topology = snapshot(ctx);
      const plan = maintenanceDowntime(topology, knownIds(topology, ids));
      return {
        start,
        end,
        downtime: refsOf(topology, plan.downtime),
        services: refsOf(topology, plan.services),
        stakeholders: teamsOf(topology, plan.stakeholders),
        concurrent: concurrentWith(ctx, { entities: plan.ids, start: Date.parse(start), end: Date.parse(end) }),
      };
    },
    decommissionCheck: (_p, { ids }, ctx) => {
      const topology = snapshot(ctx);
      const check = decommissionCheck(topology, knownIds(topology, ids));
      return { safe: check.safe, breaks: refsOf(topology, check.breaks), removed: refsOf(topology, check.removed) };
    },
    compliance: async (_p, { rules: wanted }, ctx) => {
      let rules: Rule[];
      try {
        rules = configuredRules(ctx.config, ctx.configFile ? { configFile: ctx.configFile } : {});
      } catch (err) {
        const problems = err instanceof RuleFileError ? err.problems : [(err as Error).message];
        throw new GraphQLError(`the configured compliance rules cannot be used: ${problems.join('; ')}`, { extensions: { code: 'BAD_CONFIGURATION' } });
      }
      if (wanted) {
        const unknown = wanted.filter((id) => !rules.some((r) => r.id === id));
        if (unknown.length > 0) throw new GraphQLError(`unknown rule${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { extensions: { code: 'NOT_FOUND', rules: unknown } });
        rules = rules.filter((r) => wanted.includes(r.id));
      }
      const result = await runRules(ctx.neo4j, ctx.config.neo4j, rules);
      const failed = result.results.filter((r) => r.error);
      if (failed.length > 0) {
        throw new GraphQLError(`compliance rule${failed.length > 1 ? 's' : ''} failed: ${failed.map((r) => `${r.rule.id} (${r.error!.message})`).join('; ')}`, { extensions: { code: 'RULE_FAILED' } });
      }
      const topology = snapshot(ctx);
      return result.violations.map((v) => ({
        rule: v.rule,
        severity: v.severity.toUpperCase() as 'ERROR' | 'WARNING' | 'INFO',
        message: v.message,
        entities: refsOf(topology, v.entities),
      }));
    },
    topology: (_p, _a, ctx) => {
      const { topology, loadedAt, loadSeconds, source } = ctx.topology.current;
      return { topology, loadedAt, loadSeconds, source };
    },
  },
  Entity: {
    __resolveType: (ref) => TYPE_NAME[ref.topology.kinds[ref.index]!]!,
  },
  Host: {
    ...entityFields,
    critical: (ref) => ref.topology.critical[ref.index] === 1,
    environment: hostFact('environment'),
    location: hostFact('location'),
    rack: hostFact('rack'),
    az: hostFact('az'),
    os: hostFact('os'),
    classes: async (ref, _a, ctx) => (await ctx.hostFacts.load(ref.topology.ids[ref.index]!))?.classes ?? [],
  },
  Resource: {
    ...entityFields,
    critical: (ref) => ref.topology.critical[ref.index] === 1,
    host: (ref) => {
      const host = ref.topology.host[ref.index]!;
      return host < 0 ? null : refOf(ref.topology, host);
    },
  },
  Service: {
    ...entityFields,
    tier: (ref) => {
      const tier = ref.topology.tier[ref.index]!;
      return tier < 0 ? null : tier;
    },
  },
  Group: {
    ...entityFields,
    minHealthy: (ref) => ref.topology.minHealthy[ref.index]!,
    members: (ref) => [...row(ref.topology.members, ref.index)].map((m) => refOf(ref.topology, m)),
  },
  TopologyInfo: {
    entities: (info) => info.topology.ids.length,
    teams: (info) => info.topology.teams.length,
    loadedAt: (info) => info.loadedAt.toISOString(),
    loadSeconds: (info) => info.loadSeconds,
    source: (info) => (info.source === 'cache' ? 'CACHE' : 'NEO4J'),
  },
};
