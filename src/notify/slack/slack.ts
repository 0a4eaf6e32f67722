import { contactsOf, DEFAULT_TIMEOUT_MS, incidentLink, type ChannelAdapter, type ChannelConfig, type ChannelOptions } from '../channel.ts';
import { postJson } from '../http.ts';
import type { Notification, NotificationKind } from '../notification.ts';
import { about, addressee, facts, headline, label } from '../render.ts';

type SlackConfig = Extract<ChannelConfig, { type: 'slack' }>;

/** The incoming-webhook document: `text` is the fallback (and what the phone notification shows), `blocks` the message. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  channel?: string;
}

type SlackText = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'actions'; block_id: string; elements: SlackButton[] };
type SlackButton = { type: 'button'; action_id: string; text: SlackText; value: string; style?: 'primary' | 'danger' };

/** The Acknowledge button's action id: `POST /ingest/slack` acts on clicks of it (src/api/ingest/slack.ts). */
export const ACKNOWLEDGE_ACTION = 'faultline-acknowledge';

const EMOJI: Record<NotificationKind, string> = {
  page: ':rotating_light:',
  stakeholder: ':information_source:',
  update: ':arrows_counterclockwise:',
  resolved: ':white_check_mark:',
};

/** Block Kit limits: a header holds 150 characters, a field 2,000, a section 10 fields. */
const HEADER_CHARS = 150;
const FIELD_CHARS = 2_000;
const MAX_FIELDS = 10;

/**
 * Slack through an incoming webhook: one message naming the kind, the root, the affected services, the owners
 * and stakeholders, the suppressed count and a link to the incident (`notify.incidentUrl`). The webhook URL is
 * the secret: it never appears in an error. With `useContacts` and a `slack:#channel` contact the message goes
 * to that channel (legacy webhooks honour `channel`; app webhooks post to their own channel regardless).
 */
export function slackChannel(config: SlackConfig, options: ChannelOptions = {}): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: config.name,
    type: 'slack',
    send: (notification, send = {}) => {
      const contact = send.useContacts ? contactsOf(notification, 'slack')[0] : undefined;
      const channel = contact ?? config.channel;
      const message = slackMessage(notification, incidentLink(options.incidentUrl, notification.incident.id), { acknowledgeButton: config.acknowledgeButton === true });
      return postJson(config.url, channel ? { ...message, channel } : message, { timeoutMs, signal: send.signal });
    },
  };
}

/**
 * The message for one notification (pure; exported for tests and previews). With `acknowledgeButton`, a page or a
 * reminder of an open incident ends in an Acknowledge button whose value is the incident id.
 */
export function slackMessage(notification: Notification, link: string | undefined, { acknowledgeButton = false } = {}): SlackMessage {
  const { incident } = notification;
  const shown = facts(notification, undefined);
  const fields = shown
    .filter((f) => f.label !== 'Incident' && f.label !== 'Reason')
    .slice(0, MAX_FIELDS)
    .map((f): SlackText => ({ type: 'mrkdwn', text: clip(`*${f.label}*\n${f.items.map(escape).join('\n')}`, FIELD_CHARS) }));
  const reason = notification.reason ? `\n_${escape(notification.reason)}_` : '';
  const id = link ? `<${link}|${escape(incident.id)}>` : `\`${escape(incident.id)}\``;

  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${label(notification)}: ${about(notification)}`, HEADER_CHARS), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${EMOJI[notification.kind]} *${escape(notification.summary)}*\n${escape(addressee(notification))}${reason}`, 3_000) } },
    ...(fields.length > 0 ? [{ type: 'section' as const, fields }] : []),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(`Incident ${id} · ${incident.status} · opened ${incident.openedAt} · faultline`, FIELD_CHARS) }],
    },
  ];
  const asksForSomeone = notification.kind === 'page' || notification.change === 'reminder';
  if (acknowledgeButton && asksForSomeone && incident.status === 'open') {
    blocks.push({
      type: 'actions',
      block_id: `faultline-${incident.id}`,
      elements: [{ type: 'button', action_id: ACKNOWLEDGE_ACTION, text: { type: 'plain_text', text: 'Acknowledge' }, value: incident.id, style: 'primary' }],
    });
  }

  // The fallback names the same essentials, for notifications, screen readers and clients without blocks.
  const list = (label: string, items: readonly string[]) => (items.length > 0 ? ` ${label}: ${items.slice(0, 10).join(', ')}${items.length > 10 ? ', …' : ''}.` : '');
  const text =
    `${escape(headline(notification))}.` +
    escape(list('Root', incident.root) + list('Affected', incident.affectedServices) + list('Owners', incident.owners)) +
    (link ? ` <${link}|${escape(incident.id)}>` : ` ${escape(incident.id)}`);
  return { text, blocks };
}

/** Slack's mrkdwn needs only these three escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
