import type { NatsConnection } from '@nats-io/nats-core';
import { KvConflictError, type KvMirror } from '../bus/kv-mirror.ts';
import type { Logger } from '../log.ts';
import { extendTimeline, publishIncidentChange, type Incident } from './incident.ts';

/** How often acknowledging re-reads and retries when the correlator writes the same incident meanwhile. */
const ACK_ATTEMPTS = 8;

export type Acknowledgement =
  | { outcome: 'acknowledged' | 'already' | 'resolved'; incident: Incident }
  | { outcome: 'unknown' }
  /** The incident changed under every attempt (the correlator updating it in an outage): try again. */
  | { outcome: 'contended' };

export interface AcknowledgeDeps {
  incidents: KvMirror<Incident>;
  nats: NatsConnection;
  clock: () => number;
  log: Logger;
}

/**
 * Marks an incident acknowledged by `by` (a token's name, or a PagerDuty user): compare-and-set on the revision the
 * mirror holds (the correlator may be updating it at the same moment; its writes keep an acknowledgement, see
 * reconciler.ts `merge`), then the change on `faultline.incidents.<id>.acknowledged`. The leader then tells the
 * incident's teams (plan.ts). Acknowledging twice changes nothing the second time. GraphQL's `acknowledgeIncident`
 * and PagerDuty's webhooks both come through here.
 */
export async function acknowledge(deps: AcknowledgeDeps, id: string, by: string): Promise<Acknowledgement> {
  const { incidents, clock, log } = deps;
  // Read from the bucket when this process's copy does not have it yet: the page for a new incident is sent
  // before the incident is written, and its owner may be quicker than the mirror.
  let stored = incidents.get(id) ?? (await incidents.fetch(id));
  for (let attempt = 0; attempt < ACK_ATTEMPTS; attempt++) {
    if (!stored) return { outcome: 'unknown' };
    const current = stored.value;
    if (current.status === 'resolved') return { outcome: 'resolved', incident: current };
    if (current.status === 'acknowledged') return { outcome: 'already', incident: current };
    const now = clock();
    const next: Incident = {
      ...current,
      status: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: by,
      updatedAt: now,
      timeline: extendTimeline(current.timeline, { at: now, change: 'acknowledged', text: `acknowledged by ${by}` }),
    };
    try {
      await incidents.put(id, next, stored.revision);
    } catch (err) {
      if (!(err instanceof KvConflictError)) throw err;
      stored = await incidents.fetch(id);
      continue;
    }
    log.info({ incident: id, by }, 'incident acknowledged');
    // Stored is acknowledged: a failure to announce it is logged, not reported as a failed acknowledgement (the
    // operator would try again and find it done, and the announcement would never come).
    await announce(deps.nats, next).catch((err: unknown) => log.error({ err, incident: id }, 'the acknowledgement is stored but was not published on faultline.incidents'));
    return { outcome: 'acknowledged', incident: next };
  }
  return { outcome: 'contended' };
}

/** Publishes the acknowledgement, trying three times: the message id makes a repeat harmless. */
async function announce(nats: NatsConnection, incident: Incident): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishIncidentChange(nats, incident, 'acknowledged');
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
