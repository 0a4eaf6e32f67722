import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { issueText } from '../zod-issues.ts';

const utf8Decoder = new TextDecoder();

/**
 * A monitoring event (design section 6), the one shape every way in is normalised into: NATS
 * `faultline.events.<source>`, `POST /ingest/events`, `faultline send`, and the adapters of issue 6.
 * `parseEvent` is the only validation; what it refuses goes to `faultline.dead.events` with its reason.
 */

export const STATUSES = ['ok', 'warning', 'critical', 'unknown'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * What a status may also be written as, after trimming and lower-casing: Nagios plugin exit codes (service
 * states), and the host states of Nagios and Icinga (`$HOSTSTATE$`, `$host.state$`; their service states are the
 * four words themselves). UNREACHABLE is `unknown`, not `critical`: Nagios says it when a parent of the host is
 * down, which is no evidence that the host itself failed, and `unknown` ranks below `critical`, so the host does
 * not compete with the real root. Numeric codes are service codes: host state ids (1 = DOWN) would read as warning.
 */
const STATUS_ALIASES: Record<string, Status> = {
  '0': 'ok',
  '1': 'warning',
  '2': 'critical',
  '3': 'unknown',
  up: 'ok',
  down: 'critical',
  unreachable: 'unknown',
};

/** The status a word or code stands for, or undefined; case-insensitive (Nagios' OK, CRITICAL, DOWN...). */
export function normaliseStatus(value: unknown): Status | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const word = String(value).trim().toLowerCase();
  if (Object.hasOwn(STATUS_ALIASES, word)) return STATUS_ALIASES[word];
  return STATUSES.find((status) => status === word);
}

/**
 * How bad a status is, for the propagation threshold: ok < warning < unknown < critical. Unknown sits below
 * critical because a check that cannot tell is weaker evidence of an outage than one that says so.
 */
export const SEVERITY_RANK: Record<Status, number> = { ok: 0, warning: 1, unknown: 2, critical: 3 };

const statusField = z.preprocess(
  (value) => normaliseStatus(value) ?? value,
  z.enum(STATUSES, {
    error: (issue) => (issue.input === undefined ? 'required' : `expected ok, warning, critical, unknown or 0-3, got ${JSON.stringify(issue.input)}`),
  }),
);

const durationField = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 5m or 1h, got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

/** `now`, `clear`, or `+<duration>` (raise unless refreshed within it: a dead-man's switch). */
const raiseField = z.string().transform((text, ctx): Raise => {
  const trimmed = text.trim();
  if (trimmed === 'now' || trimmed === 'clear') return { kind: trimmed };
  if (trimmed.startsWith('+')) {
    const ms = parseDuration(trimmed.slice(1));
    if (ms !== undefined && ms > 0) return { kind: 'after', ms };
  }
  ctx.addIssue({ code: 'custom', message: `expected now, clear or +<duration> like +5m, got "${text}"` });
  return z.NEVER;
});

export type Raise = { kind: 'now' } | { kind: 'clear' } | { kind: 'after'; ms: number };

/** Characters an identity part may not hold: `/` joins host and check in an alert id. */
const identityPart = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(255, { error: `${what} is longer than 255 characters` })
    .refine((text) => !/[\u0000-\u001f]/.test(text), { error: `${what} must not contain control characters` });

/** How long a runbook link may be. */
export const RUNBOOK_CHARS = 2048;

/**
 * A runbook link an adapter found in someone else's payload, or undefined when it is none an event may carry: the
 * adapters leave a bad link out rather than lose the alert for it (an event that gives one itself is refused).
 */
export function adaptedRunbook(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed && trimmed.length <= RUNBOOK_CHARS && isWebLink(trimmed) ? trimmed : undefined;
}

/** An absolute http(s) URL: what a page may link to (not javascript:, not a relative path). */
export function isWebLink(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const timeField = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time like 2026-11-21T10:00:00Z' });

export const eventSchema = z.strictObject({
  source: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, { error: 'source may hold letters, digits, _ and - only' }).optional(),
  // The first `/` of an alert id ends the host; a check may hold more ("disk /var").
  host: identityPart('host').refine((text) => !text.includes('/'), { error: 'host must not contain "/"' }),
  check: identityPart('check'),
  status: statusField,
  raise: raiseField.optional(),
  ttl: durationField.optional(),
  retire: z.boolean().optional(),
  text: z.string().max(4096, { error: 'text is longer than 4096 characters' }).optional(),
  /** What to do about it: a link the page carries (Alertmanager's runbook_url annotation, Nagios' notes_url). */
  runbook: z
    .string()
    .trim()
    .max(RUNBOOK_CHARS, { error: `runbook is longer than ${RUNBOOK_CHARS} characters` })
    .refine(isWebLink, { error: 'runbook must be an http or https URL' })
    .optional(),
  time: timeField.optional(),
  tags: z.record(z.string().max(128), z.string().max(1024)).optional(),
  id: z.string().min(1).max(256).optional(),
  entity: z.string().trim().min(1).max(1024).optional(),
});

export type EventInput = z.input<typeof eventSchema>;

/** A validated event, with its identity and a time (the producer's, else when the bus stored it). */
export interface AlertEvent {
  source: string;
  host: string;
  check: string;
  status: Status;
  raise: Raise;
  ttlMs?: number;
  retire: boolean;
  text?: string;
  runbook?: string;
  /** Milliseconds since the epoch. */
  time: number;
  tags: Record<string, string>;
  id?: string;
  entity?: string;
}

export type ParsedEvent = { ok: true; event: AlertEvent } | { ok: false; reason: string };

/** `<host>/<check>`, the alert id of design section 8. */
export const alertId = (host: string, check: string) => `${host}/${check}`;

/**
 * Validates one event. `fallback.time` stands in when the producer gave none (the stream's timestamp, so a
 * redelivered event keeps its time); `fallback.source` when the event does not name its source (the subject's).
 */
export function parseEvent(value: unknown, fallback: { time: number; source?: string }): ParsedEvent {
  const result = eventSchema.safeParse(value);
  if (!result.success) return { ok: false, reason: describeIssues(result.error) };
  const e = result.data;
  const pointless = pointlessRaise(e, value);
  if (pointless) return { ok: false, reason: `raise: ${pointless}` };
  const event: AlertEvent = {
    source: e.source ?? fallback.source ?? 'unknown',
    host: e.host,
    check: e.check,
    status: e.status,
    raise: e.raise ?? { kind: 'now' },
    retire: e.retire ?? false,
    time: e.time ? Date.parse(e.time) : fallback.time,
    tags: e.tags ?? {},
  };
  if (e.ttl !== undefined) event.ttlMs = e.ttl;
  if (e.text !== undefined) event.text = e.text;
  if (e.runbook !== undefined) event.runbook = e.runbook;
  if (e.id !== undefined) event.id = e.id;
  if (e.entity !== undefined) event.entity = e.entity;
  return { ok: true, event };
}

/**
 * The status of `raise: +<duration>` is the one raised when the time runs out: with ok that is nothing, ever (a
 * dead-man's switch that can never fire). Says why, or undefined for any other event; `input` is the event as given.
 */
export function pointlessRaise(event: Pick<z.output<typeof eventSchema>, 'raise' | 'status'>, input: unknown): string | undefined {
  if (event.raise?.kind !== 'after' || event.status !== 'ok') return undefined;
  return `"${String((input as { raise?: unknown }).raise)}" with status ok raises nothing when it comes due; give the status to raise, e.g. critical`;
}

/** Parses a message body as JSON first: a body that is not JSON is refused with the parser's reason. */
export function parseEventBytes(data: Uint8Array, fallback: { time: number; source?: string }): ParsedEvent {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decoder.decode(data));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  return parseEvent(value, fallback);
}

/** One line per problem, each naming the field: `status: expected ok, ... got "bad"`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const message = issueText(issue);
      return path ? `${path}: ${message}` : message;
    })
    .join('; ');
}

/** The dead-letter record for a refused event: what came in, where from, and why it was refused. */
export interface DeadEvent {
  reason: string;
  subject?: string;
  /** How it came in when not from a subject, e.g. `POST /ingest/events`. */
  via?: string;
  receivedAt: string;
  /** The body as received (text, or the parsed value when it was JSON). */
  body: unknown;
}
