import type { KvMirror } from '../../bus/kv-mirror.ts';
import { readDeadLetters, type DeadLetter } from '../../bus/dead-letters.ts';
import { KV_BUCKETS, SUBJECTS } from '../../bus/layout.ts';
import { connectNats } from '../../bus/nats.ts';
import { formatDuration, parseDuration } from '../../config/duration.ts';
import { table } from '../../compliance/table.ts';
import type { Incident } from '../../correlator/incident.ts';
import { redeliver, type Redelivery } from '../../notify/redeliver.ts';
import { loadRuntime, positiveInteger, UsageError, withBucket, type GlobalOptions } from '../runtime.ts';

/**
 * `faultline dead-letters`: what faultline refused or could not deliver (FAULTLINE_DEAD, kept 30 days), and
 * `redeliver` to put dead-lettered notifications back into the outbox once the cause is fixed.
 */

export interface ListOptions {
  since: string;
  events?: boolean;
  notifications?: boolean;
  limit: string;
  json?: boolean;
}

export async function deadLettersListCommand(options: ListOptions, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const since = sinceOption(options.since);
  const limit = positiveInteger('--limit', options.limit);
  if (options.events && options.notifications) throw new UsageError('--events or --notifications, not both (neither: all of them)');
  const subject = options.events ? SUBJECTS.deadEvents : options.notifications ? SUBJECTS.deadNotifications : undefined;
  const nc = await connectNats(loaded.config.nats.url, 'faultline-cli-dead-letters');
  let letters: DeadLetter[];
  try {
    letters = await readDeadLetters(nc, { since: Date.now() - since, ...(subject ? { subject } : {}) });
  } finally {
    await nc.close();
  }
  const shown = letters.slice(-limit).reverse();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const within = `in the last ${formatDuration(since)}`;
  if (letters.length === 0) {
    process.stdout.write(`No dead letters ${within}.\n`);
    return;
  }
  const now = Date.now();
  const rows = shown.map((l) => [String(l.seq), `${formatDuration(now - l.storedAt)} ago`, ...describe(l)]);
  process.stdout.write(`${table(['SEQ', 'STORED', 'KIND', 'WHAT', 'REASON'], rows)}\n`);
  const more = letters.length > shown.length ? `${shown.length} newest of ${letters.length}` : `${letters.length}`;
  process.stdout.write(`${more} dead letter${letters.length > 1 ? 's' : ''} ${within}, newest first. \`faultline dead-letters redeliver\` puts notifications back.\n`);
}

export interface RedeliverOptions {
  since: string;
  seq?: string[];
  channel?: string;
  incident?: string;
  stale?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export async function deadLettersRedeliverCommand(options: RedeliverOptions, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const since = sinceOption(options.since);
  const seqs = options.seq?.map((s) => positiveInteger('--seq', s));
  const { config } = loaded;
  if (options.channel && !config.notify.channels.some((c) => c.name === options.channel)) {
    throw new UsageError(`--channel: no channel "${options.channel}" in notify.channels (${config.notify.channels.map((c) => c.name).join(', ') || 'none configured'})`);
  }
  const results = await withBucket(config.nats.url, KV_BUCKETS.incidents, (incidents: KvMirror<Incident>, nats) =>
    redeliver(
      { nats, notify: config.notify, incidentOf: (id) => incidents.get(id)?.value },
      {
        since: Date.now() - since,
        ...(seqs ? { seqs } : {}),
        ...(options.channel ? { channel: options.channel } : {}),
        ...(options.incident ? { incident: options.incident } : {}),
        stale: options.stale === true,
        dryRun: options.dryRun === true,
      },
    ),
  );
  const failed = results.filter((r) => r.outcome === 'failed');
  if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else if (results.length === 0) process.stdout.write(`No notification dead letters ${seqs ? 'with those numbers ' : ''}in the last ${formatDuration(since)}.\n`);
  else {
    const rows = results.map((r) => [String(r.seq), notificationCell(r), r.outcome, r.channels.join(', ') || '-', r.note ?? '']);
    process.stdout.write(`${table(['SEQ', 'NOTIFICATION', 'OUTCOME', 'CHANNELS', 'NOTE'], rows)}\n`);
    const count = (o: Redelivery['outcome']) => results.filter((r) => r.outcome === o).length;
    const done = options.dryRun ? `${count('would redeliver')} would be redelivered` : `${count('redelivered')} redelivered`;
    process.stdout.write(`${done}, ${count('left: stale')} left as stale, ${failed.length} failed.\n`);
  }
  if (failed.length > 0) process.exitCode = 1;
}

function sinceOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--since: "${text}" is not a duration (30m, 24h, 7d)`);
  return ms;
}

/** KIND, WHAT and REASON of a dead letter: an event by where it came from and its identity, a notification by whom it was for. */
function describe(letter: DeadLetter): [string, string, string] {
  const r = (typeof letter.record === 'object' && letter.record !== null ? letter.record : {}) as Record<string, unknown>;
  const reason = typeof r.reason === 'string' ? r.reason : String(letter.record).slice(0, 200);
  if (letter.subject === SUBJECTS.deadNotifications) {
    const n = r.notification as { kind?: string; team?: string | null; incident?: { id?: string } } | undefined;
    const what = n ? `${n.kind} for ${n.team ?? 'nobody in particular'}, ${n.incident?.id}` : 'unreadable outbox message';
    return ['notification', typeof r.channel === 'string' ? `${what} on ${r.channel}` : what, reason];
  }
  const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as Record<string, unknown>;
  const identity = typeof body.host === 'string' && typeof body.check === 'string' ? `${body.host}/${body.check} ` : '';
  const from = typeof r.via === 'string' ? r.via : typeof r.subject === 'string' ? r.subject : '?';
  return ['event', `${identity}via ${from}`, reason];
}

function notificationCell(r: Redelivery): string {
  const n = r.notification;
  return n ? `${n.kind} for ${n.team ?? 'nobody in particular'}, ${n.incident.id}` : '?';
}
