import { Repeater, SlidingBuffer } from 'graphql-yoga';
import { SUBJECTS } from '../../bus/layout.ts';
import type { Incident } from '../../correlator/incident.ts';
import { publishedIncident } from '../../correlator/published.ts';
import type { SubscriptionResolvers } from '../generated/resolvers.ts';

/** Changes kept for a client that reads slower than incidents change; beyond it the oldest are dropped. */
const SLOW_CLIENT_BUFFER = 1_000;

/**
 * Every incident change, from a core NATS subscription per client (server-sent events over HTTP). A Repeater rather
 * than an async generator: when the client goes away, yoga returns the iterator and `stop` settles at once, so the
 * NATS subscription ends then, not when the next incident happens to arrive.
 */
export const incidentUpdated: SubscriptionResolvers['incidentUpdated'] = {
  subscribe: (_p, _a, ctx) =>
    new Repeater<Incident>(async (push, stop) => {
      const log = ctx.log.child({ component: 'api', subscription: 'incidentUpdated' });
      const subscription = ctx.nats.subscribe(SUBJECTS.incidentsAll, {
        callback: (err, msg) => {
          if (err) {
            stop(err);
            return;
          }
          let body: unknown;
          try {
            body = msg.json();
          } catch {
            log.warn({ subject: msg.subject }, 'incident message is not JSON; skipped');
            return;
          }
          const parsed = publishedIncident.safeParse(body);
          if (parsed.success) void push(parsed.data);
          else log.warn({ subject: msg.subject, problem: parsed.error.issues[0]?.message }, 'incident message does not fit; skipped');
        },
      });
      // The connection closing ends the stream too (the client sees it end rather than wait forever).
      void subscription.closed.then((err) => stop(err instanceof Error ? err : undefined));
      log.debug('subscribed');
      await stop;
      subscription.unsubscribe();
      log.debug('unsubscribed');
    }, new SlidingBuffer(SLOW_CLIENT_BUFFER)),
  resolve: (incident: Incident) => incident,
};
