import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { SUBJECTS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import { publishDeadLetter, type NotificationDeadLetter } from './dead-letter.ts';
import { notificationSchema, type Notification, type OutboxMessage } from './notification.ts';
import { matchingRoute, type NotifyConfig } from './routes.ts';

/** The JetStream message id of one notification on one channel: a repeat within the outbox window is dropped. */
export function outboxMessageId(dedupKey: string, channel: string): string {
  return `${dedupKey}@${channel}`;
}

/**
 * What a dead letter keeps of an outbox message, and the id that makes storing it twice harmless. A redelivery
 * that fails again is a dead letter of its own, not a repeat of the one it came from.
 */
export function deadLetterOf(message: OutboxMessage): { kept: Pick<NotificationDeadLetter, 'notification' | 'channel' | 'useContacts' | 'redelivery'>; id: string } {
  const { channel, notification, useContacts, redelivery } = message;
  return {
    kept: { notification, channel, ...(useContacts ? { useContacts } : {}), ...(redelivery ? { redelivery } : {}) },
    id: outboxMessageId(notification.dedupKey, channel) + (redelivery ? `/redelivery-${redelivery}` : ''),
  };
}

/**
 * Routes a notification and stores one outbox message per channel (design section 7). Resolves once JetStream
 * has stored every one, so "enqueued" means it survives a crash; deciding the same notification again (same
 * `dedupKey`, in any process, within the hour) stores nothing new. A notification no route takes is
 * dead-lettered and resolves with no channels. Throws on an invalid notification (a bug in the caller) and
 * when NATS does not confirm (the caller may simply try again).
 *
 * Routing happens here, once, at `clock()` in `notify.timezone`: a notification decided at 17:59 goes where the
 * day routes send it even if it is delivered after 18:00.
 */
export async function enqueueNotification(
  nc: NatsConnection,
  notify: NotifyConfig,
  notification: Notification,
  clock: () => number = Date.now,
): Promise<{ channels: string[] }> {
  const checked = notificationSchema.parse(notification);
  const js = jetstream(nc);
  const now = clock();
  const route = matchingRoute(notify.routes, checked, { now, timeZone: notify.timezone });
  if (!route) {
    await publishDeadLetter(
      js,
      { reason: 'no route matches the notification', notification: checked, receivedAt: new Date(now).toISOString() },
      outboxMessageId(checked.dedupKey, 'no-route'),
    );
    return { channels: [] };
  }
  const channels = [...new Set(route.channels)];
  await Promise.all(channels.map((channel) => storeInOutbox(js, { channel, notification: checked, ...(route.useContacts ? { useContacts: true } : {}) })));
  return { channels };
}

/**
 * Stores one outbox message, confirmed by JetStream. Its id is the notification's on that channel, so deciding it
 * again stores nothing; a redelivery's is the dead letter's, so putting one back twice does not send it twice.
 */
export async function storeInOutbox(js: JetStreamClient, message: OutboxMessage): Promise<void> {
  const { channel, notification, redelivery } = message;
  const msgID = redelivery ? `redelivery:${redelivery}@${channel}` : outboxMessageId(notification.dedupKey, channel);
  await js.publish(SUBJECTS.outbox(channel), JSON.stringify(message), { msgID });
}
