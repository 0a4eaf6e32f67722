import { jetstreamManager } from '@nats-io/jetstream';
import { afterEach, beforeEach, inject } from 'vitest';
import { ensureLayout, STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import type { Config } from '../../src/config/schema.ts';
import type { Logger } from '../../src/log.ts';
import type { NotificationDeadLetter } from '../../src/notify/dead-letter.ts';
import { startNotifier, type Notifier, type NotifierOptions } from '../../src/notify/notifier.ts';
import { freshNats, silentLog } from '../support/services.ts';
import { until } from './fixtures.ts';

/** Every message a stream holds now, as subject and parsed JSON, in order. */
export async function storedMessages(nc: NatsConnection, stream: string): Promise<{ subject: string; data: unknown }[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const stored: { subject: string; data: unknown }[] = [];
  if (state.messages === 0) return stored;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) stored.push({ subject: msg.subject, data: msg.json() });
  }
  return stored;
}

export async function deadNotifications(nc: NatsConnection): Promise<NotificationDeadLetter[]> {
  return (await storedMessages(nc, STREAMS.dead.name))
    .filter((m) => m.subject === SUBJECTS.deadNotifications)
    .map((m) => m.data as NotificationDeadLetter);
}

/** Messages still in the outbox work queue (neither acknowledged nor terminated). */
export async function outboxDepth(nc: NatsConnection): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(STREAMS.outbox.name)).state.messages;
}

/**
 * For suites that run notifiers: a fresh bus (streams and buckets) before each test, on `nc()`; `notifier()` starts
 * one on its own connection, as another process would, with quick retries; all of it is stopped after each test.
 */
export function notifierBus() {
  let nc: NatsConnection | undefined;
  const notifiers: Notifier[] = [];
  const connections: NatsConnection[] = [];
  beforeEach(async () => {
    nc = await freshNats();
    await ensureLayout(nc);
  });
  afterEach(async () => {
    for (const notifier of notifiers.splice(0)) await notifier.stop();
    for (const connection of connections.splice(0)) await connection.close();
    await nc?.close();
  });
  return {
    nc: () => nc!,
    /** The notifiers' own connections, in start order (closing one cuts that notifier off from NATS). */
    connections,
    async notifier(config: Config, options: Partial<NotifierOptions> & { log?: Logger } = {}): Promise<Notifier> {
      const connection = await connectNats(inject('natsUrl'), 'notifier-test');
      connections.push(connection);
      const started = await startNotifier({ config, log: silentLog, nats: connection, retryBaseMs: 50, ...options });
      notifiers.push(started);
      return started;
    },
    settled: () => until('the outbox to drain', async () => (await outboxDepth(nc!)) === 0),
  };
}
