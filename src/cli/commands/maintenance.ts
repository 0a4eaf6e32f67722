import type { KvMirror } from '../../bus/kv-mirror.ts';
import { atRiskNames } from '../../correlator/incident.ts';
import { KV_BUCKETS } from '../../bus/layout.ts';
import { formatDuration } from '../../config/duration.ts';
import { concurrentDowntime, isActive, newWindow, WindowError, type ConcurrentDowntime, type MaintenanceWindow } from '../../correlator/maintenance.ts';
import type { CorrelationView } from '../../correlator/view.ts';
import { maintenanceDowntime } from '../../engine/index.ts';
import { counted, table } from '../../compliance/table.ts';
import { connectAll, correlationState, loadRuntime, operatorName, spanOptions, UsageError, withBucket, type GlobalOptions } from '../runtime.ts';

/**
 * `faultline maintenance start|list|cancel`: downtime from a terminal or a reboot script, the way Nagios and Icinga
 * schedule it. Windows are the ones GraphQL's maintenance mutations make (the same checks, `newWindow`), stored
 * in `faultline-maintenance`, where every correlator sees them.
 */

export interface StartOptions {
  for?: string;
  until?: string;
  from?: string;
  reason?: string;
  by?: string;
  json?: boolean;
}

export async function maintenanceStartCommand(ids: string[], options: StartOptions, global: GlobalOptions): Promise<void> {
  await windowCommand(ids, options, global, { create: true });
}

/** `faultline maintenance plan`: what `start` would put in downtime and what else is down then, creating nothing. */
export async function maintenancePlanCommand(ids: string[], options: StartOptions, global: GlobalOptions): Promise<void> {
  await windowCommand(ids, options, global, { create: false });
}

async function windowCommand(ids: string[], options: StartOptions, global: GlobalOptions, { create }: { create: boolean }): Promise<void> {
  const now = Date.now();
  const { start, end } = spanOptions(options, now);
  const by = options.by ?? operatorName();

  const { loaded, log } = loadRuntime(global);
  const connections = await connectAll(loaded.config, 'faultline-cli-maintenance', { neo4jMayBeDown: true });
  let view: CorrelationView | undefined;
  try {
    view = await correlationState(connections, loaded.config, log);
    const analysis = view.decide();
    const { topology } = analysis;
    let window: MaintenanceWindow;
    try {
      window = newWindow({ ids, start, end, reason: options.reason }, topology, now, by);
    } catch (err) {
      if (err instanceof WindowError) throw new UsageError(err.message);
      throw err;
    }
    // Worked out before the window is stored: what else is down is everything but this window.
    const concurrent = concurrentDowntime(analysis, [...view.maintenance.values()].map((e) => e.value), window);
    if (create) {
      await view.maintenance.put(window.id, window, undefined);
      log.debug({ window: window.id, entities: window.entities, by }, 'maintenance window created');
    }
    const { downtime, services, stakeholders } = maintenanceDowntime(topology, window.entities);
    if (options.json) {
      const shown = create ? iso(window) : { entities: window.entities, start: iso(window).start, end: iso(window).end };
      const { windows, ...rest } = concurrent;
      process.stdout.write(`${JSON.stringify({ ...shown, downtime, services, stakeholders, concurrent: { ...rest, windows: windows.map(iso) } }, null, 2)}\n`);
      return;
    }
    const when = start <= now ? `now until ${new Date(end).toISOString()}` : `from ${new Date(start).toISOString()} until ${new Date(end).toISOString()}`;
    const lines = [
      create ? `${window.id}: ${window.entities.join(', ')} in maintenance ${when} (${formatDuration(end - start)}).` : `Planned: ${window.entities.join(', ')} in maintenance ${when} (${formatDuration(end - start)}); nothing is created.`,
      `${counted(downtime.length, 'entity', 'entities')} in downtime: their alerts ${create ? 'are' : 'would be'} suppressed with reason maintenance.`,
      `Services it takes down: ${services.length > 0 ? services.join(', ') : 'none'}. Tell: ${stakeholders.length > 0 ? stakeholders.join(', ') : 'nobody'}.`,
      ...concurrentLines(concurrent, start > now),
      create ? `Cancel it with: faultline maintenance cancel ${window.id}` : '`faultline maintenance start` with the same arguments creates it.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    view?.stop();
    await connections.close();
  }
}

/** What else is down during the window, and the warning an operator must not miss: services only the two together take down. */
function concurrentLines(c: ConcurrentDowntime, later: boolean): string[] {
  const also: string[] = [];
  if (c.failing.length > 0) also.push(`failing now${later ? ' (if still failing then)' : ''}: ${listed(c.failing)}`);
  for (const w of c.windows) also.push(`${w.id} (${listed(w.entities)}, ${w.createdBy}, until ${new Date(w.end).toISOString()})`);
  const atRisk = atRiskNames(c.servicesAtRisk, c.criticalAtRisk);
  const risk = atRisk.length > 0 ? [`At risk meanwhile: ${listed(atRisk)} (no spare left in ${listed(c.groupsWithoutSpare)}; held up by ${listed(c.holdingUp)}): one more failure takes ${atRisk.length === 1 ? 'it' : 'them'} down.`] : [];
  if (also.length === 0) return ['Nothing else is down meanwhile.', ...risk];
  const lines = [`Also down meanwhile: ${also.join('; ')}.`];
  if (c.servicesDownAlready.length > 0) lines.push(`Down already through those: ${listed(c.servicesDownAlready)}.`);
  if (c.services.length > 0) {
    lines.push(`WARNING: with those, ${listed(c.services)} go${c.services.length === 1 ? 'es' : ''} down too (${counted(c.combined.length, 'entity', 'entities')} down only because both are). Tell: ${c.stakeholders.join(', ') || 'nobody owns them'}.`);
  } else if (c.combined.length > 0) {
    lines.push(`With those, ${counted(c.combined.length, 'more entity', 'more entities')} go${c.combined.length === 1 ? 'es' : ''} down (no service): ${listed(c.combined)}.`);
  }
  return [...lines, ...risk];
}

const listed = (ids: readonly string[], most = 5) => (ids.length <= most ? ids.join(', ') : `${ids.slice(0, most).join(', ')} and ${ids.length - most} more`);

export async function maintenanceListCommand(options: { all?: boolean; json?: boolean }, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const now = Date.now();
  const windows = await withBucket(loaded.config.nats.url, KV_BUCKETS.maintenance, (mirror: KvMirror<MaintenanceWindow>) =>
    [...mirror.values()].map((e) => e.value).filter((w) => options.all || w.end > now).sort((a, b) => a.start - b.start || a.id.localeCompare(b.id)),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(windows.map((w) => ({ ...iso(w), active: isActive(w, now) })), null, 2)}\n`);
    return;
  }
  if (windows.length === 0) {
    process.stdout.write(options.all ? 'No maintenance windows.\n' : 'No maintenance window is in force or planned.\n');
    return;
  }
  const state = (w: MaintenanceWindow) => (isActive(w, now) ? 'active' : w.start > now ? 'planned' : 'ended');
  const rows = windows.map((w) => [w.id, new Date(w.start).toISOString(), new Date(w.end).toISOString(), state(w), w.createdBy, `${w.entities.join(', ')}${w.reason ? ` (${w.reason})` : ''}`]);
  process.stdout.write(`${table(['ID', 'START', 'END', 'STATE', 'BY', 'ENTITIES'], rows)}\n`);
}

export async function maintenanceCancelCommand(id: string, global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const window = await withBucket(loaded.config.nats.url, KV_BUCKETS.maintenance, async (mirror: KvMirror<MaintenanceWindow>) => {
    const stored = mirror.get(id) ?? (await mirror.fetch(id));
    if (!stored) throw new UsageError(`no maintenance window ${id} (faultline maintenance list shows them)`);
    await mirror.delete(id);
    return stored.value;
  });
  log.debug({ window: id }, 'maintenance window cancelled');
  process.stdout.write(`${id} cancelled: alerts on ${window.entities.join(', ')} and what they take down page again.\n`);
}

const iso = (w: MaintenanceWindow) => ({ ...w, start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString(), createdAt: new Date(w.createdAt).toISOString() });
