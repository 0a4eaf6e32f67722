import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { withoutCredentials } from '../redact.ts';

export type { NatsConnection };

/** Connects to NATS and proves JetStream is enabled; the error names the address and the setting to change. */
export async function connectNats(url: string, name = 'faultline'): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    // No stack captured per request: the correlator makes thousands a second, and the errors name what failed.
    nc = await connect({ servers: url, name, timeout: 5_000, maxReconnectAttempts: -1, noAsyncTraces: true });
  } catch (err) {
    throw new Error(`cannot reach NATS at ${withoutCredentials(url)} (set NATS_URL or nats.url): ${(err as Error).message}`);
  }
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } catch (err) {
    await nc.close();
    throw new Error(`NATS at ${withoutCredentials(url)} has no JetStream (start nats-server with -js): ${(err as Error).message}`);
  }
  return nc;
}

/** True when a NATS server answers at `url` (JetStream or not). */
export async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
