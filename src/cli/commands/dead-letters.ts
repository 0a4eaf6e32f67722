import type { KvMirror } from '../../bus/kv-mirror.ts';
import { DEAD_LETTERS_READ, readDeadLetters, summarise, type DeadLetterSummary } from '../../bus/dead-letters.ts';
import { KV_BUCKETS, SUBJECTS } from '../../bus/layout.ts';
import { connectNats } from '../../bus/nats.ts';
import { formatDuration } from '../../config/duration.ts';
import { table } from '../../compliance/table.ts';
import type { Incident } from '../../correlator/incident.ts';
import { redeliver, type Redelivery } from '../../notify/redeliver.ts';
import { loadRuntime, positiveInteger, sinceOption, UsageError, withBucket, type GlobalOptions } from '../runtime.ts';

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
  let read: Awaited<ReturnType<typeof readDeadLetters>>;
  try {
    read = await readDeadLetters(nc, { since: Date.now() - since, ...(subject ? { subject } : {}) });
  } finally {
    await nc.close();
  }
  const { letters, truncated } = read;
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
  const rows = shown.map((l) => [String(l.seq), `${formatDuration(now - l.storedAt)} ago`, ...describe(summarise(l))]);
  process.stdout.write(`${table(['SEQ', 'STORED', 'KIND', 'WHAT', 'REASON'], rows)}\n`);
  const more = letters.length > shown.length ? `${shown.length} newest of ${letters.length}` : `${letters.length}`;
  const older = truncated ? ` (only the newest ${DEAD_LETTERS_READ.toLocaleString('en')} of the stream were read)` : '';
  process.stdout.write(`${more} dead letter${letters.length > 1 ? 's' : ''} ${within}${older}, newest first. \`faultline dead-letters redeliver\` puts notifications back.\n`);
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
  const { redeliveries, truncated } = await withBucket(config.nats.url, KV_BUCKETS.incidents, (incidents: KvMirror<Incident>, nats) =>
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
  const failed = redeliveries.filter((r) => r.outcome === 'failed');
  if (options.json) process.stdout.write(`${JSON.stringify(redeliveries, null, 2)}\n`);
  else if (redeliveries.length === 0) process.stdout.write(`No notification dead letters ${seqs ? 'with those numbers ' : ''}in the last ${formatDuration(since)}.\n`);
  else {
    const rows = redeliveries.map((r) => [String(r.seq), notificationCell(r), OUTCOME_LABELS[r.outcome], r.channels.join(', ') || '-', r.note ?? '']);
    process.stdout.write(`${table(['SEQ', 'NOTIFICATION', 'OUTCOME', 'CHANNELS', 'NOTE'], rows)}\n`);
    const count = (o: Redelivery['outcome']) => redeliveries.filter((r) => r.outcome === o).length;
    const done = options.dryRun ? `${count('dry-run')} would be redelivered` : `${count('redelivered')} redelivered`;
    process.stdout.write(`${done}, ${count('stale')} left as stale, ${failed.length} failed.\n`);
  }
  if (truncated) process.stderr.write(`faultline: only the newest ${DEAD_LETTERS_READ.toLocaleString('en')} dead letters were read; run it again for older ones once these are done\n`);
  if (failed.length > 0) process.exitCode = 1;
}

const OUTCOME_LABELS: Record<Redelivery['outcome'], string> = { redelivered: 'redelivered', 'dry-run': 'would redeliver', stale: 'left: stale', failed: 'failed' };

/** KIND, WHAT and REASON of a dead letter: an event by its identity and where it came from, a notification by whom it was for. */
function describe(l: DeadLetterSummary): [string, string, string] {
  if (l.kind === 'notification') {
    const n = l.notification;
    const what = n ? `${n.kind} for ${n.team ?? 'nobody in particular'}, ${n.incident}` : 'unreadable outbox message';
    return ['notification', l.channel ? `${what} on ${l.channel}` : what, l.reason];
  }
  return ['event', `${l.alert ? `${l.alert} ` : ''}via ${l.via ?? '?'}`, l.reason];
}

function notificationCell(r: Redelivery): string {
  const n = r.notification;
  return n ? `${n.kind} for ${n.team ?? 'nobody in particular'}, ${n.incident.id}` : '?';
}
