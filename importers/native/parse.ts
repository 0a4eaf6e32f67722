import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { InputFile } from '../files.ts';
import { zodProblems, type InputProblem } from '../problems.ts';
import { nativeTopology, type NativeTopology } from './schema.ts';

export type ParseResult = { ok: true; topology: NativeTopology } | { ok: false; problems: InputProblem[] };

/** YAML or JSON (JSON is YAML) → validated native topology, or problems naming file, line and path. */
export function parseNative(file: InputFile): ParseResult {
  const text = file.read().toString('utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first error is the one to fix; the ones after it are usually its echoes.
    return {
      ok: false,
      problems: doc.errors.slice(0, 3).map((e) => ({ file: file.name, path: '$', line: lines.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message.split('\n')[0]}` })),
    };
  }
  const parsed = nativeTopology.safeParse(doc.toJS() ?? {});
  if (parsed.success) return { ok: true, topology: parsed.data };
  const lineOf = (path: PropertyKey[]) => {
    // The deepest node of the path that exists in the document gives the line.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as YamlNode | undefined;
      if (node && (isMap(node) || isSeq(node) || 'range' in node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { ok: false, problems: zodProblems(file.name, parsed.error, lineOf) };
}
