import type { Writable } from 'node:stream';
import type { ChannelAdapter, ChannelConfig, ChannelOptions } from '../channel.ts';
import { incidentLink } from '../channel.ts';
import type { Notification } from '../notification.ts';
import { addressee, facts, headline } from '../render.ts';

type ConsoleConfig = Extract<ChannelConfig, { type: 'console' }>;

/**
 * Prints each notification as a few readable lines on standard output: the channel `faultline dev` uses when no
 * other is configured, so a page shows where the operator is looking. Writing cannot fail in a way worth retrying.
 */
export function consoleChannel(config: ConsoleConfig, options: ChannelOptions & { out?: Writable } = {}): ChannelAdapter {
  const out = options.out ?? process.stdout;
  return {
    name: config.name,
    type: config.type,
    async send(notification: Notification) {
      out.write(render(notification, incidentLink(options.incidentUrl, notification.incident.id)));
      return { ok: true };
    },
  };
}

function render(notification: Notification, link: string | undefined): string {
  const lines = [`── ${headline(notification)}`, `   ${addressee(notification)}`];
  for (const fact of facts(notification, link, 5)) if (fact.items.length > 0) lines.push(`   ${fact.label}: ${fact.items.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
