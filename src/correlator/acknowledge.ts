import { amendIncident, type AmendDeps } from './amend.ts';
import { extendTimeline, type Incident } from './incident.ts';

export type Acknowledgement =
  | { outcome: 'acknowledged' | 'already' | 'resolved'; incident: Incident }
  | { outcome: 'unknown' }
  /** The incident changed under every attempt (the correlator updating it in an outage): try again. */
  | { outcome: 'contended' };

export type AcknowledgeDeps = AmendDeps;

/**
 * Marks an incident acknowledged by `by` (a token's name, or a PagerDuty user), published on
 * `faultline.incidents.<id>.acknowledged`. The leader then tells the incident's teams (plan.ts). Acknowledging twice
 * changes nothing the second time. GraphQL's `acknowledgeIncident`, `faultline ack` and PagerDuty's and Slack's
 * webhooks all come through here.
 */
export async function acknowledge(deps: AcknowledgeDeps, id: string, by: string): Promise<Acknowledgement> {
  const result = await amendIncident(deps, id, 'acknowledged', (current, now): Incident | 'already' | 'resolved' => {
    if (current.status === 'resolved') return 'resolved';
    if (current.status === 'acknowledged') return 'already';
    return {
      ...current,
      status: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: by,
      updatedAt: now,
      timeline: extendTimeline(current.timeline, { at: now, change: 'acknowledged', text: `acknowledged by ${by}` }),
    };
  });
  if (result.outcome !== 'stored') return result;
  deps.log.info({ incident: id, by }, 'incident acknowledged');
  return { outcome: 'acknowledged', incident: result.incident };
}
