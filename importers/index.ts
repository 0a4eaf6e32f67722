import { nativeSource } from './native/index.ts';
import type { Source } from './source.ts';

/** The importers, by the name `faultline import <source>` takes. */
export const SOURCES: Record<string, Source> = {
  native: nativeSource,
};

/** Sources named by the design whose importers are still to come. */
export const PLANNED_SOURCES = ['puppet', 'puppetdb', 'facts'] as const;
