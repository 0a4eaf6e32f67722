import { dirname, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import { BUILTIN_RULE_IDS, loadRules, type Rule, type RuleSeverity } from './rules.ts';

/**
 * The rules a configuration asks for: the built-ins (unless `builtin: false`), the folders of
 * `compliance.rules` (relative to the configuration file) and `extraPaths`, with `compliance.severity` applied.
 * Used by `faultline check` and the GraphQL `compliance` query alike. Throws RuleFileError for bad rule files,
 * and an Error for a severity naming no rule.
 */
export function configuredRules(config: Config, options: { configFile?: string; extraPaths?: string[]; builtin?: boolean } = {}): Rule[] {
  const base = options.configFile ? dirname(options.configFile) : process.cwd();
  const rules = loadRules({
    builtin: options.builtin !== false,
    paths: [...config.compliance.rules.map((p) => resolve(base, p)), ...(options.extraPaths ?? [])],
  });
  for (const [id, severity] of Object.entries(config.compliance.severity)) {
    const rule = rules.find((r) => r.id === id);
    if (rule) rule.severity = severity as RuleSeverity;
    else if (!(BUILTIN_RULE_IDS as readonly string[]).includes(id)) {
      throw new Error(`compliance.severity names rule "${id}", which is neither built in nor loaded (loaded: ${rules.map((r) => r.id).join(', ')})`);
    }
  }
  return rules;
}
