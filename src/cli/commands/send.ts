import type { z } from 'zod';
import { BusUnavailableError, InvalidEventError, publishEvent } from '../../bus/publish-event.ts';
import { connectNats } from '../../bus/nats.ts';
import { withoutCredentials } from '../../redact.ts';
import { adaptedRunbook, eventSchema, pointlessRaise, RUNBOOK_CHARS } from '../../correlator/event.ts';
import { loadRuntime, UsageError, type GlobalOptions } from '../runtime.ts';

/**
 * `faultline send`, like Nagios' send-alert: one event, validated here, stored on JetStream; exit 0 once the
 * stream has acknowledged it. A mistake in a flag is one line naming the flag (exit 2); a bus that does not
 * store the event is exit 1 naming the address. `--status` takes Nagios' and Icinga's state macros as they come
 * (`$SERVICESTATE$` OK/WARNING/CRITICAL/UNKNOWN, `$HOSTSTATE$` UP/DOWN/UNREACHABLE, `$SERVICESTATEID$` 0-3):
 * src/correlator/event.ts reads them, so the notification commands of docs/ingest.md need no wrapper script.
 */

export interface SendOptions {
  host: string;
  check: string;
  status: string;
  raise?: string;
  ttl?: string;
  text?: string;
  runbook?: string;
  tag?: string[];
  entity?: string;
  id?: string;
  source?: string;
  retire?: boolean;
}

export async function sendCommand(options: SendOptions, global: GlobalOptions): Promise<void> {
  const event = buildEvent(options);
  const { loaded, log } = loadRuntime(global);
  const url = loaded.config.nats.url;
  const nc = await connectNats(url, 'faultline-send');
  try {
    const ack = await publishEvent(nc, event, { source: options.source ?? 'cli' });
    log.debug({ subject: ack.subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }, 'event stored');
    process.stdout.write(
      ack.duplicate
        ? `accepted (duplicate of an earlier event with id "${options.id}"): ${ack.subject} seq ${ack.seq}\n`
        : `accepted: ${ack.subject} seq ${ack.seq}\n`,
    );
  } catch (err) {
    if (err instanceof InvalidEventError) throw new UsageError(err.message);
    if (err instanceof BusUnavailableError) throw new Error(`the event was not stored by NATS at ${withoutCredentials(url)}: ${err.message}`);
    throw err;
  } finally {
    await nc.close();
  }
}

/** The event the flags describe, validated; a problem is a UsageError naming the flag. */
export function buildEvent(options: SendOptions): Record<string, unknown> {
  const event: Record<string, unknown> = {
    source: options.source ?? 'cli',
    host: options.host,
    check: options.check,
    status: options.status,
  };
  if (options.raise !== undefined) event.raise = options.raise;
  if (options.ttl !== undefined) event.ttl = options.ttl;
  if (options.text !== undefined) event.text = options.text;
  if (options.runbook) {
    // Empty is none (a Nagios macro of a service without notes_url expands to nothing), and a link that will not
    // do (a relative notes_url) is left out with a warning: the alert matters more than its link.
    const runbook = adaptedRunbook(options.runbook);
    if (runbook !== undefined) event.runbook = runbook;
    else process.stderr.write(`faultline: --runbook "${options.runbook}" is no http(s) URL of at most ${RUNBOOK_CHARS} characters; sent without it\n`);
  }
  if (options.tag !== undefined) event.tags = parseTags(options.tag);
  if (options.entity !== undefined) event.entity = options.entity;
  if (options.id !== undefined) event.id = options.id;
  if (options.retire) event.retire = true;
  const result = eventSchema.safeParse(event);
  if (!result.success) throw new UsageError(result.error.issues.map(flagIssue).join('; '));
  const pointless = pointlessRaise(result.data, event);
  if (pointless) throw new UsageError(`--raise: ${pointless}`);
  return event;
}

/** `--tag k=v` flags as tags; a malformed or repeated one is a UsageError. */
export function parseTags(pairs: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--tag: expected key=value, got "${pair}"`);
    const key = pair.slice(0, at).trim();
    if (key in tags) throw new UsageError(`--tag: "${key}" is given twice`);
    tags[key] = pair.slice(at + 1);
  }
  return tags;
}

/** `--status: expected ok, ...`: the event field at fault, named as the flag that set it. */
function flagIssue(issue: z.core.$ZodIssue): string {
  const [field, key] = issue.path.map(String);
  const flag = field === 'tags' ? `--tag${key !== undefined ? ` ${key}` : ''}` : `--${field}`;
  return `${flag}: ${issue.message}`;
}
