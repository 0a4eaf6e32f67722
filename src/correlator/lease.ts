import type { KV } from '@nats-io/kv';
import type { Logger } from '../log.ts';

/**
 * Which correlator decides incidents (design section 10: N correlators share the events; one at a time turns
 * decisions into incidents and pages). A lease in the KV bucket `faultline-timers`, taken and renewed with
 * compare-and-set: the holder renews it every third of its length; when it is not renewed in time, another
 * correlator takes it over. The holder lets go on a clean stop, so a restart does not wait out the lease.
 *
 * Two holders at once cannot double-page even across a lease hand-over: incident writes are compare-and-set and
 * every notification carries a dedup key the outbox drops a repeat of.
 */
interface LeaseRecord {
  holder: string;
  /** Milliseconds since the epoch. */
  until: number;
}

const KEY = 'lease.correlator';

export class Lease {
  private held = false;
  private until = 0;
  private revision: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly kv: KV,
    readonly instance: string,
    private readonly leaseMs: number,
    private readonly clock: () => number,
    private readonly log: Logger,
  ) {}

  /** True while this process holds an unexpired lease. */
  get leader(): boolean {
    return this.held && this.clock() < this.until;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await this.tick();
    const every = Math.max(100, Math.floor(this.leaseMs / 3));
    this.timer = setInterval(() => void this.tick(), every);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.held && this.revision !== undefined) {
      await this.kv.delete(KEY, { previousSeq: this.revision }).catch(() => undefined);
    }
    this.set(false);
  }

  private async tick(): Promise<void> {
    const now = this.clock();
    try {
      const entry = await this.kv.get(KEY);
      const current = entry?.operation === 'PUT' ? (entry.json<LeaseRecord>() as LeaseRecord) : undefined;
      if (current && current.holder !== this.instance && current.until > now) {
        this.set(false);
        return;
      }
      // Held, but not renewed in time (the process stalled, or the clock jumped): decisions made meanwhile asked
      // nobody to plan, since this was no leader then. Leading again from the start plans them.
      const lapsed = this.held && this.until <= now;
      const next: LeaseRecord = { holder: this.instance, until: now + this.leaseMs };
      const data = JSON.stringify(next);
      this.revision = entry ? await this.kv.update(KEY, data, entry.revision) : await this.kv.create(KEY, data);
      this.until = next.until;
      if (lapsed) {
        this.log.warn({ instance: this.instance }, 'the correlator lease had lapsed (a stall longer than correlator.leaderLease, or a clock jump) and is renewed: deciding incidents again');
        for (const listener of this.listeners) listener(true);
      } else this.set(true);
    } catch (err) {
      // A conflict means someone else renewed or took it first; anything else (NATS away) means we cannot be sure.
      this.log.debug({ err }, 'correlator lease not taken');
      this.set(false);
    }
  }

  private set(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    this.log.info({ instance: this.instance }, held ? 'this correlator now decides incidents' : 'this correlator no longer decides incidents');
    for (const listener of this.listeners) listener(held);
  }
}
