import { isMap, type FactMap } from './detect.ts';

/**
 * Finds a fact by dotted path into structured facts: `os.distro.description`, `ec2_metadata.placement.availability-zone`.
 * A key that itself contains dots (`eth0.100` in `networking.interfaces`) is found too: at each level the
 * longest run of segments that names a key wins, and shorter ones are tried when that leads nowhere.
 * Returns undefined when absent (null counts as absent).
 */
export function lookupFact(facts: FactMap, path: string): unknown {
  return walk(facts, path.trim().split('.'));
}

function walk(value: unknown, segments: string[]): unknown {
  if (segments.length === 0) return value ?? undefined;
  if (Array.isArray(value)) {
    const index = Number(segments[0]);
    return Number.isInteger(index) && index >= 0 ? walk(value[index], segments.slice(1)) : undefined;
  }
  if (!isMap(value)) return undefined;
  for (let take = segments.length; take >= 1; take--) {
    const key = segments.slice(0, take).join('.');
    if (Object.hasOwn(value, key)) {
      const found = walk(value[key], segments.slice(take));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
