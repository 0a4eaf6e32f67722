import type { z } from 'zod';
import { issueText } from '../src/zod-issues.ts';

/** A problem in one input file, located by JSON path (and line, where the format has lines). */
export interface InputProblem {
  file: string;
  path: string;
  line?: number;
  message: string;
}

export function formatProblem(p: InputProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.path}: ${p.message}`;
}

/** `$.hosts["db1.example.com"].resources[2]`: keys with dots or spaces are bracketed so the path stays exact. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return (
    '$' +
    path
      .map((key) => {
        if (typeof key === 'number') return `[${key}]`;
        const text = String(key);
        return /^[A-Za-z_][\w-]*$/.test(text) ? `.${text}` : `[${JSON.stringify(text)}]`;
      })
      .join('')
  );
}

export function zodProblems(file: string, error: z.ZodError, lineOf?: (path: PropertyKey[]) => number | undefined): InputProblem[] {
  return error.issues.map((issue) => {
    const path = [...issue.path];
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issueText(issue);
    const line = lineOf?.(path);
    return { file, path: jsonPath(path), message, ...(line ? { line } : {}) };
  });
}
