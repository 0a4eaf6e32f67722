import type { Source } from '../source.ts';
import { parseNative } from './parse.ts';
import { transformNative } from './transform.ts';

export const nativeSource: Source = {
  name: 'native',
  extensions: ['.yaml', '.yml', '.json'],
  read(file) {
    const parsed = parseNative(file);
    if (!parsed.ok) return { hosts: [], problems: parsed.problems, warnings: [] };
    const graph = transformNative(parsed.topology);
    return {
      hosts: graph.hosts,
      shared: graph.shared,
      problems: [],
      warnings: graph.warnings.map((w) => ({ file: file.name, path: `$.${w.path}`, message: w.message })),
    };
  },
};
