import { Kvm } from '@nats-io/kv';
import type { KvMirror } from '../../bus/kv-mirror.ts';
import { KV_BUCKETS } from '../../bus/layout.ts';
import { formatDuration } from '../../config/duration.ts';
import { acknowledge } from '../../correlator/acknowledge.ts';
import { addNote, noteText } from '../../correlator/notes.ts';
import { toldTeams } from '../../correlator/storm.ts';
import { alertKey, type AlertRecord } from '../../correlator/alert.ts';
import type { NatsConnection } from '../../bus/nats.ts';
import { affectedTotal, atRiskNames, rootAlertTotal, suppressedTotal, type Incident } from '../../correlator/incident.ts';
import { table } from '../../compliance/table.ts';
import { loadRuntime, operatorName, UsageError, withBucket, type GlobalOptions } from '../runtime.ts';

/**
 * `faultline incidents` and `faultline ack`: the incidents the correlator keeps, read from `faultline-incidents`
 * over NATS, and acknowledging one from a terminal (the same acknowledgement as GraphQL's, PagerDuty's and
 * Slack's: its teams are told who is on it).
 */

export async function incidentsCommand(options: { all?: boolean; json?: boolean }, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const listed = await withBucket(loaded.config.nats.url, KV_BUCKETS.incidents, (mirror: KvMirror<Incident>) =>
    [...mirror.values()]
      .map((e) => e.value)
      .filter((i) => options.all || i.status !== 'resolved')
      .sort((a, b) => b.openedAt - a.openedAt || a.id.localeCompare(b.id)),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
    return;
  }
  if (listed.length === 0) {
    process.stdout.write(options.all ? 'No incidents.\n' : 'No open incident.\n');
    return;
  }
  const now = Date.now();
  const rows = listed.map((i) => [
    i.id,
    i.status + (i.acknowledgedBy ? ` (${i.acknowledgedBy})` : '') + (i.silencedBy && i.status !== 'resolved' ? ' silenced' : ''),
    formatDuration(now - i.openedAt),
    String(suppressedTotal(i)),
    i.owners.join(', ') || 'nobody',
    rootCell(i),
  ]);
  process.stdout.write(`${table(['ID', 'STATUS', 'OPEN FOR', 'SUPPRESSED', 'OWNERS', 'ROOT'], rows)}\n`);
}

/** A storm's root causes are many: how many, and the first three; a member whose page it holds says by which. */
export function rootCell(i: Incident): string {
  if (i.storm) return `storm of ${i.storm.memberCount}: ${i.root.slice(0, 3).join(', ')}${i.root.length > 3 ? ', …' : ''}`;
  const held = i.heldBy?.flatMap((h) => (h.notice ? [] : [h.storm])) ?? [];
  return i.root.join(', ') + (held.length > 0 ? ` (paged in ${[...new Set(held)].join(', ')})` : '');
}

/** How many suppressed alerts `faultline incident` names before it says how many more there are. */
const SHOWN_SUPPRESSED = 10;

/**
 * `faultline incident <id>`: one incident as an operator reads it in an outage, what fails and why (the root
 * alerts with their current status and text, from faultline-alerts), what it takes down, who was told, and the
 * timeline; `--json` for the incident as stored.
 */
export async function incidentCommand(id: string, options: { json?: boolean }, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const found = await withBucket(loaded.config.nats.url, KV_BUCKETS.incidents, async (mirror: KvMirror<Incident>, nats) => {
    const incident = mirror.get(id)?.value;
    if (!incident) return undefined;
    return { incident, alerts: await rootAlerts(nats, incident.rootAlerts) };
  });
  if (!found) throw new UsageError(`no incident ${id} (faultline incidents --all lists them)`);
  const { incident: i, alerts } = found;
  if (options.json) {
    process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
    return;
  }
  const now = Date.now();
  const ago = (at: number) => `${formatDuration(now - at)} ago`;
  const state =
    i.status === 'resolved'
      ? `resolved ${ago(i.resolvedAt ?? i.updatedAt)}${i.mergedInto ? `, folded into ${i.mergedInto}` : ''}, after ${formatDuration((i.resolvedAt ?? i.updatedAt) - i.openedAt)}`
      : `${i.status === 'acknowledged' ? `acknowledged by ${i.acknowledgedBy ?? 'someone'} ${ago(i.acknowledgedAt ?? i.updatedAt)}, ` : ''}open for ${formatDuration(now - i.openedAt)}`;
  const rows: [string, string][] = [['Status', `${state} (${i.severity})`]];
  if (i.storm) {
    const s = i.storm;
    const would = s.holds === 'stakeholder' ? `told ${s.team} as a stakeholder` : `paged ${s.team ?? 'nobody in particular'}`;
    rows.push(['Storm', `${s.memberCount} root causes that would each have ${would}${s.common ? `; ${s.common}` : ''}`]);
    rows.push(['Members', s.members.join(', ') + (s.memberCount > s.members.length ? `, … (${s.memberCount - s.members.length} more)` : '')]);
  }
  rows.push(['Root', i.root.join(', ') || '-']);
  for (const alertId of i.rootAlerts) {
    const a = alerts.get(alertId);
    rows.push([alertId === i.rootAlerts[0] ? 'Root alerts' : '', a ? `${alertId}  ${a.status} for ${formatDuration(now - a.since)}${a.text ? `: ${a.text}` : ''}` : `${alertId}  (no longer kept)`]);
    if (a?.runbook) rows.push(['', `  runbook: ${a.runbook}`]);
  }
  const unlistedAlerts = rootAlertTotal(i) - i.rootAlerts.length;
  if (unlistedAlerts > 0) rows.push(['', `… and ${unlistedAlerts} more (faultline alerts --host ${i.rootAlerts[0]?.split('/')[0] ?? ''})`]);
  const unlisted = affectedTotal(i) - i.affectedServices.length;
  rows.push(['Affected', i.affectedServices.length > 0 ? i.affectedServices.join(', ') + (unlisted > 0 ? `, … (${unlisted} more)` : '') : 'no service']);
  // What one more failure takes down is a question while it is open.
  const atRisk = atRiskNames(i.servicesAtRisk ?? [], i.criticalAtRisk ?? []);
  if (i.status !== 'resolved' && atRisk.length > 0) rows.push(['At risk', `${atRisk.join(', ')} (no spare left in ${(i.groupsWithoutSpare ?? []).join(', ')}${(i.holdingUp ?? []).length > 0 ? `; held up by ${i.holdingUp!.join(', ')}` : ''})`]);
  const held = new Map((i.heldBy ?? []).flatMap((h) => (h.notice ? [] : [[h.team, h.storm] as const])));
  const toldIn = new Map((i.heldBy ?? []).flatMap((h) => (h.notice ? [[h.team, h.storm] as const] : [])));
  const owners = i.owners.map((team) => (held.has(team) ? `${team} (paged in ${held.get(team)})` : team));
  rows.push(['Owners', owners.join(', ') || 'nobody (the routes without a team were paged)']);
  if (i.status !== 'resolved' && i.silencedBy) {
    const what = i.untold ? 'nobody told yet: its owners are paged when the silence ends, if it still fails' : 'paged before; no reminders while silenced';
    rows.push(['Silenced', `by ${i.silencedBy.join(', ')} (${what}; faultline silence list)`]);
  } else if (i.untold) rows.push(['Told', 'nobody: it was silenced while it lasted']);
  if (i.stakeholders.length > 0) rows.push(['Stakeholders', i.stakeholders.map((team) => (toldIn.has(team) ? `${team} (told in ${toldIn.get(team)})` : team)).join(', ')]);
  const count = suppressedTotal(i);
  if (count > 0) {
    const named = i.suppressed.slice(0, SHOWN_SUPPRESSED).join(', ');
    rows.push(['Suppressed', `${count}: ${named}${count > SHOWN_SUPPRESSED ? `, … (${count - SHOWN_SUPPRESSED} more; --json lists ${i.suppressed.length})` : ''}`]);
  }
  if (i.reminders) rows.push(['Reminders', `${i.reminders}, the last ${ago(i.remindedAt ?? i.updatedAt)}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [i.id, ...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`)];
  const notes = i.notes ?? [];
  if (notes.length > 0) {
    // In full here: the timeline repeats only the start of each.
    lines.push('', 'Notes');
    for (const n of notes) lines.push(`  ${isoSeconds(n.at)}  ${n.by}${n.tell ? (n.told ? ' (told its teams)' : ' (being told)') : ''}: ${n.text}`);
  }
  lines.push('', 'Timeline');
  const changeWidth = Math.max(0, ...i.timeline.map((e) => e.change.length));
  for (const e of i.timeline) lines.push(`  ${isoSeconds(e.at)}  ${e.change.padEnd(changeWidth)}  ${e.text}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const isoSeconds = (at: number): string => new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');

/** The root alerts as faultline-alerts holds them now (read one by one: an estate has far more alerts than a root). */
async function rootAlerts(nats: NatsConnection, ids: readonly string[]): Promise<Map<string, AlertRecord>> {
  const out = new Map<string, AlertRecord>();
  if (ids.length === 0) return out;
  const kv = await new Kvm(nats).open(KV_BUCKETS.alerts);
  for (const id of ids) {
    const entry = await kv.get(alertKey(id));
    if (entry && entry.operation === 'PUT') {
      try {
        out.set(id, entry.json<AlertRecord>());
      } catch {
        // Not JSON (written by hand): shown as not kept.
      }
    }
  }
  return out;
}

export async function ackCommand(id: string, options: { by?: string }, global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const by = options.by ?? operatorName();
  const result = await withBucket(loaded.config.nats.url, KV_BUCKETS.incidents, (incidents: KvMirror<Incident>, nats) =>
    // Its own log line would only repeat, as JSON, the answer printed below.
    acknowledge({ incidents, nats, clock: Date.now, log: log.child({}, { level: 'warn' }) }, id, by),
  );
  switch (result.outcome) {
    case 'acknowledged':
      process.stdout.write(`${id} acknowledged by ${by}: its teams are told you are on it.\n`);
      return;
    case 'already':
      process.stdout.write(`${id} was already acknowledged by ${result.incident.acknowledgedBy ?? 'someone'}.\n`);
      return;
    case 'resolved':
      throw new UsageError(`incident ${id} is resolved; there is nothing to acknowledge`);
    case 'unknown':
      throw new UsageError(`no incident ${id} (faultline incidents lists them)`);
    case 'contended':
      throw new Error(`incident ${id} changed under every acknowledgement attempt; try again`);
  }
}

export async function noteCommand(id: string, text: string, options: { tell?: boolean; by?: string }, global: GlobalOptions): Promise<void> {
  const checked = noteText.safeParse(text);
  if (!checked.success) throw new UsageError(checked.error.issues[0]!.message);
  const { loaded, log } = loadRuntime(global);
  const by = options.by ?? operatorName();
  const tell = options.tell ?? false;
  const result = await withBucket(loaded.config.nats.url, KV_BUCKETS.incidents, (incidents: KvMirror<Incident>, nats) =>
    addNote({ incidents, nats, clock: Date.now, log: log.child({}, { level: 'warn' }) }, id, by, checked.data, tell),
  );
  switch (result.outcome) {
    case 'stored':
      process.stdout.write(`Note ${result.incident.notes!.at(-1)!.n} on ${id}${tell ? `: its teams are told (${toldTeamsLine(result.incident)})` : ' (nobody is told; --tell sends it to its teams)'}.\n`);
      return;
    case 'resolved':
      throw new UsageError(`incident ${id} is resolved: it takes the note without --tell, but its teams are not told any more`);
    case 'unknown':
      throw new UsageError(`no incident ${id} (faultline incidents lists them)`);
    case 'contended':
      throw new Error(`incident ${id} changed under every attempt; try again`);
  }
}

/** The teams a told note reaches (plan.ts tells the same). */
const toldTeamsLine = (i: Incident): string => toldTeams(i).map((t) => t ?? 'the routes without a team').join(', ');
