import type { Config } from '../src/config/schema.ts';
import { nativeSource } from './native/index.ts';
import { puppetSource } from './puppet/index.ts';
import type { Source } from './source.ts';

/** The importers, by the name `faultline import <source>` takes, built for this configuration. */
export function sourcesFor(_config: Config): Record<string, Source> {
  return {
    native: nativeSource,
    puppet: puppetSource,
  };
}

/** Sources named by the design whose importers are still to come. */
export const PLANNED_SOURCES = ['puppetdb', 'facts'] as const;
