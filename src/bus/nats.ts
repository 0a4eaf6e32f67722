import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { withoutCredentials } from '../redact.ts';

export type { NatsConnection };

/** Connects to NATS and proves JetStream is enabled; the error names the address and the setting to change. */
/** No NATS server answered at the URL (as opposed to one without JetStream, which waiting does not fix). */
export class NatsUnreachableError extends Error {
  override name = 'NatsUnreachableError';
}

export async function connectNats(url: string, name = 'faultline'): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    // No stack captured per request: the correlator makes thousands a second, and the errors name what failed.
    nc = await connect({ servers: url, name, timeout: 5_000, maxReconnectAttempts: -1, noAsyncTraces: true });
  } catch (err) {
    throw new NatsUnreachableError(`cannot reach NATS at ${withoutCredentials(url)} (set NATS_URL or nats.url): ${(err as Error).message}`);
  }
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } catch (err) {
    await nc.close();
    throw new Error(`NATS at ${withoutCredentials(url)} has no JetStream (start nats-server with -js): ${(err as Error).message}`);
  }
  return nc;
}

/**
 * connectNats for a daemon: while no server answers, it waits (1 s, doubling to 30 s) and says so, instead of exiting.
 * A machine that boots faultline before NATS would otherwise crash-loop until systemd's start limit gives up on it.
 * Any other error (no JetStream) is thrown at once: waiting does not fix a configuration.
 */
export async function connectNatsWaiting(url: string, name: string, log: { warn(obj: object, msg: string): void }): Promise<NatsConnection> {
  for (let attempt = 1, delay = 1_000; ; attempt++, delay = Math.min(delay * 2, 30_000)) {
    try {
      return await connectNats(url, name);
    } catch (err) {
      if (!(err instanceof NatsUnreachableError)) throw err;
      log.warn({ error: err.message, attempt, retryInMs: delay }, 'NATS does not answer yet; waiting for it');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
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
