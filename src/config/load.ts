import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';
import { suggestKey } from './suggest.ts';
import { issueText } from '../zod-issues.ts';

/** Environment variables that override the file, and the config key each one sets. */
const ENV_KEYS = {
  NEO4J_URI: ['neo4j', 'uri'],
  NEO4J_USER: ['neo4j', 'user'],
  NEO4J_PASSWORD: ['neo4j', 'password'],
  NEO4J_DATABASE: ['neo4j', 'database'],
  NATS_URL: ['nats', 'url'],
  FAULTLINE_API_HOST: ['api', 'host'],
  FAULTLINE_API_PORT: ['api', 'port'],
  FAULTLINE_LOG_LEVEL: ['log', 'level'],
  FAULTLINE_INGEST_SECRET: ['ingest', 'secret'],
  FAULTLINE_PAGERDUTY_WEBHOOK_SECRET: ['ingest', 'pagerduty', 'secret'],
  FAULTLINE_SLACK_SIGNING_SECRET: ['ingest', 'slack', 'signingSecret'],
} as const;

const DEFAULT_FILE = 'faultline.yaml';

export interface LoadedConfig {
  config: Config;
  /** The file read, if any. */
  file?: string;
  /** Whether the user named a Neo4j / NATS of their own; `faultline dev` starts local ones only when not. */
  configured: { neo4j: boolean; nats: boolean };
}

/** Every problem found in the configuration, one line each, each naming the file or variable and the key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** `--config FILE`; else FAULTLINE_CONFIG; else ./faultline.yaml when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? nonEmpty(env.FAULTLINE_CONFIG);
  const file = named ? resolve(cwd, named) : existsSync(resolve(cwd, DEFAULT_FILE)) ? resolve(cwd, DEFAULT_FILE) : undefined;

  const raw = file ? readYaml(file) : {};
  const fromEnv = new Map<string, string>();
  for (const [variable, path] of Object.entries(ENV_KEYS)) {
    const value = nonEmpty(env[variable]);
    if (value === undefined) continue;
    setPath(raw, path, value);
    fromEnv.set(path.join('.'), variable);
  }

  // A token from the environment, for containers and CI where a secret is injected rather than written to a file.
  const envToken = nonEmpty(env.FAULTLINE_API_TOKEN);
  if (envToken !== undefined) {
    if (!isRecord(raw.api)) raw.api = {};
    const api = raw.api as Record<string, unknown>;
    const tokens = Array.isArray(api.tokens) ? api.tokens : [];
    fromEnv.set(`api.tokens.${tokens.length}.token`, 'FAULTLINE_API_TOKEN');
    api.tokens = [...tokens, { name: 'FAULTLINE_API_TOKEN', token: envToken, scopes: ['read', 'write'] }];
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, file, fromEnv)));
  }
  const given = (section: string, key: string) => isRecord(raw[section]) && raw[section][key] !== undefined;
  return {
    config: parsed.data,
    ...(file ? { file } : {}),
    configured: { neo4j: given('neo4j', 'uri'), nats: given('nats', 'url') },
  };
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: invalid YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const value: unknown = doc.toJS() ?? {};
  if (!isRecord(value)) throw new ConfigError([`${file}: the configuration must be a YAML mapping at the top level`]);
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, file: string | undefined, fromEnv: Map<string, string>): string {
  const path = issue.path.map(String);
  const dotted = formatPath(issue.path);
  // A variable that sets a list (one value standing for a list of one) owns the issues of its items too.
  const variable = fromEnv.get(path.join('.')) ?? (typeof issue.path.at(-1) === 'number' ? fromEnv.get(path.slice(0, -1).join('.')) : undefined);
  if (variable) return `${variable}: ${issue.message}`;
  const where = file ?? 'configuration';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys
      .map((k) => {
        const hint = suggestKey(configSchema, issue.path, k);
        return hint === undefined ? `"${k}"` : `"${k}" (did you mean ${hint}?)`;
      })
      .join(', ');
    const plural = issue.keys.length > 1 ? 'keys' : 'key';
    return `${where}: unknown ${plural} ${keys} ${dotted ? `in ${dotted}` : 'at the top level'}`;
  }
  return `${where}: ${dotted || '(top level)'}: ${issueText(issue)}`;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
