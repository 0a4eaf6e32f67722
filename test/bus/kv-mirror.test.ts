import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvConflictError, KvMirror } from '../../src/bus/kv-mirror.ts';
import { ensureLayout, KV_BUCKETS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { freshNats, testConfig } from '../support/services.ts';

interface Value {
  n: number;
  by: string;
}

/** Two processes' copies of one real bucket, each with its own connection. */
describe('KvMirror on a real JetStream KV bucket', () => {
  let a: NatsConnection;
  let b: NatsConnection;
  let mine: KvMirror<Value>;
  let theirs: KvMirror<Value>;

  beforeAll(async () => {
    a = await freshNats();
    await ensureLayout(a);
    b = await connectNats(testConfig().nats.url, 'kv-mirror-test-b');
    mine = await KvMirror.open<Value>(a, KV_BUCKETS.timers);
    theirs = await KvMirror.open<Value>(b, KV_BUCKETS.timers);
  });
  afterAll(async () => {
    mine?.stop();
    theirs?.stop();
    await b?.close();
    await a?.close();
  });

  const until = async (what: () => boolean) => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(what()).toBe(true);
  };

  it('keeps its own write as written, and takes another writer’s over it', async () => {
    const written = { n: 1, by: 'mine' };
    const { revision } = await mine.put('k1', written, undefined);
    expect(mine.get('k1')).toEqual({ value: written, revision });
    expect(mine.get('k1')!.value).toBe(written);
    await until(() => theirs.get('k1')?.revision === revision);

    const changes: (Value | undefined)[] = [];
    const off = mine.onChange((_, entry) => changes.push(entry?.value));
    const over = await theirs.put('k1', { n: 2, by: 'theirs' }, revision);
    await until(() => mine.get('k1')?.revision === over.revision);
    expect(mine.get('k1')!.value).toEqual({ n: 2, by: 'theirs' });
    expect(changes).toEqual([{ n: 2, by: 'theirs' }]);
    off();
  });

  it('does not take another writer’s value for its own write in flight: after a lost race it holds the winner', async () => {
    for (let round = 0; round < 25; round++) {
      const key = `race${round}`;
      const { revision } = await theirs.put(key, { n: 0, by: 'theirs' }, undefined);
      await until(() => mine.get(key)?.revision === revision);
      // Theirs lands first; mine, on the same revision, is refused. Its echo of their write may come while mine waits.
      const won = await theirs.put(key, { n: round, by: 'theirs' }, revision);
      await expect(mine.put(key, { n: round, by: 'mine' }, revision)).rejects.toBeInstanceOf(KvConflictError);
      await until(() => (mine.get(key)?.revision ?? 0) >= won.revision);
      expect(mine.get(key)).toEqual({ value: { n: round, by: 'theirs' }, revision: won.revision });
    }
  });
  it('counts a value that is not JSON, written by hand, instead of crashing or forgetting it; a readable one clears it', async () => {
    const { revision } = await mine.put('k-hand', { n: 1, by: 'mine' }, undefined);
    await until(() => theirs.get('k-hand')?.revision === revision);
    const garbage = await theirs.kv.put('k-hand', 'not json {');
    await until(() => mine.unreadable.get('k-hand') === garbage);
    // The copy keeps the last value it could read; the key is counted until a readable one replaces it.
    expect(mine.get('k-hand')).toEqual({ value: { n: 1, by: 'mine' }, revision });
    expect(await mine.fetch('k-hand')).toBeUndefined();
    const fixed = await theirs.kv.put('k-hand', JSON.stringify({ n: 2, by: 'theirs' }));
    await until(() => mine.get('k-hand')?.revision === fixed);
    expect(mine.unreadable.has('k-hand')).toBe(false);
  });
});
