import type { Logger } from '../log.ts';
import { KvConflictError } from '../bus/kv-mirror.ts';
import { alertKey, dueAt } from './alert.ts';
import type { CorrelationView } from './view.ts';

/**
 * The dead-man's switches of design section 6, run by the correlator that holds the lease: an alert whose
 * `raise: +<duration>` came due without a newer event takes its pending status; one whose `ttl` ran out without an
 * event goes stale (critical). The deadlines live in the alert records in KV, so a restart or a new lease holder
 * picks them up where they were. A write is compare-and-set: if an event got there first, the event wins and
 * the next check looks again.
 */
export class Heartbeats {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly view: CorrelationView,
    private readonly leader: () => boolean,
    private readonly ttlGraceMs: number,
    private readonly log: Logger,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async check(): Promise<void> {
    if (this.checking || !this.leader()) return;
    this.checking = true;
    try {
      const now = this.view.clock();
      const due = [];
      for (const record of this.view.records().values()) {
        const next = dueAt(record, now, this.ttlGraceMs);
        if (next) due.push(next);
      }
      await Promise.all(
        due.map(async (next) => {
          const key = alertKey(next.id);
          const known = this.view.alerts.get(key);
          if (!known) return;
          try {
            await this.view.alerts.put(key, next, known.revision);
            this.log.info({ alert: next.id, status: next.status, stale: next.stale ?? false }, next.stale ? 'alert went stale: no event within its ttl' : 'heartbeat came due: alert raised');
          } catch (err) {
            if (!(err instanceof KvConflictError)) throw err;
          }
        }),
      );
    } catch (err) {
      this.log.error({ err }, 'checking heartbeats failed');
    } finally {
      this.checking = false;
    }
  }
}
