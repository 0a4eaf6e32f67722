import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureLayout, SUBJECTS } from '../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../src/bus/nats.ts';
import { configSchema } from '../src/config/schema.ts';
import { parseDuration } from '../src/config/duration.ts';
import { CONSUMER, Correlator } from '../src/correlator/correlator.ts';
import { suppressedTotal, type Incident } from '../src/correlator/incident.ts';
import { impact, impliedIndexes, KIND, ownerIds, type Topology } from '../src/engine/index.ts';
import { createLogger } from '../src/log.ts';
import { startNotifier } from '../src/notify/notifier.ts';
import type { Notification } from '../src/notify/notification.ts';
import { benchEstate } from './engine.ts';
import { publishInChild } from './publisher.ts';
import { benchServices, cpuMeter, drained, round3, rssMb, seconds, sleep, startCpuProfile, wipeBus } from './services.ts';
import { startCollector, type Collector } from '../test/notify/collector.ts';
import { prng } from '../test/support/random.ts';

/**
 * `npm run bench -- outage [--entities 100000] [--checks 1] [--alerts 20000] [--settle 5s] [--quiet 3s] [--seed 1]
 * [--reuse-estate] [--profile FILE.cpuprofile]`: the worst hour, end to end. One host fails and takes down everything that stands on it; the
 * alerts of what it took down arrive first, as fast as JetStream takes them, and its own alert last (the order that
 * tempts a correlator to page every child). Then it comes back, and its children after it.
 *
 * Set up, not measured: the synthetic estate of the correlator benchmark (bench/engine.ts), the host among its
 * hosts whose failure takes down the most resources (`impliedIndexes` of each), and `--checks` critical alerts per
 * resource it takes down (`entity` naming it, on that resource's host; at most `--alerts`, in a random order), plus a
 * critical `ping` on every host it takes down and on itself. A correlator (settle `--settle`) and a notifier deliver
 * to a real HTTP receiver on loopback through the webhook channel, routed for every team.
 *
 * Measured, from when JetStream acknowledged the root's alert:
 * - `pageAfterSettleMs`: until the root owners' page reached the receiver, less the settle window (a page cannot
 *   come sooner): what the backlog of children, the analysis, the outbox and the HTTP delivery add to it, and
 *   where it went (`rootStoredMs`, `rootDecidedMs`, `plannedAfterSettleMs`, `incidentWrittenAfterSettleMs`,
 *   `lastToldAfterSettleMs`; `pageArrived` 1 when the page came before every stakeholder notice);
 * - `ingestSeconds`, `eventsPerSecond`: from the first publish until the correlator has stored and acknowledged
 *   every alert of the burst;
 * - after the recovery (the root's `ok`, then every child's): `resolvedMs`, until the page's team heard that it
 *   resolved.
 * Checked (the benchmark fails otherwise): one incident, rooted at the failed host, listing every other alert as
 * suppressed; one page to each owner of the host and nothing else paged, before or after; one stakeholder notice to
 * each team owning an affected service (as the engine's `impact` works them out) but not the host; the services the
 * incident names are those `impact` names; after the recovery no incident open, no page, and one `resolved` to
 * every team told. Each phase waits `--quiet` after its last expected notification for any that should not come.
 * `--profile` writes a V8 CPU profile of the burst, from the first publish until every alert is stored.
 */
export async function run(args: Record<string, string>): Promise<Record<string, unknown>> {
  const entities = Number(args.entities ?? 100_000);
  const maxAlerts = Number(args.alerts ?? 20_000);
  const checks = Number(args.checks ?? 1);
  const seed = Number(args.seed ?? 1);
  const settleMs = durationArg(args, 'settle', '5s');
  const quietMs = durationArg(args, 'quiet', '3s');
  if (!Number.isInteger(entities) || entities < 1000) throw new Error('--entities must be an integer >= 1000');
  if (!Number.isInteger(maxAlerts) || maxAlerts < 1) throw new Error('--alerts must be a positive integer');
  if (!Number.isInteger(checks) || checks < 1) throw new Error('--checks must be a positive integer');

  const { config: services, neo4j, nats, natsPid } = await benchServices();
  const log = createLogger('silent');
  const progress = (text: string) => process.stderr.write(`bench outage: ${text}\n`);
  const connections: NatsConnection[] = [];
  let hook: Collector | undefined;
  let scratch: string | undefined;
  try {
    const setupStarted = performance.now();
    const estateConfig = configSchema.parse({ neo4j: services.neo4j, nats: services.nats });
    const { topology, snapshot } = await benchEstate(neo4j, estateConfig, { entities, seed, reuseEstate: args['reuse-estate'] === 'true' }, log, progress);
    const t = snapshot.topology;
    const outage = worstHost(t, maxAlerts, checks, prng(seed + 5));
    progress(
      `estate of ${t.size} entities ready in ${seconds(setupStarted)} s; ${outage.root} takes down ${outage.down} entities: ` +
        `${outage.children.length} child alerts, ${outage.expected.services.length} services, owners ${outage.expected.owners.join(', ')}, ` +
        `${outage.expected.stakeholders.length} stakeholder teams (chosen in ${outage.chooseSeconds} s)`,
    );

    const jsm = await jetstreamManager(nats);
    await wipeBus(jsm);
    await ensureLayout(nats);
    hook = await startCollector();
    const config = configSchema.parse({
      neo4j: services.neo4j,
      nats: services.nats,
      log: { level: 'silent' },
      correlator: { settle: `${settleMs}ms` },
      notify: { channels: [{ name: 'receiver', type: 'webhook', url: hook.url }], routes: [{ channels: ['receiver'] }] },
    });
    const pipelineNats = await connectNats(config.nats.url, 'faultline-bench-outage');
    connections.push(pipelineNats);
    const correlator = await Correlator.start({ config, log, nats: pipelineNats, topology });
    const notifier = await startNotifier({ config, log, nats: pipelineNats });
    await waitFor('the correlator to lead', () => correlator.leader, 30_000);
    const received = () => hook!.received.map((r) => ({ at: r.at, n: JSON.parse(r.body) as Notification }));
    // Each batch in order, from a process of its own; resolves with when each was acknowledged (ms since the epoch).
    scratch = mkdtempSync(join(tmpdir(), 'faultline-bench-outage-'));
    let batchNo = 0;
    const publish = (...batches: [Uint8Array[], number][]) =>
      publishInChild({
        natsUrl: config.nats.url,
        subject: SUBJECTS.events('bench'),
        batches: batches.map(([payloads, inFlight]) => {
          const file = join(scratch!, `batch-${++batchNo}.jsonl`);
          writeFileSync(file, payloads.map((p) => decoder.decode(p)).join('\n'));
          return { file, inFlight };
        }),
      });

    // ---- the outage ----
    // Milestones of the root's alert inside the correlator, polled: where the time to the page goes.
    const rootId = `${outage.rootAlert.host}/${outage.rootAlert.check}`;
    const milestones: { stored?: number; decided?: number; written?: number } = {};
    const watch = setInterval(() => {
      const now = performance.now();
      if (milestones.stored === undefined && correlator.view.records().get(rootId)?.status === 'critical') milestones.stored = now;
      if (milestones.decided === undefined && correlator.view.latest().decisions.get(rootId)?.verdict === 'root') milestones.decided = now;
      if (milestones.written === undefined && correlator.view.incidents.size > 0) milestones.written = now;
    }, 2);
    const burst = [...outage.children, outage.rootAlert];
    const profiler = args.profile ? await startCpuProfile(args.profile) : undefined;
    const meter = cpuMeter(natsPid);
    const before = correlator.stats.events;
    const sent = await publish([outage.children.map(encode('critical')), 1_000], [[encode('critical')(outage.rootAlert)], 1]);
    const burstStarted = sent.startedAt - performance.timeOrigin;
    const rootAtEpoch = sent.acknowledgedAt[1]!;
    const rootAt = rootAtEpoch - performance.timeOrigin;
    const publishSeconds = seconds(burstStarted, rootAt);
    await drained(jsm, CONSUMER, () => correlator.stats.events - before >= burst.length, 120_000);
    const ingestSeconds = seconds(burstStarted);
    const cpu = meter(burst.length);
    if (profiler) {
      await profiler.stop();
      progress(`CPU profile of the burst's ingest written to ${args.profile}`);
    }
    progress(`${burst.length} alerts published in ${publishSeconds} s, stored and acknowledged in ${ingestSeconds} s (CPU per alert ${cpu.processUsPerEvent} µs here${cpu.natsUsPerEvent !== undefined ? `, ${cpu.natsUsPerEvent} in nats-server` : ''})`);

    const expectedTold = outage.expected.owners.length + outage.expected.stakeholders.length;
    await waitFor('the page and the stakeholder notices', () => received().length >= expectedTold, settleMs + 60_000);
    const firstPage = received().find((r) => r.n.kind === 'page');
    clearInterval(watch);
    await sleep(quietMs);
    const failed = received();
    const incidents = [...correlator.view.incidents.values()].map((e) => e.value);
    checkOutage(outage, failed.map((r) => r.n), incidents);
    const incident = incidents[0]!;
    // Where the time to the page went: the root's alert behind its children, the plan (its first timeline entry
    // is when it ran), the incident written (after its notifications were enqueued), the deliveries.
    const afterRoot = (at: number | undefined, less = 0) => (at === undefined ? NaN : Math.round(at - rootAt - less));
    const rootPath = {
      rootStoredMs: afterRoot(milestones.stored),
      rootDecidedMs: afterRoot(milestones.decided),
      plannedAfterSettleMs: incident.timeline[0]!.at - rootAtEpoch - settleMs,
      incidentWrittenAfterSettleMs: afterRoot(milestones.written, settleMs),
      pageAfterSettleMs: firstPage ? round3(firstPage.at - rootAt - settleMs) : NaN,
      lastToldAfterSettleMs: afterRoot(failed.at(-1)!.at, settleMs),
      /** 1 when the page reached the receiver before every stakeholder notice. */
      pageArrived: failed.findIndex((r) => r.n.kind === 'page') + 1,
    };
    progress(`the root's alert, in ms: ${JSON.stringify(rootPath)}`);
    const largestNotificationBytes = Math.max(...hook.received.map((r) => Buffer.byteLength(r.body)));
    const incidentBytes = Buffer.byteLength(JSON.stringify(incident));
    progress(
      `${incident.id}: ${suppressedTotal(incident)} suppressed; ${failed.length} notifications (largest ${largestNotificationBytes} bytes); the incident takes ${incidentBytes} bytes`,
    );

    // ---- the recovery: the root first, then its children ----
    const recoveredBefore = correlator.stats.events;
    const recovered = await publish([[encode('ok')(outage.rootAlert)], 1], [outage.children.map(encode('ok')), 1_000]);
    const rootOkAt = recovered.acknowledgedAt[0]! - performance.timeOrigin;
    const lastOkAt = recovered.acknowledgedAt[1]! - performance.timeOrigin;
    await drained(jsm, CONSUMER, () => correlator.stats.events - recoveredBefore >= burst.length, 120_000);
    await waitFor('the resolutions', () => received().length >= failed.length + expectedTold, settleMs + 60_000);
    const resolvedPage = received()
      .slice(failed.length)
      .find((r) => r.n.kind === 'resolved' && outage.expected.owners.includes(r.n.team ?? ''));
    // A child that recovered after the root is a root of its own for a moment: it must not page once its settle
    // window (from the root's recovery) has passed.
    await sleep(Math.max(quietMs, settleMs + quietMs - (performance.now() - lastOkAt)));
    const after = received().slice(failed.length).map((r) => r.n);
    const resolvedMs = resolvedPage ? round3(resolvedPage.at - rootOkAt) : NaN;
    checkRecovery(outage, after, [...correlator.view.incidents.values()].map((e) => e.value));
    progress(`recovered: ${after.length} resolutions, the page's team told ${resolvedMs} ms after the root's ok`);

    await notifier.stop();
    await correlator.stop();
    return {
      bench: 'outage',
      entities: t.size,
      root: outage.root,
      down: outage.down,
      alerts: burst.length,
      suppressed: suppressedTotal(incident),
      affectedServices: incident.affectedServices.length,
      pages: failed.filter((r) => r.n.kind === 'page').length,
      stakeholderNotices: failed.filter((r) => r.n.kind === 'stakeholder').length,
      resolvedNotices: after.filter((n) => n.kind === 'resolved').length,
      settleMs,
      ...rootPath,
      resolvedMs,
      publishSeconds,
      ingestSeconds,
      eventsPerSecond: Math.round(burst.length / ingestSeconds),
      cpuUsPerEvent: cpu.processUsPerEvent,
      ...(cpu.natsUsPerEvent !== undefined ? { natsCpuUsPerEvent: cpu.natsUsPerEvent } : {}),
      largestNotificationBytes,
      incidentBytes,
      rssMb: rssMb(),
      seed,
    };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await hook?.close();
    for (const nc of connections) if (!nc.isClosed()) await nc.close();
    await nats.close();
    await neo4j.close();
  }
}

function durationArg(args: Record<string, string>, name: string, fallback: string): number {
  const ms = parseDuration(args[name] ?? fallback);
  if (ms === undefined) throw new Error(`--${name} must be a duration such as ${fallback}`);
  return ms;
}

interface AlertSpec {
  host: string;
  check: string;
  entity?: string;
}

interface Outage {
  root: string;
  /** How many entities its failure takes down, itself included. */
  down: number;
  rootAlert: AlertSpec;
  children: AlertSpec[];
  expected: { owners: string[]; stakeholders: string[]; services: string[] };
  chooseSeconds: number;
}

/**
 * The host whose failure takes down the most resources, and the alerts of that outage: one per resource down (on
 * its own host, naming it in `entity`) up to `maxAlerts`, and a ping on every other host down; shuffled.
 */
function worstHost(t: Topology, maxAlerts: number, checks: number, random: () => number): Outage {
  const started = performance.now();
  let best = -1;
  let bestDown: Int32Array = new Int32Array(0);
  let bestResources = -1;
  for (let v = 0; v < t.size; v++) {
    if (t.kinds[v] !== KIND.host) continue;
    const down = impliedIndexes(t, [v]);
    let resources = 0;
    for (const d of down) if (t.kinds[d] === KIND.resource && t.host[d]! >= 0) resources++;
    if (resources > bestResources) [best, bestDown, bestResources] = [v, down, resources];
  }
  if (best < 0) throw new Error('the estate has no hosts');
  const root = t.ids[best]!;
  const children: AlertSpec[] = [];
  for (const d of bestDown) {
    if (d === best) continue;
    if (t.kinds[d] === KIND.host) children.push({ host: t.ids[d]!, check: 'ping' });
    else if (t.kinds[d] === KIND.resource && t.host[d]! >= 0) {
      const host = t.ids[t.host[d]!]!;
      const entity = t.ids[d]!;
      const check = `res-${entity.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
      for (let c = 1; c <= checks; c++) children.push({ host, check: c === 1 ? check : `${check}-${c}`, entity });
    }
  }
  for (let i = children.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [children[i], children[j]] = [children[j]!, children[i]!];
  }
  children.length = Math.min(children.length, maxAlerts);
  const blast = impact(t, [root], { includeSoft: true });
  const owners = ownerIds(t, [best]).sort();
  const services = [...new Set(blast.services)].sort();
  const stakeholders = ownerIds(t, services.map((s) => t.indexOf(s)!)).filter((team) => !owners.includes(team)).sort();
  return {
    root,
    down: bestDown.length,
    rootAlert: { host: root, check: 'ping' },
    children,
    expected: { owners, stakeholders, services },
    chooseSeconds: seconds(started),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (status: 'critical' | 'ok') => (a: AlertSpec) =>
  encoder.encode(
    JSON.stringify({
      host: a.host,
      check: a.check,
      status,
      time: new Date().toISOString(),
      text: status === 'ok' ? `OK - ${a.check}` : `CRITICAL - ${a.check} on ${a.host}`,
      ...(a.entity ? { entity: a.entity } : {}),
    }),
  );

function checkOutage(outage: Outage, told: Notification[], incidents: Incident[]): void {
  const problems: string[] = [];
  const alertId = (a: AlertSpec) => `${a.host}/${a.check}`;
  if (incidents.length !== 1) problems.push(`${incidents.length} incidents (${incidents.map((i) => i.root.join('+')).join(', ')}), expected one`);
  const incident = incidents.find((i) => i.root.includes(outage.root));
  if (!incident) problems.push(`no incident rooted at ${outage.root}`);
  else {
    const count = suppressedTotal(incident);
    if (count !== outage.children.length) problems.push(`the incident suppresses ${count} alerts, expected ${outage.children.length}`);
    // An incident lists only the first ids of a long list: all of them are checked when it lists them all.
    const listed = new Set(incident.suppressed);
    const missing = listed.size === count ? outage.children.filter((a) => !listed.has(alertId(a))) : [];
    if (missing.length > 0) problems.push(`not listed as suppressed: ${missing.slice(0, 5).map(alertId).join(', ')}`);
    if (!same(incident.affectedServices, outage.expected.services)) problems.push(`affected services ${incident.affectedServices.length}, impact says ${outage.expected.services.length}`);
  }
  expectOnce(problems, 'page', told, outage.expected.owners);
  expectOnce(problems, 'stakeholder', told, outage.expected.stakeholders);
  const others = told.filter((n) => n.kind !== 'page' && n.kind !== 'stakeholder');
  if (others.length > 0) problems.push(`also sent: ${others.map((n) => `${n.kind} ${n.incident.id} to ${n.team}`).join(', ')}`);
  const wrongIncident = told.filter((n) => n.incident.id !== incident?.id);
  if (wrongIncident.length > 0) problems.push(`${wrongIncident.length} notifications for another incident (${wrongIncident[0]!.incident.root.join('+')})`);
  if (problems.length > 0) throw new Error(`the outage was not handled as it should be:\n- ${problems.join('\n- ')}`);
}

function checkRecovery(outage: Outage, told: Notification[], incidents: Incident[]): void {
  const problems: string[] = [];
  const open = incidents.filter((i) => i.status !== 'resolved');
  if (open.length > 0) problems.push(`still open: ${open.map((i) => `${i.id} (${i.root.join('+')})`).join(', ')}`);
  expectOnce(problems, 'resolved', told, [...outage.expected.owners, ...outage.expected.stakeholders].sort());
  const others = told.filter((n) => n.kind !== 'resolved');
  if (others.length > 0) problems.push(`also sent: ${others.map((n) => `${n.kind} ${n.incident.root.join('+')} to ${n.team}`).join(', ')}`);
  if (problems.length > 0) throw new Error(`the recovery was not handled as it should be:\n- ${problems.join('\n- ')}`);
}

/** Exactly one notification of `kind` to each of `teams`, and to no one else. */
function expectOnce(problems: string[], kind: Notification['kind'], told: Notification[], teams: string[]): void {
  const got = told.filter((n) => n.kind === kind).map((n) => n.team ?? '(no team)').sort();
  if (!same(got, teams)) problems.push(`${kind}: sent to [${got.join(', ')}], expected [${teams.join(', ')}]`);
}

function same(a: readonly string[], b: readonly string[]): boolean {
  const [x, y] = [[...a].sort(), [...b].sort()];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
