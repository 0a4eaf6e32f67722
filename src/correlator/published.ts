import { z } from 'zod';
import { STATUSES } from './event.ts';
import { INCIDENT_CHANGES, type Incident } from './incident.ts';

/**
 * An incident as published on `faultline.incidents.<id>.<change>` (incident.ts `publishIncidentChange`). Anyone with
 * access to NATS can publish there, so whoever reads it (GraphQL's incidentUpdated, `faultline incidents --follow`)
 * checks the body first and skips what does not fit.
 */
const ids = z.array(z.string());
const count = z.number().int().nonnegative();
/** An incident's `atRiskCounts` (incident.ts `listAtRisk`); notifications carry it too. */
export const atRiskCountsSchema = z.object({ servicesAtRisk: count, criticalAtRisk: count, groupsWithoutSpare: count, holdingUp: count });
export const publishedIncident = z.object({
  id: z.string().min(1),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  root: ids,
  rootAlerts: ids,
  rootCount: count.optional(),
  rootAlertCount: count.optional(),
  severity: z.enum(STATUSES),
  suppressed: ids,
  suppressedCount: z.number().int().nonnegative().optional(),
  affectedServices: ids,
  affectedServiceCount: count.optional(),
  servicesAtRisk: ids.optional(),
  criticalAtRisk: ids.optional(),
  groupsWithoutSpare: ids.optional(),
  holdingUp: ids.optional(),
  atRiskCounts: atRiskCountsSchema.optional(),
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
  silencedBy: ids.optional(),
  untold: z.boolean().optional(),
  mergedInto: z.string().optional(),
  storm: z
    .object({
      team: z.string().nullable(),
      holds: z.literal('stakeholder').optional(),
      members: ids,
      memberCount: z.number().int().nonnegative(),
      joinedAt: z.number(),
      toldMembers: z.number().int().nonnegative(),
      toldAt: z.number(),
      updates: z.number().int().nonnegative(),
      common: z.string().optional(),
    })
    .optional(),
  heldBy: z.array(z.object({ team: z.string().nullable(), storm: z.string(), notice: z.literal('stakeholder').optional() })).optional(),
  notes: z
    .array(z.object({ n: z.number().int().positive(), at: z.number(), by: z.string(), text: z.string(), tell: z.boolean(), told: z.boolean().optional() }))
    .optional(),
  timeline: z.array(z.object({ at: z.number(), change: z.enum(INCIDENT_CHANGES), text: z.string() })),
}) satisfies z.ZodType<Incident>;

// zod drops the keys it does not list: every field of Incident must be here, or subscribers would lose it.
const listsEveryField: [Exclude<keyof Incident, keyof z.infer<typeof publishedIncident>>] extends [never] ? true : never = true;
void listsEveryField;
