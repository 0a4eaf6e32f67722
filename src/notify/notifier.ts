import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { STREAMS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { createChannel, DEFAULT_TIMEOUT_MS, type ChannelAdapter } from './channel.ts';
import { channelConsumerName, ensureChannelConsumer, removeSharedConsumer } from './consumers.ts';
import { publishDeadLetter, type NotificationDeadLetter } from './dead-letter.ts';
import { outboxMessageSchema, type OutboxMessage } from './notification.ts';
import { notifications } from '../metrics/metrics.ts';
import { ORPHAN_GRACE_MS, sweepOrphans } from './orphans.ts';
import { deadLetterOf } from './outbox.ts';
import { retryDelay } from './retry.ts';

export interface NotifierOptions {
  config: Config;
  log: Logger;
  nats: NatsConnection;
  /** Milliseconds since the epoch; stamps dead letters. */
  clock?: () => number;
  /** First back-off after a retryable failure (1 s); doubles per attempt. */
  retryBaseMs?: number;
  /** Longest back-off (5 min). */
  retryMaxMs?: number;
  /** Delivery attempts before a retryable failure is dead-lettered (10). */
  maxAttempts?: number;
  /** Deliveries in flight at once per channel in this process (8). */
  concurrency?: number;
  /** How long a delivery may stay unacknowledged before JetStream hands it to another notifier (60 s). */
  ackWaitMs?: number;
  /** Per-delivery timeout of the channels (10 s). */
  timeoutMs?: number;
  /** How long a message for a channel no notifier serves waits before it is dead-lettered (10 min; orphans.ts). */
  orphanGraceMs?: number;
  /** How often to look for such messages (1 min). */
  sweepEveryMs?: number;
}

export interface Notifier {
  /** Takes no new work, waits for deliveries in flight, and leaves the rest to the other notifiers. */
  stop(): Promise<void>;
}

/**
 * The notifier role (design section 7): takes outbox messages, delivers each on its channel, and acknowledges
 * only what was delivered or dead-lettered, so a crash loses nothing (JetStream redelivers after the ack wait)
 * and the outbox's de-duplication keeps a repeated decision from being sent twice.
 *
 * Each channel is a lane of its own: its own consumer (consumers.ts), shared by every notifier, and its own
 * delivery slots. A Slack that times out for ten seconds a message then delays Slack messages only, never a page
 * on PagerDuty.
 */
export async function startNotifier(options: NotifierOptions): Promise<Notifier> {
  const settings = {
    clock: options.clock ?? Date.now,
    retryBaseMs: options.retryBaseMs ?? 1_000,
    retryMaxMs: options.retryMaxMs ?? 5 * 60_000,
    maxAttempts: options.maxAttempts ?? 10,
    concurrency: options.concurrency ?? 8,
    ackWaitMs: options.ackWaitMs ?? 60_000,
  };
  const log = options.log.child({ component: 'notifier' });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { incidentUrl } = options.config.notify;
  const channels = new Map(options.config.notify.channels.map((c) => [c.name, createChannel(c, { timeoutMs, ...(incidentUrl ? { incidentUrl } : {}) })]));
  const js = jetstream(options.nats);
  const jsm = await jetstreamManager(options.nats);

  await removeSharedConsumer(jsm, log);
  const deliver = deliverer({ js, log, channels, ...settings });
  const lanes = await Promise.all([...channels.keys()].map((channel) => startLane(js, jsm, channel, deliver, settings, log)));

  const sweep = { js, jsm, log, clock: settings.clock, graceMs: options.orphanGraceMs ?? ORPHAN_GRACE_MS };
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweepNow = () => {
    sweeping = sweepOrphans(sweep).catch((err: unknown) => log.warn({ err }, 'orphan sweep failed; trying again at the next'));
  };
  sweepNow();
  const sweeper = setInterval(sweepNow, options.sweepEveryMs ?? 60_000);
  sweeper.unref();

  log.info({ channels: [...channels.keys()], consumers: lanes.map((l) => l.consumer), concurrency: settings.concurrency }, 'notifier started');
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        clearInterval(sweeper);
        await Promise.all(lanes.map((lane) => lane.stop()));
        await sweeping;
        log.info('notifier stopped');
      })();
      return stopped;
    },
  };
}

interface Lane {
  consumer: string;
  stop(): Promise<void>;
}

/**
 * One channel's consumer, pulled no further than its slots: what waits in this process's buffer is invisible to the
 * others. When the consumer goes away (NATS removes it after an hour without any notifier, or someone did by hand)
 * the lane creates it again and pulls anew; the client by itself would wait for somebody else to.
 */
async function startLane(
  js: JetStreamClient,
  jsm: JetStreamManager,
  channel: string,
  deliver: (msg: JsMsg) => Promise<void>,
  settings: { concurrency: number; ackWaitMs: number },
  log: Logger,
): Promise<Lane> {
  const name = channelConsumerName(channel);
  const pull = async () => {
    await ensureChannelConsumer(jsm, channel, settings);
    return (await js.consumers.get(STREAMS.outbox.name, name)).consume({ max_messages: settings.concurrency });
  };
  let stopping = false;
  let messages = await pull();
  const inFlight = new Set<Promise<void>>();

  async function take(from: typeof messages): Promise<void> {
    for await (const msg of from) {
      while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
      if (stopping) {
        msg.nak(); // straight back to the queue for another notifier, without waiting out the ack wait
        continue;
      }
      const work: Promise<void> = deliver(msg)
        .catch((err: unknown) => log.error({ err, subject: msg.subject }, 'outbox message not handled; JetStream will offer it again'))
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    }
  }

  /** Resolves true when the consumer went away (and `from` was closed), false when `from` ended otherwise. */
  async function watch(from: typeof messages): Promise<boolean> {
    for await (const status of from.status()) {
      if (stopping) return false;
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
        await from.close();
        return true;
      }
    }
    return false;
  }

  const loop = (async () => {
    for (;;) {
      const [gone] = await Promise.all([watch(messages), take(messages)]);
      if (stopping || !gone) return;
      log.warn({ channel, consumer: name }, "the channel's consumer is gone (no notifier pulled from it for an hour, or it was removed by hand): creating it again");
      for (;;) {
        try {
          messages = await pull();
          break;
        } catch (err) {
          log.error({ err, channel }, "the channel's consumer could not be created again; trying again in 5 s");
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          if (stopping) return;
        }
      }
    }
  })().catch((err: unknown) => log.error({ err, channel }, 'notifier stopped taking outbox messages for this channel'));

  return {
    consumer: name,
    async stop() {
      stopping = true;
      await messages.close();
      await loop;
      await Promise.all(inFlight);
    },
  };
}

interface Settings {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
}

interface DelivererContext extends Settings {
  js: JetStreamClient;
  log: Logger;
  channels: Map<string, ChannelAdapter>;
  clock: () => number;
}

/** One outbox message from receipt to its end: acknowledged, offered again later, or dead-lettered. */
function deliverer(ctx: DelivererContext) {
  const { js, log, channels } = ctx;

  async function giveUp(msg: JsMsg, record: Omit<NotificationDeadLetter, 'receivedAt'>, id: string): Promise<void> {
    try {
      await publishDeadLetter(js, { ...record, receivedAt: new Date(ctx.clock()).toISOString() }, id);
    } catch (err) {
      // Keep the message: the next delivery tries the dead letter again.
      log.warn({ err, subject: msg.subject }, 'dead letter not stored; the outbox message stays queued');
      msg.nak(retryDelay(msg.info.deliveryCount, ctx.retryBaseMs, ctx.retryMaxMs));
      return;
    }
    // No reason argument: servers before 2.10.4 (Debian's 2.9) do not understand "+TERM <reason>" and would
    // redeliver the message. The reason is in the dead letter.
    msg.term();
  }

  return async function deliver(msg: JsMsg): Promise<void> {
    const attempt = msg.info.deliveryCount;
    const parsed = parseOutboxMessage(msg);
    if (!parsed.ok) {
      const reason = `invalid outbox message: ${parsed.error}`;
      log.error({ subject: msg.subject, reason }, 'outbox message dead-lettered');
      return giveUp(msg, { reason, payload: msg.string() }, `outbox-seq-${msg.info.streamSequence}`);
    }

    const { channel, notification, useContacts } = parsed.message;
    const fields = { channel, kind: notification.kind, team: notification.team, incident: notification.incident.id, dedupKey: notification.dedupKey };
    const { kept, id } = deadLetterOf(parsed.message);
    const adapter = channels.get(channel);
    if (!adapter) {
      const reason = `channel "${channel}" is not configured (any more)`;
      log.error({ ...fields, reason }, 'notification dead-lettered');
      return giveUp(msg, { reason, ...kept }, id);
    }
    if (attempt > ctx.maxAttempts) {
      const reason = `gave up on channel "${channel}" after ${attempts(ctx.maxAttempts)} (the last one did not finish)`;
      log.error({ ...fields, reason }, 'notification dead-lettered');
      return giveUp(msg, { reason, ...kept, attempts: ctx.maxAttempts }, id);
    }

    const result = await adapter.send(notification, { useContacts: useContacts === true });
    if (result.ok) {
      const confirmed = await msg.ackAck().catch(() => false);
      notifications.inc({ channel, kind: notification.kind, outcome: result.skipped ? 'skipped' : 'delivered' });
      if (result.skipped) log.info({ ...fields, attempt, reason: result.skipped }, 'notification skipped by its channel');
      else log.info({ ...fields, attempt }, 'notification delivered');
      if (result.warning) log.warn({ ...fields, attempt, warning: result.warning }, 'notification delivered with a warning');
      if (!confirmed) log.warn(fields, 'acknowledgement not confirmed by NATS; the notification may be delivered again');
      return;
    }
    if (result.retryable && attempt < ctx.maxAttempts) {
      const retryInMs = retryDelay(attempt, ctx.retryBaseMs, ctx.retryMaxMs);
      notifications.inc({ channel, kind: notification.kind, outcome: 'retried' });
      log.warn({ ...fields, attempt, retryInMs, error: result.error }, 'delivery failed; will retry');
      msg.nak(retryInMs);
      return;
    }
    const reason = result.retryable
      ? `channel "${channel}" failed ${attempts(attempt)}, last: ${result.error}`
      : `channel "${channel}" refused the notification: ${result.error}`;
    notifications.inc({ channel, kind: notification.kind, outcome: 'dead' });
    log.error({ ...fields, attempt, reason }, 'notification dead-lettered');
    return giveUp(msg, { reason, ...kept, error: result.error, attempts: attempt }, id);
  };
}

function parseOutboxMessage(msg: JsMsg): { ok: true; message: OutboxMessage } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = msg.json();
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = outboxMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

const attempts = (n: number) => (n === 1 ? '1 attempt' : `${n} attempts`);
