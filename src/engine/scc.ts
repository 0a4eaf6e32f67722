import { csrFromPairs, type Csr } from './csr.ts';

/**
 * Strongly connected components (Tarjan), iterative: estates have 100k+ entities and dependency chains deeper than
 * any call stack.
 */
export interface Components {
  readonly count: number;
  /** Component of each vertex. Numbered in the order Tarjan closes them: every edge v → w has of[w] <= of[v], so
   *  with edges pointing at dependencies, component 0 depends on nothing outside itself and higher numbers sit
   *  higher up (nearer to the services). */
  readonly of: Int32Array;
  /** Vertices of each component. */
  readonly members: Csr;
}

export function stronglyConnected(n: number, edges: Csr): Components {
  const { offsets, targets } = edges;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  const callVertex = new Int32Array(n);
  const callEdge = new Int32Array(n);
  const of = new Int32Array(n);
  let sp = 0;
  let cp = 0;
  let counter = 0;
  let count = 0;

  for (let s = 0; s < n; s++) {
    if (index[s] !== -1) continue;
    index[s] = low[s] = counter++;
    stack[sp++] = s;
    onStack[s] = 1;
    callVertex[cp] = s;
    callEdge[cp++] = offsets[s]!;
    while (cp > 0) {
      const v = callVertex[cp - 1]!;
      const e = callEdge[cp - 1]!;
      if (e < offsets[v + 1]!) {
        callEdge[cp - 1] = e + 1;
        const w = targets[e]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          callVertex[cp] = w;
          callEdge[cp++] = offsets[w]!;
        } else if (onStack[w] && index[w]! < low[v]!) {
          low[v] = index[w]!;
        }
        continue;
      }
      cp--;
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack[--sp]!;
          onStack[w] = 0;
          of[w] = count;
        } while (w !== v);
        count++;
      }
      if (cp > 0) {
        const u = callVertex[cp - 1]!;
        if (low[v]! < low[u]!) low[u] = low[v]!;
      }
    }
  }

  const vertices = new Int32Array(n);
  for (let v = 0; v < n; v++) vertices[v] = v;
  return { count, of, members: csrFromPairs(count, of, vertices) };
}
