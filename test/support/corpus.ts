import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../src/stack/process.ts';

/**
 * Real catalogs and facts written by others: ../shared/corpus beside the checkout (where CI has it), or
 * FAULTLINE_CORPUS. Never copied into the repository.
 */
export const CORPUS = process.env.FAULTLINE_CORPUS ?? join(PROJECT_ROOT, '..', 'shared', 'corpus');

export function corpusPath(relativePath: string): string {
  return join(requireCorpus(), relativePath);
}

function requireCorpus(): string {
  if (!existsSync(join(CORPUS, 'INDEX.md'))) {
    throw new Error(`the conformance corpus is missing: expected ${CORPUS}/INDEX.md (CI provides ../shared/corpus beside the checkout; FAULTLINE_CORPUS names another place)`);
  }
  return CORPUS;
}

/** Every file under the corpus, as paths relative to it. */
export function corpusFiles(): string[] {
  const root = requireCorpus();
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.filter((f) => f !== 'INDEX.md');
}
