import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { replySubject, streamSequence, storedAtMs } from '../../src/bus/delivery.ts';
import { ensureLayout, STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { freshNats } from '../support/services.ts';

describe('delivery info read from the reply subject', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await freshNats();
    await ensureLayout(nc);
  });
  afterAll(() => nc?.close());

  it("agrees with the client's msg.info on what a real JetStream delivers", async () => {
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish(SUBJECTS.events('test'), JSON.stringify({ i }));
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(STREAMS.events.name, { durable_name: 'delivery-test', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(STREAMS.events.name, 'delivery-test');
    const seen: number[] = [];
    for await (const msg of await consumer.fetch({ max_messages: 5, expires: 5_000 })) {
      const reply = replySubject(msg);
      expect(streamSequence(reply)).toBe(msg.info.streamSequence);
      expect(storedAtMs(reply)).toBe(Math.floor(msg.info.timestampNanos / 1e6));
      seen.push(streamSequence(reply));
      msg.ack();
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('reads the longer form, with a domain and an account hash (and a random token) before the stream', () => {
    const reply = '$JS.ACK.hub.ACCHASH.FAULTLINE_EVENTS.faultline-correlator.1.4711.12.1763800000123456789.0.r4nd';
    expect(streamSequence(reply)).toBe(4711);
    expect(storedAtMs(reply)).toBe(1763800000123);
    expect(streamSequence('$JS.ACK.FAULTLINE_EVENTS.faultline-correlator.2.99.3.1763800000999000000.7')).toBe(99);
  });

  it('refuses what is not a JetStream delivery instead of reading a wrong number', () => {
    expect(() => streamSequence('_INBOX.abc.def')).toThrow(/not a JetStream delivery/);
    expect(() => streamSequence('$JS.ACK.S.C.1.x2.3.4.5')).toThrow(/not a JetStream delivery/);
    expect(() => streamSequence('$JS.ACK.S.C.1..3.4.5')).toThrow(/not a JetStream delivery/);
  });
});
