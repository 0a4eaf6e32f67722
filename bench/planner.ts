import type { AlertRecord } from '../src/correlator/alert.ts';
import { analyse, attribute } from '../src/correlator/analysis.ts';
import type { Incident } from '../src/correlator/incident.ts';
import { AlertMapper } from '../src/correlator/mapping.ts';
import { planIncidents, type PlanInput } from '../src/correlator/plan.ts';
import { PlacedAlerts } from '../src/correlator/placed.ts';
import { compileTopology, type TopologyInput } from '../src/engine/index.ts';
import { round3, rssMb } from './services.ts';

/**
 * `npm run bench -- planner [--services 20000] [--incidents 30000] [--teams 200] [--runs 5]`: the incident planner
 * (src/correlator/plan.ts, a pure function: no Neo4j, no NATS) at the two shapes of an outage at its worst, each on
 * a synthetic topology of its own:
 * - `switch`: one root (a core switch) that takes down `--services` services owned by `--teams` teams; every
 *   service has one alert of its own, suppressed. One incident, a page, a stakeholder notice per team.
 * - `site`: `--incidents` hosts the graph does not tie together (a site loses power, and nothing models the power)
 *   fail at once, each with a service on it, owned by 50 teams: as many incidents, page storms on (the default
 *   policy, 10 pages in 10 minutes).
 * For each: `*OpenMs`, the run that opens the incidents once their settle window is over, and `*ReplanMs`, the
 * median of `--runs` runs on the same state, which must write and tell nothing (the benchmark fails otherwise):
 * the reconciler plans every few hundred milliseconds in an outage, on the event loop that also takes the events.
 * Also: the incident's bytes, the largest notification's, all notifications' bytes.
 */
export async function run(args: Record<string, string>): Promise<Record<string, unknown>> {
  const services = Number(args.services ?? 20_000);
  const incidents = Number(args.incidents ?? 30_000);
  const teams = Number(args.teams ?? 200);
  const runs = Number(args.runs ?? 5);
  for (const [flag, value] of Object.entries({ services, incidents, teams, runs })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer`);
  }

  const pad = (i: number) => String(i).padStart(6, '0');
  const service = (i: number) => `service:customer-portal-eu-west-${pad(i)}`;
  const teamList = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `team:t${i}`, name: `t${i}`, contacts: [] }));
  let seq = 0;
  const alert = (host: string, check: string, entity?: string): AlertRecord => ({
    id: `${host}/${check}`,
    host,
    check,
    status: 'critical',
    since: 1_000,
    time: 1_000,
    seq: ++seq,
    source: 'bench',
    tags: {},
    ...(entity ? { entity } : {}),
  });

  const switchInput: TopologyInput = {
    entities: [
      { id: 'core1.example.com', kind: 'host', name: 'core1', managed: true, owners: ['team:net'] },
      ...Array.from({ length: services }, (_, i) => ({ id: service(i), kind: 'service' as const, name: `s${i}`, managed: true, owners: [`team:t${i % teams}`] })),
    ],
    dependencies: Array.from({ length: services }, (_, i) => ({ from: service(i), to: 'core1.example.com', kind: 'hard' as const })),
    runsOn: [],
    members: [],
    teams: [{ id: 'team:net', name: 'net', contacts: [] }, ...teamList(teams)],
  };
  const switchAlerts = [alert('core1.example.com', 'ping'), ...Array.from({ length: services }, (_, i) => alert('core1.example.com', `http-portal-${pad(i)}`, service(i)))];
  const host = (i: number) => `h${pad(i)}.site.example.com`;
  const siteInput: TopologyInput = {
    entities: Array.from({ length: incidents }, (_, i) => [
      { id: host(i), kind: 'host' as const, name: `h${i}`, managed: true, owners: [`team:t${i % 50}`] },
      { id: `service:s${pad(i)}`, kind: 'service' as const, name: `s${i}`, managed: true, owners: [`team:t${(i + 1) % 50}`] },
    ]).flat(),
    dependencies: Array.from({ length: incidents }, (_, i) => ({ from: `service:s${pad(i)}`, to: host(i), kind: 'hard' as const })),
    runsOn: [],
    members: [],
    teams: teamList(50),
  };
  const siteAlerts = Array.from({ length: incidents }, (_, i) => alert(host(i), 'ping'));

  const switched = measure('switch', switchInput, switchAlerts, {}, runs);
  const site = measure('site', siteInput, siteAlerts, { storm: { pages: 10, windowMs: 600_000 } }, runs);
  return {
    bench: 'planner',
    services,
    teams,
    switchOpenMs: switched.openMs,
    switchReplanMs: switched.replanMs,
    switchIncidentBytes: switched.largestIncidentBytes,
    switchLargestNotificationBytes: switched.largestNotificationBytes,
    switchNotificationBytes: switched.notificationBytes,
    switchNotifications: switched.notifications,
    incidents,
    siteOpenMs: site.openMs,
    siteReplanMs: site.replanMs,
    siteIncidents: site.incidents,
    siteNotifications: site.notifications,
    siteNotificationBytes: site.notificationBytes,
    runs,
    rssMb: rssMb(),
  };
}

function measure(name: string, input: TopologyInput, records: AlertRecord[], policy: Pick<PlanInput, 'storm'>, runs: number) {
  const topology = compileTopology(input);
  const analysis = attribute(analyse({ alerts: new PlacedAlerts(new AlertMapper(topology, []), 'critical', records) }));
  const base = { analysis, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, settleMs: 30_000, ...policy };
  const started = performance.now();
  const plan = planIncidents({ ...base, open: [], rootSeen: new Map(analysis.units.map((u) => [u.key, 0])), now: 60_000 });
  const openMs = performance.now() - started;
  const open: Incident[] = plan.writes.map((w) => w.incident);
  const took: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const again = planIncidents({ ...base, open, rootSeen: plan.rootSeen, now: 61_000 + k });
    took.push(performance.now() - t0);
    if (again.writes.length > 0 || again.notifications.length > 0) throw new Error(`${name}: planned again on the same state, it wrote ${again.writes.length} incidents and told ${again.notifications.length} notifications`);
  }
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const notificationSizes = plan.notifications.map(bytes);
  const result = {
    openMs: round3(openMs),
    replanMs: round3(took.sort((a, b) => a - b)[Math.floor(took.length / 2)]!),
    incidents: open.length,
    largestIncidentBytes: Math.max(...open.map(bytes)),
    notifications: plan.notifications.length,
    largestNotificationBytes: Math.max(...notificationSizes),
    notificationBytes: notificationSizes.reduce((a, b) => a + b, 0),
  };
  process.stderr.write(`bench planner: ${name}: ${JSON.stringify(result)}\n`);
  return result;
}
