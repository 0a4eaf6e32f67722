import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ensureLayout, eventSource, KV_BUCKETS, STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { freshNats } from '../support/services.ts';

describe('NATS layout on a real JetStream', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await freshNats();
  });
  afterAll(() => nc?.close());

  it('creates every stream and bucket, and a second run changes nothing', async () => {
    await ensureLayout(nc);
    await ensureLayout(nc);
    const jsm = await jetstreamManager(nc);
    const events = await jsm.streams.info(STREAMS.events.name);
    expect(events.config.subjects).toEqual(['faultline.events.>']);
    expect((await jsm.streams.info(STREAMS.outbox.name)).config.retention).toBe(RetentionPolicy.Workqueue);
    for (const spec of Object.values(STREAMS)) {
      expect((await jsm.streams.info(spec.name)).config.name).toBe(spec.name);
    }
    const kvm = new Kvm(nc);
    for (const bucket of Object.values(KV_BUCKETS)) {
      expect((await (await kvm.open(bucket)).status()).bucket).toBe(bucket);
    }
  });

  it('stores events published on faultline.events.<source>, once per producer id, and a durable consumer reads them', async () => {
    await ensureLayout(nc);
    const js = jetstream(nc);
    const event = { source: 'nagios', host: 'db1.example.com', check: 'mysql', status: 'critical' };
    const first = await js.publish(SUBJECTS.events('nagios'), JSON.stringify(event), { msgID: 'nagios-1' });
    const again = await js.publish(SUBJECTS.events('nagios'), JSON.stringify(event), { msgID: 'nagios-1' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    await js.publish(SUBJECTS.events('cli'), JSON.stringify({ ...event, source: 'cli' }), { msgID: 'cli-1' });

    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(STREAMS.events.name, { durable_name: 'layout-test', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(STREAMS.events.name, 'layout-test');
    const batch = await consumer.fetch({ max_messages: 2, expires: 5_000 });
    const seen: string[] = [];
    for await (const msg of batch) {
      seen.push(`${msg.subject} ${(msg.json() as { source: string }).source}`);
      expect(eventSource(msg.subject)).toBe((msg.json() as { source: string }).source);
      msg.ack();
    }
    expect(seen).toEqual(['faultline.events.nagios nagios', 'faultline.events.cli cli']);
  });

  it('reads the source back from an events subject', () => {
    expect(eventSource(SUBJECTS.events('icinga-2'))).toBe('icinga-2');
    expect(eventSource('faultline.events.nagios.eu-west')).toBe('nagios');
  });

  it('keeps alert state in KV with compare-and-set on the revision', async () => {
    await ensureLayout(nc);
    const kv = await new Kvm(nc).open(KV_BUCKETS.alerts);
    const revision = await kv.put('db1_example_com.mysql', JSON.stringify({ status: 'critical' }));
    await kv.update('db1_example_com.mysql', JSON.stringify({ status: 'ok' }), revision);
    await expect(kv.update('db1_example_com.mysql', JSON.stringify({ status: 'warning' }), revision)).rejects.toThrow(/wrong last sequence/);
    expect((await kv.get('db1_example_com.mysql'))?.json()).toEqual({ status: 'ok' });
  });
});
