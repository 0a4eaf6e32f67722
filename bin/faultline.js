#!/usr/bin/env -S node --max-semi-space-size=64
// The faultline executable. Sources are TypeScript run through tsx's loader, so a clone needs no build step.
// The flag: a young generation of 64 MB, not V8's 16. The correlator allocates about 10 KB per event, nearly all
// of it short-lived; with the default the collector took 1.7 times as long (docs/benchmarks.md, "A seventh VM").
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
