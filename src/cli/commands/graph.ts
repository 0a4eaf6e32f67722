import { impact, spofs, type Topology } from '../../engine/index.ts';
import { atRiskNames } from '../../correlator/incident.ts';
import { loadTopology } from '../../engine/load.ts';
import { connectNats } from '../../bus/nats.ts';
import { connectNeo4j, createDriver } from '../../graph/neo4j.ts';
import { counted, table } from '../../compliance/table.ts';
import { commandTopology, loadRuntime, positiveInteger, UsageError, type GlobalOptions } from '../runtime.ts';

/** `faultline impact` and `faultline spof`: the engine's answers on a terminal (a table) or for scripts (--json). */

async function withTopology<T>(global: GlobalOptions, work: (topology: Topology) => T): Promise<T> {
  const { loaded, log } = loadRuntime(global);
  const { config } = loaded;
  let driver;
  try {
    driver = await connectNeo4j(config.neo4j);
  } catch (err) {
    // Only then is NATS needed: impact and spof work without it, in CI say.
    const nats = await connectNats(config.nats.url, 'faultline-cli-graph').catch(() => undefined);
    if (!nats) throw err;
    const unanswered = createDriver(config.neo4j);
    try {
      const store = await commandTopology({ neo4j: unanswered, nats, neo4jDown: err as Error }, config, log);
      return work(store.current.topology);
    } finally {
      await Promise.allSettled([nats.close(), unanswered.close()]);
    }
  }
  try {
    return work((await loadTopology(driver, config.neo4j)).topology);
  } finally {
    await driver.close();
  }
}

export async function impactCommand(ids: string[], options: { json?: boolean; soft?: boolean }, global: GlobalOptions): Promise<void> {
  const result = await withTopology(global, (topology) => {
    const answer = impact(topology, ids, { includeSoft: options.soft ?? false, atRisk: true });
    if (answer.unknown.length > 0) throw new UsageError(`unknown entit${answer.unknown.length > 1 ? 'ies' : 'y'}: ${answer.unknown.join(', ')}`);
    const teams = answer.owners.map((id) => topology.teams[topology.teamIndexOf(id)!]!);
    return { ...answer, teams };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ids, affected: result.affected, services: result.services, degraded: result.degraded, owners: result.teams, explanations: result.explanations, servicesAtRisk: result.servicesAtRisk, criticalAtRisk: result.criticalAtRisk, groupsWithoutSpare: result.groupsWithoutSpare, holdingUp: result.holdingUp }, null, 2)}\n`);
    return;
  }
  const lines = [`${ids.join(', ')} down: ${counted(result.down.length, 'entity', 'entities')} down, ${counted(result.services.length, 'service')}, ${counted(result.teams.length, 'team')}.`, ''];
  lines.push('SERVICES AFFECTED (and why)');
  if (result.explanations.length === 0) lines.push('  none');
  for (const e of result.explanations) lines.push(`  ${e.service}${e.degraded ? ' (degraded)' : ''}: ${e.path.join(' → ')}`);
  lines.push('', 'WHO TO CALL');
  if (result.teams.length === 0) lines.push('  nobody owns what is affected');
  for (const t of result.teams) lines.push(`  ${t.id.padEnd(24)} ${t.contacts.join(', ') || '(no contacts)'}`);
  if (result.degraded.length > 0) lines.push('', `DEGRADED (soft dependents): ${result.degraded.join(', ')}`);
  const atRisk = atRiskNames(result.servicesAtRisk!, result.criticalAtRisk!);
  if (atRisk.length > 0) {
    lines.push('', `AT RISK (no spare left in ${result.groupsWithoutSpare!.join(', ')}): ${atRisk.join(', ')}`);
    lines.push(`  held up by ${result.holdingUp!.join(', ')}: each is now a single point of failure`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function spofCommand(options: { json?: boolean; limit?: string }, global: GlobalOptions): Promise<void> {
  const limit = options.limit === undefined ? 50 : positiveInteger('--limit', options.limit);
  const found = await withTopology(global, (topology) => spofs(topology, { limit }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
    return;
  }
  if (found.length === 0) {
    process.stdout.write('No single point of failure: every service survives the loss of any one entity.\n');
    return;
  }
  const rows = found.map((s) => [s.entity, String(s.services.length), String(s.teams.length), s.services.slice(0, 4).join(', ') + (s.services.length > 4 ? ', …' : '')]);
  process.stdout.write(`${table(['ENTITY', 'SERVICES', 'TEAMS', 'TAKES DOWN'], rows)}\n`);
}
