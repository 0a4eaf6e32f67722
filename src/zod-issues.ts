import type { z } from 'zod';

/** A missing field rather than one of the wrong type (zod keeps an issue's `input` only with `reportInput`). */
export function isMissing(issue: z.core.$ZodIssue): boolean {
  if (issue.code !== 'invalid_type') return false;
  return 'input' in issue ? issue.input === undefined : / received undefined$/.test(issue.message);
}

/** An issue's message as one clause for a line that already names the field: "required", or zod's own words. */
export function issueText(issue: z.core.$ZodIssue): string {
  return isMissing(issue) ? 'required' : issue.message.replace(/^Invalid input: /, '');
}

/** `alerts[1].labels.host: expected string, received number`, one per problem, `; `-separated. */
export function describeAt(error: z.ZodError, prefix: PropertyKey[] = []): string {
  return error.issues
    .map((issue) => {
      const path = jsonPath([...prefix, ...issue.path]);
      const message = issueText(issue);
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

function jsonPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
