import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHost } from '../../src/graph/load.ts';
import type { HostGraph } from '../../src/graph/model.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { snapshot } from '../support/graph.ts';
import { freshGraph, testConfig } from '../support/services.ts';

const host = (certname: string, extra: Partial<HostGraph> = {}): HostGraph => ({
  certname,
  facts: { environment: 'production' },
  resources: [
    { id: `${certname}::Service[app]`, type: 'Service', title: 'app' },
    { id: `${certname}::Package[app]`, type: 'Package', title: 'app' },
  ],
  dependencies: [{ from: `${certname}::Service[app]`, to: `${certname}::Package[app]`, kind: 'hard', origin: 'require' }],
  memberships: [],
  teams: [],
  services: [],
  groups: [],
  ...extra,
});

describe('writing a host', () => {
  let driver: Driver;
  const settings = () => testConfig().neo4j;

  beforeAll(async () => {
    driver = await freshGraph();
  });
  afterAll(() => driver?.close());

  it('a host whose write fails in the database is left exactly as it was', async () => {
    await writeHost(driver, settings(), host('b.example.com'), { source: 'test', generation: 1 });
    const before = await snapshot(driver);
    // Neo4j refuses a map as a property value: this write fails in the database, not in validation.
    const broken = host('b.example.com', {
      facts: { os: { nested: true } as unknown as string },
      resources: [{ id: 'b.example.com::Service[other]', type: 'Service', title: 'other' }],
      dependencies: [],
    });
    await expect(writeHost(driver, settings(), broken, { source: 'test', generation: 2 })).rejects.toThrow(/Property values can only be of primitive types|primitive/);
    expect(await snapshot(driver)).toEqual(before);
  });
});
