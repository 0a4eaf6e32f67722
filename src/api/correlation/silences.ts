import { parseDuration } from '../../config/duration.ts';
import { expired, incidentSilence, isSilenceActive, newSilence, SilenceError, silenceMatcher, type Silence } from '../../correlator/silence.ts';
import type { ApiContext } from '../context.ts';
import type { MutationResolvers, QueryResolvers, SilenceResolvers } from '../generated/resolvers.ts';
import { alertRef, badInput, isoTime, notFound } from './refs.ts';

export const silences: QueryResolvers['silences'] = (_p, { active }, ctx) => {
  const now = ctx.correlation.clock();
  return ctx.correlation
    .silenceList()
    .filter((s) => active === null || active === undefined || isSilenceActive(s, now) === active)
    .sort((a, b) => b.start - a.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

/**
 * Stores a silence in `faultline-silences`; the leading correlator plans again on the change (an incident it covers
 * stops reminding, one opened under it pages when it ends). The checks are `newSilence`'s.
 */
export const createSilence: MutationResolvers['createSilence'] = async (_p, args, ctx) => {
  const now = ctx.correlation.clock();
  const { start, end } = spanOf(args, now);
  const tags: Record<string, string> = {};
  for (const { key, value } of args.tags ?? []) tags[key] = value;
  return store(ctx, checked(() => newSilence({ host: args.host, check: args.check, tags, start, end, comment: args.comment }, now, ctx.principal.name)));
};

/** A silence of an incident's root alerts as they are now (`incidentSilence`). */
export const silenceIncident: MutationResolvers['silenceIncident'] = async (_p, args, ctx) => {
  const incident = ctx.correlation.incidents.get(args.id)?.value ?? (await ctx.correlation.incidents.fetch(args.id))?.value;
  if (!incident) throw notFound(`no incident ${args.id}`, { id: args.id });
  const now = ctx.correlation.clock();
  const { start, end } = spanOf(args, now);
  return store(ctx, checked(() => incidentSilence(incident, { start, end, comment: args.comment }, now, ctx.principal.name)));
};

/** When a silence asked for starts and ends: `start` (default now), and `end` or `duration`, not both. */
function spanOf(args: { start?: string | null; end?: string | null; duration?: string | null }, now: number): { start: number; end: number } {
  const start = args.start ? Date.parse(args.start) : now;
  if (args.end && args.duration) throw badInput('give end or duration, not both');
  if (args.duration) {
    const ms = parseDuration(args.duration);
    if (ms === undefined) throw badInput(`duration: expected a duration like 2h or 30m, got "${args.duration}"`);
    return { start, end: start + ms };
  }
  if (args.end) return { start, end: Date.parse(args.end) };
  throw badInput('give end or duration: a silence that never ends is forgotten while it hides an outage');
}

function checked(make: () => Silence): Silence {
  try {
    return make();
  } catch (err) {
    if (err instanceof SilenceError) throw badInput(err.message);
    throw err;
  }
}

async function store(ctx: ApiContext, silence: Silence): Promise<Silence> {
  await ctx.correlation.silences.put(silence.id, silence, undefined);
  const what = silence.incident ? { incident: silence.incident, alerts: silence.alertIds } : { host: silence.host, check: silence.check, tags: silence.tags };
  ctx.log.info({ silence: silence.id, ...what, start: isoTime(silence.start), end: isoTime(silence.end), by: silence.createdBy }, 'silence created');
  return silence;
}

/** Ends it now and keeps it (compare-and-set: an expiry racing another keeps the first one's name). */
export const expireSilence: MutationResolvers['expireSilence'] = async (_p, { id }, ctx) => {
  const stored = ctx.correlation.silences.get(id) ?? (await ctx.correlation.silences.fetch(id));
  if (!stored) throw notFound(`no silence ${id}`, { id });
  const now = ctx.correlation.clock();
  if (stored.value.end <= now) return stored.value;
  const ended = expired(stored.value, now, ctx.principal.name);
  await ctx.correlation.silences.put(id, ended, stored.revision);
  ctx.log.info({ silence: id, by: ctx.principal.name }, 'silence expired');
  return ended;
};

export const SilenceType: SilenceResolvers = {
  id: (s) => s.id,
  host: (s) => s.host,
  check: (s) => s.check,
  alertIds: (s) => s.alertIds ?? null,
  incident: (s, _a, ctx) => (s.incident ? (ctx.correlation.incidents.get(s.incident)?.value ?? null) : null),
  tags: (s) => Object.entries(s.tags).map(([key, value]) => ({ key, value })),
  start: (s) => isoTime(s.start),
  end: (s) => isoTime(s.end),
  comment: (s) => s.comment,
  createdBy: (s) => s.createdBy,
  createdAt: (s) => isoTime(s.createdAt),
  expiredBy: (s) => s.expiredBy ?? null,
  active: (s, _a, ctx) => isSilenceActive(s, ctx.correlation.clock()),
  alerts: (s, _a, ctx) => {
    // Whether it is in force or not: what it matches (or would match) now.
    const matches = silenceMatcher(s);
    const analysis = ctx.correlation.analysis();
    return [...ctx.correlation.records().values()]
      .filter(matches)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r) => alertRef(r, analysis));
  },
};
