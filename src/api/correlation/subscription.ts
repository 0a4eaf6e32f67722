import { Repeater, SlidingBuffer } from 'graphql-yoga';
import { z } from 'zod';
import { SUBJECTS } from '../../bus/layout.ts';
import { STATUSES } from '../../correlator/event.ts';
import { INCIDENT_CHANGES, type Incident } from '../../correlator/incident.ts';
import type { SubscriptionResolvers } from '../generated/resolvers.ts';

/**
 * An incident as published on `faultline.incidents.<id>.<change>`. Anyone with access to NATS can publish there,
 * so the body is checked before a client sees it; what does not fit is skipped (and logged).
 */
const ids = z.array(z.string());
const incidentSchema = z.object({
  id: z.string().min(1),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  root: ids,
  rootAlerts: ids,
  severity: z.enum(STATUSES),
  suppressed: ids,
  suppressedCount: z.number().int().nonnegative().optional(),
  affectedServices: ids,
  servicesAtRisk: ids.optional(),
  groupsWithoutSpare: ids.optional(),
  holdingUp: ids.optional(),
  owners: ids,
  stakeholders: ids,
  tags: z.record(z.string(), z.string()),
  openedAt: z.number(),
  updatedAt: z.number(),
  acknowledgedAt: z.number().optional(),
  acknowledgedBy: z.string().optional(),
  acknowledgementTold: z.boolean().optional(),
  reminders: z.number().int().nonnegative().optional(),
  remindedAt: z.number().optional(),
  resolvedAt: z.number().optional(),
  mergedInto: z.string().optional(),
  storm: z
    .object({
      team: z.string().nullable(),
      members: ids,
      memberCount: z.number().int().nonnegative(),
      joinedAt: z.number(),
      toldMembers: z.number().int().nonnegative(),
      toldAt: z.number(),
      updates: z.number().int().nonnegative(),
      common: z.string().optional(),
    })
    .optional(),
  heldBy: z.array(z.object({ team: z.string().nullable(), storm: z.string() })).optional(),
  notes: z
    .array(z.object({ n: z.number().int().positive(), at: z.number(), by: z.string(), text: z.string(), tell: z.boolean(), told: z.boolean().optional() }))
    .optional(),
  timeline: z.array(z.object({ at: z.number(), change: z.enum(INCIDENT_CHANGES), text: z.string() })),
}) satisfies z.ZodType<Incident>;

// zod drops the keys it does not list: every field of Incident must be here, or subscribers would lose it.
const listsEveryField: [Exclude<keyof Incident, keyof z.infer<typeof incidentSchema>>] extends [never] ? true : never = true;
void listsEveryField;

/** Changes kept for a client that reads slower than incidents change; beyond it the oldest are dropped. */
const SLOW_CLIENT_BUFFER = 1_000;

/**
 * Every incident change, from a core NATS subscription per client (server-sent events over HTTP). A Repeater rather
 * than an async generator: when the client goes away, yoga returns the iterator and `stop` settles at once, so the
 * NATS subscription ends then, not when the next incident happens to arrive.
 */
export const incidentUpdated: SubscriptionResolvers['incidentUpdated'] = {
  subscribe: (_p, _a, ctx) =>
    new Repeater<Incident>(async (push, stop) => {
      const log = ctx.log.child({ component: 'api', subscription: 'incidentUpdated' });
      const subscription = ctx.nats.subscribe(SUBJECTS.incidentsAll, {
        callback: (err, msg) => {
          if (err) {
            stop(err);
            return;
          }
          let body: unknown;
          try {
            body = msg.json();
          } catch {
            log.warn({ subject: msg.subject }, 'incident message is not JSON; skipped');
            return;
          }
          const parsed = incidentSchema.safeParse(body);
          if (parsed.success) void push(parsed.data);
          else log.warn({ subject: msg.subject, problem: parsed.error.issues[0]?.message }, 'incident message does not fit; skipped');
        },
      });
      // The connection closing ends the stream too (the client sees it end rather than wait forever).
      void subscription.closed.then((err) => stop(err instanceof Error ? err : undefined));
      log.debug('subscribed');
      await stop;
      subscription.unsubscribe();
      log.debug('unsubscribed');
    }, new SlidingBuffer(SLOW_CLIENT_BUFFER)),
  resolve: (incident: Incident) => incident,
};
