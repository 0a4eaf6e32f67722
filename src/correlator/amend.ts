import type { NatsConnection } from '@nats-io/nats-core';
import { KvConflictError, type KvMirror } from '../bus/kv-mirror.ts';
import type { Logger } from '../log.ts';
import { publishIncidentChange, type Incident, type IncidentChange } from './incident.ts';

/** How often an amendment re-reads and retries when the correlator writes the same incident meanwhile. */
const ATTEMPTS = 8;

export interface AmendDeps {
  incidents: KvMirror<Incident>;
  nats: NatsConnection;
  clock: () => number;
  log: Logger;
}

export type Amendment<Refusal extends string> =
  | { outcome: 'stored'; incident: Incident }
  /** `amend` declined (already done, or not possible now): nothing was written. */
  | { outcome: Refusal; incident: Incident }
  | { outcome: 'unknown' }
  /** The incident changed under every attempt (the correlator updating it in an outage): try again. */
  | { outcome: 'contended' };

/**
 * An operator's change to a stored incident (an acknowledgement, a note): `amend` turns the incident as stored into
 * the one to store, or declines with a reason. Compare-and-set on the revision the mirror holds, since the
 * correlator may be writing the same incident at the same moment (its writes keep what operators wrote: reconciler.ts
 * `merge`); on a conflict, read again and amend again. Then the change on `faultline.incidents.<id>.<change>`.
 */
export async function amendIncident<Refusal extends string>(
  deps: AmendDeps,
  id: string,
  change: IncidentChange,
  amend: (current: Incident, now: number) => Incident | Refusal,
): Promise<Amendment<Refusal>> {
  const { incidents, clock, log } = deps;
  // Read from the bucket when this process's copy does not have it yet: the page for a new incident is sent
  // before the incident is written, and its owner may be quicker than the mirror.
  let stored = incidents.get(id) ?? (await incidents.fetch(id));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!stored) return { outcome: 'unknown' };
    const next = amend(stored.value, clock());
    if (typeof next === 'string') return { outcome: next, incident: stored.value };
    try {
      await incidents.put(id, next, stored.revision);
    } catch (err) {
      if (!(err instanceof KvConflictError)) throw err;
      stored = await incidents.fetch(id);
      continue;
    }
    // Stored: a failure to announce it is logged, not reported as a failure (the operator would try again and find
    // it done, and the announcement would never come).
    await announce(deps.nats, next, change).catch((err: unknown) => log.error({ err, incident: id, change }, 'the change is stored but was not published on faultline.incidents'));
    return { outcome: 'stored', incident: next };
  }
  return { outcome: 'contended' };
}

/** Publishes the change, trying three times: the message id makes a repeat harmless. */
async function announce(nats: NatsConnection, incident: Incident, change: IncidentChange): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishIncidentChange(nats, incident, change);
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
