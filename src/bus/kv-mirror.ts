import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { CasRejected, CasWriter, WRONG_LAST_SEQUENCE } from './cas-writer.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * An in-memory copy of a KV bucket, kept current by an ordered consumer on the bucket's stream (last value per
 * key, then every change). `ready` resolves once the copy holds everything the bucket held when it started, so
 * whoever reads it decides nothing on half the state (design section 5; Alertmanager issue #4064).
 *
 * Writes go to the bucket through `put` (compare-and-set on the revision the copy holds) and land in the copy once
 * acknowledged; the consumer's echo of them is recognised by its revision, or by its bytes when it comes first.
 * Other processes' writes arrive through the consumer and are announced to `onChange` listeners. The correlator
 * refreshes alert records in place, in fields no listener reads (alert.ts `takeRefresh`): until it writes them, the
 * copy is newer than the bucket.
 */
export interface Versioned<T> {
  value: T;
  revision: number;
}

export class KvConflictError extends Error {
  override name = 'KvConflictError';
}

export class KvMirror<T> {
  private readonly entries = new Map<string, Versioned<T>>();
  /** This process's writes not yet acknowledged, by key: the bytes sent, and the value they encode. */
  private readonly writing = new Map<string, { encoded: Uint8Array; value: T }>();
  private readonly listeners: ((key: string, entry: Versioned<T> | undefined, previous: Versioned<T> | undefined) => void)[] = [];
  /**
   * Keys whose newest value is not JSON (someone wrote to the bucket by hand), with its revision: left out of the
   * copy rather than crashing it, and counted (`faultline_kv_unreadable_entries`) rather than forgotten.
   */
  readonly unreadable = new Map<string, number>();
  private messages: ConsumerMessages | undefined;
  private readyResolve!: () => void;
  /** Resolves when the initial state is loaded. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.readyResolve = resolve));

  private constructor(
    readonly kv: KV,
    private readonly bucket: string,
    private readonly writer: CasWriter,
  ) {}

  /** Opens `bucket` (created by ensureLayout; values are JSON) and starts mirroring it. */
  static async open<T>(nc: NatsConnection, bucket: string): Promise<KvMirror<T>> {
    const kv = await new Kvm(nc).open(bucket);
    const mirror = new KvMirror<T>(kv, bucket, new CasWriter(nc));
    await mirror.start(nc, bucket);
    return mirror;
  }

  private async start(nc: NatsConnection, bucket: string): Promise<void> {
    const js = jetstream(nc);
    const prefix = `$KV.${bucket}.`;
    const consumer = await js.consumers.get(`KV_${bucket}`, { filter_subjects: `${prefix}>`, deliver_policy: DeliverPolicy.LastPerSubject });
    const info = await consumer.info(true);
    if (info.num_pending === 0) this.readyResolve();
    this.messages = await consumer.consume({
      callback: (m) => {
        const key = m.subject.slice(prefix.length);
        // The echo of this process's own write is not even decoded (nor its headers read). It usually arrives before
        // the write's acknowledgement, which tells the revision: then it is known by its bytes.
        const writing = this.writing.get(key);
        if ((this.entries.get(key)?.revision ?? 0) >= m.seq) {
          /* known already */
        } else if (writing && Buffer.compare(writing.encoded, m.data) === 0) this.accept(key, m.seq, writing.value);
        else if (isRemoval(m.headers?.get('KV-Operation'))) this.accept(key, m.seq, undefined);
        else {
          const value = decode<T>(m.data);
          if (value !== undefined) this.accept(key, m.seq, value);
          else this.unreadable.set(key, m.seq);
        }
        if (m.info.pending === 0) this.readyResolve();
      },
    });
  }

  get(key: string): Versioned<T> | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<Versioned<T>> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Called for every change, local or remote (entry undefined: deleted). Returns a function that unsubscribes. */
  onChange(listener: (key: string, entry: Versioned<T> | undefined, previous: Versioned<T> | undefined) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * Stores `value` if the bucket still holds `expected` (a revision, or undefined for "no value yet"); throws
   * KvConflictError when someone else wrote first (the caller re-reads with `fetch` and tries again).
   */
  async put(key: string, value: T, expected: number | undefined): Promise<Versioned<T>> {
    const encoded = utf8Encoder.encode(JSON.stringify(value));
    const write = { encoded, value };
    this.writing.set(key, write);
    let revision: number;
    try {
      revision = await this.store(key, encoded, expected);
    } finally {
      if (this.writing.get(key) === write) this.writing.delete(key);
    }
    this.accept(key, revision, value);
    return { value, revision };
  }

  private async store(key: string, encoded: Uint8Array, expected: number | undefined): Promise<number> {
    try {
      return await this.writer.write(`$KV.${this.bucket}.${key}`, encoded, expected ?? 0);
    } catch (err) {
      if (!(err instanceof CasRejected && err.code === WRONG_LAST_SEQUENCE)) throw err;
      // "No value yet" may still mean a delete marker holds the subject: the client's create handles that case.
      if (expected !== undefined) throw new KvConflictError(`${key} changed since revision ${expected}`);
      try {
        return await this.kv.create(key, encoded);
      } catch (e) {
        if (isConflict(e)) throw new KvConflictError(`${key} was created meanwhile`);
        throw e;
      }
    }
  }

  /** Reads the bucket directly (after a conflict): the newest value, also taken into the copy. */
  async fetch(key: string): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return undefined;
    const value = decode<T>(e.value);
    if (value === undefined) {
      this.unreadable.set(key, e.revision);
      return undefined;
    }
    this.accept(key, e.revision, value);
    return { value, revision: e.revision };
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
    const known = this.entries.get(key);
    if (this.entries.delete(key)) this.emit(key, undefined, known);
  }

  stop(): void {
    this.messages?.stop();
    this.writer.close();
  }

  /** Takes what a revision says of a key (a value, or undefined: deleted) when it is newer than the copy's. */
  private accept(key: string, revision: number, value: T | undefined): void {
    if ((this.unreadable.get(key) ?? Infinity) < revision) this.unreadable.delete(key);
    const known = this.entries.get(key);
    if (known && known.revision >= revision) return;
    if (value === undefined) {
      if (known && this.entries.delete(key)) this.emit(key, undefined, known);
      return;
    }
    const entry = { value, revision };
    this.entries.set(key, entry);
    this.emit(key, entry, known);
  }

  private emit(key: string, entry: Versioned<T> | undefined, previous: Versioned<T> | undefined): void {
    for (const listener of this.listeners) listener(key, entry, previous);
  }
}

const isRemoval = (op: string | undefined) => op === 'DEL' || op === 'PURGE';

/** A value as stored, or undefined when it is not JSON (left out of the copy rather than crashing the mirror). */
function decode<T>(data: Uint8Array): T | undefined {
  try {
    return JSON.parse(utf8Decoder.decode(data)) as T;
  } catch {
    return undefined;
  }
}

function isConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { api_error?: { err_code?: number } }).api_error?.err_code;
  // JetStream's 10071 "wrong last sequence": update on a stale revision, or create on an existing key.
  return code === 10071 || /wrong last sequence|key exists/i.test(err.message);
}
