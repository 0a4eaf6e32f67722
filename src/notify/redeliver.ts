import { jetstream } from '@nats-io/jetstream';
import { z } from 'zod';
import { readDeadLetters, removeDeadLetter, type DeadLetter } from '../bus/dead-letters.ts';
import { SUBJECTS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { Incident } from '../correlator/incident.ts';
import { notificationSchema, type Notification } from './notification.ts';
import { storeInOutbox } from './outbox.ts';
import { matchingRoute, type NotifyConfig } from './routes.ts';

/**
 * Putting dead-lettered notifications back into the outbox once what failed them is fixed (a Slack webhook
 * revoked, an SMTP relay down for an hour, a team no route took): `faultline dead-letters redeliver`. Each goes
 * to the channel it failed on when that channel is still configured, else wherever the routes send it now. A
 * notification whose incident has resolved since (or been forgotten) is left alone unless asked, since it would
 * page for something that is over; resolutions always go, or a PagerDuty alert would stay open for good. A dead
 * letter put back is removed from FAULTLINE_DEAD; should the redelivery fail again, it is a dead letter of its own.
 */

/** A notification dead letter as stored by the notifier and the outbox (dead-letter.ts), validated on the way in. */
const deadNotificationSchema = z.object({
  reason: z.string(),
  notification: notificationSchema.optional(),
  payload: z.string().optional(),
  channel: z.string().optional(),
  useContacts: z.boolean().optional(),
  redelivery: z.number().int().optional(),
  receivedAt: z.string(),
});

export interface RedeliverySelection {
  /** Dead letters stored at or after this time (ms). */
  since: number;
  /** Only these FAULTLINE_DEAD sequence numbers. */
  seqs?: readonly number[];
  /** Only those that failed on this channel. */
  channel?: string;
  /** Only those of this incident. */
  incident?: string;
  /** Also those whose incident has resolved since, or is no longer kept. */
  stale?: boolean;
  /** Say what would happen, change nothing. */
  dryRun?: boolean;
}

export interface Redelivery {
  seq: number;
  /** Why it was dead-lettered. */
  reason: string;
  notification?: Notification;
  /** `dry-run`: would be redelivered; `stale`: left alone, its incident is over. */
  outcome: 'redelivered' | 'dry-run' | 'stale' | 'failed';
  /** Where it went (or would go). */
  channels: string[];
  /** Addressed to the team's contacts, as the route said. */
  useContacts?: boolean;
  /** Why it was left or failed, or how its channels were chosen. */
  note?: string;
}

export interface RedeliverDeps {
  nats: NatsConnection;
  notify: NotifyConfig;
  /** The incident as the correlator keeps it now (undefined: resolved long ago and forgotten, or never known). */
  incidentOf: (id: string) => Incident | undefined;
  clock?: () => number;
}

/** Each selected dead letter's outcome, oldest first; `truncated` when older ones within `since` were not read. */
export async function redeliver(deps: RedeliverDeps, selection: RedeliverySelection): Promise<{ redeliveries: Redelivery[]; truncated: boolean }> {
  const { letters, truncated } = await readDeadLetters(deps.nats, { since: selection.since, subject: SUBJECTS.deadNotifications });
  const seqs = selection.seqs ? new Set(selection.seqs) : undefined;
  const out: Redelivery[] = [];
  for (const letter of letters) {
    if (seqs && !seqs.has(letter.seq)) continue;
    const planned = plan(deps, letter, selection);
    if (!planned) continue;
    if (planned.outcome === 'redelivered' && selection.dryRun) planned.outcome = 'dry-run';
    if (planned.outcome === 'redelivered') await putBack(deps.nats, letter.seq, planned);
    out.push(planned);
  }
  return { redeliveries: out, truncated };
}

/** What becomes of one dead letter; undefined when the selection does not take it. */
function plan(deps: RedeliverDeps, letter: DeadLetter, selection: RedeliverySelection): Redelivery | undefined {
  const parsed = deadNotificationSchema.safeParse(letter.record);
  if (!parsed.success) {
    if (selection.channel || selection.incident) return undefined;
    return { seq: letter.seq, reason: '?', outcome: 'failed', channels: [], note: `not a notification dead letter: ${parsed.error.issues[0]?.message ?? 'unreadable'}` };
  }
  const record = parsed.data;
  const { notification } = record;
  if (selection.channel && record.channel !== selection.channel) return undefined;
  if (selection.incident && notification?.incident.id !== selection.incident) return undefined;
  const base = { seq: letter.seq, reason: record.reason };
  if (!notification) return { ...base, outcome: 'failed', channels: [], note: 'holds no readable notification, only the outbox payload' };
  const entry = { ...base, notification };

  const tellsTheEnd = notification.kind === 'resolved' || notification.incident.status === 'resolved';
  if (!tellsTheEnd && !selection.stale) {
    const now = deps.incidentOf(notification.incident.id);
    if (!now) return { ...entry, outcome: 'stale', channels: [], note: `${notification.incident.id} is no longer kept (--stale sends it anyway)` };
    if (now.status === 'resolved') return { ...entry, outcome: 'stale', channels: [], note: `${notification.incident.id} has resolved since (--stale sends it anyway)` };
  }

  const configured = new Set(deps.notify.channels.map((c) => c.name));
  if (record.channel && configured.has(record.channel)) return { ...entry, outcome: 'redelivered', channels: [record.channel], ...(record.useContacts ? { useContacts: true } : {}) };
  const route = matchingRoute(deps.notify.routes, notification, { now: (deps.clock ?? Date.now)(), timeZone: deps.notify.timezone });
  const why = record.channel ? `channel "${record.channel}" is not configured any more` : 'it had no route';
  if (!route) return { ...entry, outcome: 'failed', channels: [], note: `${why}, and no route matches it now` };
  return { ...entry, outcome: 'redelivered', channels: [...new Set(route.channels)], note: `${why}: routed again`, ...(route.useContacts ? { useContacts: true } : {}) };
}

/** Into the outbox, confirmed, and only then out of the dead letters. */
async function putBack(nats: NatsConnection, seq: number, { channels, notification, useContacts }: Redelivery): Promise<void> {
  const js = jetstream(nats);
  for (const channel of channels) await storeInOutbox(js, { channel, notification: notification!, ...(useContacts ? { useContacts } : {}), redelivery: seq });
  await removeDeadLetter(nats, seq);
}
