import type { InputProblem } from './problems.ts';

/**
 * JSON.parse with a problem that says where the text broke (line and column), e.g. for a truncated catalog.
 * Duplicate keys are accepted, the last one winning, as Puppet's own readers do.
 */
export function parseJson(text: string, file: string): { ok: true; value: unknown } | { ok: false; problem: InputProblem } {
  try {
    return { ok: true, value: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) };
  } catch (err) {
    const message = (err as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    const offset = position === undefined ? text.length : Number(position);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const reason = offset >= text.trimEnd().length ? 'the file ends before the JSON does (truncated?)' : message.replace(/ in JSON at position \d+.*$/, '');
    return { ok: false, problem: { file, path: '$', line, message: `invalid JSON at line ${line}, column ${column}: ${reason}` } };
  }
}
