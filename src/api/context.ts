import type { NatsConnection } from '../bus/nats.ts';
import type { Config } from '../config/schema.ts';
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
  version: string;
}

/** What every resolver receives: the services, and the principal of this request. */
export interface ApiContext extends ApiServices {
  principal: Principal;
}
