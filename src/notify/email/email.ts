import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { createTransport } from 'nodemailer';
import { contactsOf, DEFAULT_TIMEOUT_MS, incidentLink, type ChannelAdapter, type ChannelConfig, type ChannelOptions, type DeliveryResult } from '../channel.ts';
import { redact } from '../../redact.ts';
import type { Notification } from '../notification.ts';
import { addressee, facts, headline } from '../render.ts';

type EmailConfig = Extract<ChannelConfig, { type: 'email' }>;

/** A mail ready for nodemailer: addresses, subject and both bodies. */
export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  messageId: string;
}

const SUBJECT_CHARS = 200;

/**
 * Email over SMTP with nodemailer (`smtp: smtp://host:port`, STARTTLS when the server offers it, or
 * `smtps://host:465`; credentials as `smtp://user:password@host`). Recipients are the configured `to`, or the
 * team's `email:` contacts when there is no `to` or the route says `useContacts` (then `to` is the fallback for
 * a team without one). The mail has a plain-text and an HTML body saying the same.
 *
 * An SMTP answer 4xx (and a connection refused, a timeout, a dropped connection) may pass later; 5xx is final.
 * The URL's password never appears in an error.
 */
export function emailChannel(config: EmailConfig, options: ChannelOptions = {}): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = new URL(config.smtp);
  const secrets = [url.password, decoded(url.password), config.smtp].filter((s) => s.length > 0);
  const from = config.from ?? `faultline <faultline@${hostname()}>`;
  const configured = config.to === undefined ? [] : Array.isArray(config.to) ? config.to : [config.to];
  const transport = createTransport({
    url: config.smtp,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // The message is built from the notification alone; nothing in it may make nodemailer read a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    name: config.name,
    type: 'email',
    async send(notification, send = {}): Promise<DeliveryResult> {
      const contacts = send.useContacts || configured.length === 0 ? contactsOf(notification, 'email') : [];
      const to = contacts.length > 0 ? contacts : configured;
      if (to.length === 0) {
        return { ok: false, retryable: false, error: `no recipient: the channel has no "to" and ${notification.team ?? 'the (unowned) root'} has no email: contact` };
      }
      const message = emailMessage(notification, incidentLink(options.incidentUrl, notification.incident.id));
      // nodemailer's timeouts are per step (connect, greeting, each command); this bounds the whole delivery.
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = send.signal ? AbortSignal.any([send.signal, deadline]) : deadline;
      try {
        const info = await transport.sendMail({ from, to, ...message, signal });
        const rejected = info.rejected.map(String);
        if (rejected.length > 0) {
          // Retrying would send it again to those who have it: the delivery stands, the operator hears of the rest.
          return { ok: true, warning: `the SMTP server refused ${rejected.join(', ')}` };
        }
        return { ok: true };
      } catch (err) {
        if (deadline.aborted) return { ok: false, retryable: true, error: `no answer within ${timeoutMs} ms` };
        if (send.signal?.aborted) return { ok: false, retryable: true, error: 'delivery interrupted: the notifier is stopping' };
        return smtpFailure(err, secrets);
      }
    },
  };
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** nodemailer errors that no retry fixes although no SMTP status came with them (configuration mistakes). */
const FINAL_CODES = new Set(['EAUTH', 'ENOAUTH', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'EMAXRECIPIENTS', 'EREQUIRETLS']);

/** An SMTP status decides: 4xx is transient by the protocol's own definition, 5xx permanent; no status is a network failure. */
export function smtpFailure(err: unknown, secrets: readonly string[] = []): DeliveryResult & { ok: false } {
  const e = (err ?? {}) as SmtpError;
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const said = (e.response ?? e.message ?? String(err)).split('\n')[0]!.trim();
  const error = redact(`SMTP ${status ?? e.code ?? 'error'}: ${said}`, secrets).slice(0, 300);
  if (status !== undefined) return { ok: false, retryable: status >= 400 && status < 500, error };
  return { ok: false, retryable: !FINAL_CODES.has(e.code ?? ''), error };
}

/** The mail for one notification (pure; exported for tests and previews). */
export function emailMessage(notification: Notification, link: string | undefined): EmailMessage {
  const subject = `[faultline] ${headline(notification)}`;
  const shown = facts(notification, link);
  const width = Math.max(...shown.map((f) => f.label.length)) + 2;
  const text = [
    addressee(notification),
    notification.summary,
    '',
    ...shown.flatMap((f) => f.items.map((item, i) => `${i === 0 ? `${f.label}:`.padEnd(width) : ' '.repeat(width)}${item}`)),
    '',
    '-- ',
    `faultline · ${notification.dedupKey}`,
    '',
  ].join('\n');

  const rows = shown
    .map((f) => {
      const items = f.items.map((item) => (f.label === 'Link' ? `<a href="${escapeHtml(item)}">${escapeHtml(item)}</a>` : escapeHtml(item)));
      return `<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td style="padding:2px 0">${items.join('<br>')}</td></tr>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:sans-serif">
<p>${escapeHtml(addressee(notification))}</p>
<h2 style="font-size:1.2em">${escapeHtml(notification.summary)}</h2>
<table>
${rows}
</table>
<p style="color:#777;font-size:0.85em">faultline · ${escapeHtml(notification.dedupKey)}</p>
</body></html>
`;

  const { incident } = notification;
  return {
    subject: subject.length <= SUBJECT_CHARS ? subject : `${subject.slice(0, SUBJECT_CHARS - 1)}…`,
    text,
    html,
    headers: {
      'X-Faultline-Incident': incident.id,
      'X-Faultline-Kind': notification.kind,
      'X-Faultline-Dedup-Key': notification.dedupKey,
      // Mail about one incident threads together in the reader's client.
      References: `<${digest(incident.id)}@faultline>`,
    },
    // The same notification sent twice (at-least-once delivery) is the same message, which receivers may drop.
    messageId: `<${digest(notification.dedupKey)}@faultline>`,
  };
}

/** A percent-encoded password as nodemailer will send it (and a server might echo it); as written if malformed. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
