import { isCollection, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import type { InputFile } from '../files.ts';
import type { InputProblem } from '../problems.ts';

/** Finds the line of a JSON path in the file, when the format has lines and the path exists. */
export type LineOf = (path: readonly PropertyKey[]) => number | undefined;

/** One document of a facts file, as plain data, and how to find a path's line in it. */
export interface ParsedDocument {
  value: unknown;
  /** 1-based position in a multi-document YAML stream; undefined when the file holds one document. */
  index?: number;
  lineOf: LineOf;
}

export type ParseResult = { ok: true; documents: ParsedDocument[] } | { ok: false; problems: InputProblem[] };

/**
 * Bytes → plain data. Syntax only: which format the data is in is decided by `detect`, by content.
 *
 * JSON goes through JSON.parse (fast on PuppetDB exports of thousands of hosts; lines are looked up only when a
 * problem needs one). Everything else is YAML as Ruby writes it: the YAML 1.1 schema (timestamps, yes/no), and
 * Ruby's tags (`!ruby/object:Puppet::Node::Facts`, `!ruby/sym`, any other) are tolerated: a tagged node is read
 * as the map, list or string it is written as. Never throws.
 */
export function parseFacts(file: InputFile): ParseResult {
  let text: string;
  try {
    text = file.read().toString('utf8');
  } catch (err) {
    return { ok: false, problems: [{ file: file.name, path: '$', message: `cannot read: ${(err as Error).message}` }] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { ok: false, problems: [{ file: file.name, path: '$', message: 'not a facts document: the file is empty' }] };

  if (/^\s*[[{]/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      return { ok: true, documents: [{ value, lineOf: lazyLines(text) }] };
    } catch {
      // Not strict JSON (a trailing comma, a comment, or YAML flow style): the YAML parser reads it and says where.
    }
  }
  return parseYaml(file.name, text);
}

function parseYaml(name: string, text: string): ParseResult {
  const lines = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { schema: 'yaml-1.1', uniqueKeys: false, prettyErrors: false, lineCounter: lines }) as Document.Parsed[];
  } catch (err) {
    return { ok: false, problems: [{ file: name, path: '$', message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const errors = docs.flatMap((doc) => doc.errors);
  if (errors.length > 0) {
    // The first error is the one to fix; the ones after it are usually its echoes.
    return {
      ok: false,
      problems: errors.slice(0, 3).map((e) => ({ file: name, path: '$', line: lines.linePos(e.pos[0]).line, message: `invalid YAML: ${e.message.split('\n')[0]}` })),
    };
  }
  const documents: ParsedDocument[] = [];
  const multiple = docs.filter((doc) => doc.contents !== null).length > 1;
  for (const [i, doc] of docs.entries()) {
    if (doc.contents === null) continue; // an empty document in a stream (`---` at the end)
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      return { ok: false, problems: [{ file: name, path: '$', message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }] };
    }
    documents.push({ value, lineOf: yamlLines(doc, lines), ...(multiple ? { index: i + 1 } : {}) });
  }
  if (documents.length === 0) return { ok: false, problems: [{ file: name, path: '$', message: 'not a facts document: the file holds no data' }] };
  return { ok: true, documents };
}

/** The deepest node of the path that exists in the document gives the line. */
function yamlLines(doc: Document, lines: LineCounter): LineOf {
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      const node = (depth === 0 ? doc.contents : doc.getIn(prefix, true)) as YamlNode | null | undefined;
      if (node && (isCollection(node) || 'range' in node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/** For JSON: parsed again by the YAML parser (JSON is YAML) only when a problem asks for a line. */
function lazyLines(text: string): LineOf {
  let lineOf: LineOf | undefined;
  return (path) => {
    // The whole document starts at its first bracket: no need to parse a large file again for that.
    if (path.length === 0) return text.slice(0, text.search(/\S/)).split('\n').length;
    if (!lineOf) {
      const lines = new LineCounter();
      try {
        const [doc] = parseAllDocuments(text, { uniqueKeys: false, lineCounter: lines }) as Document.Parsed[];
        lineOf = doc ? yamlLines(doc, lines) : () => undefined;
      } catch {
        lineOf = () => undefined;
      }
    }
    return lineOf(path);
  };
}
