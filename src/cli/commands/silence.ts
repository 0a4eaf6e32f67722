import { KvMirror } from '../../bus/kv-mirror.ts';
import type { NatsConnection } from '../../bus/nats.ts';
import { KV_BUCKETS } from '../../bus/layout.ts';
import { formatDuration } from '../../config/duration.ts';
import type { AlertRecord } from '../../correlator/alert.ts';
import type { Incident } from '../../correlator/incident.ts';
import { describeSilence, expired, incidentSilence, isSilenceActive, newSilence, SilenceError, silenceMatcher, type Silence } from '../../correlator/silence.ts';
import { counted, table } from '../../compliance/table.ts';
import { loadRuntime, operatorName, spanOptions, UsageError, withBucket, type GlobalOptions } from '../runtime.ts';
import { parseTags } from './send.ts';

/**
 * `faultline silence add|list|expire`: "we know, stop telling us" from a terminal, the way `amtool silence` does
 * it for Alertmanager. The silences are the ones GraphQL's createSilence makes (the same checks, `newSilence`),
 * stored in `faultline-silences`, where the leading correlator sees them.
 */

export interface AddOptions {
  tag?: string[];
  for?: string;
  until?: string;
  from?: string;
  comment: string;
  by?: string;
  json?: boolean;
  incident?: string;
}

/** `web*` (every check on those hosts), `web3.example.com/disk-*`, `*` + `/ntp` for one check on every host. */
export function parseMatcher(text: string): { host: string; check: string } {
  const slash = text.indexOf('/');
  return slash < 0 ? { host: text, check: '*' } : { host: text.slice(0, slash) || '*', check: text.slice(slash + 1) || '*' };
}

export async function silenceAddCommand(matcher: string | undefined, options: AddOptions, global: GlobalOptions): Promise<void> {
  if ((matcher === undefined) === (options.incident === undefined)) throw new UsageError('give HOST[/CHECK] or --incident <id>, one of them');
  if (options.incident !== undefined && options.tag?.length) throw new UsageError('--tag goes with HOST[/CHECK]: --incident silences its root alerts by id');
  const now = Date.now();
  const { start, end } = spanOptions(options, now);
  const tags = parseTags(options.tag ?? []);
  const by = options.by ?? operatorName();
  const { loaded, log } = loadRuntime(global);
  const incident =
    options.incident === undefined
      ? undefined
      : await withBucket(loaded.config.nats.url, KV_BUCKETS.incidents, async (incidents: KvMirror<Incident>) => (await incidents.fetch(options.incident!))?.value);
  if (options.incident !== undefined && !incident) throw new UsageError(`no incident ${options.incident} (faultline incidents lists them)`);
  let silence: Silence;
  try {
    silence = incident
      ? incidentSilence(incident, { start, end, comment: options.comment }, now, by)
      : newSilence({ ...parseMatcher(matcher!), tags, start, end, comment: options.comment }, now, by);
  } catch (err) {
    if (err instanceof SilenceError) throw new UsageError(err.message);
    throw err;
  }
  const matching = await withBucket(loaded.config.nats.url, KV_BUCKETS.silences, async (silences: KvMirror<Silence>, nc) => {
    await silences.put(silence.id, silence, undefined);
    log.debug({ silence: silence.id, by: silence.createdBy }, 'silence created');
    return (await alertsNow(nc)).filter(silenceMatcher(silence));
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...iso(silence), matching: matching.map((a) => ({ id: a.id, status: a.status })) }, null, 2)}\n`);
    return;
  }
  const when = start <= now ? `now until ${new Date(end).toISOString()}` : `from ${new Date(start).toISOString()} until ${new Date(end).toISOString()}`;
  const failing = matching.filter((a) => a.status !== 'ok');
  const sample = failing.slice(0, 5).map((a) => `${a.id} (${a.status})`);
  process.stdout.write(
    [
      `${silence.id}: ${describeSilence(silence)} silenced ${when} (${formatDuration(end - start)}): ${silence.comment}`,
      `It matches ${counted(matching.length, 'alert')} now, ${failing.length} failing${sample.length ? `: ${sample.join(', ')}${failing.length > 5 ? ', …' : ''}` : ''}.`,
      'An incident whose every root alert it matches pages and reminds nobody; one opened meanwhile pages when the silence ends if it still fails.',
      `End it early with: faultline silence expire ${silence.id}`,
    ].join('\n') + '\n',
  );
}

export async function silenceListCommand(options: { all?: boolean; json?: boolean }, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const now = Date.now();
  const { silences, failing } = await withBucket(loaded.config.nats.url, KV_BUCKETS.silences, async (mirror: KvMirror<Silence>, nc) => ({
    silences: [...mirror.values()].map((e) => e.value).filter((s) => options.all || s.end > now).sort((a, b) => a.start - b.start || a.id.localeCompare(b.id)),
    failing: (await alertsNow(nc)).filter((a) => a.status !== 'ok'),
  }));
  // What each matches among the alerts failing now: a silence that matches nothing any more can be expired.
  const failingOf = (s: Silence) => failing.filter(silenceMatcher(s)).map((a) => a.id);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(silences.map((s) => ({ ...iso(s), active: isSilenceActive(s, now), failing: failingOf(s) })), null, 2)}\n`);
    return;
  }
  if (silences.length === 0) {
    process.stdout.write(options.all ? 'No silences.\n' : 'No silence is in force or planned.\n');
    return;
  }
  const state = (s: Silence) => (isSilenceActive(s, now) ? 'active' : s.start > now ? 'planned' : s.expiredBy ? `expired by ${s.expiredBy}` : 'ended');
  const rows = silences.map((s) => [s.id, describeSilence(s), new Date(s.start).toISOString(), new Date(s.end).toISOString(), state(s), String(failingOf(s).length), s.createdBy, s.comment]);
  process.stdout.write(`${table(['ID', 'MATCHES', 'START', 'END', 'STATE', 'FAILING', 'BY', 'COMMENT'], rows)}\n`);
}

export async function silenceExpireCommand(id: string, options: { by?: string }, global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const now = Date.now();
  const silence = await withBucket(loaded.config.nats.url, KV_BUCKETS.silences, async (mirror: KvMirror<Silence>) => {
    const stored = mirror.get(id) ?? (await mirror.fetch(id));
    if (!stored) throw new UsageError(`no silence ${id} (faultline silence list --all shows them)`);
    if (stored.value.end <= now) throw new UsageError(`${id} ended already (${new Date(stored.value.end).toISOString()})`);
    const ended = expired(stored.value, now, options.by ?? operatorName());
    await mirror.put(id, ended, stored.revision);
    return ended;
  });
  log.debug({ silence: id }, 'silence expired');
  process.stdout.write(`${id} expired: ${describeSilence(silence)} tells again; an incident opened under it pages its owners now if it still fails.\n`);
}

async function alertsNow(nc: NatsConnection): Promise<AlertRecord[]> {
  const alerts = await KvMirror.open<AlertRecord>(nc, KV_BUCKETS.alerts);
  try {
    await alerts.ready;
    return [...alerts.values()].map((e) => e.value);
  } finally {
    alerts.stop();
  }
}

const iso = (s: Silence) => ({ ...s, start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString(), createdAt: new Date(s.createdAt).toISOString() });
