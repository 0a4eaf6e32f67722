import { createHmac } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, openIncidents, pages, pipeline, sleep, until, type Pipeline } from '../correlator/harness.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { aNotification } from '../notify/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { silentLog, testEnv } from '../support/services.ts';

/**
 * The correlation answers of design section 8 over real HTTP, from a real correlator deciding on real NATS, on the
 * estate compiled by real Puppet (test/fixtures/puppet): log1's unbound is the only DNS, which Exim on mail1 and
 * mail2 needs; db1 and db2 both provide the greylisting MySQL. Settle window 600 ms (harness.ts).
 */
const UNBOUND = 'log1.example.com::Service[unbound]';
const OPERATOR = 'operator-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const BOT = 'bot-token-0123456789abcdef-write';
const PD_SECRET = 'pagerduty-signing-secret-0123456789';
const PD_NEXT_SECRET = 'pagerduty-rotated-secret-9876543210';
const SLACK_SECRET = 'slack-signing-secret-0123456789ab';

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

type Gql = { data?: any; errors?: { message: string; extensions?: { code?: string; ids?: string[] } }[] };

const ids = (list: { id: string }[]) => list.map((e) => e.id).sort();

describe('GraphQL correlation answers on a real correlator', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let p: Pipeline;
  let server: ApiServer;
  /** The API's own NATS connection: what it receives shows whether a subscription is still alive. */
  let apiNats: NatsConnection;

  const ask = async (query: string, variables: Record<string, unknown> = {}, token = OPERATOR): Promise<Gql> => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as Gql;
  };
  const answer = async (query: string, variables: Record<string, unknown> = {}, token = OPERATOR) => {
    const { data, errors } = await ask(query, variables, token);
    expect(errors).toBeUndefined();
    return data;
  };

  /**
   * How many copies of one message on faultline.incidents.> reach the API's NATS connection: one per live
   * subscription. (The probe is no incident: the subscription skips it, so no client sees it.)
   */
  const deliveriesPerProbe = async (): Promise<number> => {
    await apiNats.flush();
    const before = apiNats.stats().inMsgs;
    p.nats.publish('faultline.incidents.probe.updated', '{}');
    await p.nats.flush();
    await apiNats.flush();
    return apiNats.stats().inMsgs - before;
  };

  async function start(extra: Record<string, unknown> = {}): Promise<void> {
    p = await pipeline(topology, {
      ...extra,
      api: {
        port: 0,
        auth: 'token',
        tokens: [
          { name: 'noc-operator', token: OPERATOR, scopes: ['read', 'write'] },
          { name: 'dashboard', token: VIEWER, scopes: ['read'] },
          { name: 'bot', token: BOT, scopes: ['write'] },
        ],
      },
      ingest: { pagerduty: { secret: [PD_SECRET, PD_NEXT_SECRET] }, slack: { signingSecret: SLACK_SECRET } },
    });
    apiNats = await connectNats(p.config.nats.url, 'faultline-test-api');
    server = await startApiServer({ config: p.config, log: silentLog, neo4j: driver, nats: apiNats, topology, correlation: p.correlator.view, version: 'test' });
  }

  beforeAll(async () => {
    ({ driver, topology } = await estate());
  });
  afterEach(async () => {
    await server?.close();
    await apiNats?.close();
    await p?.close();
  });
  afterAll(async () => {
    await driver?.close();
  });

  it('lists a suppressed alert with the root that explains it, and the root alert with its incident', async () => {
    await start();
    await p.send('mail1.example.com', 'mailq', 'critical', { text: 'queue 5000', tags: { dc: 'dc1' } });
    await p.send('log1.example.com', 'dns', 'critical', { text: 'unbound not answering' });
    await until('mailq suppressed', () => p.decision('mail1.example.com/mailq')?.verdict === 'suppressed');

    const fields = 'id host check status suppressed reason mapped text since lastSeen tags { key value } entity { id } suppressedBy { id }';
    const suppressed = await answer(`{ alerts(state: SUPPRESSED) { ${fields} } }`);
    expect(suppressed.alerts).toEqual([
      {
        id: 'mail1.example.com/mailq',
        host: 'mail1.example.com',
        check: 'mailq',
        status: 'CRITICAL',
        suppressed: true,
        reason: 'DEPENDENCY',
        mapped: true,
        text: 'queue 5000',
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        tags: [{ key: 'dc', value: 'dc1' }],
        entity: { id: expect.stringMatching(/^mail1\.example\.com/) },
        suppressedBy: [{ id: UNBOUND }],
      },
    ]);

    const roots = await answer('{ alerts(state: ROOT) { id suppressed reason suppressedBy { id } entity { id } } }');
    expect(roots.alerts).toEqual([{ id: 'log1.example.com/dns', suppressed: false, reason: null, suppressedBy: [], entity: { id: UNBOUND } }]);
    expect(ids((await answer('{ alerts(state: FIRING) { id } }')).alerts)).toEqual(['log1.example.com/dns', 'mail1.example.com/mailq']);
    expect((await answer('{ alerts(state: OK) { id } }')).alerts).toEqual([]);

    // Once the settle window has passed, both alerts point at the one incident.
    const incident = await until('the DNS incident', () => openIncidents(p)[0]);
    const linked = await answer('{ alerts { id incident { id } } }');
    expect(linked.alerts).toEqual([
      { id: 'log1.example.com/dns', incident: { id: incident.id } },
      { id: 'mail1.example.com/mailq', incident: { id: incident.id } },
    ]);

    await p.send('log1.example.com', 'dns', 'ok');
    await until('dns clear', () => p.decision('log1.example.com/dns')?.verdict === 'ok');
    expect((await answer('{ alerts(state: OK) { id status suppressed } }')).alerts).toEqual([{ id: 'log1.example.com/dns', status: 'OK', suppressed: false }]);

    // How each alert was placed, and an entity named with a typo: placed by its host, and the typo shown.
    await p.send('web1.example.com', 'nginx', 'ok', { entity: 'web1.example.com::Service[nginx]' });
    await p.send('web1.example.com', 'tls', 'ok', { entity: 'web1.example.com/Service[nginx]' });
    await p.send('nowhere.example.org', 'ping', 'ok');
    await until('the three ok alerts', () => ['web1.example.com/nginx', 'web1.example.com/tls', 'nowhere.example.org/ping'].every((id) => p.decision(id)));
    const placed = await answer('{ alerts(state: OK) { id mappedBy unknownEntity entity { id } } }');
    expect(placed.alerts).toEqual([
      { id: 'log1.example.com/dns', mappedBy: 'CHECK', unknownEntity: null, entity: { id: UNBOUND } },
      { id: 'nowhere.example.org/ping', mappedBy: 'UNMAPPED', unknownEntity: null, entity: null },
      { id: 'web1.example.com/nginx', mappedBy: 'ENTITY', unknownEntity: null, entity: { id: 'web1.example.com::Service[nginx]' } },
      { id: 'web1.example.com/tls', mappedBy: 'HOST', unknownEntity: 'web1.example.com/Service[nginx]', entity: { id: 'web1.example.com' } },
    ]);
  });

  it('pages through alerts by id and incidents newest first, with first and after, and filters alerts by host', async () => {
    await start();
    await p.send('log1.example.com', 'dns', 'critical');
    await p.send('db1.example.com', 'mysql', 'critical');
    await p.send('db1.example.com', 'disk', 'ok');
    await p.send('web1.example.com', 'nginx', 'ok');
    const two = await until('two incidents', () => (openIncidents(p).length === 2 ? openIncidents(p) : undefined));
    await until('four alerts decided', () => ['log1.example.com/dns', 'db1.example.com/mysql', 'db1.example.com/disk', 'web1.example.com/nginx'].every((id) => p.decision(id)));

    const all = ['db1.example.com/disk', 'db1.example.com/mysql', 'log1.example.com/dns', 'web1.example.com/nginx'];
    expect((await answer('{ alerts(first: 2) { id } }')).alerts.map((a: { id: string }) => a.id)).toEqual(all.slice(0, 2));
    expect((await answer('{ alerts(first: 2, after: "db1.example.com/mysql") { id } }')).alerts.map((a: { id: string }) => a.id)).toEqual(all.slice(2));
    // A cursor that is no alert (gone since) still continues from where its id would be.
    expect((await answer('{ alerts(after: "db1.example.com/e") { id } }')).alerts.map((a: { id: string }) => a.id)).toEqual(all.slice(1));
    expect((await answer('{ alerts(first: 0) { id } }')).alerts).toEqual([]);
    expect((await answer('{ alerts(host: "db1.example.com", state: FIRING) { id } }')).alerts).toEqual([{ id: 'db1.example.com/mysql' }]);

    // Newest first, and by id among those opened at the same moment (one plan often opens both).
    const [first, second] = [...two].sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? -1 : 1));
    expect((await answer('{ incidents(first: 1) { id } }')).incidents).toEqual([{ id: first!.id }]);
    expect((await answer('query($after: ID) { incidents(first: 1, after: $after) { id } }', { after: first!.id })).incidents).toEqual([{ id: second!.id }]);
    expect((await answer('query($after: ID) { incidents(status: OPEN, after: $after) { id } }', { after: second!.id })).incidents).toEqual([]);

    const negative = await ask('{ alerts(first: -1) { id } }');
    expect(negative.errors?.[0]).toMatchObject({ message: 'first must be 0 or more, not -1', extensions: { code: 'BAD_USER_INPUT' } });
    const forgotten = await ask('{ incidents(after: "inc-0000000000000000") { id } }');
    expect(forgotten.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^no incident inc-0000000000000000 to continue after/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('an acknowledgement stored but not announced (the incident stream gone) is still an acknowledgement to the operator', async () => {
    await start();
    await p.send('log1.example.com', 'dns', 'critical');
    const stored = await until('the DNS incident', () => openIncidents(p)[0]);
    await (await jetstreamManager(p.nats)).streams.delete(STREAMS.incidents.name);
    const acknowledge = 'mutation($id: ID!) { acknowledgeIncident(id: $id) { id status acknowledgedBy } }';
    expect((await answer(acknowledge, { id: stored.id })).acknowledgeIncident).toEqual({ id: stored.id, status: 'ACKNOWLEDGED', acknowledgedBy: 'noc-operator' });
    expect(p.incidents().find((i) => i.id === stored.id)?.status).toBe('acknowledged');
  });

  it('an incident acknowledged in PagerDuty is acknowledged here in the PagerDuty user\'s name, when the delivery is signed', async () => {
    await start();
    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical');
    const stored = await until('the DNS incident', () => openIncidents(p).find((i) => i.root.includes(UNBOUND)));
    await until('the page', () => pages(p).length === 1);

    // A PagerDuty v3 webhook delivery as PagerDuty sends it: the raw body signed with the subscription's secret.
    const deliver = async (eventType: string, incidentKey: string | null, sign: (body: string) => string = (body) => `v1=${hmac(PD_SECRET, body)}`) => {
      const body = JSON.stringify({
        event: {
          id: `01${eventType}`,
          event_type: eventType,
          resource_type: 'incident',
          occurred_at: '2026-12-07T02:00:00.000Z',
          agent: { id: 'PLH1HKV', summary: 'Jane Doe', type: 'user_reference' },
          client: { name: 'PagerDuty' },
          data: { id: 'PGR0VU2', type: 'incident', number: 2, status: 'acknowledged', incident_key: incidentKey, title: 'log1 is failing', urgency: 'high' },
        },
      });
      const res = await fetch(`${server.url}/ingest/pagerduty`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pagerduty-signature': sign(body) }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const key = `faultline/${stored.id}/team:netops`;

    // Not signed, or signed with a secret not configured: refused, and nothing changes.
    expect((await deliver('incident.acknowledged', key, () => '')).status).toBe(401);
    expect((await deliver('incident.acknowledged', key, (body) => `v1=${hmac('someone-elses-secret-000000', body)}`)).status).toBe(401);
    // Events faultline leaves alone, and incidents it did not raise.
    expect(await deliver('incident.resolved', key)).toMatchObject({ status: 202, body: { ignored: expect.stringContaining('incident.acknowledged only') } });
    expect(await deliver('incident.acknowledged', 'd3640fbd41094207a1c11e58e46b1662')).toMatchObject({ status: 202, body: { ignored: expect.stringContaining('not raised by faultline') } });
    expect(await deliver('incident.acknowledged', null)).toMatchObject({ status: 202 });
    expect(p.incidents().find((i) => i.id === stored.id)?.status).toBe('open');

    // During a secret rotation PagerDuty signs with both; either one configured is enough.
    const rotating = (body: string) => `v1=${hmac('retired-secret-00000000000000', body)},v1=${hmac(PD_NEXT_SECRET, body)}`;
    expect(await deliver('incident.acknowledged', key, rotating)).toEqual({ status: 200, body: { incident: stored.id, status: 'acknowledged', acknowledgedBy: 'Jane Doe (PagerDuty)' } });
    const acked = (await answer('query($id: ID!) { incident(id: $id) { status acknowledgedBy timeline { change text } } }', { id: stored.id })).incident;
    expect(acked).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: 'Jane Doe (PagerDuty)' });
    expect(acked.timeline.at(-1)).toEqual({ change: 'ACKNOWLEDGED', text: 'acknowledged by Jane Doe (PagerDuty)' });
    // Its teams are told who is on it, as for an acknowledgement made here; a repeated delivery changes nothing.
    const teams = [...stored.owners, ...stored.stakeholders].sort();
    const told = () => p.notifications().filter((n) => n.change === 'acknowledged');
    await until('the acknowledgement told', () => told().length === teams.length);
    expect(told()[0]).toMatchObject({ reason: 'acknowledged by Jane Doe (PagerDuty)' });
    expect((await deliver('incident.acknowledged', key)).status).toBe(200);
    await sleep(300);
    expect(told()).toHaveLength(teams.length);

    // A resolved incident, or one faultline has forgotten, is no reason for PagerDuty to deliver again.
    await p.send('log1.example.com', 'dns', 'ok');
    await until('the incident resolved', () => p.incidents().find((i) => i.id === stored.id && i.status === 'resolved'));
    expect(await deliver('incident.acknowledged', key)).toMatchObject({ status: 202, body: { ignored: `incident ${stored.id} is resolved` } });
    expect(await deliver('incident.acknowledged', 'faultline/inc-0000000000000000/team:netops')).toMatchObject({ status: 202, body: { ignored: expect.stringContaining('no incident') } });
  });

  it("the Acknowledge button in Slack acknowledges the incident in the Slack user's name, when Slack signed the click", async () => {
    await start();
    await p.send('log1.example.com', 'dns', 'critical');
    const stored = await until('the DNS incident', () => openIncidents(p).find((i) => i.root.includes(UNBOUND)));

    // A click as Slack sends it: a form field `payload` holding the interaction, signed over `v0:<timestamp>:<body>`.
    const click = async (actions: { action_id: string; value: string }[], { secret = SLACK_SECRET, age = 0 } = {}) => {
      const payload = { type: 'block_actions', user: { id: 'U012ABC', username: 'jane', name: 'jane' }, team: { id: 'T1' }, response_url: 'https://hooks.slack.com/actions/T1/1/x', actions };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000) - age);
      const signature = `v0=${hmac(secret, `v0:${timestamp}:${body}`)}`;
      const res = await fetch(`${server.url}/ingest/slack`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const acknowledgeClick = [{ action_id: 'faultline-acknowledge', value: stored.id }];

    // Not Slack's: a wrong secret, or a signed request played again ten minutes later.
    expect((await click(acknowledgeClick, { secret: 'not-the-signing-secret-000000' })).status).toBe(401);
    expect(await click(acknowledgeClick, { age: 600 })).toMatchObject({ status: 401, body: { error: expect.stringContaining('five minutes') } });
    expect(await click([{ action_id: 'something-else', value: 'x' }])).toMatchObject({ status: 200, body: { ignored: expect.any(String) } });
    expect(p.incidents().find((i) => i.id === stored.id)?.status).toBe('open');

    expect(await click(acknowledgeClick)).toEqual({ status: 200, body: { acknowledged: [{ incident: stored.id, outcome: 'acknowledged', acknowledgedBy: 'jane (Slack)' }] } });
    expect(p.correlator.view.incidents.get(stored.id)?.value).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'jane (Slack)' });
    const told = () => p.notifications().filter((n) => n.change === 'acknowledged');
    await until('the acknowledgement told', () => told().length === [...stored.owners, ...stored.stakeholders].length);
    expect(told()[0]).toMatchObject({ reason: 'acknowledged by jane (Slack)' });
    // A second click (someone else in the channel) changes nothing: the first one is on it.
    const again = await click(acknowledgeClick);
    expect(again.body).toEqual({ acknowledged: [{ incident: stored.id, outcome: 'already', acknowledgedBy: 'jane (Slack)' }] });
  });

  it('shows open incidents with root, suppressed alerts, affected services and owners; acknowledging needs the write scope', async () => {
    await start();
    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('mail2.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical');
    const stored = await until('the DNS incident', () => openIncidents(p).find((i) => i.suppressed.length === 2));

    const fields = `id status root { id kind } rootIds rootAlerts { id status } suppressed { id suppressedBy { id } } suppressedCount
      affectedServices { id } affectedServicesCount servicesAtRisk { id } groupsWithoutSpare { id } owners { id } stakeholders { id } severity openedAt acknowledgedAt acknowledgedBy reminders remindedAt timeline { change text }`;
    const open = await answer(`{ incidents(status: OPEN) { ${fields} } }`, {}, VIEWER);
    expect(open.incidents).toHaveLength(1);
    const incident = open.incidents[0];
    expect(incident).toMatchObject({
      id: stored.id,
      status: 'OPEN',
      root: [{ id: UNBOUND, kind: 'RESOURCE' }],
      rootIds: [UNBOUND],
      rootAlerts: [{ id: 'log1.example.com/dns', status: 'CRITICAL' }],
      suppressed: [
        { id: 'mail1.example.com/mailq', suppressedBy: [{ id: UNBOUND }] },
        { id: 'mail2.example.com/mailq', suppressedBy: [{ id: UNBOUND }] },
      ],
      suppressedCount: 2,
      // Both Exims down with DNS: mail is down, not at risk.
      servicesAtRisk: [],
      groupsWithoutSpare: [],
      owners: [{ id: 'team:netops' }],
      severity: 'CRITICAL',
      acknowledgedAt: null,
      acknowledgedBy: null,
      reminders: 0,
      remindedAt: null,
    });
    expect(ids(incident.affectedServices)).toContain('service:mail');
    expect(incident.affectedServicesCount).toBe(incident.affectedServices.length);
    expect(ids(incident.stakeholders)).toContain('team:mail-team');
    expect(incident.timeline[0].change).toBe('OPENED');
    expect((await answer('query($id: ID!) { incident(id: $id) { id } }', { id: stored.id }, VIEWER)).incident).toEqual({ id: stored.id });
    expect((await answer('{ incident(id: "inc-0000000000000000") { id } }')).incident).toBeNull();

    const acknowledge = 'mutation($id: ID!) { acknowledgeIncident(id: $id) { id status acknowledgedAt acknowledgedBy timeline { change text } } }';
    const refused = await ask(acknowledge, { id: stored.id }, VIEWER);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(p.incidents().find((i) => i.id === stored.id)?.status).toBe('open');

    const acked = (await answer(acknowledge, { id: stored.id })).acknowledgeIncident;
    expect(acked).toMatchObject({ id: stored.id, status: 'ACKNOWLEDGED', acknowledgedBy: 'noc-operator', acknowledgedAt: expect.any(String) });
    expect(acked.timeline.at(-1)).toEqual({ change: 'ACKNOWLEDGED', text: 'acknowledged by noc-operator' });
    expect((await answer('{ incidents(status: OPEN) { id } }')).incidents).toEqual([]);
    expect((await answer('{ incidents(status: ACKNOWLEDGED) { id } }')).incidents).toEqual([{ id: stored.id }]);

    // The change is on the incident stream for everyone else, as the correlator's own changes are.
    const jsm = await jetstreamManager(p.nats);
    const published = await jsm.streams.getMessage(STREAMS.incidents.name, { last_by_subj: `faultline.incidents.${stored.id}.acknowledged` });
    expect(published?.json()).toMatchObject({ id: stored.id, status: 'acknowledged', acknowledgedBy: 'noc-operator' });

    // Every team of the incident hears who acknowledged it, once (on PagerDuty, the owners' alert is acknowledged).
    const teams = [...stored.owners, ...stored.stakeholders].sort();
    const told = () => p.notifications().filter((n) => n.change === 'acknowledged');
    await until('the acknowledgement told', () => told().length === teams.length);
    expect(told().map((n) => n.team).sort()).toEqual(teams);
    expect(told()[0]).toMatchObject({ kind: 'update', reason: 'acknowledged by noc-operator', incident: { status: 'acknowledged', acknowledgedBy: 'noc-operator' } });
    await until('the telling noted', () => p.incidents().find((i) => i.id === stored.id)?.acknowledgementTold);

    // The correlator keeps the acknowledgement when it updates the incident afterwards, and does not tell it again.
    await p.send('mail1.example.com', 'smtp', 'critical');
    await until('the incident updated', () => p.incidents().find((i) => i.id === stored.id && i.suppressed.includes('mail1.example.com/smtp')));
    await sleep(300);
    expect(told()).toHaveLength(teams.length);
    const after = (await answer('query($id: ID!) { incident(id: $id) { status acknowledgedBy suppressed { id } } }', { id: stored.id })).incident;
    expect(after).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: 'noc-operator' });
    expect(ids(after.suppressed)).toContain('mail1.example.com/smtp');

    const unknown = await ask(acknowledge, { id: 'inc-0000000000000000' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    await p.send('log1.example.com', 'dns', 'ok');
    await until('the incident resolved', () => p.incidents().find((i) => i.id === stored.id && i.status === 'resolved'));
    const resolved = await ask(acknowledge, { id: stored.id });
    expect(resolved.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await answer('{ incidents(status: RESOLVED) { id resolvedAt } }')).incidents).toEqual([{ id: stored.id, resolvedAt: expect.any(String) }]);
  });

  it("a note on an incident is kept in full, in its timeline, and with tell sent once to every team of it, signed with the token's name", async () => {
    await start();
    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical', { runbook: 'https://wiki.example.com/runbooks/dns' });
    const stored = await until('the DNS incident', () => openIncidents(p).find((i) => i.suppressed.length === 1));
    const teams = [...stored.owners, ...stored.stakeholders].sort();
    // The page links to what to do, as its event gave it.
    const page = await until('the page', () => pages(p)[0]);
    expect(page.incident.rootAlerts).toEqual([{ id: 'log1.example.com/dns', status: 'critical', runbook: 'https://wiki.example.com/runbooks/dns' }]);
    expect((await answer('{ alerts(state: ROOT) { id runbook } }', {}, VIEWER)).alerts).toEqual([{ id: 'log1.example.com/dns', runbook: 'https://wiki.example.com/runbooks/dns' }]);
    const note = 'mutation($id: ID!, $text: String!, $tell: Boolean) { addIncidentNote(id: $id, text: $text, tell: $tell) { id notes { n by text tell told at } timeline { change text } } }';

    // A note for whoever looks: kept, in the timeline, told to nobody.
    const quiet = (await answer(note, { id: stored.id, text: '  resolver restarted, watching  ' })).addIncidentNote;
    expect(quiet.notes).toEqual([{ n: 1, by: 'noc-operator', text: 'resolver restarted, watching', tell: false, told: false, at: expect.any(String) }]);
    expect(quiet.timeline.at(-1)).toEqual({ change: 'NOTED', text: 'note by noc-operator: resolver restarted, watching' });

    // A note to tell: every team that heard of the incident gets it, once.
    const long = `failing over to log2; ${'x'.repeat(300)}`;
    await answer(note, { id: stored.id, text: long, tell: true });
    const told = () => p.notifications().filter((n) => n.change === 'note');
    await until('the note told', () => told().length === teams.length);
    expect(told().map((n) => n.team).sort()).toEqual(teams);
    expect(told()[0]).toMatchObject({ kind: 'update', reason: `noc-operator: ${long}`, note: { by: 'noc-operator', text: long }, dedupKey: expect.stringMatching(new RegExp(`^${stored.id}/update/team:[a-z-]+/note/2$`)) });
    await until('the telling noted', () => p.incidents().find((i) => i.id === stored.id)?.notes?.[1]?.told);
    const kept = (await answer('query($id: ID!) { incident(id: $id) { notes { n text told } timeline { change text } } }', { id: stored.id }, VIEWER)).incident;
    expect(kept.notes).toEqual([
      { n: 1, text: 'resolver restarted, watching', told: false },
      { n: 2, text: long, told: true },
    ]);
    // The timeline repeats the start of a long note; notes hold it whole.
    expect(kept.timeline.at(-1).text).toHaveLength('note by noc-operator: '.length + 200);
    // The correlator's next update keeps the notes and tells nothing again.
    await p.send('mail2.example.com', 'mailq', 'critical');
    await until('the incident updated', () => p.incidents().find((i) => i.id === stored.id && i.suppressed.length === 2));
    await sleep(300);
    expect(told()).toHaveLength(teams.length);
    expect(p.incidents().find((i) => i.id === stored.id)?.notes?.map((n) => n.n)).toEqual([1, 2]);
    const published = await (await jetstreamManager(p.nats)).streams.getMessage(STREAMS.incidents.name, { last_by_subj: `faultline.incidents.${stored.id}.noted` });
    expect(published?.json()).toMatchObject({ id: stored.id, notes: [{ n: 1 }, { n: 2 }] });

    // Refused: an empty note, a reader, an unknown incident; a resolved one takes a note but not tell.
    expect((await ask(note, { id: stored.id, text: '   ' })).errors?.[0]).toMatchObject({ message: 'text: a note needs some text', extensions: { code: 'BAD_USER_INPUT' } });
    expect((await ask(note, { id: stored.id, text: 'x'.repeat(1_001) })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await ask(note, { id: stored.id, text: 'hello' }, VIEWER)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await ask(note, { id: 'inc-0000000000000000', text: 'hello' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await p.send('log1.example.com', 'dns', 'ok');
    await until('the incident resolved', () => p.incidents().find((i) => i.id === stored.id && i.status === 'resolved'));
    expect((await ask(note, { id: stored.id, text: 'post-mortem: …', tell: true })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await answer(note, { id: stored.id, text: 'post-mortem: https://wiki.example.com/pm/42' })).addIncidentNote.notes).toHaveLength(3);
  });

  it('a maintenance window suppresses with reason MAINTENANCE and opens no incident; cancelled, the alert pages', async () => {
    await start();
    const now = Date.now();
    const create = `mutation($ids: [ID!]!, $start: DateTime!, $end: DateTime!, $reason: String) {
      createMaintenanceWindow(ids: $ids, start: $start, end: $end, reason: $reason) { id ids entities { id } start end reason createdBy active downtime { id } } }`;
    const hour = { start: new Date(now - 60_000).toISOString(), end: new Date(now + 3_600_000).toISOString() };

    const refused = await ask(create, { ids: ['db1.example.com'], ...hour }, VIEWER);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await ask(create, { ids: ['db1.example.com', 'db9.example.com', 'nope'], ...hour });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', ids: ['db9.example.com', 'nope'] });
    expect(unknown.errors?.[0]?.message).toContain('db9.example.com');
    const backwards = await ask(create, { ids: ['db1.example.com'], start: hour.end, end: hour.start });
    expect(backwards.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooLong = await ask(create, { ids: ['db1.example.com'], start: hour.start, end: new Date(now + 40 * 86_400_000).toISOString() });
    expect(tooLong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const none = await ask(create, { ids: [], ...hour });
    expect(none.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // 2062 for 2026: a year typed wrong would store a window never in force.
    const typo = new Date(now + 36 * 365 * 86_400_000);
    const farAhead = await ask(create, { ids: ['db1.example.com'], start: typo.toISOString(), end: new Date(typo.getTime() + 3_600_000).toISOString() });
    expect(farAhead.errors?.[0]).toMatchObject({ message: expect.stringContaining('more than a year ahead'), extensions: { code: 'BAD_USER_INPUT' } });
    expect((await answer('{ maintenanceWindows { id } }')).maintenanceWindows).toEqual([]);

    const window = (await answer(create, { ids: ['db1.example.com'], ...hour, reason: 'kernel upgrade' })).createMaintenanceWindow;
    expect(window).toMatchObject({
      id: expect.stringMatching(/^mw-[0-9a-f]{16}$/),
      ids: ['db1.example.com'],
      entities: [{ id: 'db1.example.com' }],
      reason: 'kernel upgrade',
      createdBy: 'noc-operator',
      active: true,
    });
    expect(ids(window.downtime)).toEqual(expect.arrayContaining(['db1.example.com', 'db1.example.com::Service[mysqld]']));
    expect((await answer('{ maintenanceWindows(active: true) { id } }', {}, VIEWER)).maintenanceWindows).toEqual([{ id: window.id }]);
    expect((await answer('{ maintenanceWindows(active: false) { id } }')).maintenanceWindows).toEqual([]);
    // db1 in maintenance counts as down: mail now rests on db2 alone.
    expect((await answer('{ atRisk { services { id } holdingUp { id } } }')).atRisk).toEqual({ services: [{ id: 'service:mail' }], holdingUp: [{ id: 'db2.example.com::Service[mysqld]' }] });

    await p.send('db1.example.com', 'mysql', 'critical', { text: 'connection refused' });
    await until('mysql decided', () => p.decision('db1.example.com/mysql')?.verdict === 'suppressed');
    const alerts = await answer('{ alerts(state: SUPPRESSED) { id suppressed reason suppressedBy { id } incident { id } } }');
    expect(alerts.alerts).toEqual([{ id: 'db1.example.com/mysql', suppressed: true, reason: 'MAINTENANCE', suppressedBy: [], incident: null }]);
    await sleep(1_300); // more than twice the settle window: nothing may open or page
    expect((await answer('{ incidents { id } }')).incidents).toEqual([]);
    expect(p.notifications()).toEqual([]);

    const cancelled = (await answer('mutation($id: ID!) { cancelMaintenanceWindow(id: $id) { id active } }', { id: window.id })).cancelMaintenanceWindow;
    expect(cancelled).toEqual({ id: window.id, active: false });
    expect((await answer('{ maintenanceWindows { id } }')).maintenanceWindows).toEqual([]);
    const again = await ask('mutation($id: ID!) { cancelMaintenanceWindow(id: $id) { id } }', { id: window.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    // Out of maintenance, the alert is a root again: after the settle window it opens an incident and pages.
    await until('mysql a root', () => p.decision('db1.example.com/mysql')?.verdict === 'root');
    const incident = await until('the db1 incident', () => openIncidents(p)[0]);
    expect(incident.rootAlerts).toEqual(['db1.example.com/mysql']);
    expect((await answer('{ alerts(state: ROOT) { id incident { id } } }')).alerts).toEqual([{ id: 'db1.example.com/mysql', incident: { id: incident.id } }]);
    await until('a page for the DBAs', () => pages(p).find((n) => n.team === 'team:dba'));
  });

  it('a silence mutes the incident of the alerts it matches, says so on alert and incident, and its expiry pages', async () => {
    await start();
    const create = `mutation($host: String, $check: String, $tags: [TagInput!], $duration: String, $end: DateTime, $comment: String!) {
      createSilence(host: $host, check: $check, tags: $tags, duration: $duration, end: $end, comment: $comment) {
        id host check tags { key value } start end comment createdBy expiredBy active alerts { id } } }`;
    const code = async (vars: Record<string, unknown>, token = OPERATOR) => (await ask(create, vars, token)).errors?.[0]?.extensions?.code;
    expect(await code({ host: 'log1.example.com', duration: '1h', comment: 'why' }, VIEWER)).toBe('FORBIDDEN');
    expect(await code({ host: '*', duration: '1h', comment: 'everything' })).toBe('BAD_USER_INPUT');
    expect(await code({ host: 'log1.example.com', comment: 'forever' })).toBe('BAD_USER_INPUT');
    expect(await code({ host: 'log1.example.com', duration: 'soon', comment: 'why' })).toBe('BAD_USER_INPUT');
    expect(await code({ host: 'log1.example.com', duration: '1h', end: new Date(Date.now() + 60_000).toISOString(), comment: 'why' })).toBe('BAD_USER_INPUT');
    expect(await code({ host: 'log1.example.com', duration: '1h', comment: ' ' })).toBe('BAD_USER_INPUT');

    await p.send('log1.example.com', 'dns', 'warning');
    await until('the dns alert', () => p.decision('log1.example.com/dns'));
    const silence = (await answer(create, { host: 'log1*', check: 'dns', tags: [{ key: 'dc', value: 'dc1' }], duration: '2h', comment: 'unbound rebuild, ticket 42' })).createSilence;
    expect(silence).toMatchObject({ id: expect.stringMatching(/^sil-[0-9a-f]{16}$/), host: 'log1*', check: 'dns', tags: [{ key: 'dc', value: 'dc1' }], comment: 'unbound rebuild, ticket 42', createdBy: 'noc-operator', expiredBy: null, active: true });
    expect(Date.parse(silence.end) - Date.parse(silence.start)).toBe(2 * 3_600_000);
    // Its tags must match too: the warning has none, so the silence matches no alert yet.
    expect(silence.alerts).toEqual([]);

    await p.send('log1.example.com', 'dns', 'critical', { tags: { dc: 'dc1' } });
    const incident = await until('the DNS incident', () => openIncidents(p)[0]);
    const fields = `{ id told silencedBy { id comment } rootAlerts { id silencedBy { id } } }`;
    expect((await answer(`query($id: ID!) { incident(id: $id) ${fields} }`, { id: incident.id }, VIEWER)).incident).toEqual({
      id: incident.id,
      told: false,
      silencedBy: [{ id: silence.id, comment: 'unbound rebuild, ticket 42' }],
      rootAlerts: [{ id: 'log1.example.com/dns', silencedBy: [{ id: silence.id }] }],
    });
    expect((await answer('{ silences(active: true) { id alerts { id } } }', {}, VIEWER)).silences).toEqual([{ id: silence.id, alerts: [{ id: 'log1.example.com/dns' }] }]);
    await sleep(1_000);
    expect(p.notifications()).toEqual([]);

    const expire = 'mutation($id: ID!) { expireSilence(id: $id) { id active expiredBy } }';
    expect((await ask(expire, { id: 'sil-0000000000000000' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await answer(expire, { id: silence.id })).expireSilence).toEqual({ id: silence.id, active: false, expiredBy: 'noc-operator' });
    await until('the page once the silence ended', () => pages(p).find((n) => n.team === 'team:netops'));
    expect((await answer(`query($id: ID!) { incident(id: $id) ${fields} }`, { id: incident.id })).incident).toMatchObject({ told: true, silencedBy: [] });
    // Kept, ended: the list says who silenced what, and who ended it.
    expect((await answer('{ silences(active: false) { id expiredBy } }')).silences).toEqual([{ id: silence.id, expiredBy: 'noc-operator' }]);
  });

  it('silenceIncident silences an incident\'s root alerts by id, for those with the write scope', async () => {
    await start();
    const mutation = `mutation($id: ID!, $duration: String, $comment: String!) {
      silenceIncident(id: $id, duration: $duration, comment: $comment) { id host check alertIds incident { id } active comment createdBy alerts { id } } }`;
    expect((await ask(mutation, { id: 'inc-0000000000000000', duration: '1h', comment: 'why' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await p.send('log1.example.com', 'dns', 'critical');
    const incident = await until('the DNS incident', () => openIncidents(p)[0]);
    expect((await ask(mutation, { id: incident.id, duration: '1h', comment: 'why' }, VIEWER)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await ask(mutation, { id: incident.id, comment: 'forever' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const silence = (await answer(mutation, { id: incident.id, duration: '2h', comment: 'unbound rebuild, ticket 42' })).silenceIncident;
    expect(silence).toEqual({
      id: expect.stringMatching(/^sil-[0-9a-f]{16}$/),
      host: '*',
      check: '*',
      alertIds: ['log1.example.com/dns'],
      incident: { id: incident.id },
      active: true,
      comment: 'unbound rebuild, ticket 42',
      createdBy: 'noc-operator',
      alerts: [{ id: 'log1.example.com/dns' }],
    });
    await until('the incident silenced', () => openIncidents(p).find((i) => i.silencedBy?.includes(silence.id)));
  });

  it('a maintenance plan and a new window say what else is down then, and what goes down only with the two together', async () => {
    await start();
    const now = Date.now();
    const hour = { start: new Date(now).toISOString(), end: new Date(now + 3_600_000).toISOString() };
    const concurrent = 'concurrent { failing { id } windows { id } combined { id } services { id } stakeholders { id } servicesDownAlready { id } servicesAtRisk { id } }';
    const plan = (planIds: string[], at = hour) =>
      answer(`query($ids: [ID!]!, $start: DateTime!, $end: DateTime!) { maintenancePlan(ids: $ids, start: $start, end: $end) { services { id } ${concurrent} } }`, { ids: planIds, ...at }, VIEWER);

    // Nothing else down: db2 alone takes no service down, and nothing combines.
    expect((await plan(['db2.example.com'])).maintenancePlan).toEqual({
      services: [],
      // ... though it leaves the greylisting database without a spare for the hour.
      concurrent: { failing: [], windows: [], combined: [], services: [], stakeholders: [], servicesDownAlready: [], servicesAtRisk: [{ id: 'service:mail' }] },
    });

    await p.send('db1.example.com', 'mysql', 'critical', { text: 'connection refused' });
    await until('mysql a root', () => p.decision('db1.example.com/mysql')?.verdict === 'root');
    const withFailing = (await plan(['db2.example.com'])).maintenancePlan;
    expect(withFailing.services).toEqual([]);
    expect(withFailing.concurrent).toMatchObject({ failing: [{ id: 'db1.example.com::Service[mysqld]' }], windows: [], services: [{ id: 'service:mail' }], stakeholders: [{ id: 'team:mail-team' }] });
    expect(ids(withFailing.concurrent.combined)).toEqual(expect.arrayContaining(['service:mail', 'mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]']));

    // A window on mail2 from tomorrow meets a plan for mail1 then (the two mail hosts down at once take mail down);
    // a plan for the day after meets no window.
    const create = `mutation($ids: [ID!]!, $start: DateTime!, $end: DateTime!) { createMaintenanceWindow(ids: $ids, start: $start, end: $end) { id ${concurrent} } }`;
    const tomorrow = { start: new Date(now + 86_400_000).toISOString(), end: new Date(now + 86_400_000 + 3_600_000).toISOString() };
    const mail2 = (await answer(create, { ids: ['mail2.example.com'], ...tomorrow })).createMaintenanceWindow;
    expect(mail2.concurrent).toMatchObject({ failing: [{ id: 'db1.example.com::Service[mysqld]' }], windows: [], services: [] });
    const mail1 = (await plan(['mail1.example.com'], tomorrow)).maintenancePlan.concurrent;
    expect(mail1).toMatchObject({ windows: [{ id: mail2.id }], services: [{ id: 'service:mail' }], stakeholders: [{ id: 'team:mail-team' }], servicesDownAlready: [] });
    // With db2 in that window too, db1 failing and db2 down take the mail service down already.
    const db2 = (await answer(create, { ids: ['db2.example.com'], ...tomorrow })).createMaintenanceWindow;
    expect(db2.concurrent).toMatchObject({ windows: [{ id: mail2.id }], services: [{ id: 'service:mail' }] });
    expect((await plan(['mail1.example.com'], tomorrow)).maintenancePlan.concurrent).toMatchObject({ services: [], servicesDownAlready: [{ id: 'service:mail' }] });
    const later = { start: new Date(now + 2 * 86_400_000).toISOString(), end: new Date(now + 2 * 86_400_000 + 3_600_000).toISOString() };
    expect((await plan(['mail1.example.com'], later)).maintenancePlan.concurrent.windows).toEqual([]);
    // A window does not meet itself.
    const listed = (await answer('{ maintenanceWindows { id concurrent { windows { id } } } }')).maintenanceWindows as { id: string; concurrent: { windows: { id: string }[] } }[];
    expect(listed.map((w) => [w.id, ids(w.concurrent.windows)]).sort()).toEqual([[db2.id, [mail2.id]], [mail2.id, [db2.id]]].sort());

    // db1's incident: no service down, but the greylisting database has no spare left, and mail needs it.
    await until('the db1 incident', () => openIncidents(p)[0]);
    const [db1] = (
      await answer(
        '{ incidents(status: OPEN) { affectedServices { id } servicesAtRisk { id } criticalAtRisk { id } groupsWithoutSpare { id } holdingUp { id } servicesAtRiskCount criticalAtRiskCount groupsWithoutSpareCount holdingUpCount } }',
      )
    ).incidents;
    expect(db1).toEqual({
      affectedServices: [],
      servicesAtRisk: [{ id: 'service:mail' }],
      criticalAtRisk: [],
      groupsWithoutSpare: [{ id: 'group:capability:mysql-greylist' }],
      holdingUp: [{ id: 'db2.example.com::Service[mysqld]' }],
      servicesAtRiskCount: 1,
      criticalAtRiskCount: 0,
      groupsWithoutSpareCount: 1,
      holdingUpCount: 1,
    });
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } })).text();
    expect(metrics).toMatch(/^faultline_services_at_risk 1$/m);
    // The same, for the whole estate now: what not to touch.
    expect((await answer('{ atRisk { services { id } critical { id } groupsWithoutSpare { id } holdingUp { id } } }', {}, VIEWER)).atRisk).toEqual({
      services: [{ id: 'service:mail' }],
      critical: [],
      groupsWithoutSpare: [{ id: 'group:capability:mysql-greylist' }],
      holdingUp: [{ id: 'db2.example.com::Service[mysqld]' }],
    });
    const cli = await runCli(['alerts'], testEnv());
    expect(cli.stdout).toContain('At risk now: service:mail (no spare left in group:capability:mysql-greylist; held up by db2.example.com::Service[mysqld]).');
  });

  it('streams incident changes over server-sent events, needs the read scope, and lets go of NATS when the client leaves', async () => {
    await start();
    const subscription = 'subscription { incidentUpdated { id status rootIds suppressed { id } owners { id } } }';

    const forbidden = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${BOT}` },
      body: JSON.stringify({ query: subscription }),
      signal: AbortSignal.timeout(5_000),
    });
    // Refused before any NATS subscription is made: one error event, then the stream completes.
    const refusal = await forbidden.text();
    expect(refusal).toContain('"code":"FORBIDDEN"');
    expect(refusal).toContain('event: complete');

    // One client over POST, one over GET (the size limit lets both through); both stay open across changes.
    const posted = await openStream(server, { method: 'POST', body: JSON.stringify({ query: subscription }) }, VIEWER);
    const got = await openStream(server, { method: 'GET', query: subscription }, VIEWER);
    await eventually('both subscribed', async () => (await deliveriesPerProbe()) === 2);

    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical');
    for (const stream of [posted, got]) {
      const opened = await stream.next((i) => i.status === 'OPEN' && i.rootIds.includes(UNBOUND));
      expect(opened).toMatchObject({ rootIds: [UNBOUND], suppressed: [{ id: 'mail1.example.com/mailq' }], owners: [{ id: 'team:netops' }] });
    }
    const incidentId = openIncidents(p)[0]!.id;
    await answer('mutation($id: ID!) { acknowledgeIncident(id: $id) { id } }', { id: incidentId });
    expect(await posted.next((i) => i.status === 'ACKNOWLEDGED')).toMatchObject({ id: incidentId });
    expect(await got.next((i) => i.status === 'ACKNOWLEDGED')).toMatchObject({ id: incidentId });

    // The clients go away: the API's NATS subscriptions end with them.
    posted.close();
    got.close();
    // Checked first without a message on the subject: one would wake a subscription that waits for it to notice.
    await until('the subscriptions ended', () => subscriptionsOf(apiNats) === 0 || undefined);
    expect(await deliveriesPerProbe()).toBe(0);
  });

  it('shows a storm with its members and each member with the storm that holds it; acknowledging the storm acknowledges them', async () => {
    await start({ notify: { storm: { pages: 1, window: '10m' } } });
    await p.send('mail1.example.com', 'ping', 'critical');
    await until('the page of mail1', () => pages(p).length === 1);
    await p.send('mail2.example.com', 'ping', 'critical');
    const storm = await until('a storm of both mail hosts', () => p.incidents().find((i) => i.storm?.memberCount === 2));
    const data = await answer(
      `query ($id: ID!) { incident(id: $id) { id status rootIds owners { id } storm { team { id } holds memberCount common members { id rootIds heldBy { id } } } } }`,
      { id: storm.id },
    );
    const { incident } = data;
    expect(incident).toMatchObject({ id: storm.id, status: 'OPEN', rootIds: expect.arrayContaining(['mail1.example.com', 'mail2.example.com']) });
    expect(incident.storm.team).toEqual({ id: storm.storm!.team });
    expect(incident.storm.holds).toBe('PAGES');
    expect(incident.owners).toEqual([{ id: storm.storm!.team }]);
    expect(incident.storm.memberCount).toBe(2);
    // The fixture estate's facts name no rack, zone or location the two hosts share.
    expect(incident.storm.common).toBeNull();
    expect(incident.storm.members.flatMap((m: { rootIds: string[] }) => m.rootIds).sort()).toEqual(['mail1.example.com', 'mail2.example.com']);
    // The first paged its team before the storm began; the second was held by it.
    expect(incident.storm.members.map((m: { heldBy: { id: string }[] }) => m.heldBy)).toEqual([[], [{ id: storm.id }]]);
    const plain = await answer(`{ incidents(status: OPEN) { id storm { memberCount } } }`);
    expect(plain.incidents.filter((i: { storm: unknown }) => i.storm === null)).toHaveLength(2);

    // Acknowledged, the storm acknowledges both members: mail1's page hears who is on it, so PagerDuty would stop
    // escalating it; mail2's page was never sent, and nobody is told of it.
    await answer('mutation($id: ID!) { acknowledgeIncident(id: $id) { id } }', { id: storm.id });
    const members = await until('both members acknowledged', () => {
      const list = p.incidents().filter((i) => !i.storm);
      return list.length === 2 && list.every((i) => i.status === 'acknowledged') ? list : undefined;
    });
    expect(members.map((m) => m.acknowledgedBy)).toEqual(['noc-operator', 'noc-operator']);
    const mail1 = members.find((m) => m.root.includes('mail1.example.com'))!;
    const told = await until('the acknowledgements told', () => {
      const list = p.notifications().filter((n) => n.change === 'acknowledged');
      return list.length === 2 ? list : undefined;
    });
    expect(told.map((n) => [n.incident.id, n.reason]).sort()).toEqual(
      [
        [storm.id, 'acknowledged by noc-operator'],
        [mail1.id, `acknowledged by noc-operator with the storm ${storm.id}`],
      ].sort(),
    );
    const after = await answer(`{ incidents(status: OPEN) { id } }`);
    expect(after.incidents).toEqual([]);
  });

  it('lists dead letters newest first, and redelivers a notification no route took once one does (write scope)', async () => {
    await start();
    // A notification no route took (another correlator's routes), and an event refused for what it says.
    const lost = { ...aNotification(), dedupKey: 'inc-00000000000000e5/page/team:dba', incident: { ...aNotification().incident, id: 'inc-00000000000000e5', status: 'resolved' as const }, kind: 'resolved' as const };
    await enqueueNotification(p.nats, { ...p.config.notify, routes: [{ match: { team: 'team:nobody' }, channels: ['hook'] }] }, lost);
    const res = await fetch(`${server.url}/ingest/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR}` },
      body: JSON.stringify({ host: 'db2.example.com', check: 'mysql', status: 'on fire' }),
    });
    expect(res.status).toBe(422);

    const query = '{ deadLetters { seq kind reason via alert channel notification { kind team incidentId dedupKey } record } }';
    const listed = (await answer(query, {}, VIEWER)).deadLetters;
    expect(listed.map((l: { kind: string }) => l.kind)).toEqual(['EVENT', 'NOTIFICATION']);
    expect(listed[0]).toMatchObject({ via: 'POST /ingest/events', alert: 'db2.example.com/mysql', reason: expect.stringMatching(/^status:/), notification: null });
    expect(listed[1]).toMatchObject({ reason: 'no route matches the notification', channel: null, notification: { kind: 'resolved', team: 'team:dba', incidentId: 'inc-00000000000000e5', dedupKey: lost.dedupKey } });
    expect(JSON.parse(listed[1].record).notification.dedupKey).toBe(lost.dedupKey);
    expect((await answer('{ deadLetters(kind: EVENT) { kind } }')).deadLetters).toEqual([{ kind: 'EVENT' }]);

    const mutation = 'mutation($seqs: [Int!], $dryRun: Boolean) { redeliverDeadLetters(seqs: $seqs, dryRun: $dryRun) { seq outcome channels note } }';
    const seq = listed[1].seq;
    // A read token may look, not put back.
    expect((await ask(mutation, { seqs: [seq] }, VIEWER)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await answer(mutation, { seqs: [seq], dryRun: true })).redeliverDeadLetters).toEqual([{ seq, outcome: 'DRY_RUN', channels: ['hook'], note: 'it had no route: routed again' }]);
    expect((await answer(mutation, { seqs: [seq] })).redeliverDeadLetters).toEqual([{ seq, outcome: 'REDELIVERED', channels: ['hook'], note: 'it had no route: routed again' }]);
    await until('the resolution delivered', () => p.notifications().some((n) => n.dedupKey === lost.dedupKey));
    expect((await answer('{ deadLetters(kind: NOTIFICATION) { seq } }')).deadLetters).toEqual([]);
    expect((await ask('{ deadLetters(since: "soon") { seq } }')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('names the noisiest checks: status changes per check within a window', async () => {
    await start();
    const base = Date.now() - 5_000;
    for (let i = 0; i < 4; i++) await p.send('web1.example.com', 'http', i % 2 === 0 ? 'critical' : 'ok', { time: new Date(base + i).toISOString() });
    await p.send('web2.example.com', 'http', 'warning', { time: new Date(base + 10).toISOString() });
    await p.send('db1.example.com', 'mysql', 'critical', { time: new Date(base + 20).toISOString() });
    await p.send('db1.example.com', 'disk', 'ok', { time: new Date(base + 30).toISOString() });
    await until('all stored', () => p.correlator.view.records().size === 4);
    const data = await answer('{ topChecks(window: "1h", limit: 2) { check changes alerts firing } }');
    expect(data.topChecks).toEqual([
      { check: 'http', changes: 5, alerts: 2, firing: 1 }, // web1 four times, web2 once (new and not ok)
      { check: 'mysql', changes: 1, alerts: 1, firing: 1 },
    ]);
    const bad = await ask('{ topChecks(window: "soon") { check } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

interface IncidentEvent {
  id: string;
  status: string;
  rootIds: string[];
  [field: string]: unknown;
}

/** Subscriptions on faultline.incidents.> the connection holds, from its own bookkeeping (no message sent). */
function subscriptionsOf(nc: NatsConnection): number {
  const { subscriptions } = (nc as unknown as { protocol: { subscriptions: { all(): { getSubject(): string }[] } } }).protocol;
  return subscriptions.all().filter((s) => s.getSubject() === SUBJECTS.incidentsAll).length;
}

/** Polls an asynchronous probe (an API or NATS round trip) every 50 ms until it holds, for at most 10 s. */
async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/**
 * A GraphQL subscription over server-sent events, read off the response body as it arrives. `next(match)` returns
 * the next incident the predicate accepts (earlier ones are skipped), failing after 10 s.
 */
async function openStream(server: ApiServer, request: { method: 'GET'; query: string } | { method: 'POST'; body: string }, token: string) {
  const abort = new AbortController();
  const url = request.method === 'GET' ? `${server.url}/graphql?query=${encodeURIComponent(request.query)}` : `${server.url}/graphql`;
  const res = await fetch(url, {
    method: request.method,
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, ...(request.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(request.method === 'POST' ? { body: request.body } : {}),
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: IncidentEvent[] = [];

  async function read(): Promise<void> {
    const { value, done } = await reader.read();
    if (done) throw new Error('the event stream ended');
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      if (event === 'next') {
        const body = JSON.parse(data) as { data?: { incidentUpdated: IncidentEvent }; errors?: unknown };
        if (!body.data) throw new Error(`the stream sent errors: ${JSON.stringify(body.errors)}`);
        queue.push(body.data.incidentUpdated);
      }
    }
  }

  return {
    async next(match: (incident: IncidentEvent) => boolean): Promise<IncidentEvent> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const i = queue.findIndex(match);
        if (i >= 0) return queue.splice(0, i + 1).at(-1)!;
        if (Date.now() > deadline) throw new Error('timed out waiting for an incident on the stream');
        await Promise.race([read(), sleep(Math.max(0, deadline - Date.now()))]);
      }
    },
    close() {
      abort.abort();
      void reader.cancel().catch(() => undefined);
    },
  };
}
