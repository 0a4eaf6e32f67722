import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { STREAMS, SUBJECTS } from '../bus/layout.ts';
import type { Logger } from '../log.ts';

/**
 * One durable consumer per channel, `faultline-notifier-<channel>` on `faultline.outbox.<channel>`, shared by every
 * notifier that has the channel configured. A channel that stalls (timeouts, back-off) then holds up only its own
 * messages: the others are pulled and delivered on their own consumers.
 */
export function channelConsumerName(channel: string): string {
  // Not the subject token: nats-server 2.9 formats a consumer's name into its acknowledgement subjects as a
  // format string, so a `%` there garbles them (and the client drops the connection on the first delivery).
  let name = CONSUMER_PREFIX;
  for (const byte of Buffer.from(channel, 'utf8')) {
    const char = String.fromCharCode(byte);
    name += /[A-Za-z0-9-]/.test(char) ? char : char === '_' ? '__' : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return name;
}

const CONSUMER_PREFIX = 'faultline-notifier-';

/**
 * The one consumer every channel shared in earlier versions. Its filter (`faultline.outbox.>`)
 * overlaps every channel's, which a work-queue stream refuses, so it is removed; what it held but had not
 * acknowledged stays in the stream for the channel consumers.
 */
export const SHARED_CONSUMER = 'faultline-notifier';

/**
 * A channel consumer nobody pulls from for this long is removed by the server, so that its messages count as
 * unserved (see orphans.ts) instead of waiting out the stream's 7 days unseen.
 */
export const CONSUMER_INACTIVE_MS = 60 * 60_000;

export interface ConsumerSettings {
  ackWaitMs: number;
}

/**
 * Creates the channel's consumer, or brings an existing one to this process's settings. JetStream sets no limit on
 * deliveries (`maxAttempts` is the notifier's): a delivery after the last attempt only writes the dead letter the
 * last attempt could not (a crash, NATS away), and one that cannot write it either offers the message again
 * later. With a limit of its own JetStream would stop offering the message, which would then sit unseen.
 *
 * A work-queue stream allows one consumer per subject, so creating it fails while the orphan sweep of another
 * notifier briefly holds the subject; it is tried again for `retryForMs`.
 */
export async function ensureChannelConsumer(
  jsm: JetStreamManager,
  channel: string,
  settings: ConsumerSettings,
  retryForMs = 10_000,
): Promise<string> {
  const name = channelConsumerName(channel);
  const config = {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: -1,
    filter_subject: SUBJECTS.outbox(channel),
    inactive_threshold: nanos(CONSUMER_INACTIVE_MS),
  };
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      const existing = await jsm.consumers.info(STREAMS.outbox.name, name).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (existing) await jsm.consumers.update(STREAMS.outbox.name, name, config);
      else await jsm.consumers.add(STREAMS.outbox.name, { ...config, durable_name: name, deliver_policy: DeliverPolicy.All } satisfies Partial<ConsumerConfig>);
      return name;
    } catch (err) {
      if (!isSubjectTaken(err) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Removes the shared consumer of earlier releases when it is still there (a first start after an upgrade). */
export async function removeSharedConsumer(jsm: JetStreamManager, log: Logger): Promise<void> {
  try {
    await jsm.consumers.delete(STREAMS.outbox.name, SHARED_CONSUMER);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  log.warn(
    { consumer: SHARED_CONSUMER },
    'removed the shared notifier consumer of an earlier release: each channel has its own now. Notifiers of the earlier release stop taking work; upgrade them all',
  );
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && /consumer not found/i.test(err.message);
}

/** "filtered consumer not unique on workqueue stream" (10100), and "multiple non-filtered consumers" (10099). */
function isSubjectTaken(err: unknown): boolean {
  return err instanceof Error && /not unique on workqueue|multiple non-filtered consumers/i.test(err.message);
}
