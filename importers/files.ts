import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface InputFile {
  /** The path as the user gave it (or `-` for stdin): what error messages name. */
  name: string;
  read(): Buffer;
}

/** Files, directories (recursively, in name order, only `extensions`) and `-` for standard input. */
export function expandInputs(paths: string[], extensions: readonly string[]): InputFile[] {
  const files: InputFile[] = [];
  const visit = (path: string, explicit: boolean) => {
    if (path === '-') {
      files.push({ name: '-', read: () => readFileSync(0) });
      return;
    }
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${path}: no such file or directory`);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (!entry.startsWith('.')) visit(join(path, entry), false);
      }
      return;
    }
    if (explicit || extensions.some((ext) => path.endsWith(ext))) files.push({ name: path, read: () => readFileSync(path) });
  };
  for (const path of paths) visit(path, true);
  return files;
}
