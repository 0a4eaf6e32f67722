import type { Config } from '../src/config/schema.ts';
import { createFactsSource } from './facts/index.ts';
import { nativeSource } from './native/index.ts';
import { puppetSource } from './puppet/index.ts';
import { createPuppetdbSource } from './puppetdb/index.ts';
import type { RemoteSource, Source } from './source.ts';

/** The importers, by the name `faultline import <source>` takes, built for this configuration. */
export function sourcesFor(config: Config): { native: Source; facts: Source; puppet: Source; puppetdb: RemoteSource } {
  return {
    native: nativeSource,
    facts: createFactsSource(config.facts),
    puppet: puppetSource,
    puppetdb: createPuppetdbSource(config.facts),
  };
}
