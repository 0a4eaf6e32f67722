/**
 * A per-request batch loader: every `load(key)` made in the same tick becomes one `fetch(keys)` call, so a list
 * of 200 hosts asking for their facts is one database query, not 200.
 */
export function batchLoader<K, V>(fetch: (keys: K[]) => Promise<Map<K, V>>): { load(key: K): Promise<V | undefined> } {
  let pending: { keys: K[]; result: Promise<Map<K, V>> } | undefined;
  return {
    load(key) {
      if (!pending) {
        const batch: { keys: K[]; result?: Promise<Map<K, V>> } = { keys: [] };
        batch.result = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
          pending = undefined;
          return fetch(batch.keys);
        });
        pending = batch as { keys: K[]; result: Promise<Map<K, V>> };
      }
      pending.keys.push(key);
      return pending.result.then((values) => values.get(key));
    },
  };
}
