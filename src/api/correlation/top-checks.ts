import { GraphQLError } from 'graphql';
import { parseDuration } from '../../config/duration.ts';
import type { QueryResolvers } from '../generated/resolvers.ts';

/**
 * "Top 10 noisiest checks" (design section 7): status changes per check name within a window, read from the
 * change times every alert record keeps (the last 20 per alert, enough for the flapping rule and for this).
 */
export const topChecks: QueryResolvers['topChecks'] = (_p, { window, limit }, ctx) => {
  const windowMs = parseDuration(window ?? '1h');
  if (windowMs === undefined || windowMs <= 0) {
    throw new GraphQLError(`window: expected a duration like 30m, 1h or 1d, got "${window}"`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  const max = Math.min(Math.max(limit ?? 10, 1), 1_000);
  const since = ctx.correlation.clock() - windowMs;
  const byCheck = new Map<string, { check: string; changes: number; alerts: number; firing: number }>();
  for (const record of ctx.correlation.records().values()) {
    let row = byCheck.get(record.check);
    if (!row) byCheck.set(record.check, (row = { check: record.check, changes: 0, alerts: 0, firing: 0 }));
    row.alerts++;
    if (record.status !== 'ok') row.firing++;
    for (const t of record.changes ?? []) if (t > since) row.changes++;
  }
  return [...byCheck.values()]
    .filter((r) => r.changes > 0)
    .sort((a, b) => b.changes - a.changes || b.firing - a.firing || a.check.localeCompare(b.check))
    .slice(0, max);
};
