import { createHash } from 'node:crypto';
import { createGzip, gunzipSync } from 'node:zlib';
import { Objm } from '@nats-io/obj';
import { OBJECT_STORES } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { TopologyInput } from './topology.ts';

/**
 * The last topology read from Neo4j, kept in NATS (object store `faultline-topology`), so that a correlator or API
 * that (re)starts while Neo4j is unreachable still decides on the graph it had, instead of not starting at all in
 * the outage it is there for. Stored as gzipped JSON of the rows the engine compiles, made a slice at a time in the
 * background; a copy equal to the stored one (same SHA-256) is not written again.
 */
const NAME = 'snapshot';
const FORMAT = '1';

export interface CachedTopology {
  input: TopologyInput;
  /** When it was read from Neo4j. */
  loadedAt: Date;
}

export async function saveCachedTopology(nats: NatsConnection, input: TopologyInput, loadedAt: Date): Promise<boolean> {
  const { digest, gzipped } = await encode(input);
  const store = await new Objm(nats).open(OBJECT_STORES.topology);
  const stored = await store.info(NAME);
  if (stored && !stored.deleted && stored.metadata?.sha256 === digest) return false;
  await store.putBlob({ name: NAME, description: 'the topology faultline last read from Neo4j', metadata: { sha256: digest, loadedAt: loadedAt.toISOString(), format: FORMAT } }, gzipped);
  return true;
}

/** Rows per slice of JSON: at 100k entities the whole is about 50 MB, and one piece would hold the event loop for a second. */
const SLICE = 2_000;

/**
 * The JSON of `input`, hashed and gzipped a slice at a time, the event loop free between slices (the correlator
 * decides while this runs) and the compression on libuv's threads.
 */
async function encode(input: TopologyInput): Promise<{ digest: string; gzipped: Uint8Array }> {
  const hash = createHash('sha256');
  const gzip = createGzip();
  const parts: Buffer[] = [];
  gzip.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  const write = async (text: string) => {
    hash.update(text);
    if (!gzip.write(text)) await new Promise((resolve) => gzip.once('drain', resolve));
  };
  const keys = Object.keys(input) as (keyof TopologyInput)[];
  await write('{');
  for (const [k, key] of keys.entries()) {
    const rows = input[key] as unknown[];
    await write(`${k > 0 ? ',' : ''}${JSON.stringify(key)}:[`);
    for (let i = 0; i < rows.length; i += SLICE) {
      await write(`${i > 0 ? ',' : ''}${JSON.stringify(rows.slice(i, i + SLICE)).slice(1, -1)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await write(']');
  }
  await write('}');
  gzip.end();
  await done;
  return { digest: hash.digest('hex'), gzipped: Buffer.concat(parts) };
}

/** The stored copy, or undefined when there is none (or it is of another format). */
export async function readCachedTopology(nats: NatsConnection): Promise<CachedTopology | undefined> {
  const store = await new Objm(nats).open(OBJECT_STORES.topology);
  const info = await store.info(NAME);
  if (!info || info.deleted || info.metadata?.format !== FORMAT) return undefined;
  const bytes = await store.getBlob(NAME);
  if (!bytes) return undefined;
  return { input: JSON.parse(gunzipSync(bytes).toString('utf8')) as TopologyInput, loadedAt: new Date(info.metadata.loadedAt ?? info.mtime) };
}
