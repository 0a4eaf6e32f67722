import { ensureNats, natsPid, stopNats } from './nats.ts';
import { ensureNeo4j, stopNeo4j } from './neo4j.ts';
import { stackDir } from './process.ts';

/**
 * Local stacks, each with its own ports and data folder, so the tests never touch the data of `faultline dev`:
 * - dev: the design's default addresses, used by `faultline dev` and `faultline stack up`;
 * - test: side ports, started by the test suite's global set-up when no NEO4J_URI / NATS_URL is given.
 */
export const PROFILES = {
  dev: { host: '127.0.0.1', neo4jPort: 7687, natsPort: 4222 },
  test: { host: '127.0.0.1', neo4jPort: 7688, natsPort: 4223 },
  /** `npm run bench` wipes its database, so it never shares one with dev or the tests. */
  bench: { host: '127.0.0.1', neo4jPort: 7689, natsPort: 4224 },
} as const;

export type Profile = keyof typeof PROFILES | (string & {});

export interface Ports {
  neo4jPort: number;
  natsPort: number;
}

/** A profile's addresses; any other name gets the dev ports unless `override` says otherwise. */
export function addressesOf(profile: Profile, override: Partial<Ports> = {}) {
  const base = PROFILES[profile as keyof typeof PROFILES] ?? PROFILES.dev;
  return { ...base, ...override };
}

export interface StackState {
  neo4jUri?: string;
  natsUrl?: string;
  /** What this call started (and so what its caller should stop). */
  started: { neo4j: boolean; nats: boolean };
}

export async function stackUp(profile: Profile, want: { neo4j: boolean; nats: boolean }, ports: Partial<Ports> = {}): Promise<StackState> {
  const { host, neo4jPort, natsPort } = addressesOf(profile, ports);
  const dir = stackDir(profile);
  // Both start in parallel: the JVM takes seconds, nats-server milliseconds.
  const [neo4j, nats] = await Promise.all([
    want.neo4j ? ensureNeo4j(dir, host, neo4jPort) : undefined,
    want.nats ? ensureNats(dir, host, natsPort) : undefined,
  ]);
  return {
    ...(neo4j ? { neo4jUri: neo4j.uri } : {}),
    ...(nats ? { natsUrl: nats.url } : {}),
    started: { neo4j: neo4j?.started ?? false, nats: nats?.started ?? false },
  };
}

/** The pid of a profile's own nats-server, when it runs one. */
export function stackNatsPid(profile: Profile): number | undefined {
  return natsPid(stackDir(profile));
}

export async function stackDown(profile: Profile, which = { neo4j: true, nats: true }): Promise<{ neo4j: boolean; nats: boolean }> {
  const dir = stackDir(profile);
  const [neo4j, nats] = await Promise.all([which.neo4j ? stopNeo4j(dir) : false, which.nats ? stopNats(dir) : false]);
  return { neo4j, nats };
}
