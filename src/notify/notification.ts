import { z } from 'zod';
import { STATUSES } from '../correlator/event.ts';
import { atRiskCountsSchema } from '../correlator/published.ts';

/**
 * One notification (design section 7): what the correlator decides to tell one team about one incident.
 * The generic webhook POSTs exactly this document; the other channels render it. `dedupKey` is the same
 * every time the same notification is decided (by any correlator, before or after a crash), and the outbox
 * drops a repeat of it.
 */
export const NOTIFICATION_KINDS = ['page', 'stakeholder', 'update', 'resolved'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const UPDATE_CHANGES = ['acknowledged', 'folded', 'reminder', 'storm', 'note'] as const;
export type UpdateChange = (typeof UPDATE_CHANGES)[number];

export const notificationSchema = z.object({
  kind: z.enum(NOTIFICATION_KINDS),
  /** The team told; null when the root has no owner (it still reaches the routes without a team match). */
  team: z.string().nullable(),
  /** The team's contacts from the graph (`email:…`, `slack:…`, `pagerduty:…`): channels may address them. */
  contacts: z.array(z.string()).default([]),
  /** The affected services the team owns (the first of them): why a stakeholder is told. */
  teamServices: z.array(z.string()).default([]),
  severity: z.enum(STATUSES),
  incident: z.object({
    id: z.string(),
    status: z.enum(['open', 'acknowledged', 'resolved']),
    root: z.array(z.string()),
    /** The first of the suppressed alert ids (at most a thousand: a message must fit in NATS's max_payload). */
    suppressed: z.array(z.string()),
    /** How many alerts the incident suppresses (absent in notifications enqueued before it was added). */
    suppressedCount: z.number().int().nonnegative().optional(),
    affectedServices: z.array(z.string()),
    /** How many services the incident affects, when `affectedServices` lists only the first of them. */
    affectedServiceCount: z.number().int().nonnegative().optional(),
    /** Services still up with no spare left because of the root: one more failure takes them down (absent before it was added). */
    servicesAtRisk: z.array(z.string()).optional(),
    /** Hosts and resources marked critical that one more failure would take down, as servicesAtRisk (absent before it was added). */
    criticalAtRisk: z.array(z.string()).optional(),
    /** What still holds those services up: each a single point of failure now (absent before it was added). */
    holdingUp: z.array(z.string()).optional(),
    /** How many each at-risk list holds in all, when the incident keeps only the first of one of them. */
    atRiskCounts: atRiskCountsSchema.optional(),
    owners: z.array(z.string()),
    stakeholders: z.array(z.string()),
    /** The root alerts as they are when it is sent; `runbook` when their newest event gave one. */
    rootAlerts: z.array(z.object({ id: z.string(), status: z.enum(STATUSES), text: z.string().optional(), runbook: z.string().optional() })),
    /** How many alerts fail on the root, when `rootAlerts` lists only the first of them. */
    rootAlertCount: z.number().int().nonnegative().optional(),
    openedAt: z.string(),
    updatedAt: z.string(),
    mergedInto: z.string().optional(),
    /** Who acknowledged the incident (the API token's name), once someone did. */
    acknowledgedBy: z.string().optional(),
    /** A storm (root causes that would each have paged the team, or with `holds: stakeholder` told it as a stakeholder): the first thousand of its incidents, and how many. */
    storm: z.object({ members: z.array(z.string()), memberCount: z.number().int().nonnegative(), holds: z.literal('stakeholder').optional() }).optional(),
  }),
  /** One line for humans: "db1.example.com is failing: 2 services affected (service:mail, ...)". */
  summary: z.string(),
  /** Why an update was sent (e.g. "folded into inc-…"). */
  reason: z.string().optional(),
  /**
   * What an update tells: the incident was `acknowledged` by someone, `folded` into another, (a `reminder`) is
   * still open and nobody has acknowledged it, (a `storm`) holds more root causes than when last told, or someone
   * wrote a `note` for its teams.
   */
  change: z.enum(UPDATE_CHANGES).optional(),
  /** The note an update with `change: note` tells (its text is the reason too, after its author). */
  note: z.object({ by: z.string(), text: z.string(), at: z.string() }).optional(),
  tags: z.record(z.string(), z.string()),
  dedupKey: z.string(),
  createdAt: z.string(),
});

export type Notification = z.infer<typeof notificationSchema>;

/** How many services the notification's incident affects, listed or not. */
export const affectedCount = (incident: Notification['incident']): number => incident.affectedServiceCount ?? incident.affectedServices.length;

/** How many alerts the notification's incident suppresses, listed or not. */
export const suppressedCount = (incident: Notification['incident']): number => incident.suppressedCount ?? incident.suppressed.length;

/**
 * What travels through the outbox: a notification and the channel (by configured name) to deliver it on.
 * `useContacts` is the routing decision the channel needs (the route said to address the team's contacts), so
 * the notifier never looks at the routes: what was routed before a configuration change is delivered as routed.
 */
export const outboxMessageSchema = z.object({
  channel: z.string(),
  notification: notificationSchema,
  useContacts: z.boolean().optional(),
  /** The dead letter (its FAULTLINE_DEAD sequence) this message puts back (`faultline dead-letters redeliver`). */
  redelivery: z.number().int().positive().optional(),
});
export type OutboxMessage = z.infer<typeof outboxMessageSchema>;
