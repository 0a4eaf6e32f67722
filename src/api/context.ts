import type { NatsConnection } from '../bus/nats.ts';
import type { Config } from '../config/schema.ts';
import type { CorrelationView } from '../correlator/view.ts';
import type { TopologyStore } from '../engine/store.ts';
import type { Driver } from '../graph/neo4j.ts';
import type { Logger } from '../log.ts';

export type Scope = 'read' | 'write';

/** Who is asking: a named token with its scopes, or the anonymous operator when auth is off. */
export interface Principal {
  name: string;
  scopes: readonly Scope[];
}

/** Long-lived services the API needs, built once per process. */
export interface ApiServices {
  config: Config;
  log: Logger;
  neo4j: Driver;
  nats: NatsConnection;
  topology: TopologyStore;
  /** Alerts, incidents and maintenance windows as the correlator stores them (the correlator's own view when it runs here). */
  correlation: CorrelationView;
  version: string;
  /** The configuration file, if any: compliance rule folders are relative to it. */
  configFile?: string;
}

export interface HostFacts {
  environment: string | null;
  location: string | null;
  rack: string | null;
  az: string | null;
  os: string | null;
  classes: string[];
}

/** What every resolver receives: the services, and the principal of this request. */
export interface ApiContext extends ApiServices {
  principal: Principal;
  /** Facts are not in the engine's snapshot: batched per request from Neo4j. */
  hostFacts: { load(id: string): Promise<HostFacts | undefined> };
}
