import { GraphQLError } from 'graphql';
import { readDeadLetters, summarise, type DeadLetterSummary } from '../../bus/dead-letters.ts';
import { SUBJECTS } from '../../bus/layout.ts';
import { parseDuration } from '../../config/duration.ts';
import { redeliver, type Redelivery as StoredRedelivery } from '../../notify/redeliver.ts';
import type { DeadLetter, DeadNotification, MutationResolvers, QueryResolvers, Redelivery, RedeliveryOutcome } from '../generated/resolvers.ts';

/** The dead letters (FAULTLINE_DEAD) and putting notifications back: what `faultline dead-letters` does, over GraphQL. */

export const deadLetters: QueryResolvers['deadLetters'] = async (_p, { kind, since, first }, ctx) => {
  const from = ctx.correlation.clock() - duration('since', since);
  const subject = kind === 'EVENT' ? SUBJECTS.deadEvents : kind === 'NOTIFICATION' ? SUBJECTS.deadNotifications : undefined;
  const { letters } = await readDeadLetters(ctx.nats, { since: from, ...(subject ? { subject } : {}) });
  const max = Math.min(Math.max(first ?? 50, 1), 1_000);
  return letters
    .slice(-max)
    .reverse()
    .map((letter): DeadLetter => {
      const s = summarise(letter);
      return {
        seq: letter.seq,
        kind: s.kind === 'event' ? 'EVENT' : 'NOTIFICATION',
        storedAt: new Date(letter.storedAt).toISOString(),
        reason: s.reason,
        via: s.via ?? null,
        alert: s.alert ?? null,
        channel: s.channel ?? null,
        notification: s.notification ? deadNotification(s.notification) : null,
        record: typeof letter.record === 'string' ? letter.record : JSON.stringify(letter.record),
      };
    });
};

export const redeliverDeadLetters: MutationResolvers['redeliverDeadLetters'] = async (_p, args, ctx) => {
  const from = ctx.correlation.clock() - duration('since', args.since);
  const { notify } = ctx.config;
  if (args.channel != null && !notify.channels.some((c) => c.name === args.channel)) {
    throw new GraphQLError(`channel: no channel "${args.channel}" in notify.channels`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  const { redeliveries } = await redeliver(
    { nats: ctx.nats, notify, incidentOf: (id) => ctx.correlation.incidents.get(id)?.value, clock: ctx.correlation.clock },
    {
      since: from,
      ...(args.seqs ? { seqs: args.seqs } : {}),
      ...(args.channel != null ? { channel: args.channel } : {}),
      ...(args.incident != null ? { incident: args.incident } : {}),
      stale: args.stale === true,
      dryRun: args.dryRun === true,
    },
  );
  ctx.log.info({ by: ctx.principal.name, outcomes: countOutcomes(redeliveries) }, 'dead letters redelivered');
  return redeliveries.map(
    (r): Redelivery => ({
      seq: r.seq,
      outcome: OUTCOMES[r.outcome],
      channels: r.channels,
      note: r.note ?? null,
      notification: r.notification
        ? deadNotification({ kind: r.notification.kind, team: r.notification.team, incident: r.notification.incident.id, dedupKey: r.notification.dedupKey, summary: r.notification.summary })
        : null,
    }),
  );
};

const OUTCOMES: Record<StoredRedelivery['outcome'], RedeliveryOutcome> = { redelivered: 'REDELIVERED', 'dry-run': 'DRY_RUN', stale: 'STALE', failed: 'FAILED' };

function countOutcomes(redeliveries: readonly StoredRedelivery[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of redeliveries) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

function deadNotification(n: NonNullable<DeadLetterSummary['notification']>): DeadNotification {
  return { kind: n.kind, team: n.team, incidentId: n.incident, dedupKey: n.dedupKey, summary: n.summary };
}

function duration(name: string, text: string | null | undefined): number {
  const ms = parseDuration(text ?? '24h');
  if (ms === undefined || ms <= 0) throw new GraphQLError(`${name}: expected a duration like 30m, 24h or 7d, got "${text}"`, { extensions: { code: 'BAD_USER_INPUT' } });
  return ms;
}
