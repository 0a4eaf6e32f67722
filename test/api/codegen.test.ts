import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';

describe('generated resolver types', () => {
  it('match schema/*.graphql (run `npm run codegen` after editing the SDL)', async () => {
    const outputs = (await generate({ ...config, cwd: PROJECT_ROOT, silent: true }, false)) as { filename: string; content: string }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const onDisk = readFileSync(join(PROJECT_ROOT, output.filename), 'utf8');
      expect(onDisk, `${output.filename} is stale: run npm run codegen`).toBe(output.content);
    }
  });
});
