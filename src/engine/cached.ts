import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Objm } from '@nats-io/obj';
import { OBJECT_STORES } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { TopologyInput } from './topology.ts';

/**
 * The last topology read from Neo4j, kept in NATS (object store `faultline-topology`), so that a correlator or API
 * that (re)starts while Neo4j is unreachable still decides on the graph it had, instead of not starting at all in
 * the outage it is there for. Stored as gzipped JSON of the rows the engine compiles; a copy equal to the stored one
 * (same SHA-256) is not written again.
 */
const NAME = 'snapshot';
const FORMAT = '1';

export interface CachedTopology {
  input: TopologyInput;
  /** When it was read from Neo4j. */
  loadedAt: Date;
}

export async function saveCachedTopology(nats: NatsConnection, input: TopologyInput, loadedAt: Date): Promise<boolean> {
  const json = JSON.stringify(input);
  const digest = createHash('sha256').update(json).digest('hex');
  const store = await new Objm(nats).open(OBJECT_STORES.topology);
  const stored = await store.info(NAME);
  if (stored && !stored.deleted && stored.metadata?.sha256 === digest) return false;
  await store.putBlob({ name: NAME, description: 'the topology faultline last read from Neo4j', metadata: { sha256: digest, loadedAt: loadedAt.toISOString(), format: FORMAT } }, gzipSync(json));
  return true;
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
