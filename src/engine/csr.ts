/**
 * Compressed sparse rows: the adjacency of every relation the engine walks. Row `v` is
 * `targets[offsets[v] .. offsets[v + 1])`, sorted ascending and free of duplicates, so a walk is a tight loop over
 * one Int32Array and membership tests can merge or binary-search.
 */
export interface Csr {
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
}

export const EMPTY_ROW = new Int32Array(0);

/** Rows for `n` vertices from `m` pairs (from[i] → to[i]); duplicate pairs collapse. */
export function csrFromPairs(n: number, from: ArrayLike<number>, to: ArrayLike<number>, m = from.length): Csr {
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) offsets[from[i]! + 1]!++;
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(m);
  for (let i = 0; i < m; i++) targets[fill[from[i]!]!++] = to[i]!;
  return sortAndDedupe(n, offsets, targets);
}

function sortAndDedupe(n: number, offsets: Int32Array, targets: Int32Array): Csr {
  const out = new Int32Array(n + 1);
  let w = 0;
  for (let v = 0; v < n; v++) {
    const start = offsets[v]!;
    const end = offsets[v + 1]!;
    if (end - start > 1) targets.subarray(start, end).sort();
    let last = -1;
    for (let i = start; i < end; i++) {
      const t = targets[i]!;
      if (t !== last) targets[w++] = t;
      last = t;
    }
    out[v + 1] = w;
  }
  return { offsets: out, targets: w === targets.length ? targets : targets.slice(0, w) };
}

/** The reverse relation. */
export function transpose(n: number, csr: Csr): Csr {
  const { offsets, targets } = csr;
  const from = new Int32Array(targets.length);
  for (let v = 0; v < n; v++) for (let i = offsets[v]!; i < offsets[v + 1]!; i++) from[i] = v;
  return csrFromPairs(n, targets, from);
}

/** Row-wise union of two relations over the same vertices; `keep(v)` chooses, per vertex, whether b's row is added. */
export function unionRows(n: number, a: Csr, b: Csr, keep: (v: number) => boolean = () => true): Csr {
  const from: number[] = [];
  const to: number[] = [];
  for (let v = 0; v < n; v++) {
    for (let i = a.offsets[v]!; i < a.offsets[v + 1]!; i++) {
      from.push(v);
      to.push(a.targets[i]!);
    }
    if (!keep(v)) continue;
    for (let i = b.offsets[v]!; i < b.offsets[v + 1]!; i++) {
      from.push(v);
      to.push(b.targets[i]!);
    }
  }
  return csrFromPairs(n, from, to);
}

/** Row-wise difference: a's pairs that b does not hold. Both are sorted, so this is a merge. */
export function minusRows(n: number, a: Csr, b: Csr): Csr {
  const offsets = new Int32Array(n + 1);
  const targets = new Int32Array(a.targets.length);
  let w = 0;
  for (let v = 0; v < n; v++) {
    let j = b.offsets[v]!;
    const jEnd = b.offsets[v + 1]!;
    for (let i = a.offsets[v]!; i < a.offsets[v + 1]!; i++) {
      const t = a.targets[i]!;
      while (j < jEnd && b.targets[j]! < t) j++;
      if (j < jEnd && b.targets[j] === t) continue;
      targets[w++] = t;
    }
    offsets[v + 1] = w;
  }
  return { offsets, targets: targets.slice(0, w) };
}

export function row(csr: Csr, v: number): Int32Array {
  return csr.targets.subarray(csr.offsets[v]!, csr.offsets[v + 1]!);
}

export function degree(csr: Csr, v: number): number {
  return csr.offsets[v + 1]! - csr.offsets[v]!;
}

/** Whether the (sorted) row of `v` contains `t`. */
export function hasEdge(csr: Csr, v: number, t: number): boolean {
  let lo = csr.offsets[v]!;
  let hi = csr.offsets[v + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = csr.targets[mid]!;
    if (x === t) return true;
    if (x < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
