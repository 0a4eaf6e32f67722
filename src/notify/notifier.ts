import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerConfig, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { STREAMS, SUBJECTS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { createChannel, DEFAULT_TIMEOUT_MS, type ChannelAdapter } from './channel.ts';
import { publishDeadLetter, type NotificationDeadLetter } from './dead-letter.ts';
import { outboxMessageSchema, type OutboxMessage } from './notification.ts';
import { notifications } from '../metrics/metrics.ts';
import { outboxMessageId } from './outbox.ts';
import { retryDelay } from './retry.ts';

/** The durable consumer every notifier process shares: the work queue hands each message to one of them. */
export const NOTIFIER_CONSUMER = 'faultline-notifier';

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
  /** Deliveries in flight at once in this process (8). */
  concurrency?: number;
  /** How long a delivery may stay unacknowledged before JetStream hands it to another notifier (60 s). */
  ackWaitMs?: number;
  /** Per-delivery timeout of the channels (10 s). */
  timeoutMs?: number;
}

export interface Notifier {
  /** Takes no new work, waits for deliveries in flight, and leaves the rest to the other notifiers. */
  stop(): Promise<void>;
}

/**
 * The notifier role (design section 7): takes outbox messages, delivers each on its channel, and acknowledges
 * only what was delivered or dead-lettered, so a crash loses nothing (JetStream redelivers after the ack wait)
 * and the outbox's de-duplication keeps a repeated decision from being sent twice.
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

  await ensureConsumer(options.nats, settings);
  const consumer = await js.consumers.get(STREAMS.outbox.name, NOTIFIER_CONSUMER);
  // Pull no more than can be worked on: what waits in this process's buffer is invisible to the others.
  const messages = await consumer.consume({ max_messages: settings.concurrency });
  const deliver = deliverer({ js, log, channels, ...settings });

  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const msg of messages) {
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
  })().catch((err: unknown) => log.error({ err }, 'notifier stopped taking outbox messages'));

  log.info({ consumer: NOTIFIER_CONSUMER, channels: [...channels.keys()], concurrency: settings.concurrency }, 'notifier started');
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        await messages.close();
        await loop;
        await Promise.all(inFlight);
        log.info('notifier stopped');
      })();
      return stopped;
    },
  };
}

interface Settings {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  ackWaitMs: number;
}

/**
 * Creates the shared consumer, or brings an existing one to this process's settings. JetStream sets no limit on
 * deliveries (`maxAttempts` is this code's): a delivery after the last attempt only writes the dead letter the
 * last attempt could not (a crash, NATS away), and one that cannot write it either offers the message again
 * later. With a limit of its own JetStream would stop offering the message, which would then sit unseen.
 */
async function ensureConsumer(nc: NatsConnection, settings: Settings): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: -1,
    filter_subject: SUBJECTS.outboxAll,
  };
  const existing = await jsm.consumers.info(STREAMS.outbox.name, NOTIFIER_CONSUMER).catch((err: unknown) => {
    if (err instanceof Error && /consumer not found/i.test(err.message)) return undefined;
    throw err;
  });
  if (existing) await jsm.consumers.update(STREAMS.outbox.name, NOTIFIER_CONSUMER, config);
  else await jsm.consumers.add(STREAMS.outbox.name, { ...config, durable_name: NOTIFIER_CONSUMER, deliver_policy: DeliverPolicy.All } satisfies Partial<ConsumerConfig>);
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
    const id = outboxMessageId(notification.dedupKey, channel);
    const adapter = channels.get(channel);
    if (!adapter) {
      const reason = `channel "${channel}" is not configured (any more)`;
      log.error({ ...fields, reason }, 'notification dead-lettered');
      return giveUp(msg, { reason, notification, channel }, id);
    }
    if (attempt > ctx.maxAttempts) {
      const reason = `gave up on channel "${channel}" after ${attempts(ctx.maxAttempts)} (the last one did not finish)`;
      log.error({ ...fields, reason }, 'notification dead-lettered');
      return giveUp(msg, { reason, notification, channel, attempts: ctx.maxAttempts }, id);
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
    return giveUp(msg, { reason, notification, channel, error: result.error, attempts: attempt }, id);
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
