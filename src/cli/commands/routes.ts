import { randomBytes } from 'node:crypto';
import { STATUSES, type Status } from '../../correlator/event.ts';
import { connectNats } from '../../bus/nats.ts';
import { connectNeo4j } from '../../graph/neo4j.ts';
import { NOTIFICATION_KINDS, UPDATE_CHANGES, type Notification, type NotificationKind, type UpdateChange } from '../../notify/notification.ts';
import { enqueueNotification } from '../../notify/outbox.ts';
import { localTime, matchingRoute } from '../../notify/routes.ts';
import { table } from '../../compliance/table.ts';
import { loadRuntime, UsageError, type GlobalOptions } from '../runtime.ts';
import { parseTags } from './send.ts';

/**
 * `faultline routes`: where the configured routes send a team's notifications (as `amtool config routes test`
 * does for Alertmanager), each kind or one; exit 1 when one of them would be dead-lettered for want of a route.
 * `--send` enqueues one test notification through the real outbox, so the channel shows it arrived.
 */

export interface RoutesOptions {
  team?: string;
  severity: string;
  kind?: string;
  change?: string;
  tag?: string[];
  at?: string;
  send?: boolean;
}

export async function routesCommand(options: RoutesOptions, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const { notify } = loaded.config;
  const severity = oneOf('--severity', options.severity, STATUSES);
  const kinds = options.kind === undefined ? [...NOTIFICATION_KINDS] : [oneOf('--kind', options.kind, NOTIFICATION_KINDS)];
  const change = options.change === undefined ? undefined : oneOf('--change', options.change, UPDATE_CHANGES);
  if (change && !kinds.every((k) => k === 'update')) throw new UsageError('--change goes with --kind update (only updates tell a change)');
  const tags = options.tag ? parseTags(options.tag) : {};
  const now = options.at === undefined ? Date.now() : Date.parse(options.at);
  if (Number.isNaN(now)) throw new UsageError(`--at: "${options.at}" is not a time (ISO 8601, e.g. 2026-12-08T03:00:00Z)`);
  const team = options.team ?? null;
  if (options.send && kinds.length !== 1) throw new UsageError('--send needs one --kind (a test page wakes whoever is on call: say so)');

  const decided = kinds.map((kind) => {
    const n = testNotification({ kind, team, severity, tags, now, ...(change ? { change } : {}) });
    const index = notify.routes.findIndex((r) => r === matchingRoute(notify.routes, n, { now, timeZone: notify.timezone }));
    return { kind, n, index, route: index < 0 ? undefined : notify.routes[index] };
  });
  const local = localTime(now, notify.timezone);
  const clock = `${String(Math.floor(local.minutes / 60)).padStart(2, '0')}:${String(local.minutes % 60).padStart(2, '0')}`;
  process.stdout.write(`For ${team ?? 'a root with no owner'}, ${severity}${Object.keys(tags).length ? `, tags ${Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}, on ${local.day} at ${clock} (${notify.timezone}):\n`);
  const rows = decided.map(({ kind, index, route }) => [
    kind + (change ? `/${change}` : ''),
    route ? `#${index + 1}` : '-',
    route ? [...new Set(route.channels)].join(', ') + (route.useContacts ? " (to the team's contacts)" : '') : 'no route: dead-lettered',
  ]);
  process.stdout.write(`${table(['KIND', 'ROUTE', 'CHANNELS'], rows)}\n`);
  const unrouted = decided.filter((d) => !d.route);
  if (unrouted.length > 0) process.exitCode = 1;
  if (!options.send || unrouted.length > 0) return;

  const [{ n }] = decided as [(typeof decided)[number]];
  if (decided[0]!.route!.useContacts && team) n.contacts = await teamContacts(loaded.config, team);
  const nc = await connectNats(loaded.config.nats.url, 'faultline-cli-routes');
  try {
    const { channels } = await enqueueNotification(nc, notify, n, () => now);
    process.stdout.write(`Test ${n.kind} ${n.incident.id} enqueued for ${channels.join(', ')}: a running notifier delivers it (\`faultline dead-letters\` if it does not arrive).\n`);
  } finally {
    await nc.close();
  }
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** A notification as the correlator would decide it for this team, marked as a test in its id and words. */
function testNotification(o: { kind: NotificationKind; team: string | null; severity: Status; tags: Record<string, string>; now: number; change?: UpdateChange }): Notification {
  const id = `inc-test-${randomBytes(6).toString('hex')}`;
  const at = new Date(o.now).toISOString();
  return {
    kind: o.kind,
    team: o.team,
    contacts: [],
    teamServices: [],
    severity: o.severity,
    incident: {
      id,
      status: o.kind === 'resolved' ? 'resolved' : 'open',
      root: ['faultline.test'],
      suppressed: [],
      suppressedCount: 0,
      affectedServices: [],
      owners: o.team ? [o.team] : [],
      stakeholders: [],
      rootAlerts: [{ id: 'faultline.test/routes', status: o.kind === 'resolved' ? 'ok' : o.severity, text: 'a test notification from faultline routes --send' }],
      openedAt: at,
      updatedAt: at,
    },
    summary: `TEST from faultline routes: nothing is wrong; this checks that ${o.kind} notifications for ${o.team ?? 'unowned roots'} arrive`,
    ...(o.change ? { change: o.change, reason: 'a test' } : {}),
    tags: o.tags,
    dedupKey: `${id}/${o.kind}/${o.team ?? 'unowned'}`,
    createdAt: at,
  };
}

/** The team's contacts from the graph, for a route that addresses them. */
async function teamContacts(config: ReturnType<typeof loadRuntime>['loaded']['config'], team: string): Promise<string[]> {
  const driver = await connectNeo4j(config.neo4j);
  try {
    const { records } = await driver.executeQuery('MATCH (t:Team {id: $team}) RETURN t.contacts AS contacts', { team }, config.neo4j.database ? { database: config.neo4j.database } : {});
    if (records.length === 0) throw new UsageError(`--team: the graph knows no ${team}, and its route addresses the team's contacts`);
    return (records[0]!.get('contacts') as string[] | null) ?? [];
  } finally {
    await driver.close();
  }
}
