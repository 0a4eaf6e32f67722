import { z } from 'zod';
import { parseDuration } from './duration.ts';

/**
 * The whole configuration, validated once at start (design section 9). Objects are strict: an unknown or
 * misspelt key is an error naming it, never silently ignored. Runtime code trusts what this returns.
 */

const duration = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 5m or 1h, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

const urlWithScheme = (schemes: readonly string[], what: string) =>
  z.string().refine(
    (text) => {
      try {
        return schemes.includes(new URL(text).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { error: (issue) => `expected ${what} (${schemes.map((s) => `${s}://`).join(', ')}), got "${String(issue.input)}"` },
  );

export const SEVERITIES = ['ok', 'warning', 'critical', 'unknown'] as const;
export const severity = z.enum(SEVERITIES);

const neo4jSection = z.strictObject({
  uri: urlWithScheme(['bolt', 'bolt+s', 'bolt+ssc', 'neo4j', 'neo4j+s', 'neo4j+ssc'], 'a Neo4j URL').default(
    'bolt://127.0.0.1:7687',
  ),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
});

const natsSection = z.strictObject({
  url: urlWithScheme(['nats', 'tls', 'ws', 'wss'], 'a NATS URL').default('nats://127.0.0.1:4222'),
});

const apiToken = z.strictObject({
  name: z.string().min(1),
  token: z.string().min(16, { error: 'a token must be at least 16 characters' }),
  scopes: z.array(z.enum(['read', 'write'])).min(1).default(['read']),
});

const apiSection = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65_535).default(4000),
  auth: z.enum(['token', 'none']).default('token'),
  tokens: z.array(apiToken).default([]),
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  maxDepth: z.number().int().positive().default(12),
  /** Fields one operation may select in all, fragments expanded. */
  maxCost: z.number().int().positive().default(2_000),
});

/**
 * How an alert whose check no `faultline::check` maps finds its entity (design section 6): the first rule whose
 * globs (`*`, `?`) match host and check names the entity by a template with `{host}` and `{check}`.
 */
const mappingRule = z.strictObject({
  check: z.string().min(1),
  host: z.string().min(1).optional(),
  entity: z.string().min(1).refine((t) => t.includes('{host}') || !t.includes('{'), {
    error: 'expected an entity id template such as "{host}::Service[mysqld]" (placeholders: {host}, {check})',
  }),
});

const correlatorSection = z.strictObject({
  settle: duration.default(30_000),
  threshold: severity.exclude(['ok']).default('critical'),
  mappings: z.array(mappingRule).default([]),
  /** How long a correlator's lead lasts without renewal; another takes over after it (design section 10). */
  leaderLease: duration.default(10_000),
  /** How long an event handed to a correlator that died stays unhandled before another correlator gets it. */
  ackWait: duration.default(30_000),
});

const channelBase = { name: z.string().min(1) };
const httpUrl = urlWithScheme(['http', 'https'], 'an HTTP URL');
const channel = z.discriminatedUnion('type', [
  z.strictObject({ ...channelBase, type: z.literal('webhook'), url: httpUrl, headers: z.record(z.string(), z.string()).optional() }),
  z.strictObject({ ...channelBase, type: z.literal('slack'), url: httpUrl }),
  z.strictObject({
    ...channelBase,
    type: z.literal('email'),
    to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]).optional(),
    from: z.string().min(3).optional(),
    smtp: urlWithScheme(['smtp', 'smtps'], 'an SMTP URL').optional(),
  }),
  z.strictObject({
    ...channelBase,
    type: z.literal('pagerduty'),
    routingKey: z.string().min(1).optional(),
    url: httpUrl.optional(),
  }),
]);

const route = z.strictObject({
  match: z
    .strictObject({
      team: z.string().min(1).optional(),
      severity: severity.optional(),
      tags: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  channels: z.array(z.string().min(1)).min(1),
});

const notifySection = z
  .strictObject({
    channels: z.array(channel).default([]),
    routes: z.array(route).default([]),
  })
  .superRefine((notify, ctx) => {
    const seen = new Set<string>();
    notify.channels.forEach((ch, i) => {
      if (seen.has(ch.name)) {
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name "${ch.name}" is not unique` });
      }
      seen.add(ch.name);
    });
    notify.routes.forEach((r, i) =>
      r.channels.forEach((name, j) => {
        if (!seen.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels', j], message: `route names unknown channel "${name}"` });
        }
      }),
    );
  });

const logSection = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Which raw facts feed the facts faultline keeps on a host (design section 4: "configurable"). Each key is a
 * list of candidate fact paths in dotted notation into structured facts (`os.distro.description`); the first
 * present wins. `a + b` joins several facts with a space and counts as present only when all of them are.
 * `certname` is used only when a facts document does not name its host.
 */
const factPath = z
  .string()
  .refine((text) => text.split('+').every((part) => part.trim().split('.').every((segment) => segment.length > 0)), {
    error: (issue) => `expected a dotted fact path like os.distro.description (or paths joined by +), got "${String(issue.input)}"`,
  });
const factPaths = (defaults: string[]) => z.array(factPath).default(defaults);

const factsSection = z.strictObject({
  certname: factPaths(['clientcert', 'trusted.certname', 'networking.fqdn', 'fqdn']),
  environment: factPaths(['environment', 'agent_specified_environment']),
  location: factPaths(['location', 'datacenter', 'dc', 'trusted.extensions.pp_datacenter']),
  rack: factPaths(['rack']),
  az: factPaths(['az', 'ec2_metadata.placement.availability-zone', 'ec2_placement_availability_zone', 'gce.instance.zone', 'azure_metadata.compute.zone']),
  os: factPaths([
    'os.distro.description',
    'os.lsb.distdescription',
    'lsbdistdescription',
    'os.windows.product_name',
    'os.name + os.release.full',
    'operatingsystem + operatingsystemrelease',
    'os.name',
    'operatingsystem',
  ]),
  classes: factPaths([]),
  owner: factPaths(['owner', 'team']),
});

/**
 * `faultline check` (docs/compliance.md): rule files or folders of the user's, run with the built-in rules
 * (paths relative to the configuration file), and severities that replace the ones a rule file declares.
 */
const complianceSection = z.strictObject({
  rules: z.union([z.string().min(1).transform((path) => [path]), z.array(z.string().min(1))]).default([]),
  severity: z.record(z.string(), z.enum(['error', 'warning', 'info'])).default({}),
});

export const configSchema = z.strictObject({
  neo4j: neo4jSection.prefault({}),
  nats: natsSection.prefault({}),
  api: apiSection.prefault({}),
  correlator: correlatorSection.prefault({}),
  notify: notifySection.prefault({}),
  log: logSection.prefault({}),
  facts: factsSection.prefault({}),
  compliance: complianceSection.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type FactsMapping = Config['facts'];
