import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createChannel, type ChannelOptions } from '../../src/notify/channel.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import type { PagerDutyEvent } from '../../src/notify/pagerduty/pagerduty.ts';
import { testConfig } from '../support/services.ts';
import { deadNotifications, notifierBus } from './bus.ts';
import { startCollector, type Collector } from './collector.ts';
import { aNotification, capturedLog, until } from './fixtures.ts';

const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY00';
const CONTACT_KEY = 'C0NTACTKEYC0NTACTKEYC0NTACTKEY00';

/** A pagerduty channel as configuration loading makes it, on the collector. */
function pagerduty(url: string, fields: Record<string, unknown> = {}, options: ChannelOptions = {}) {
  const [config] = configSchema.parse({ notify: { channels: [{ name: 'dba-pager', type: 'pagerduty', url, ...fields }] } }).notify.channels;
  return createChannel(config!, options);
}

const resolved = () => {
  const base = aNotification();
  return aNotification({
    kind: 'resolved',
    severity: 'ok',
    summary: 'db1.example.com recovered: 1 service affected (service:mail)',
    incident: { ...base.incident, status: 'resolved' },
    dedupKey: 'inc-00000000000000d1/resolved/team:dba',
  });
};

describe('the PagerDuty channel on a real HTTP receiver standing in for the Events API v2', () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });
  const events = () => collector!.bodies() as unknown as PagerDutyEvent[];

  it('triggers on a page and resolves with the same dedup key, with the configured routing key', async () => {
    collector = await startCollector(() => 202);
    const channel = pagerduty(collector.url, { routingKey: ROUTING_KEY }, { incidentUrl: 'https://faultline.example.com/incidents/{id}' });

    expect(await channel.send(aNotification())).toEqual({ ok: true });
    expect(await channel.send(resolved())).toEqual({ ok: true });

    const [trigger, resolve] = events();
    expect(trigger).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'faultline/inc-00000000000000d1/team:dba',
      payload: {
        summary: 'db1.example.com is failing: 1 service affected (service:mail)',
        source: 'db1.example.com',
        severity: 'critical',
        timestamp: aNotification().createdAt,
        component: 'db1.example.com',
        group: 'team:dba',
        custom_details: {
          incident: 'inc-00000000000000d1',
          status: 'open',
          root: ['db1.example.com'],
          rootAlerts: [{ id: 'db1.example.com/mysql', status: 'critical', text: 'connection refused' }],
          suppressed: 2,
          suppressedAlerts: ['mail1.example.com/mailq', 'mail1.example.com/smtp'],
          affectedServices: ['service:mail'],
          owners: ['team:dba'],
          stakeholders: ['team:mail'],
        },
      },
      links: [{ href: 'https://faultline.example.com/incidents/inc-00000000000000d1', text: 'faultline incident inc-00000000000000d1' }],
      client: 'faultline',
      client_url: 'https://faultline.example.com/incidents/inc-00000000000000d1',
    });
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: trigger!.dedup_key });
    // The notifications' own dedup keys differ (each is delivered once); PagerDuty's is the incident's and the team's.
    expect(aNotification().dedupKey).not.toBe(resolved().dedupKey);
  });

  it('gives two teams paged for one incident an alert each, and maps the severities', async () => {
    collector = await startCollector(() => 202);
    const channel = pagerduty(collector.url, { routingKey: ROUTING_KEY });
    await channel.send(aNotification({ team: 'team:dba', severity: 'critical' }));
    await channel.send(aNotification({ team: 'team:storage', severity: 'warning', dedupKey: 'inc-00000000000000d1/page/team:storage' }));
    await channel.send(aNotification({ team: null, severity: 'unknown', dedupKey: 'inc-00000000000000d1/page/unowned' }));
    const triggers = events().filter((e) => e.event_action === 'trigger');
    expect(triggers.map((e) => [e.dedup_key, e.payload.severity])).toEqual([
      ['faultline/inc-00000000000000d1/team:dba', 'critical'],
      ['faultline/inc-00000000000000d1/team:storage', 'warning'],
      ['faultline/inc-00000000000000d1/unowned', 'error'],
    ]);
  });

  it("takes the routing key from the team's pagerduty: contact when none is configured or the route says useContacts", async () => {
    collector = await startCollector(() => 202);
    const withContact = aNotification({ contacts: ['email:dba@example.com', `pagerduty:${CONTACT_KEY}`] });

    await pagerduty(collector.url).send(withContact);
    await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(withContact);
    await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(withContact, { useContacts: true });
    await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(aNotification(), { useContacts: true });

    expect(events().map((e) => e.routing_key)).toEqual([CONTACT_KEY, ROUTING_KEY, CONTACT_KEY, ROUTING_KEY]);
    expect(await pagerduty(collector.url).send(aNotification())).toEqual({
      ok: false,
      retryable: false,
      error: 'no routing key: the channel has no routingKey and team:dba has no pagerduty: contact',
    });
  });

  it('pages nobody with a stakeholder notice, and resolves an incident folded into another', async () => {
    collector = await startCollector(() => 202);
    const channel = pagerduty(collector.url, { routingKey: ROUTING_KEY });
    const base = aNotification();

    const notice = await channel.send(aNotification({ kind: 'stakeholder', team: 'team:mail' }));
    expect(notice).toEqual({ ok: true, skipped: expect.stringContaining('pages nobody') });
    await channel.send(
      aNotification({ kind: 'update', reason: 'caused by sw1: folded into inc-2', incident: { ...base.incident, status: 'resolved', mergedInto: 'inc-2' } }),
    );

    expect(events()).toEqual([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'faultline/inc-00000000000000d1/team:dba' }]);
  });
  it("acknowledges the owners' alert when someone acknowledged the incident in faultline, and tells a stakeholder nothing", async () => {
    collector = await startCollector(() => 202);
    const channel = pagerduty(collector.url, { routingKey: ROUTING_KEY });
    const base = aNotification();
    const acknowledged = (team: string) =>
      aNotification({
        kind: 'update',
        team,
        change: 'acknowledged',
        reason: 'acknowledged by noc-operator',
        incident: { ...base.incident, status: 'acknowledged', acknowledgedBy: 'noc-operator' },
        dedupKey: `inc-00000000000000d1/update/${team}/acknowledged`,
      });

    expect(await channel.send(acknowledged('team:dba'))).toEqual({ ok: true });
    expect(await channel.send(acknowledged('team:mail'))).toMatchObject({ ok: true, skipped: expect.stringMatching(/does not own the root/) });
    expect(events()).toEqual([{ routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: 'faultline/inc-00000000000000d1/team:dba' }]);
  });

  it('leaves a reminder to the escalation policy: nothing is sent', async () => {
    collector = await startCollector(() => 202);
    const reminder = aNotification({ kind: 'update', change: 'reminder', reason: 'open for 4h and nobody has acknowledged it' });
    expect(await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(reminder)).toEqual({ ok: true, skipped: expect.stringContaining('escalates') });
    expect(collector.received).toHaveLength(0);
  });

  it("links each root alert's runbook beside the incident, so the responder's next click is what to do", async () => {
    collector = await startCollector(() => 202);
    const base = aNotification();
    const linked = aNotification({ incident: { ...base.incident, rootAlerts: [{ id: 'db1.example.com/mysql', status: 'critical', runbook: 'https://wiki.example.com/runbooks/mysql' }] } });
    await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(linked);
    await pagerduty(collector.url, { routingKey: ROUTING_KEY }, { incidentUrl: 'https://faultline.example.com/incidents/{id}' }).send(linked);
    const [bare, both] = events() as { links?: unknown }[];
    expect(bare!.links).toEqual([{ href: 'https://wiki.example.com/runbooks/mysql', text: 'runbook for db1.example.com/mysql' }]);
    expect(both!.links).toEqual([
      { href: 'https://faultline.example.com/incidents/inc-00000000000000d1', text: 'faultline incident inc-00000000000000d1' },
      { href: 'https://wiki.example.com/runbooks/mysql', text: 'runbook for db1.example.com/mysql' },
    ]);
  });

  it('sends no note: its Events API cannot add one, and a note pages nobody', async () => {
    collector = await startCollector(() => 202);
    const note = aNotification({ kind: 'update', change: 'note', reason: 'ops: failing over', note: { by: 'ops', text: 'failing over', at: '2026-12-07T10:00:00.000Z' } });
    expect(await pagerduty(collector.url, { routingKey: ROUTING_KEY }).send(note)).toEqual({ ok: true, skipped: expect.stringContaining('cannot add one') });
    expect(collector.received).toHaveLength(0);
  });
});

describe('PagerDuty deliveries through the outbox and the notifier', () => {
  const bus = notifierBus();
  let nc: NatsConnection;
  let collector: Collector;
  beforeEach(() => {
    nc = bus.nc();
  });
  afterEach(async () => {
    await collector?.close();
  });

  const config = () =>
    testConfig({
      notify: { channels: [{ name: 'dba-pager', type: 'pagerduty', url: collector.url, routingKey: ROUTING_KEY }], routes: [{ channels: ['dba-pager'] }] },
    });

  const notifier = (cfg: ReturnType<typeof config>, log = capturedLog().log) => bus.notifier(cfg, { log });
  const settled = bus.settled;

  it('retries a trigger PagerDuty rate-limits with 429, then delivers it once; the resolve follows with the same key', async () => {
    collector = await startCollector((n) => (n === 1 ? 429 : 202));
    const cfg = config();
    const captured = capturedLog();
    await notifier(cfg, captured.log);

    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('the trigger delivered', () => collector.received.length === 2);
    await enqueueNotification(nc, cfg.notify, resolved());
    await until('the resolve delivered', () => collector.received.length === 3);
    await settled();

    const events = collector.bodies() as unknown as PagerDutyEvent[];
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
    expect(new Set(events.map((e) => e.dedup_key))).toEqual(new Set(['faultline/inc-00000000000000d1/team:dba']));
    expect(captured.lines().filter((l) => l.msg === 'delivery failed; will retry').map((l) => l.error)).toEqual(['HTTP 429 Too Many Requests: refused with 429 (POST ***)']);
    expect(await deadNotifications(nc)).toEqual([]);
    expect(captured.text()).not.toContain(ROUTING_KEY);
  });

  it('dead-letters an event PagerDuty refuses with 400, without retrying and without the routing key', async () => {
    collector = await startCollector(() => 400);
    const cfg = config();
    const captured = capturedLog();
    await notifier(cfg, captured.log);

    await enqueueNotification(nc, cfg.notify, aNotification());
    await until('a dead letter', async () => (await deadNotifications(nc)).length === 1);
    await settled();

    expect(collector.received).toHaveLength(1);
    const [dead] = await deadNotifications(nc);
    expect(dead).toMatchObject({ channel: 'dba-pager', attempts: 1, error: expect.stringMatching(/^HTTP 400/) });
    expect(JSON.stringify(dead)).not.toContain(ROUTING_KEY);
    expect(captured.text()).not.toContain(ROUTING_KEY);
  });

  it('logs a stakeholder notice on a pagerduty channel as skipped, not delivered, and sends nothing', async () => {
    collector = await startCollector(() => 202);
    const cfg = config();
    const captured = capturedLog();
    await notifier(cfg, captured.log);

    await enqueueNotification(nc, cfg.notify, aNotification({ kind: 'stakeholder', team: 'team:mail', dedupKey: 'inc-00000000000000d1/stakeholder/team:mail' }));
    await settled();
    await until('the skip logged', () => captured.lines().some((l) => l.msg === 'notification skipped by its channel'));

    expect(collector.received).toEqual([]);
    expect(captured.lines().filter((l) => l.msg === 'notification delivered')).toEqual([]);
  });
});
