import { atRiskNames } from '../correlator/incident.ts';
import { affectedCount, suppressedCount, type Notification, type NotificationKind } from './notification.ts';

/**
 * What the human-facing channels (Slack, email) say about a notification, in one place so they say the same:
 * a label per kind and the facts (root, affected services, owners ...) as label and items.
 */
export const KIND_LABELS: Record<NotificationKind, string> = {
  page: 'PAGE',
  stakeholder: 'NOTICE',
  update: 'UPDATE',
  resolved: 'RESOLVED',
};

/** The label of a notification: its kind's, except that a reminder says so. */
export const label = (notification: Notification): string => (notification.change === 'reminder' ? 'REMINDER' : KIND_LABELS[notification.kind]);

/** `PAGE db1.example.com is failing: 1 service affected (service:mail)`: the subject of a mail, the top of a message. */
export function headline(notification: Notification): string {
  return `${label(notification)} ${notification.summary}`;
}

/** What a message is about in a few words: the root, or for a page storm how many root causes it holds. */
export function about(notification: Notification): string {
  const { incident } = notification;
  return incident.storm ? `storm of ${incident.storm.memberCount} root causes` : incident.root.join(', ');
}

/** Who this notification is for, and as what: "the owner team team:dba", for the first line of a message. */
export function addressee(notification: Notification): string {
  const team = notification.team ?? 'nobody (the root has no owner)';
  const storm = notification.incident.storm && stormAddressee(notification, notification.team ?? 'nobody (the roots have no owner)');
  if (storm) return storm;
  switch (notification.kind) {
    case 'page':
      return `Page for ${team}: you own the root cause.`;
    case 'stakeholder':
      return `Notice for ${team}: a service of yours is affected; the owners of the root have been paged.`;
    case 'update':
      switch (notification.change) {
        case 'acknowledged':
          return `Update for ${team}: ${notification.incident.acknowledgedBy ?? 'someone'} acknowledged the incident and is on it.`;
        case 'reminder':
          return `Reminder for ${team}: you own the root cause, the incident is still open, and nobody has acknowledged it.`;
        case 'note':
          return `Update for ${team}: a note on the incident.`;
        default:
          return `Update for ${team}.`;
      }
    case 'resolved':
      return `Resolved, for ${team}.`;
  }
}

/** What a storm's page, growth, reminder and resolution say; anything else (an acknowledgement) as any incident's. */
function stormAddressee(notification: Notification, team: string): string | undefined {
  const one = notification.incident.storm?.holds === 'stakeholder' ? 'notice' : 'page';
  switch (notification.kind) {
    case 'page':
      return `Page for ${team}: a storm of root causes you own, one page for all of them; each has its own incident.`;
    case 'stakeholder':
      return `Notice for ${team}: a storm of root causes takes down services of yours, one notice for all of them; their owners have been paged.`;
    case 'update':
      if (notification.change === 'storm') return `Update for ${team}: the storm has grown, still one ${one} for all of it.`;
      if (notification.change === 'reminder') return `Reminder for ${team}: the storm is still open, and nobody has acknowledged it.`;
      return undefined;
    case 'resolved':
      return `Resolved, for ${team}: every root cause of the storm recovered.`;
    default:
      return undefined;
  }
}

export interface Fact {
  label: string;
  /** Shown one per line (email) or joined (Slack); empty lists are left out. */
  items: string[];
}

/** The facts every channel shows, in order. Lists are cut at `max` items with "and N more". */
export function facts(notification: Notification, link: string | undefined, max = 10): Fact[] {
  const { incident } = notification;
  const rootAlerts = incident.rootAlerts.map((a) => `${a.id} (${a.status})${a.text ? `: ${a.text}` : ''}`);
  const suppressed = suppressedCount(incident);
  const storm = incident.storm;
  const atRisk = notification.kind === 'resolved' ? [] : atRiskNames(incident.servicesAtRisk ?? [], incident.criticalAtRisk ?? []);
  // The incident lists the first of a long at-risk list; "and N more" counts them all.
  const counts = incident.atRiskCounts;
  const all: Fact[] = [
    { label: storm ? 'Root causes' : 'Root', items: cut(incident.root, max) },
    { label: 'Incidents in the storm', items: storm ? [`${storm.memberCount} (${cut(storm.members, 5).join(', ')})`] : [] },
    { label: 'Root alerts', items: cut(rootAlerts, max, incident.rootAlertCount) },
    { label: 'Runbook', items: cut([...new Set(incident.rootAlerts.flatMap((a) => (a.runbook ? [a.runbook] : [])))], max) },
    { label: 'Your services affected', items: cut(notification.teamServices, max) },
    { label: 'Affected services', items: cut(incident.affectedServices, max, affectedCount(incident)) },
    { label: 'At risk (no spare left)', items: cut(atRisk, max, counts && counts.servicesAtRisk + counts.criticalAtRisk) },
    { label: 'Holding them up (do not touch)', items: atRisk.length === 0 ? [] : cut(incident.holdingUp ?? [], max, counts?.holdingUp) },
    { label: 'Owners', items: cut(incident.owners, max) },
    { label: 'Stakeholders', items: cut(incident.stakeholders, max) },
    { label: 'Suppressed alerts', items: suppressed === 0 ? [] : [incident.suppressed.length === 0 ? String(suppressed) : `${suppressed} (${cut(incident.suppressed, 5, suppressed).join(', ')})`] },
    { label: notification.change === 'note' ? 'Note' : 'Reason', items: notification.reason ? [notification.reason] : [] },
    { label: 'Merged into', items: incident.mergedInto ? [incident.mergedInto] : [] },
    { label: 'Incident', items: [`${incident.id} (${incident.status}, opened ${incident.openedAt})`] },
    { label: 'Link', items: link ? [link] : [] },
  ];
  return all.filter((f) => f.items.length > 0);
}

/** The first `max` items, and "and N more" for the rest (of `total`, when the list given is only the first of them). */
export function cut(items: readonly string[], max: number, total = items.length): string[] {
  if (items.length <= max && total <= items.length) return [...items];
  const shown = Math.min(max, items.length);
  return [...items.slice(0, shown), `and ${total - shown} more`];
}
