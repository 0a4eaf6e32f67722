import { z } from 'zod';
import { NOTIFICATION_KINDS, UPDATE_CHANGES } from '../notify/notification.ts';
import { parseDuration } from './duration.ts';
import { withoutCredentials } from '../redact.ts';

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

/**
 * A URL with one of `schemes`. The error quotes what was given, its credentials hidden; a `secret` URL (a Slack
 * or PagerDuty webhook, whose path is the token) is not quoted at all.
 */
const urlWithScheme = (schemes: readonly string[], what: string, { secret = false } = {}) =>
  z.string().refine(
    (text) => {
      try {
        return schemes.includes(new URL(text).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    {
      error: (issue) =>
        `expected ${what} (${schemes.map((s) => `${s}://`).join(', ')})${secret ? '' : `, got "${withoutCredentials(String(issue.input))}"`}`,
    },
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
 * The ingest endpoints of design section 6 beyond `POST /ingest/events` (docs/ingest.md). A field reference in a
 * webhook mapping is a path when it starts with `$` (`$.labels.host`: into the item, or the body when there is no
 * `items`; `$$.receiver`: into the whole body; digits index arrays) and a constant otherwise (`check: uptime`).
 */
const FIELD_PATH = /^\$\$?(\.[^.]+)*$/;
const fieldPath = z.string().regex(FIELD_PATH, { error: (issue) => `expected a path like $.labels.host, got "${String(issue.input)}"` });
const fieldRef = z
  .string()
  .min(1)
  .refine((text) => !text.startsWith('$') || FIELD_PATH.test(text), {
    error: (issue) => `expected a path like $.labels.host (or a constant without $), got "${String(issue.input)}"`,
  });
const slackSecret = z.string().min(16, { error: 'a Slack signing secret is at least 16 characters' });
const pagerdutySecret = z.string().min(16, { error: 'a PagerDuty webhook signing secret is at least 16 characters' });
const sourceName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected letters, digits, _ and - (at most 64)' });

const ingestWebhook = z.strictObject({
  /** `POST /ingest/webhook/<name>`; also the events' source unless `source` says otherwise. */
  name: sourceName,
  source: sourceName.optional(),
  /** A path to an array in the body: one event per element. Absent: the body is one event. */
  items: fieldPath.optional(),
  host: fieldRef,
  check: fieldRef,
  status: fieldRef,
  /** The sender's status words (case-insensitive) to faultline's; words not listed go through as they are. */
  statusMap: z.record(z.string(), severity).default({}),
  text: fieldRef.optional(),
  /** A link to what to do about it; one that is no http(s) URL is left out, not the event. */
  runbook: fieldRef.optional(),
  time: fieldRef.optional(),
  entity: fieldRef.optional(),
  /** The producer id for de-duplication; several references are joined with ":". */
  id: z.union([fieldRef.transform((ref) => [ref]), z.array(fieldRef).min(1)]).optional(),
  /** A path to an object whose values become tags, or tag names with a reference each. */
  tags: z.union([fieldPath, z.record(z.string().min(1), fieldRef)]).optional(),
});

const ingestSection = z
  .strictObject({
    /**
     * A shared secret that ingest endpoints accept instead of a bearer token with the write scope, sent as the
     * X-Faultline-Secret header or the `secret` query parameter (for tools that can only set a URL).
     */
    secret: z.string().min(16, { error: 'the secret must be at least 16 characters' }).optional(),
    alertmanager: z
      .strictObject({
        /** The label whose value sets a firing alert's status. */
        severityLabel: z.string().min(1).default('severity'),
        /** Severity words (case-insensitive) to statuses, over the built-in ones (docs/ingest.md). */
        severities: z.record(z.string(), severity).default({}),
        /**
         * Labels whose values join the alertname in the check, so alerts that differ only in them stay apart:
         * `[mountpoint]` makes `DiskFull:/var` and `DiskFull:/` two alerts of one host.
         */
        checkLabels: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
    webhooks: z.array(ingestWebhook).default([]),
    /**
     * `POST /ingest/slack`, the interactivity Request URL of the Slack app whose webhooks carry Acknowledge buttons
     * (`acknowledgeButton`). `signingSecret` is the app's (or a list, one per app); a click is taken only when its
     * X-Slack-Signature matches one.
     */
    slack: z.strictObject({ signingSecret: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(slackSecret).min(1)) }).optional(),
    /**
     * `POST /ingest/pagerduty`, the receiver of a PagerDuty v3 webhook subscription: an incident acknowledged in
     * PagerDuty is acknowledged in faultline. `secret` is the subscription's signing secret (or a list during a
     * rotation); a delivery is taken only when its X-PagerDuty-Signature matches one.
     */
    pagerduty: z
      .strictObject({
        secret: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(pagerdutySecret).min(1)),
      })
      .optional(),
  })
  .superRefine((ingest, ctx) => {
    const seen = new Set<string>();
    ingest.webhooks.forEach((hook, i) => {
      if (seen.has(hook.name)) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `webhook name "${hook.name}" is not unique` });
      seen.add(hook.name);
    });
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
  /** How long resolved incidents and ended maintenance windows are kept (the incident stream keeps 90 days). */
  retention: duration.default(30 * 86_400_000),
  /**
   * An alert that changes status more than `changes` times within `window` is flapping: it pages nobody, and its
   * incident is not resolved, until it settles. `false` turns this off.
   */
  flapping: z
    .union([
      z.literal(false),
      z.strictObject({ changes: z.number().int().min(2).max(19), window: duration }),
    ])
    .default({ changes: 6, window: 600_000 }),
});

const channelBase = { name: z.string().min(1) };
const httpUrl = urlWithScheme(['http', 'https'], 'an HTTP URL', { secret: true });
/** PagerDuty's Events API v2 endpoint; `url` points a pagerduty channel elsewhere (a proxy, a test receiver). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
const channel = z.discriminatedUnion('type', [
  z.strictObject({ ...channelBase, type: z.literal('webhook'), url: httpUrl, headers: z.record(z.string(), z.string()).optional() }),
  /** Notifications printed on the process's standard output: what `faultline dev` uses when nothing is configured. */
  z.strictObject({ ...channelBase, type: z.literal('console') }),
  z.strictObject({
    ...channelBase,
    type: z.literal('slack'),
    /** The incoming-webhook URL (it carries the token). */
    url: httpUrl,
    /** Posts to this channel instead of the webhook's own (`#ops`); legacy webhooks honour it, app webhooks ignore it. */
    channel: z.string().min(2).optional(),
    /**
     * Pages and reminders carry an Acknowledge button. The webhook must be a Slack app's whose interactivity
     * Request URL is faultline's `POST /ingest/slack`, and `ingest.slack.signingSecret` the app's signing secret.
     */
    acknowledgeButton: z.boolean().optional(),
  }),
  z.strictObject({
    ...channelBase,
    type: z.literal('email'),
    /** Recipients; without them the team's `email:` contacts. */
    to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]).optional(),
    from: z.string().min(3).optional(),
    /** The SMTP server: `smtp://host:port` (STARTTLS when offered), `smtps://host:465`, credentials as `user:password@`. */
    smtp: urlWithScheme(['smtp', 'smtps'], 'an SMTP URL').default('smtp://127.0.0.1:25'),
  }),
  z.strictObject({
    ...channelBase,
    type: z.literal('pagerduty'),
    /** The Events API v2 integration key; without it the team's `pagerduty:` contact. */
    routingKey: z.string().min(1).optional(),
    url: httpUrl.default(PAGERDUTY_EVENTS_URL),
  }),
]);

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const timeOfDay = (to: boolean) =>
  z.string().refine((text) => /^([01]\d|2[0-3]):[0-5]\d$/.test(text) || (to && text === '24:00'), {
    error: (issue) => `expected HH:MM${to ? ' (00:00 to 24:00)' : ' (00:00 to 23:59)'}, got "${String(issue.input)}"`,
  });

/**
 * A time window in `notify.timezone`: on `days` (all when absent), from `from` to `to` (the whole day when
 * both are absent). `to` before `from` wraps past midnight, and the hours after midnight belong to the day the
 * window started on: `{ days: [fri], from: "22:00", to: "06:00" }` holds on Saturday at 02:00.
 */
const timeWindow = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS, { error: (issue) => `expected a day (${WEEKDAYS.join(', ')}), got "${String(issue.input)}"` })).min(1).optional(),
    from: timeOfDay(false).optional(),
    to: timeOfDay(true).optional(),
  })
  .superRefine((w, ctx) => {
    if ((w.from === undefined) !== (w.to === undefined)) {
      ctx.addIssue({ code: 'custom', path: [w.from === undefined ? 'from' : 'to'], message: 'a window needs both from and to (or neither, for whole days)' });
    } else if (w.from !== undefined && w.from === w.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `from and to are both ${w.from}: leave both out for whole days` });
    }
    if (w.days === undefined && w.from === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a time window needs days, or from and to' });
    }
  });

const route = z.strictObject({
  match: z
    .strictObject({
      team: z.string().min(1).optional(),
      severity: severity.optional(),
      tags: z.record(z.string(), z.string()).optional(),
      /** One kind or a list of them. */
      kind: z
        .union([z.enum(NOTIFICATION_KINDS), z.array(z.enum(NOTIFICATION_KINDS)).min(1)], {
          error: (issue) => `expected a kind (${NOTIFICATION_KINDS.join(', ')}) or a list of them, got ${JSON.stringify(issue.input)}`,
        })
        .transform((k) => (Array.isArray(k) ? k : [k]))
        .optional(),
      /** What an update tells (one or a list): `reminder` routes the reminders of unacknowledged incidents apart. */
      change: z
        .union([z.enum(UPDATE_CHANGES), z.array(z.enum(UPDATE_CHANGES)).min(1)], {
          error: (issue) => `expected a change (${UPDATE_CHANGES.join(', ')}) or a list of them, got ${JSON.stringify(issue.input)}`,
        })
        .transform((c) => (Array.isArray(c) ? c : [c]))
        .optional(),
      time: timeWindow.optional(),
    })
    .optional(),
  channels: z.array(z.string().min(1)).min(1),
  /** Address the team's contacts from the graph (email:, slack:, pagerduty:) instead of the channels' own recipients. */
  useContacts: z.boolean().optional(),
});

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const notifySection = z
  .strictObject({
    channels: z.array(channel).default([]),
    routes: z.array(route).default([]),
    /** Where routes' time windows are read (IANA name). */
    timezone: z
      .string()
      .refine(isTimeZone, { error: (issue) => `expected an IANA time zone such as Europe/Berlin or UTC, got "${String(issue.input)}"` })
      .default('UTC'),
    /** A link to an incident for the channels to show, `{id}` standing for its id. */
    incidentUrl: httpUrl
      .refine((t) => t.includes('{id}'), { error: 'expected a URL template with {id}, such as https://faultline.example.com/incidents/{id}' })
      .optional(),
    /**
     * How often the owners of an open incident that nobody has acknowledged hear of it again (Alertmanager's
     * repeat_interval, Nagios's notification_interval). `false`: never. PagerDuty escalates on its own and is not
     * reminded.
     */
    remind: z.union([z.literal(false), duration.refine((ms) => ms >= 60_000, { error: 'remind at most once a minute (e.g. 4h), or false for never' })]).default(4 * 3_600_000),
    /**
     * Page storms: a team paged more than `pages` times within `window` gets one page for the storm instead of the
     * pages after that, and an update at most once a minute while it grows. `false`: every root cause pages.
     */
    storm: z
      .union([
        z.literal(false),
        z.strictObject({
          pages: z.number().int().min(1).default(10),
          window: duration.refine((ms) => ms >= 60_000, { error: 'a storm window of a minute or more (e.g. 10m)' }).default(600_000),
        }),
      ])
      .default({ pages: 10, window: 600_000 }),
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

/**
 * Automation hooks (design sections 1 and 7): when an incident opens whose root matches `when.root` (a glob over
 * entity ids, `*` and `?`), `faultline.actions.<name>` carries the incident and the entities it takes down that
 * match `dependents` ("after MySQL fails, stop Exim cleanly").
 */
const action = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'an action name may hold letters, digits, _ and - only (it ends a NATS subject)' }),
  when: z.strictObject({ root: z.string().min(1) }),
  dependents: z.string().min(1).default('*'),
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
  ingest: ingestSection.prefault({}),
  actions: z
    .array(action)
    .default([])
    .superRefine((actions, ctx) => {
      const seen = new Set<string>();
      actions.forEach((a, i) => {
        if (seen.has(a.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `action name "${a.name}" is not unique` });
        seen.add(a.name);
      });
    }),
}).superRefine((config, ctx) => {
  // A button nobody can receive the click of: Slack would answer the operator with an error, in an outage.
  config.notify.channels.forEach((ch, i) => {
    if (ch.type === 'slack' && ch.acknowledgeButton && !config.ingest.slack) {
      ctx.addIssue({ code: 'custom', path: ['notify', 'channels', i, 'acknowledgeButton'], message: 'needs ingest.slack.signingSecret, so that faultline can take the click (POST /ingest/slack)' });
    }
  });
});

export type Config = z.infer<typeof configSchema>;
export type FactsMapping = Config['facts'];
export type WebhookMapping = Config['ingest']['webhooks'][number];
