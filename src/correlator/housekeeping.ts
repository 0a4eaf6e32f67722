import type { Logger } from '../log.ts';
import type { CorrelationView } from './view.ts';

/**
 * Forgets what nobody needs any more, on the correlator that holds the lease: resolved incidents, ended
 * maintenance windows and ended silences older than `correlator.retention` (30 days by default) leave their KV buckets. Every change
 * of an incident stays on `faultline.incidents.>` in the FAULTLINE_INCIDENTS stream (90 days) for the record.
 */
export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly view: CorrelationView,
    private readonly leader: () => boolean,
    private readonly retentionMs: number,
    private readonly log: Logger,
    private readonly everyMs = 10 * 60_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Deletes what is past retention now; returns how many incidents, windows and silences went. */
  async sweep(): Promise<{ incidents: number; windows: number; silences: number }> {
    if (!this.leader()) return { incidents: 0, windows: 0, silences: 0 };
    const before = this.view.clock() - this.retentionMs;
    const incidents = [...this.view.incidents.values()].filter(({ value }) => value.status === 'resolved' && (value.resolvedAt ?? value.updatedAt) < before);
    const windows = [...this.view.maintenance.values()].filter(({ value }) => value.end < before);
    const silences = [...this.view.silences.values()].filter(({ value }) => value.end < before);
    try {
      for (const { value } of incidents) await this.view.incidents.delete(value.id);
      for (const { value } of windows) await this.view.maintenance.delete(value.id);
      for (const { value } of silences) await this.view.silences.delete(value.id);
    } catch (err) {
      this.log.warn({ err }, 'housekeeping failed; trying again later');
    }
    if (incidents.length + windows.length + silences.length > 0) {
      this.log.info({ incidents: incidents.length, windows: windows.length, silences: silences.length }, 'forgot resolved incidents, ended maintenance windows and silences past retention');
    }
    return { incidents: incidents.length, windows: windows.length, silences: silences.length };
  }
}
