import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../stack/process.ts';

/**
 * Compliance rules (design section 8): one file each, a header of `// key: value` lines, then ONE plain Cypher
 * query returning rows with `entities` (a list of entity ids, or `entity`: one) and `message`. The built-in
 * rules live in queries/compliance/; users write their own the same way (docs/compliance.md).
 *
 *   // id: unowned
 *   // severity: error
 *   // description: Hosts with no owning team.
 *   //   An indented line continues the value above it.
 *   // param.maxTier: 1                       a parameter ($maxTier) and its default, as JSON
 *
 *   MATCH (h:Host) WHERE ... RETURN [h.id] AS entities, h.id + ' has no owning team' AS message
 *
 * The header is the first block of `//` lines; it ends at the first line that does not start with `//` (leave
 * a blank line before free comments). The whole file is sent to Neo4j (the header is a Cypher comment), so the
 * line numbers in Neo4j's errors are the file's.
 */

export const RULE_SEVERITIES = ['error', 'warning', 'info'] as const;
export type RuleSeverity = (typeof RULE_SEVERITIES)[number];

/** The built-in rules, queries/compliance/<id>.cypher: the seven of design section 8 (MUST) and group-min-healthy. */
export const BUILTIN_RULE_IDS = [
  'no-dependencies',
  'group-single-member',
  'group-min-healthy',
  'group-single-az',
  'dependency-same-rack',
  'dangling-dependency',
  'unowned',
  'spof-tier1',
] as const;

export const BUILTIN_RULES_DIR = join(PROJECT_ROOT, 'queries', 'compliance');

export interface Rule {
  id: string;
  severity: RuleSeverity;
  description: string;
  /** Declared parameters and their defaults (`// param.<name>: <JSON>`), passed as `$<name>`. */
  params: Record<string, unknown>;
  /** The file's whole text, header included (a Cypher comment), a final `;` blanked out. */
  cypher: string;
  /** Absolute path. */
  file: string;
  builtin: boolean;
}

/** Rule files that cannot be used: every problem found, one line each, naming file and line. */
export class RuleFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'RuleFileError';
  }
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const PARAM = /^[A-Za-z_][A-Za-z0-9_]*$/;

const headerSchema = z.strictObject({
  id: z.string().regex(ID, { error: 'an id is lower case letters, digits, ".", "_" and "-", like spof-tier1' }),
  severity: z.enum(RULE_SEVERITIES, { error: (issue) => `expected error, warning or info, got "${String(issue.input)}"` }),
  description: z.string().min(1, { error: 'must not be empty' }),
});

const HEADER_LINE = /^\/\/ ?([A-Za-z][\w.-]*)\s*:(.*)$/;
const CONTINUATION = /^\/\/(?: {2,}|\t)\s*(\S.*)$/;

/** Parses one rule file's text. Problems are `file:line: message` lines; a rule is returned only without any. */
export function parseRule(text: string, file: string, builtin = false): { rule?: Rule; problems: string[] } {
  const where = displayPath(file);
  const found: { line: number; message: string }[] = [];
  const problem = (line: number, message: string) => found.push({ line, message });
  // Problems in line order (a stable sort keeps the order they were found in within one line).
  const report = () => found.sort((a, b) => a.line - b.line).map((p) => `${where}:${p.line}: ${p.message}`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const values = new Map<string, { value: string; line: number }>();
  let last: string | undefined;
  for (; i < lines.length && lines[i]!.trimStart().startsWith('//'); i++) {
    const line = lines[i]!.trim();
    const lineNo = i + 1;
    const continued = CONTINUATION.exec(line);
    if (continued && last !== undefined) {
      const entry = values.get(last)!;
      entry.value = `${entry.value} ${continued[1]!.trim()}`;
      continue;
    }
    const match = HEADER_LINE.exec(line);
    if (!match) {
      problem(lineNo, 'a header line is "// key: value" (an indented "//   text" continues the value above); put a blank line between the header and free comments');
      last = undefined;
      continue;
    }
    const key = match[1]!;
    if (key !== 'id' && key !== 'severity' && key !== 'description' && !key.startsWith('param.')) {
      problem(lineNo, `unknown header key "${key}" (expected id, severity, description or param.<name>)`);
      last = undefined;
      continue;
    }
    if (values.has(key)) {
      problem(lineNo, `header key "${key}" is given twice (first on line ${values.get(key)!.line})`);
      last = undefined;
      continue;
    }
    values.set(key, { value: match[2]!.trim(), line: lineNo });
    last = key;
  }
  const headerEnd = i;
  if (values.size === 0 && found.length === 0) {
    problem(1, 'a rule file starts with a header: "// id: <id>", "// severity: error|warning|info" and "// description: <text>" lines');
    return { problems: report() };
  }

  const header = Object.fromEntries([...values].filter(([k]) => !k.startsWith('param.')).map(([k, v]) => [k, v.value]));
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const entry = values.get(key);
      if (entry) problem(entry.line, `${key}: ${issue.message}`);
      else problem(1, `the header lacks "// ${key}: ..."`);
    }
  }

  const params: Record<string, unknown> = {};
  for (const [key, { value, line }] of values) {
    if (!key.startsWith('param.')) continue;
    const name = key.slice('param.'.length);
    if (!PARAM.test(name)) {
      problem(line, `"${name}" is not a Cypher parameter name (letters, digits and _)`);
      continue;
    }
    try {
      params[name] = JSON.parse(value);
    } catch {
      problem(line, `${key}: the default must be JSON (a number, true, false, null, a "string" or a list), got ${value === '' ? 'nothing' : value}`);
    }
  }

  const body = lines.slice(headerEnd);
  const query = checkQuery(body, headerEnd, (line, message) => problem(line, message));
  if (found.length > 0 || !parsed.success || query === undefined) return { problems: report() };
  const cypher = [...lines.slice(0, headerEnd), ...query].join('\n');
  return { rule: { ...parsed.data, params, cypher, file, builtin }, problems: [] };
}

/**
 * One query: something besides comments, and no `;` but a final one (which is blanked out, keeping positions).
 * Strings, quoted names and comments are skipped while looking for `;`. Returns the body lines, or undefined.
 */
function checkQuery(body: string[], offset: number, problem: (line: number, message: string) => void): string[] | undefined {
  const text = body.join('\n');
  let meaningful = false;
  let semicolon = -1;
  let extra = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === "'" || c === '"' || c === '`') {
      meaningful = true;
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\' && c !== '`') i++;
    } else if (c === ';') {
      if (semicolon < 0) semicolon = i;
      else if (extra < 0) extra = i;
    } else if (!/\s/.test(c)) {
      if (semicolon >= 0 && extra < 0) extra = i;
      meaningful = true;
    }
  }
  const lineOf = (index: number) => offset + text.slice(0, index).split('\n').length;
  if (!meaningful) {
    problem(offset + 1, 'no Cypher query after the header');
    return undefined;
  }
  if (extra >= 0) {
    problem(lineOf(semicolon), 'one query per rule file: text follows this ";"');
    return undefined;
  }
  if (semicolon < 0) return body;
  return (text.slice(0, semicolon) + ' ' + text.slice(semicolon + 1)).split('\n');
}

/** Rule files under `path`: the file itself, or the `*.cypher` files of a folder and its subfolders, sorted. */
function ruleFiles(path: string, problems: string[]): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    problems.push(`${displayPath(path)}: cannot read rules (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return [];
  }
  if (!stat.isDirectory()) return [path];
  const found: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) found.push(...ruleFiles(full, problems));
    else if (entry.name.endsWith('.cypher')) found.push(full);
  }
  return found;
}

export interface LoadOptions {
  /** Include the built-in rules (default true). */
  builtin?: boolean;
  /** Rule files or folders of the user (relative paths against `cwd`). */
  paths?: string[];
  cwd?: string;
}

/**
 * The built-in rules (unless `builtin: false`) and the user's, validated. Throws RuleFileError listing every
 * problem of every file: bad headers, unreadable paths, a folder without rules, two rules with one id.
 */
export function loadRules(options: LoadOptions = {}): Rule[] {
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const files: { file: string; builtin: boolean }[] = [];
  const seen = new Set<string>();
  const add = (file: string, builtin: boolean) => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push({ file, builtin });
  };
  if (options.builtin !== false) for (const id of BUILTIN_RULE_IDS) add(join(BUILTIN_RULES_DIR, `${id}.cypher`), true);
  for (const path of options.paths ?? []) {
    const absolute = resolve(cwd, path);
    const found = ruleFiles(absolute, problems);
    if (found.length === 0 && statSync(absolute, { throwIfNoEntry: false })?.isDirectory()) {
      problems.push(`${displayPath(absolute)}: no rule files (*.cypher) in this folder`);
    }
    for (const file of found) add(file, false);
  }

  const rules: Rule[] = [];
  const byId = new Map<string, Rule>();
  for (const { file, builtin } of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${displayPath(file)}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    const { rule, problems: found } = parseRule(text, file, builtin);
    problems.push(...found);
    if (!rule) continue;
    const before = byId.get(rule.id);
    if (before) {
      problems.push(`${displayPath(file)}: rule id "${rule.id}" is already used by ${displayPath(before.file)}${before.builtin ? ' (a built-in rule: give yours another id, or run with --no-builtin)' : ''}`);
      continue;
    }
    byId.set(rule.id, rule);
    rules.push(rule);
  }
  if (problems.length > 0) throw new RuleFileError(problems);
  return rules;
}

/** A path as the user would write it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/') ? rel : file;
}
