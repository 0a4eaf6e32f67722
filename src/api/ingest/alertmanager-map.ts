import { z } from 'zod';
import type { Config } from '../../config/schema.ts';
import { adaptedRunbook, normaliseStatus, type Status } from '../../correlator/event.ts';
import { describeAt } from '../../zod-issues.ts';
import type { Candidate } from './store.ts';

/**
 * Prometheus Alertmanager's webhook payload (version 4) into events, purely: one event per alert. The envelope is
 * checked as a whole (a body that is not such a payload is refused); each alert on its own, so one alert that
 * cannot become an event is dead-lettered while the others are stored. docs/ingest.md has the mapping as a table.
 */

export const ALERTMANAGER_SOURCE = 'alertmanager';
/** The tag that names the Alertmanager receiver the alert was sent to. */
export const RECEIVER_TAG = 'alertmanager_receiver';
/** Labels that name the host, first present wins; `instance` loses its port (or is a URL's host). */
export const HOST_LABELS = ['host', 'instance', 'nodename'] as const;
const TEXT_ANNOTATIONS = ['summary', 'description', 'message'] as const;
const MAX_TEXT = 4096;

/**
 * Severity words (lower case) to statuses, for firing alerts. Words not here and not a status themselves are
 * `unknown`: shown, but below the default threshold, so a naming scheme faultline does not know (P1...P5) is
 * mapped with `ingest.alertmanager.severities` rather than guessed. Informational alerts are `warning`, the
 * mildest status that is not `ok`: the alert fires, but it should not page.
 */
export const SEVERITY_WORDS: Readonly<Record<string, Status>> = {
  critical: 'critical',
  crit: 'critical',
  error: 'critical',
  err: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  page: 'critical',
  high: 'critical',
  warning: 'warning',
  warn: 'warning',
  ticket: 'warning',
  low: 'warning',
  info: 'warning',
  informational: 'warning',
  notice: 'warning',
  none: 'warning',
};
/**
 * A firing alert without a severity label: Alertmanager only sends what a rule says is broken, and a rule without
 * a severity is the plain case of it; taking it for less would hide an outage.
 */
export const NO_SEVERITY_STATUS: Status = 'critical';

const alertStatus = z.enum(['firing', 'resolved'], {
  error: (issue) => (issue.input === undefined ? 'required' : `expected "firing" or "resolved", got ${JSON.stringify(issue.input)}`),
});
const time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time like 2026-11-21T10:00:00Z' });
const labelSet = z.record(z.string(), z.string());

/** The envelope; unknown fields are ignored (Alertmanager may add some), the ones used must be right. */
const payloadSchema = z.object({
  version: z.literal('4', { error: (issue) => (issue.input === undefined ? 'required' : `expected "4", got ${JSON.stringify(issue.input)}`) }),
  receiver: z.string(),
  status: alertStatus,
  alerts: z.array(z.unknown()),
  externalURL: z.string().optional(),
});

const alertSchema = z.object({
  status: alertStatus,
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: time,
  endsAt: time.optional(),
  fingerprint: z.string().optional(),
});

export type AlertmanagerPayload = z.infer<typeof payloadSchema>;
export type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerOptions = Config['ingest']['alertmanager'];

/** The payload's envelope, or one line naming each problem by its JSON path. */
export function parseAlertmanagerPayload(value: unknown): { ok: true; payload: AlertmanagerPayload } | { ok: false; error: string } {
  const result = payloadSchema.safeParse(value);
  if (result.success) return { ok: true, payload: result.data };
  return { ok: false, error: `the body is not an Alertmanager webhook payload (version 4): ${describeAt(result.error, [])}` };
}

/** One candidate event per alert, in the payload's order. */
export function mapAlertmanager(payload: AlertmanagerPayload, options: AlertmanagerOptions): Candidate[] {
  return payload.alerts.map((raw, index) => {
    const alert = alertSchema.safeParse(raw);
    if (!alert.success) return { reason: describeAt(alert.error, ['alerts', index]), body: raw };
    const mapped = alertToEvent(alert.data, payload.receiver, options);
    return 'reason' in mapped ? { reason: `alerts[${index}]: ${mapped.reason}`, body: raw } : { event: mapped.event, body: raw };
  });
}

export function alertToEvent(alert: AlertmanagerAlert, receiver: string, options: AlertmanagerOptions): { event: Record<string, unknown> } | { reason: string } {
  const host = hostOf(alert.labels);
  if (host === undefined) return { reason: `no host: the alert has none of the labels ${HOST_LABELS.join(', ')}` };
  const alertname = nonEmpty(alert.labels.alertname);
  if (alertname === undefined) return { reason: 'no check: the alert has no alertname label' };
  const qualifiers = options.checkLabels.map((label) => nonEmpty(alert.labels[label])).filter((v): v is string => v !== undefined);
  const check = [alertname, ...qualifiers].join(':');

  const resolved = alert.status === 'resolved';
  const event: Record<string, unknown> = {
    source: ALERTMANAGER_SOURCE,
    host,
    check,
    status: resolved ? 'ok' : statusOf(alert.labels[options.severityLabel], options.severities),
    // A resolved alert without an end (not sent by Alertmanager itself) keeps the time of receipt.
    time: resolved ? (isSet(alert.endsAt) ? alert.endsAt : undefined) : alert.startsAt,
    tags: { ...alert.labels, [RECEIVER_TAG]: receiver },
  };
  if (event.time === undefined) delete event.time;
  const text = TEXT_ANNOTATIONS.map((name) => nonEmpty(alert.annotations[name])).find((t) => t !== undefined);
  if (text !== undefined) event.text = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
  // Prometheus' convention for what to do about an alert; one that is no web link is left out, not the alert.
  const runbook = adaptedRunbook(alert.annotations.runbook_url);
  if (runbook !== undefined) event.runbook = runbook;
  // Alertmanager repeats a group's alerts on every notification; the same alert in the same state is one event.
  if (alert.fingerprint) event.id = `${alert.fingerprint}:${alert.status}:${alert.startsAt}`;
  return { event };
}

/** The host an alert is about: `host`, else `instance` without its port, else `nodename`. */
export function hostOf(labels: Record<string, string>): string | undefined {
  const host = nonEmpty(labels.host);
  if (host !== undefined) return host;
  const instance = nonEmpty(labels.instance);
  const fromInstance = instance === undefined ? undefined : hostOfInstance(instance);
  if (fromInstance !== undefined) return fromInstance;
  return nonEmpty(labels.nodename);
}

/**
 * `db1:9100` → `db1`, `[2001:db8::1]:9100` → `2001:db8::1`, `https://www.example.com/health` (blackbox probes)
 * → `www.example.com`; a bare IPv6 address (`2001:db8::1`, several colons and no brackets) has no port to strip.
 */
export function hostOfInstance(instance: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(instance)) {
    try {
      return nonEmpty(new URL(instance).hostname.replace(/^\[(.*)\]$/, '$1'));
    } catch {
      // not a URL after all: read as host:port below
    }
  }
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(instance);
  if (bracketed) return nonEmpty(bracketed[1]);
  const hostPort = /^([^:]*):\d*$/.exec(instance);
  if (hostPort) return nonEmpty(hostPort[1]);
  return instance;
}

/** A firing alert's status from its severity label: the configured words, the built-in ones, a status itself. */
export function statusOf(severity: string | undefined, configured: Record<string, Status>): Status {
  const word = severity?.trim().toLowerCase();
  if (word === undefined || word === '') return NO_SEVERITY_STATUS;
  for (const [key, status] of Object.entries(configured)) if (key.toLowerCase() === word) return status;
  if (Object.hasOwn(SEVERITY_WORDS, word)) return SEVERITY_WORDS[word]!;
  return normaliseStatus(word) ?? 'unknown';
}

/** Alertmanager writes an unset time as Go's zero time. */
function isSet(time: string | undefined): time is string {
  return time !== undefined && !time.startsWith('0001-01-01');
}

/** Prometheus treats an empty label as an absent one. */
function nonEmpty(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}
