import type { Resolvers } from '../generated/resolvers.ts';
import { Alert, alerts, atRisk } from './alerts.ts';
import { acknowledgeIncident, addIncidentNote, Incident, IncidentNote, incident, incidents, Storm, TimelineEntry } from './incidents.ts';
import { cancelMaintenanceWindow, ConcurrentDowntimeType, createMaintenanceWindow, MaintenanceWindowType, maintenanceWindows } from './maintenance.ts';
import { createSilence, expireSilence, silenceIncident, silences, SilenceType } from './silences.ts';
import { incidentUpdated } from './subscription.ts';
import { topChecks } from './top-checks.ts';
import { deadLetters, redeliverDeadLetters } from './dead-letters.ts';

/** The correlation domain of the API: alerts, incidents, maintenance windows, silences (design section 8). */
export const correlationResolvers = {
  Query: { alerts, atRisk, incidents, incident, maintenanceWindows, silences, topChecks, deadLetters },
  Mutation: { createMaintenanceWindow, cancelMaintenanceWindow, createSilence, silenceIncident, expireSilence, acknowledgeIncident, addIncidentNote, redeliverDeadLetters },
  Subscription: { incidentUpdated },
  Alert,
  Incident,
  Storm,
  TimelineEntry,
  IncidentNote,
  MaintenanceWindow: MaintenanceWindowType,
  Silence: SilenceType,
  ConcurrentDowntime: ConcurrentDowntimeType,
} satisfies Resolvers;
