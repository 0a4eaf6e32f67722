import type { z } from 'zod';

/**
 * "Did you mean" for an unknown configuration key: a known key at the same place a typo or two away
 * (`setle` → `settle`), else, at the top level, the section that has a key of that name (`auth` → `api.auth`).
 */
export function suggestKey(schema: z.ZodType, path: readonly PropertyKey[], key: string): string | undefined {
  const here = keysAt(schema, path);
  const near = here.map((known) => ({ known, distance: editDistance(key, known) })).filter((c) => c.distance <= Math.min(2, key.length - 1)).sort((a, b) => a.distance - b.distance)[0];
  if (near) return near.known;
  if (path.length > 0) return undefined;
  const section = here.find((s) => keysAt(schema, [s]).includes(key));
  return section === undefined ? undefined : `${section}.${key}`;
}

/** The keys of the object the schema expects at `path` (array indexes step into elements); none when not an object. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes = [schema];
  for (const step of path) nodes = nodes.flatMap((n) => objectsOf(n)).flatMap((n) => childAt(n, step));
  return [...new Set(nodes.flatMap((n) => objectsOf(n)).flatMap((n) => Object.keys(def(n).shape ?? {})))];
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; getter?: () => z.ZodType };
const def = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object (or array) schemas a schema stands for, through optional, default, pipe, union and lazy. */
function objectsOf(schema: z.ZodType): z.ZodType[] {
  const d = def(schema);
  if (d.type === 'object' || d.type === 'array') return [schema];
  if (d.innerType) return objectsOf(d.innerType);
  if (d.type === 'pipe' && d.in) return objectsOf(d.in);
  if (d.type === 'union' && d.options) return d.options.flatMap(objectsOf);
  if (d.type === 'lazy' && d.getter) return objectsOf(d.getter());
  return [];
}

function childAt(schema: z.ZodType, step: PropertyKey): z.ZodType[] {
  const d = def(schema);
  if (d.type === 'array') return typeof step === 'number' && d.element ? [d.element] : [];
  const child = d.shape?.[String(step)];
  return child ? [child] : [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
