#!/usr/bin/env node
// The faultline executable. Sources are TypeScript run through tsx's loader, so a clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
