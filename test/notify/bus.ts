import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import type { NotificationDeadLetter } from '../../src/notify/dead-letter.ts';

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
