import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, jetstreamManager, jetstream } from '@nats-io/jetstream';
import { STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { channelConsumerName, ensureChannelConsumer, SHARED_CONSUMER } from '../../src/notify/consumers.ts';
import { sweepOrphans } from '../../src/notify/orphans.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { silentLog, testConfig } from '../support/services.ts';
import { deadNotifications, notifierBus, outboxDepth } from './bus.ts';
import { startCollector, type Collector } from './collector.ts';
import { aNotification, capturedLog, until } from './fixtures.ts';

describe('one lane per channel: a stalled channel holds up only its own notifications', () => {
  const bus = notifierBus();
  let nc: NatsConnection;
  const collectors: Collector[] = [];
  beforeEach(() => {
    nc = bus.nc();
  });
  afterEach(async () => {
    for (const collector of collectors.splice(0)) await collector.close();
  });

  /** Webhook channels by name on collectors; team:slow's notifications go to `slow-hook`, the rest to `pager-hook`. */
  function config(hooks: Record<string, Collector>) {
    return testConfig({
      notify: {
        channels: Object.entries(hooks).map(([name, collector]) => ({ name, type: 'webhook', url: collector.url })),
        routes: [
          { match: { team: 'team:slow' }, channels: ['slow-hook'] },
          { channels: ['pager-hook'] },
        ],
      },
    });
  }

  async function collector(answer?: Parameters<typeof startCollector>[0]): Promise<Collector> {
    const started = await startCollector(answer);
    collectors.push(started);
    return started;
  }

  it('delivers a page while every slot of another channel hangs on a receiver that never answers', async () => {
    const stuck = await collector(() => 'hang');
    const pager = await collector();
    const cfg = config({ 'slow-hook': stuck, 'pager-hook': pager });
    await bus.notifier(cfg, { concurrency: 2, timeoutMs: 60_000 });

    for (let i = 0; i < 6; i++) {
      await enqueueNotification(nc, cfg.notify, aNotification({ team: 'team:slow', dedupKey: `inc-${i}/stakeholder/team:slow` }));
    }
    await until('both slots of slow-hook taken', () => stuck.received.length === 2);
    await enqueueNotification(nc, cfg.notify, aNotification());

    await until('the page delivered', () => pager.received.length === 1);
    expect(pager.bodies()[0]).toMatchObject({ dedupKey: aNotification().dedupKey, team: 'team:dba' });
    // Nothing of slow-hook finished, so the page did not get a slot it freed.
    expect(stuck.received).toHaveLength(2);
    const jsm = await jetstreamManager(nc);
    const slow = await jsm.consumers.info(STREAMS.outbox.name, channelConsumerName('slow-hook'));
    expect(slow.num_pending + slow.num_ack_pending).toBe(6);
  });

  it('names each consumer by its channel, in characters any nats-server takes', () => {
    expect(channelConsumerName('ops-hook')).toBe('faultline-notifier-ops-hook');
    expect(channelConsumerName('ops.hook')).toBe('faultline-notifier-ops_2Ehook');
    expect(channelConsumerName('ops_2Ehook')).toBe('faultline-notifier-ops__2Ehook');
    expect(channelConsumerName('équipe')).toBe('faultline-notifier-_C3_A9quipe');
  });

  it('takes over from the shared consumer of earlier versions, delivering what it held', async () => {
    const pager = await collector();
    const cfg = config({ 'slow-hook': await collector(), 'pager-hook': pager });
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(STREAMS.outbox.name, {
      durable_name: SHARED_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: SUBJECTS.outboxAll,
    });
    await enqueueNotification(nc, cfg.notify, aNotification());

    const captured = capturedLog();
    await bus.notifier(cfg, { log: captured.log });
    await until('the page delivered', () => pager.received.length === 1);
    await bus.settled();

    const names = [];
    for await (const consumer of jsm.consumers.list(STREAMS.outbox.name)) names.push(consumer.name);
    expect(names.sort()).toEqual([channelConsumerName('pager-hook'), channelConsumerName('slow-hook')]);
    expect(captured.lines().filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/^removed the shared notifier consumer/)]);
  });

  it('creates its channel consumer again when NATS removed it (an hour without a notifier, or by hand)', async () => {
    const pager = await collector();
    const cfg = config({ 'slow-hook': await collector(), 'pager-hook': pager });
    const captured = capturedLog();
    await bus.notifier(cfg, { log: captured.log });
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(STREAMS.outbox.name, channelConsumerName('pager-hook'));

    await until('the consumer back', async () => (await jsm.consumers.info(STREAMS.outbox.name, channelConsumerName('pager-hook')).catch(() => null)) !== null, 20_000);
    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('the page delivered', () => pager.received.length === 1);
    expect(captured.lines().filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/consumer is gone/)]);
  });

  it('dead-letters what waits for a channel no notifier serves once it is older than the grace, and leaves a served channel alone', async () => {
    const served = await collector();
    const cfg = config({ 'slow-hook': served, 'pager-hook': served });
    const jsm = await jetstreamManager(nc);
    // pager-hook has its consumer (its notifiers are away); slow-hook has none: no notifier has it configured.
    await ensureChannelConsumer(jsm, 'pager-hook', { ackWaitMs: 60_000 });
    await enqueueNotification(nc, cfg.notify, aNotification());
    const orphan = aNotification({ team: 'team:slow', dedupKey: 'inc-1/stakeholder/team:slow' });
    await enqueueNotification(nc, cfg.notify, orphan);
    await jetstream(nc).publish(SUBJECTS.outbox('slow-hook'), 'not json');

    const ctx = { js: jetstream(nc), jsm, log: silentLog, clock: Date.now };
    expect(await sweepOrphans({ ...ctx, graceMs: 60_000 })).toBe(0);
    expect(await outboxDepth(nc)).toBe(3);
    expect(await deadNotifications(nc)).toEqual([]);

    expect(await sweepOrphans({ ...ctx, graceMs: 0 })).toBe(2);
    const dead = await deadNotifications(nc);
    expect(dead).toMatchObject([
      { reason: 'no running notifier has channel "slow-hook" configured', channel: 'slow-hook', notification: orphan },
      { reason: 'no running notifier has channel "slow-hook" configured', payload: 'not json' },
    ]);
    // The served channel's message still waits for its notifiers, and its consumer is free again for one.
    expect(await outboxDepth(nc)).toBe(1);
    expect((await jsm.consumers.info(STREAMS.outbox.name, channelConsumerName('pager-hook'))).num_pending).toBe(1);
    await ensureChannelConsumer(jsm, 'slow-hook', { ackWaitMs: 60_000 }, 0);
  });

  it('a notifier whose configuration lost a channel dead-letters what was left queued for it', async () => {
    const pager = await collector();
    const before = config({ 'slow-hook': await collector(), 'pager-hook': pager });
    const orphan = aNotification({ team: 'team:slow', dedupKey: 'inc-2/stakeholder/team:slow' });
    await enqueueNotification(nc, before.notify, orphan);

    const after = testConfig({ notify: { channels: [{ name: 'pager-hook', type: 'webhook', url: pager.url }], routes: [{ channels: ['pager-hook'] }] } });
    await bus.notifier(after, { orphanGraceMs: 0, sweepEveryMs: 100 });
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1);
    await bus.settled();
    expect(await deadNotifications(nc)).toMatchObject([{ channel: 'slow-hook', notification: orphan }]);
  });
});
