import { createServer } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureLayout, STREAMS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';

export interface Stored {
  subject: string;
  seq: number;
  body: any;
  msgId: string | undefined;
}

/** Every message a stream holds, oldest first, read back from the server. */
export async function storedMessages(nc: NatsConnection, stream: string): Promise<Stored[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const found: Stored[] = [];
  if (state.messages === 0) return found;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg) found.push({ subject: msg.subject, seq: msg.seq, body: msg.json(), msgId: msg.header?.get('Nats-Msg-Id') || undefined });
  }
  return found;
}

/** Empty event and dead-letter streams (recreated, so no message id from an earlier test is remembered). */
export async function freshEventStreams(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of [STREAMS.events.name, STREAMS.dead.name]) await jsm.streams.delete(name).catch(() => false);
  await ensureLayout(nc);
}

/** A local port nothing listens on (taken from the kernel, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
