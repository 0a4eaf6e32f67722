import type { JetStreamClient } from '@nats-io/jetstream';
import { SUBJECTS } from '../bus/layout.ts';
import type { Notification } from './notification.ts';

/** What lands on `faultline.dead.notifications`: the notification (or the raw message) and why it went no further. */
export interface NotificationDeadLetter {
  reason: string;
  notification?: Notification;
  /** The outbox message as received, when it was not a valid one. */
  payload?: string;
  channel?: string;
  /** The last delivery error. */
  error?: string;
  /** Delivery attempts made. */
  attempts?: number;
  /** The route said to address the team's contacts (kept so a redelivery does the same). */
  useContacts?: boolean;
  /** The earlier dead letter this notification was redelivered from. */
  redelivery?: number;
  receivedAt: string;
}

/**
 * Stores a dead letter and waits for JetStream to confirm it, so the caller may then let the original go.
 * `id` makes a repeat (a notifier that crashed between the two steps) a no-op within the stream's window.
 */
export async function publishDeadLetter(js: JetStreamClient, record: NotificationDeadLetter, id: string): Promise<void> {
  await js.publish(SUBJECTS.deadNotifications, JSON.stringify(record), { msgID: `notify:${id}` });
}
