import { neo4jAnswers } from '../../graph/neo4j.ts';
import { natsAnswers } from '../../bus/nats.ts';
import { PROFILES, stackDown, stackUp, type Profile } from '../../stack/index.ts';
import { UsageError } from '../runtime.ts';

function profileOf(name: string | undefined): Profile {
  const profile = name ?? 'dev';
  if (!(profile in PROFILES)) throw new UsageError(`--profile: unknown profile "${profile}" (expected ${Object.keys(PROFILES).join(', ')})`);
  return profile as Profile;
}

export async function stackUpCommand(options: { profile?: string }): Promise<void> {
  const state = await stackUp(profileOf(options.profile), { neo4j: true, nats: true });
  process.stdout.write(`neo4j ${state.neo4jUri} (${state.started.neo4j ? 'started' : 'already running'})\n`);
  process.stdout.write(`nats  ${state.natsUrl} (${state.started.nats ? 'started' : 'already running'})\n`);
}

export async function stackDownCommand(options: { profile?: string }): Promise<void> {
  const stopped = await stackDown(profileOf(options.profile));
  process.stdout.write(`neo4j ${stopped.neo4j ? 'stopped' : 'was not started by faultline'}\n`);
  process.stdout.write(`nats  ${stopped.nats ? 'stopped' : 'was not started by faultline'}\n`);
}

export async function stackStatusCommand(options: { profile?: string }): Promise<void> {
  const { host, neo4jPort, natsPort } = PROFILES[profileOf(options.profile)];
  const neo4j = `bolt://${host}:${neo4jPort}`;
  const nats = `nats://${host}:${natsPort}`;
  process.stdout.write(`neo4j ${neo4j} ${(await neo4jAnswers(neo4j)) ? 'up' : 'down'}\n`);
  process.stdout.write(`nats  ${nats} ${(await natsAnswers(nats)) ? 'up' : 'down'}\n`);
}
