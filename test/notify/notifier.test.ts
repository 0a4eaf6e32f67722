import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureLayout, STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { testConfig } from '../support/services.ts';
import { deadNotifications, notifierBus, outboxDepth, storedMessages } from './bus.ts';
import { startCollector, type Collector } from './collector.ts';
import { aNotification, capturedLog, pause, until } from './fixtures.ts';

const SECRET = 'Bearer s3cr3t-webhook-token';

describe('the outbox and the notifier on real JetStream and a real webhook receiver', () => {
  const bus = notifierBus();
  let nc: NatsConnection;
  let collector: Collector;
  beforeEach(() => {
    nc = bus.nc();
  });
  afterEach(async () => {
    await collector?.close();
  });

  /** One webhook channel named `channel` on the collector, and routes (a catch-all to it by default). */
  function config(options: { channel?: string; headers?: Record<string, string>; routes?: unknown[] } = {}) {
    const channel = options.channel ?? 'ops-hook';
    return testConfig({
      notify: {
        channels: [{ name: channel, type: 'webhook', url: collector.url, ...(options.headers ? { headers: options.headers } : {}) }],
        routes: options.routes ?? [{ channels: [channel] }],
      },
    });
  }

  const notifier = bus.notifier;
  const settled = bus.settled;

  it('stores one message per routed channel on its own subject, and a repeated dedupKey is stored and delivered once', async () => {
    collector = await startCollector();
    const cfg = config({ channel: 'ops.hook' });
    const notification = aNotification();

    expect(await enqueueNotification(nc, cfg.notify, notification)).toEqual({ channels: ['ops.hook'] });
    expect(await enqueueNotification(nc, cfg.notify, notification)).toEqual({ channels: ['ops.hook'] });

    const stored = await storedMessages(nc, STREAMS.outbox.name);
    expect(stored).toEqual([{ subject: 'faultline.outbox.ops%2Ehook', data: { channel: 'ops.hook', notification } }]);

    await notifier(cfg);
    await until('one delivery', () => collector.received.length === 1);
    await settled();
    // Decided again after delivery (a correlator restarted and replayed): still inside the window, still dropped.
    await enqueueNotification(nc, cfg.notify, notification);
    await pause(300);
    expect(await outboxDepth(nc)).toBe(0);
    expect(collector.received).toHaveLength(1);
  });

  it('POSTs the design section 7 document to the webhook, and logs the delivery without the secret header', async () => {
    collector = await startCollector();
    const cfg = config({ headers: { Authorization: SECRET } });
    const captured = capturedLog();
    await notifier(cfg, { log: captured.log });
    const notification = aNotification({ kind: 'stakeholder', team: 'team:mail', dedupKey: 'inc-00000000000000d1:stakeholder:team:mail' });

    await enqueueNotification(nc, cfg.notify, notification);
    await until('one delivery', () => collector.received.length === 1);

    const [body] = collector.bodies();
    expect(body).toMatchObject({
      kind: 'stakeholder',
      team: 'team:mail',
      incident: {
        id: 'inc-00000000000000d1',
        status: 'open',
        root: ['db1.example.com'],
        suppressed: ['mail1.example.com/mailq', 'mail1.example.com/smtp'],
        affectedServices: ['service:mail'],
      },
      dedupKey: 'inc-00000000000000d1:stakeholder:team:mail',
    });
    expect(body).toEqual(notification);
    expect(collector.received[0]!.headers.authorization).toBe(SECRET);

    await until('the delivery logged', () => captured.lines().some((l) => l.msg === 'notification delivered'));
    expect(captured.lines().find((l) => l.msg === 'notification delivered')).toMatchObject({
      component: 'notifier',
      channel: 'ops-hook',
      kind: 'stakeholder',
      team: 'team:mail',
      incident: 'inc-00000000000000d1',
      dedupKey: 'inc-00000000000000d1:stakeholder:team:mail',
    });
    expect(captured.text()).not.toContain('s3cr3t');
  });

  it('retries a receiver that fails with 500 twice, then delivers once', async () => {
    collector = await startCollector((n) => (n <= 2 ? 500 : 200));
    const cfg = config();
    const captured = capturedLog();
    await notifier(cfg, { log: captured.log });

    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('three attempts', () => collector.received.length === 3);
    await settled();
    await pause(300);

    expect(collector.received).toHaveLength(3);
    expect(new Set(collector.bodies().map((b) => b.dedupKey))).toEqual(new Set([aNotification().dedupKey]));
    const retries = captured.lines().filter((l) => l.msg === 'delivery failed; will retry');
    expect(retries.map((l) => [l.attempt, l.retryInMs])).toEqual([
      [1, 50],
      [2, 100],
    ]);
    expect(captured.lines().filter((l) => l.msg === 'notification delivered')).toHaveLength(1);
    expect(await deadNotifications(nc)).toEqual([]);
  });

  it('dead-letters a notification the receiver refuses with 400, naming the status, without retrying or leaking the secret', async () => {
    collector = await startCollector(() => 400);
    const cfg = config({ headers: { Authorization: SECRET } });
    const captured = capturedLog();
    await notifier(cfg, { log: captured.log });
    const notification = aNotification();

    await enqueueNotification(nc, cfg.notify, notification);
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1);
    await settled();
    await pause(300);

    expect(collector.received).toHaveLength(1);
    const [dead] = await deadNotifications(nc);
    expect(dead).toMatchObject({ channel: 'ops-hook', attempts: 1, notification });
    expect(dead!.reason).toMatch(/HTTP 400/);
    expect(dead!.error).toMatch(/^HTTP 400/);
    expect(Date.parse(dead!.receivedAt)).not.toBeNaN();
    expect(JSON.stringify(dead)).not.toContain('s3cr3t');
    expect(captured.text()).not.toContain('s3cr3t');
  });

  it('dead-letters after the last attempt when a failure stays retryable', async () => {
    collector = await startCollector(() => 503);
    const cfg = config();
    await notifier(cfg, { maxAttempts: 3 });

    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1);
    await settled();

    expect(collector.received).toHaveLength(3);
    const [dead] = await deadNotifications(nc);
    expect(dead).toMatchObject({ channel: 'ops-hook', attempts: 3, error: expect.stringMatching(/^HTTP 503/) });
    expect(dead!.reason).toMatch(/failed 3 attempts, last: HTTP 503/);
  });

  it('keeps offering a notification whose dead letter cannot be stored, until it can', async () => {
    collector = await startCollector(() => 503);
    const cfg = config();
    await notifier(cfg, { maxAttempts: 1 });
    // The dead letters' stream is gone (deleted by hand, say): giving up cannot be recorded.
    await (await jetstreamManager(nc)).streams.delete(STREAMS.dead.name);
    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('the only attempt', () => collector.received.length === 1);
    await pause(1_500); // several deliveries that find no dead-letter stream
    await ensureLayout(nc);
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1, 15_000);
    await settled();
    expect(collector.received).toHaveLength(1);
    expect((await deadNotifications(nc))[0]).toMatchObject({ channel: 'ops-hook', attempts: 1 });
  });

  it('dead-letters a notification no route takes, and stores nothing in the outbox', async () => {
    collector = await startCollector();
    const cfg = config({ routes: [{ match: { team: 'team:web' }, channels: ['ops-hook'] }] });
    const notification = aNotification({ team: 'team:dba' });

    expect(await enqueueNotification(nc, cfg.notify, notification)).toEqual({ channels: [] });

    expect(await outboxDepth(nc)).toBe(0);
    const [dead, ...rest] = await deadNotifications(nc);
    expect(rest).toEqual([]);
    expect(dead).toMatchObject({ reason: 'no route matches the notification', notification });
    expect(Date.parse(dead!.receivedAt)).not.toBeNaN();
  });

  it('dead-letters an outbox message that is not a valid one, and goes on delivering', async () => {
    collector = await startCollector();
    const cfg = config();
    await notifier(cfg);

    await jetstream(nc).publish(SUBJECTS.outbox('ops-hook'), JSON.stringify({ channel: 'ops-hook', notification: { kind: 'page' } }));
    await jetstream(nc).publish(SUBJECTS.outbox('ops-hook'), 'not json');
    await enqueueNotification(nc, cfg.notify, aNotification());

    await until('a delivery and two dead letters', async () => collector.received.length === 1 && (await deadNotifications(nc)).length === 2);
    await settled();
    const dead = await deadNotifications(nc);
    expect(dead.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^invalid outbox message: notification\.team: /),
      'invalid outbox message: not JSON',
    ]);
    expect(dead[1]!.payload).toBe('not json');
  });

  it('shares the work between two notifiers on the same consumer: every notification delivered once', async () => {
    // A slow receiver keeps both notifiers busy, so both take part.
    collector = await startCollector(() => 200, { delayMs: 20 });
    const cfg = config();
    const logs = [capturedLog(), capturedLog()];
    for (const { log } of logs) await notifier(cfg, { log, concurrency: 2 });

    const count = 40;
    for (let i = 0; i < count; i++) {
      await enqueueNotification(nc, cfg.notify, aNotification({ dedupKey: `inc-${i}:page:team:dba` }));
    }
    await until('every delivery', () => collector.received.length >= count, 20_000);
    await settled();
    await pause(300);

    const keys = collector.bodies().map((b) => b.dedupKey);
    expect(keys).toHaveLength(count);
    expect(new Set(keys).size).toBe(count);
    const perNotifier = logs.map(({ lines }) => lines().filter((l) => l.msg === 'notification delivered').length);
    expect(perNotifier[0]! + perNotifier[1]!).toBe(count);
    expect(perNotifier.every((n) => n > 0)).toBe(true);
  });

  it('hands a notification whose notifier died mid-delivery to another one after the ack wait', async () => {
    // The first request never gets an answer: the notifier handling it is cut off from NATS meanwhile.
    collector = await startCollector((n) => (n === 1 ? 'hang' : 200));
    const cfg = config();
    await notifier(cfg, { ackWaitMs: 1_000, timeoutMs: 3_000 });
    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('the first attempt', () => collector.received.length === 1);
    await bus.connections[0]!.close();

    const captured = capturedLog();
    await notifier(cfg, { ackWaitMs: 1_000, log: captured.log });
    await until('the second attempt', () => collector.received.length === 2);
    await settled();

    expect(captured.lines().filter((l) => l.msg === 'notification delivered')).toMatchObject([{ attempt: 2, dedupKey: aNotification().dedupKey }]);
    expect(await deadNotifications(nc)).toEqual([]);
  });

  it('dead-letters, rather than leaves unseen, a notification whose last attempt never finished', async () => {
    collector = await startCollector(() => 'hang');
    const cfg = config();
    await notifier(cfg, { ackWaitMs: 1_000, timeoutMs: 3_000, maxAttempts: 1 });
    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('the only attempt', () => collector.received.length === 1);
    await bus.connections[0]!.close();

    await notifier(cfg, { ackWaitMs: 1_000, maxAttempts: 1 });
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1);
    await settled();

    expect(collector.received).toHaveLength(1);
    const [dead] = await deadNotifications(nc);
    expect(dead).toMatchObject({ channel: 'ops-hook', attempts: 1, notification: aNotification() });
    expect(dead!.reason).toMatch(/after 1 attempt \(the last one did not finish\)/);
  });
});
