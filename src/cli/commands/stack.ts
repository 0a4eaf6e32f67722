import { neo4jAnswers } from '../../graph/neo4j.ts';
import { natsAnswers } from '../../bus/nats.ts';
import { addressesOf, stackDown, stackUp, type Ports } from '../../stack/index.ts';
import { UsageError } from '../runtime.ts';

export interface StackOptions {
  profile?: string;
  neo4jPort?: string;
  natsPort?: string;
}

function parse(options: StackOptions): { profile: string; ports: Partial<Ports> } {
  const profile = options.profile ?? 'dev';
  if (!/^[\w-]+$/.test(profile)) throw new UsageError(`--profile: "${profile}" is not a plain name`);
  const port = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new UsageError(`${flag}: "${text}" is not a port`);
    return n;
  };
  const neo4jPort = port('--neo4j-port', options.neo4jPort);
  const natsPort = port('--nats-port', options.natsPort);
  return { profile, ports: { ...(neo4jPort ? { neo4jPort } : {}), ...(natsPort ? { natsPort } : {}) } };
}

export async function stackUpCommand(options: StackOptions): Promise<void> {
  const { profile, ports } = parse(options);
  const state = await stackUp(profile, { neo4j: true, nats: true }, ports);
  process.stdout.write(`neo4j ${state.neo4jUri} (${state.started.neo4j ? 'started' : 'already running'})\n`);
  process.stdout.write(`nats  ${state.natsUrl} (${state.started.nats ? 'started' : 'already running'})\n`);
}

export async function stackDownCommand(options: StackOptions): Promise<void> {
  const stopped = await stackDown(parse(options).profile);
  process.stdout.write(`neo4j ${stopped.neo4j ? 'stopped' : 'was not started by faultline'}\n`);
  process.stdout.write(`nats  ${stopped.nats ? 'stopped' : 'was not started by faultline'}\n`);
}

export async function stackStatusCommand(options: StackOptions): Promise<void> {
  const { profile, ports } = parse(options);
  const { host, neo4jPort, natsPort } = addressesOf(profile, ports);
  const neo4j = `bolt://${host}:${neo4jPort}`;
  const nats = `nats://${host}:${natsPort}`;
  process.stdout.write(`neo4j ${neo4j} ${(await neo4jAnswers(neo4j)) ? 'up' : 'down'}\n`);
  process.stdout.write(`nats  ${nats} ${(await natsAnswers(nats)) ? 'up' : 'down'}\n`);
}
