import { createInbox, headers, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

const utf8Decoder = new TextDecoder();

/**
 * Writes to JetStream subjects (a KV bucket's keys), pipelined over one reply subscription: compare-and-set
 * (`write`), plain puts and deletes (`put`, `delete`). The same protocol as the client's `kv.update`, `kv.put` and
 * `kv.delete` (a publish, with `Nats-Expected-Last-Subject-Sequence` or `KV-Operation: DEL`, answered by a PubAck),
 * without a request object, timer and pre-built errors per write: the correlator writes thousands of alerts and
 * settle windows a second, and those were a quarter of its time.
 */
export class CasRejected extends Error {
  override name = 'CasRejected';
  constructor(
    readonly code: number,
    description: string,
  ) {
    super(description);
  }
}

/** JetStream's "wrong last sequence": someone else wrote the subject first. */
export const WRONG_LAST_SEQUENCE = 10071;

interface Waiting {
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
  deadline: number;
}

export class CasWriter {
  private readonly prefix = createInbox();
  private readonly waiting = new Map<string, Waiting>();
  private readonly subscription: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 10_000,
  ) {
    this.subscription = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(this.prefix.length + 1);
        const w = this.waiting.get(token);
        if (!w) return;
        this.waiting.delete(token);
        if (msg.headers?.code === 503) return w.reject(new Error('no JetStream stream answers for this subject'));
        try {
          const ack = JSON.parse(utf8Decoder.decode(msg.data)) as { seq?: number; error?: { err_code?: number; description?: string } };
          if (ack.error) w.reject(new CasRejected(ack.error.err_code ?? 0, ack.error.description ?? 'rejected'));
          else w.resolve(ack.seq!);
        } catch (e) {
          w.reject(e as Error);
        }
      },
    });
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [token, w] of this.waiting) {
        if (w.deadline > now) continue;
        this.waiting.delete(token);
        w.reject(new Error(`JetStream did not acknowledge a write within ${this.timeoutMs} ms`));
      }
    }, 1_000);
    this.sweep.unref();
  }

  /** Stores `data` on `subject` if the subject's last sequence is `expected` (0: it has none). Resolves to the new sequence. */
  write(subject: string, data: Uint8Array, expected: number): Promise<number> {
    const h = headers();
    h.set('Nats-Expected-Last-Subject-Sequence', String(expected));
    return this.send(subject, data, h);
  }

  /** Stores `data` on `subject` whatever it holds. */
  put(subject: string, data: Uint8Array): Promise<number> {
    return this.send(subject, data);
  }

  /** Marks a KV key (its subject) deleted, as `kv.delete` does. */
  delete(subject: string): Promise<number> {
    const h = headers();
    h.set('KV-Operation', 'DEL');
    return this.send(subject, new Uint8Array(0), h);
  }

  private send(subject: string, data: Uint8Array, h?: MsgHdrs): Promise<number> {
    const token = (this.next++).toString(36);
    return new Promise((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
    });
  }

  close(): void {
    clearInterval(this.sweep);
    this.subscription.unsubscribe();
    for (const w of this.waiting.values()) w.reject(new Error('the writer closed'));
    this.waiting.clear();
  }
}
