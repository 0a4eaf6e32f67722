import { afterEach, describe, expect, it } from 'vitest';
import { createChannel } from '../../src/notify/channel.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { slackMessage, type SlackMessage } from '../../src/notify/slack/slack.ts';
import { closedPort, startCollector, type Collector } from './collector.ts';
import { aNotification } from './fixtures.ts';
import { facts } from '../../src/notify/render.ts';

const INCIDENT_URL = 'https://faultline.example.com/incidents/{id}';

describe('the Slack channel on a real HTTP receiver standing in for an incoming webhook', () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  const messages = () => collector!.bodies() as unknown as (SlackMessage & { channel?: string })[];
  /** Everything a reader sees: the fallback text and every text of every block. */
  const shown = (m: SlackMessage): string[] => texts(m);
  const texts = (node: unknown): string[] =>
    Array.isArray(node)
      ? node.flatMap(texts)
      : node !== null && typeof node === 'object'
        ? Object.entries(node).flatMap(([key, value]) => (key === 'text' && typeof value === 'string' ? [value] : texts(value)))
        : [];

  it('posts a message naming the kind, root, affected services, owners, stakeholders, the suppressed count and a link', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'dba-chat', type: 'slack', url: collector.url }, { incidentUrl: INCIDENT_URL });

    expect(await channel.send(aNotification())).toEqual({ ok: true });

    expect(collector.received[0]!.headers['content-type']).toBe('application/json');
    const [message] = messages();
    expect(message!.channel).toBeUndefined();
    // The fallback text alone (what a phone notification shows) names root, affected services and owners.
    expect(message!.text).toBe(
      'PAGE db1.example.com is failing: 1 service affected (service:mail). Root: db1.example.com. Affected: service:mail. Owners: team:dba. ' +
        '<https://faultline.example.com/incidents/inc-00000000000000d1|inc-00000000000000d1>',
    );
    expect(message!.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'PAGE: db1.example.com', emoji: true } });
    const fields = texts(message!.blocks.filter((b) => b.type === 'section' && 'fields' in b));
    expect(fields).toEqual(
      expect.arrayContaining([
        '*Root*\ndb1.example.com',
        '*Affected services*\nservice:mail',
        '*Owners*\nteam:dba',
        '*Stakeholders*\nteam:mail',
        '*Suppressed alerts*\n2 (mail1.example.com/mailq, mail1.example.com/smtp)',
      ]),
    );
    expect(shown(message!).join('\n')).toContain('<https://faultline.example.com/incidents/inc-00000000000000d1|inc-00000000000000d1>');
  });

  it('says what a stakeholder notice and a resolution are, and shows no link when none is configured', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });

    await channel.send(aNotification({ kind: 'stakeholder', team: 'team:mail' }));
    await channel.send(aNotification({ kind: 'resolved', summary: 'db1.example.com recovered: 1 service affected (service:mail)' }));

    const [notice, resolved] = messages();
    expect(notice!.text).toMatch(/^NOTICE db1\.example\.com is failing/);
    expect(shown(notice!).join('\n')).toContain('Notice for team:mail: a service of yours is affected');
    expect(resolved!.text).toMatch(/^RESOLVED db1\.example\.com recovered/);
    expect(shown(resolved!).join('\n')).not.toContain('http');
  });

  it('says who acknowledged an incident', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });
    const base = aNotification();
    await channel.send(
      aNotification({ kind: 'update', change: 'acknowledged', reason: 'acknowledged by noc-operator', incident: { ...base.incident, status: 'acknowledged', acknowledgedBy: 'noc-operator' } }),
    );
    const [update] = messages();
    expect(update!.text).toMatch(/^UPDATE db1\.example\.com is failing/);
    expect(shown(update!).join('\n')).toContain('Update for team:dba: noc-operator acknowledged the incident and is on it.');
  });

  it('says a reminder is one, and why', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });
    await channel.send(aNotification({ kind: 'update', change: 'reminder', reason: 'open for 4h and nobody has acknowledged it' }));
    const [reminder] = messages();
    expect(reminder!.text).toMatch(/^REMINDER db1\.example\.com is failing/);
    const text = shown(reminder!).join('\n');
    expect(text).toContain('REMINDER: db1.example.com');
    expect(text).toContain('Reminder for team:dba: you own the root cause, the incident is still open, and nobody has acknowledged it.');
    expect(text).toContain('open for 4h and nobody has acknowledged it');
  });

  it("shows the root alerts' runbooks, each once", async () => {
    const base = aNotification();
    const runbook = 'https://wiki.example.com/runbooks/mysql';
    const twice = aNotification({ incident: { ...base.incident, rootAlerts: [{ id: 'db1/mysql', status: 'critical', runbook }, { id: 'db1/mysql-repl', status: 'critical', runbook }, { id: 'db1/disk', status: 'warning' }] } });
    expect(facts(twice, undefined)).toContainEqual({ label: 'Runbook', items: [runbook] });
    expect(facts(base, undefined).map((f) => f.label)).not.toContain('Runbook');
  });

  it('a note says who wrote it and what', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });
    await channel.send(aNotification({ kind: 'update', change: 'note', reason: 'ops@noc: failing over to db2', note: { by: 'ops@noc', text: 'failing over to db2', at: '2026-12-07T10:00:00.000Z' } }));
    const text = shown(messages()[0]!).join('\n');
    expect(text).toContain('Update for team:dba: a note on the incident.');
    expect(text).toContain('ops@noc: failing over to db2');
    expect(facts(aNotification({ kind: 'update', change: 'note', reason: 'ops@noc: failing over to db2' }), undefined)).toContainEqual({ label: 'Note', items: ['ops@noc: failing over to db2'] });
  });

  it('a page storm says in the header how many root causes it holds, and lists its incidents', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });
    const webs = Array.from({ length: 37 }, (_, i) => `web${String(i + 1).padStart(2, '0')}.example.com`);
    const members = webs.map((_, i) => `inc-${String(i).padStart(16, '0')}`);
    const summary = `storm for team:web: 37 root causes failing (${webs.slice(0, 5).join(', ')}, …); all 37 of their hosts in rack r12 in dc1, which holds 40`;
    await channel.send(
      aNotification({
        team: 'team:web',
        summary,
        dedupKey: 'inc-00000000000000e5/page/team:web',
        incident: {
          ...aNotification().incident,
          id: 'inc-00000000000000e5',
          root: webs,
          rootAlerts: [],
          suppressed: [],
          suppressedCount: 0,
          affectedServices: [],
          owners: ['team:web'],
          stakeholders: [],
          storm: { members, memberCount: 37 },
        },
      }),
    );
    const [page] = messages();
    expect(page!.text).toMatch(/^PAGE storm for team:web: 37 root causes failing/);
    const text = shown(page!).join('\n');
    expect(text).toContain('PAGE: storm of 37 root causes');
    expect(text).toContain('all 37 of their hosts in rack r12 in dc1, which holds 40');
    expect(text).toContain('Page for team:web: a storm of root causes you own, one page for all of them; each has its own incident.');
    expect(text).toContain(`*Incidents in the storm*\n37 (${members.slice(0, 5).join(', ')}, and 32 more)`);
  });

  it('ends a page and a reminder of an open incident in an Acknowledge button when the channel asks for it, and nothing else', () => {
    const button = (n: Notification, acknowledgeButton = true) => slackMessage(n, undefined, { acknowledgeButton }).blocks.find((b) => b.type === 'actions');
    const base = aNotification();
    expect(button(base)).toEqual({
      type: 'actions',
      block_id: `faultline-${base.incident.id}`,
      elements: [{ type: 'button', action_id: 'faultline-acknowledge', text: { type: 'plain_text', text: 'Acknowledge' }, value: base.incident.id, style: 'primary' }],
    });
    expect(button(aNotification({ kind: 'update', change: 'reminder' }))).toBeDefined();
    expect(button(base, false)).toBeUndefined();
    expect(button(aNotification({ kind: 'stakeholder', team: 'team:mail' }))).toBeUndefined();
    expect(button(aNotification({ kind: 'resolved', incident: { ...base.incident, status: 'resolved' } }))).toBeUndefined();
    expect(button(aNotification({ kind: 'update', change: 'acknowledged', incident: { ...base.incident, status: 'acknowledged' } }))).toBeUndefined();
  });

  it("escapes Slack's control characters in what the monitoring said", async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url });
    const base = aNotification();
    await channel.send(aNotification({ incident: { ...base.incident, rootAlerts: [{ id: 'db1/mysql', status: 'critical', text: '<!channel> & <http://evil|click>' }] } }));
    const text = shown(messages()[0]!).join('\n');
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
    expect(text).not.toContain('<!channel>');
  });

  it("posts to the configured channel, or to the team's slack: contact when the route says useContacts", async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'chat', type: 'slack', url: collector.url, channel: '#ops' });

    await channel.send(aNotification());
    await channel.send(aNotification(), { useContacts: true });
    await channel.send(aNotification({ contacts: ['email:dba@example.com'] }), { useContacts: true });

    expect(messages().map((m) => m.channel)).toEqual(['#ops', '#dba', '#ops']);
  });

  it('retries 5xx and 429, refuses for good on 4xx, and never shows the webhook URL', async () => {
    const statuses = [500, 429, 400, 404];
    collector = await startCollector((n) => statuses[n - 1]!);
    const url = `${collector.url}/T000/B000/s3cr3t-token`;
    const channel = createChannel({ name: 'chat', type: 'slack', url });
    const results = [];
    for (const _ of statuses) results.push(await channel.send(aNotification()));
    expect(results.map((r) => (r.ok ? 'ok' : r.retryable))).toEqual([true, true, false, false]);
    expect(collector.received[0]!.path).toBe('/hook/T000/B000/s3cr3t-token');

    const port = await closedPort();
    const refused = await createChannel({ name: 'chat', type: 'slack', url: `http://127.0.0.1:${port}/services/s3cr3t-token` }).send(aNotification());
    expect(refused).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify([...results, refused])).not.toContain('s3cr3t');
  });
});
