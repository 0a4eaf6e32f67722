import type { KvMirror } from '../../bus/kv-mirror.ts';
import { KV_BUCKETS } from '../../bus/layout.ts';
import { formatDuration } from '../../config/duration.ts';
import { acknowledge } from '../../correlator/acknowledge.ts';
import { suppressedTotal, type Incident } from '../../correlator/incident.ts';
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
    i.status + (i.acknowledgedBy ? ` (${i.acknowledgedBy})` : ''),
    formatDuration(now - i.openedAt),
    String(suppressedTotal(i)),
    i.owners.join(', ') || 'nobody',
    rootCell(i),
  ]);
  process.stdout.write(`${table(['ID', 'STATUS', 'OPEN FOR', 'SUPPRESSED', 'OWNERS', 'ROOT'], rows)}\n`);
}

/** A storm's root causes are many: how many, and the first three; a member whose page it holds says by which. */
function rootCell(i: Incident): string {
  if (i.storm) return `storm of ${i.storm.memberCount}: ${i.root.slice(0, 3).join(', ')}${i.root.length > 3 ? ', …' : ''}`;
  const held = i.heldBy?.map((h) => h.storm) ?? [];
  return i.root.join(', ') + (held.length > 0 ? ` (paged in ${[...new Set(held)].join(', ')})` : '');
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
