import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { STREAMS, SUBJECTS } from '../../bus/layout.ts';
import { connectNats } from '../../bus/nats.ts';
import { formatDuration } from '../../config/duration.ts';
import { affectedTotal, INCIDENT_CHANGES, someOf, type Incident, type IncidentChange } from '../../correlator/incident.ts';
import { publishedIncident } from '../../correlator/published.ts';
import { loadRuntime, type GlobalOptions } from '../runtime.ts';
import { rootCell } from './incidents.ts';

export interface ChangesOptions {
  /** Milliseconds back from now to start from; undefined: from now on. */
  sinceMs?: number;
  follow: boolean;
  json: boolean;
}

/**
 * `faultline incidents --since 12h` and `--follow`: the incident changes on FAULTLINE_INCIDENTS as they were
 * published, one line each (or one JSON object per line), read with an ordered consumer: what happened overnight,
 * for the morning's handover, and a live tail of it in a NOC terminal. Without --follow it stops at the last change
 * stored when it started.
 */
export async function incidentChangesCommand(options: ChangesOptions, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const nc = await connectNats(loaded.config.nats.url, 'faultline-cli-incident-changes');
  const stop = () => void nc.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // From a time, also "now": a change stored while the consumer is being made is not missed.
    const start = new Date(Date.now() - (options.sinceMs ?? 0)).toISOString();
    // One subject, given as a string: servers before 2.10 (Debian's 2.9) take no list.
    const consumer = await jetstream(nc).consumers.get(STREAMS.incidents.name, { filter_subjects: SUBJECTS.incidentsAll, deliver_policy: DeliverPolicy.StartTime, opt_start_time: start });
    if (!options.follow && (await consumer.info(true)).num_pending === 0) {
      if (!options.json) process.stdout.write(`No incident changed in the last ${formatDuration(options.sinceMs ?? 0)}.\n`);
      return;
    }
    if (options.follow && !options.json) process.stderr.write(`Following incident changes${options.sinceMs === undefined ? ' from now' : ''} (Ctrl-C stops).\n`);
    const messages = await consumer.consume();
    void nc.closed().then(() => messages.close());
    for await (const m of messages) {
      const change = m.subject.split('.').at(-1)!;
      const read = readChange(m.string(), change);
      if ('problem' in read) process.stderr.write(`skipped ${m.subject} (stream sequence ${m.seq}): not an incident change (${read.problem})\n`);
      else process.stdout.write(`${options.json ? JSON.stringify(read) : changeLine(read.incident, read.change)}\n`);
      if (!options.follow && m.info.pending === 0) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (!nc.isClosed()) await nc.close();
  }
}

/**
 * `2026-12-07T15:02:11Z  inc-…  opened        db1.example.com::Service[mysqld]  db1.example.com::Service[mysqld]
 * failing (db1.example.com/mysql); service:mail at risk: …`: when, which, what changed, its root, and what its
 * timeline says of the change (every entry of that moment).
 */
export function changeLine(incident: Incident, change: IncidentChange): string {
  const entries = incident.timeline.filter((e) => e.at === incident.updatedAt).map((e) => e.text);
  // A change that wrote no timeline entry (a spare back, a suppressed alert more) says what the incident is now.
  const what = entries.length > 0 ? entries.join('; ') : `${incident.status}, ${affectedTotal(incident) === 0 ? 'no service affected' : `affects ${someOf(incident.affectedServices, affectedTotal(incident))}`}`;
  return `${new Date(incident.updatedAt).toISOString().replace(/\.\d+Z$/, 'Z')}  ${incident.id}  ${change.padEnd(CHANGE_WIDTH)}  ${rootCell(incident)}  ${what}`;
}

/** A message of the incident stream as the change and incident it says, or what is wrong with it. */
function readChange(text: string, change: string): { change: IncidentChange; incident: Incident } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  const known = INCIDENT_CHANGES.find((c) => c === change);
  if (!known) return { problem: `no change is called ${change}` };
  const parsed = publishedIncident.safeParse(body);
  return parsed.success ? { change: known, incident: parsed.data } : { problem: `${parsed.error.issues[0]?.path.join('.') || 'body'}: ${parsed.error.issues[0]?.message}` };
}

const CHANGE_WIDTH = Math.max(...INCIDENT_CHANGES.map((c) => c.length));
