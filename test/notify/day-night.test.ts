import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ensureLayout, STREAMS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { startNotifier, type Notifier } from '../../src/notify/notifier.ts';
import type { PagerDutyEvent } from '../../src/notify/pagerduty/pagerduty.ts';
import { freshNats, silentLog, testConfig } from '../support/services.ts';
import { deadNotifications, outboxDepth, storedMessages } from './bus.ts';
import { startCollector, type Collector } from './collector.ts';
import { aNotification, until } from './fixtures.ts';
import { startSmtpServer, type SmtpTestServer } from './smtp.ts';

/**
 * The mauve-style set-up of the README, end to end on real JetStream, a real SMTP server and an HTTP receiver
 * for PagerDuty: the DBAs are paged on weekdays 08:00 to 18:00 Berlin time and mailed otherwise, each at the
 * contacts the graph lists for them.
 */
describe('day and night routing through the outbox, to PagerDuty by day and email by night', () => {
  let nc: NatsConnection;
  let pd: Collector;
  let smtp: SmtpTestServer;
  let notifier: Notifier;
  let connection: NatsConnection;

  beforeEach(async () => {
    nc = await freshNats();
    await ensureLayout(nc);
    pd = await startCollector(() => 202);
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await notifier?.stop();
    await connection?.close();
    await pd.close();
    await smtp.close();
    await nc.close();
  });

  const config = () =>
    testConfig({
      notify: {
        timezone: 'Europe/Berlin',
        incidentUrl: 'https://faultline.example.com/incidents/{id}',
        channels: [
          { name: 'pager', type: 'pagerduty', url: pd.url },
          { name: 'mail', type: 'email', smtp: smtp.url, from: 'faultline@example.com', to: 'noc@example.com' },
        ],
        routes: [
          { match: { kind: 'page', time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' } }, channels: ['pager'], useContacts: true },
          { channels: ['mail'], useContacts: true },
        ],
      },
    });

  it('pages the routing key from the contacts at 10:00 on a Monday and mails the team at 23:00', async () => {
    const cfg = config();
    connection = await connectNats(inject('natsUrl'), 'notifier-test');
    const contacts = ['email:dba@example.com', 'slack:#dba', 'pagerduty:DBA-ROUTING-KEY-0000000000000000'];

    const day = aNotification({ contacts, dedupKey: 'inc-day/page/team:dba' });
    const night = aNotification({ contacts, dedupKey: 'inc-night/page/team:dba' });
    expect(await enqueueNotification(nc, cfg.notify, day, () => Date.parse('2026-11-23T09:00:00Z'))).toEqual({ channels: ['pager'] });
    expect(await enqueueNotification(nc, cfg.notify, night, () => Date.parse('2026-11-23T22:00:00Z'))).toEqual({ channels: ['mail'] });
    // The routing decision travels with the message: the notifier never reads the routes.
    const stored = await storedMessages(nc, STREAMS.outbox.name);
    expect(stored.map((m) => (m.data as { useContacts?: boolean }).useContacts)).toEqual([true, true]);
    // Started only now: a notifier running already could have delivered (and so removed) one before it was read.
    notifier = await startNotifier({ config: cfg, log: silentLog, nats: connection, retryBaseMs: 50 });

    await until('a page and a mail', () => pd.received.length === 1 && smtp.received.length === 1);
    await until('the outbox to drain', async () => (await outboxDepth(nc)) === 0);

    const [event] = pd.bodies() as unknown as PagerDutyEvent[];
    expect(event).toMatchObject({ event_action: 'trigger', routing_key: 'DBA-ROUTING-KEY-0000000000000000', dedup_key: 'faultline/inc-00000000000000d1/team:dba' });
    const [mail] = smtp.received;
    expect(mail!.envelope.to).toEqual(['dba@example.com']);
    expect(mail!.parsed.subject).toBe('[faultline] PAGE db1.example.com is failing: 1 service affected (service:mail)');
    expect(mail!.parsed.text).toContain('https://faultline.example.com/incidents/inc-00000000000000d1');
    expect(mail!.parsed.html).toContain('service:mail');
    expect(await deadNotifications(nc)).toEqual([]);
  });
});
