import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLayout, KV_BUCKETS, STREAMS } from '../../src/bus/layout.ts';
import { KvMirror } from '../../src/bus/kv-mirror.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { alertKey, type AlertRecord } from '../../src/correlator/alert.ts';
import { publishIncidentChange, type Incident } from '../../src/correlator/incident.ts';
import { until } from '../correlator/harness.ts';
import { runCli, startCli } from '../support/cli.ts';
import { freshNats, testEnv } from '../support/services.ts';

/** `faultline incidents` and `faultline ack` on incidents stored in the real NATS, as the correlator stores them. */
describe('faultline incidents and faultline ack', () => {
  let nc: NatsConnection;
  let incidents: KvMirror<Incident>;
  const cli = (...args: string[]) => runCli([...args, '--log-level', 'info'], testEnv());
  // One moment for every fixture: "after 1h30m" must not read 1h29m because the clock ticked between two reads.
  const openedAt = Date.now() - 90 * 60_000;
  const incident = (id: string, fields: Partial<Incident> = {}): Incident => ({
    id,
    status: 'open',
    root: ['log1.example.com::Service[unbound]'],
    rootAlerts: ['log1.example.com/dns'],
    severity: 'critical',
    suppressed: ['mail1.example.com/mailq'],
    suppressedCount: 1,
    affectedServices: ['service:mail'],
    owners: ['team:netops'],
    stakeholders: ['team:mail-team'],
    tags: {},
    openedAt,
    updatedAt: openedAt,
    timeline: [{ at: openedAt, change: 'opened', text: 'log1 failing' }],
    ...fields,
  });

  beforeAll(async () => {
    nc = await freshNats();
    await ensureLayout(nc);
    incidents = await KvMirror.open<Incident>(nc, KV_BUCKETS.incidents);
    await incidents.ready;
    await incidents.put('inc-00000000000000a1', incident('inc-00000000000000a1', { servicesAtRisk: ['service:shop'], groupsWithoutSpare: ['group:shop-web'], holdingUp: ['web2.example.com::Service[nginx]'] }), undefined);
    await incidents.put('inc-00000000000000b2', incident('inc-00000000000000b2', { status: 'resolved', resolvedAt: openedAt + 90 * 60_000, servicesAtRisk: ['service:shop'], groupsWithoutSpare: ['group:shop-web'] }), undefined);
  });
  afterAll(async () => {
    incidents?.stop();
    await nc?.close();
  });

  it('lists the open incidents with owners, how long they have been open and what they suppress; --all adds resolved ones', async () => {
    const { code, stdout, stderr } = await cli('incidents');
    expect(code, stderr).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+OPEN FOR\s+SUPPRESSED\s+OWNERS\s+ROOT$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^inc-00000000000000a1\s+open\s+1h30m\s+1\s+team:netops\s+log1\.example\.com::Service\[unbound\]$/);
    const all = JSON.parse((await cli('incidents', '--all', '--json')).stdout) as Incident[];
    expect(all.map((i) => i.id).sort()).toEqual(['inc-00000000000000a1', 'inc-00000000000000b2']);
  });

  it('acknowledges in the name given, announces it on the incident stream, and says so plainly (no log line)', async () => {
    const acked = await cli('ack', 'inc-00000000000000a1', '--by', 'ops@tty');
    expect(acked).toMatchObject({ code: 0, stdout: 'inc-00000000000000a1 acknowledged by ops@tty: its teams are told you are on it.\n' });
    expect((await incidents.fetch('inc-00000000000000a1'))?.value).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ops@tty' });
    const jsm = await jetstreamManager(nc);
    const published = await jsm.streams.getMessage(STREAMS.incidents.name, { last_by_subj: 'faultline.incidents.inc-00000000000000a1.acknowledged' });
    expect(published?.json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ops@tty' });

    expect(await cli('ack', 'inc-00000000000000a1')).toMatchObject({ code: 0, stdout: 'inc-00000000000000a1 was already acknowledged by ops@tty.\n' });
    expect(await cli('ack', 'inc-00000000000000b2')).toMatchObject({ code: 2, stderr: 'faultline: incident inc-00000000000000b2 is resolved; there is nothing to acknowledge\n' });
    expect(await cli('ack', 'inc-ffffffffffffffff')).toMatchObject({ code: 2, stderr: 'faultline: no incident inc-ffffffffffffffff (faultline incidents lists them)\n' });
  });

  it('shows one incident: its root alerts as they are now, what it takes down, who was told, the timeline', async () => {
    const kv = await new Kvm(nc).open(KV_BUCKETS.alerts);
    const since = Date.now() - 91 * 60_000;
    const dns: AlertRecord = { id: 'log1.example.com/dns', host: 'log1.example.com', check: 'dns', status: 'critical', since, time: Date.now(), seq: 7, source: 'nagios', text: 'unbound not answering', runbook: 'https://wiki.example.com/runbooks/dns', tags: {} };
    await kv.put(alertKey(dns.id), JSON.stringify(dns));

    const { code, stdout, stderr } = await cli('incident', 'inc-00000000000000a1');
    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('inc-00000000000000a1');
    expect(lines).toContainEqual(expect.stringMatching(/^Status\s+acknowledged by ops@tty \d+s ago, open for 1h30m \(critical\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Root\s+log1\.example\.com::Service\[unbound\]$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Root alerts\s+log1\.example\.com\/dns  critical for 1h31m: unbound not answering$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\s+runbook: https:\/\/wiki\.example\.com\/runbooks\/dns$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Affected\s+service:mail$/));
    expect(lines).toContainEqual(expect.stringMatching(/^At risk\s+service:shop \(no spare left in group:shop-web; held up by web2\.example\.com::Service\[nginx\]\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Owners\s+team:netops$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Stakeholders\s+team:mail-team$/));
    expect(lines).toContainEqual(expect.stringMatching(/^Suppressed\s+1: mail1\.example\.com\/mailq$/));
    const timeline = lines.slice(lines.indexOf('Timeline') + 1);
    expect(timeline[0]).toMatch(/^  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  opened {6}  log1 failing$/);
    expect(timeline[1]).toMatch(/^  \S+Z  acknowledged  acknowledged by ops@tty$/);

    const json = JSON.parse((await cli('incident', 'inc-00000000000000b2', '--json')).stdout) as Incident;
    expect(json).toMatchObject({ id: 'inc-00000000000000b2', status: 'resolved' });
    // A root alert faultline no longer keeps is said to be so, not left out.
    await kv.delete(alertKey(dns.id));
    const resolved = await cli('incident', 'inc-00000000000000b2');
    expect(resolved.stdout).toMatch(/^Status\s+resolved \d+s ago, after 1h30m \(critical\)$/m);
    expect(resolved.stdout).toMatch(/^Root alerts\s+log1\.example\.com\/dns  \(no longer kept\)$/m);
    // Resolved, nothing is at risk any more because of it.
    expect(resolved.stdout).not.toMatch(/^At risk/m);
    expect(await cli('incident', 'inc-ffffffffffffffff')).toMatchObject({ code: 2, stderr: 'faultline: no incident inc-ffffffffffffffff (faultline incidents --all lists them)\n' });
  });

  it('shows a page storm by its size and first root causes, and the member whose page it holds by the storm', async () => {
    const opened = Date.now() - 5 * 60_000;
    const webs = ['web1.example.com', 'web2.example.com', 'web3.example.com', 'web4.example.com'];
    await incidents.put(
      'inc-00000000000000c3',
      incident('inc-00000000000000c3', {
        root: webs,
        rootAlerts: [],
        suppressed: [],
        suppressedCount: 0,
        owners: ['team:web'],
        stakeholders: [],
        openedAt: opened,
        storm: { team: 'team:web', members: ['inc-00000000000000d4'], memberCount: 4, joinedAt: opened, toldMembers: 4, toldAt: opened, updates: 0 },
      }),
      undefined,
    );
    await incidents.put(
      'inc-00000000000000d4',
      incident('inc-00000000000000d4', { root: ['web4.example.com'], owners: ['team:web'], openedAt: opened - 1, heldBy: [{ team: 'team:web', storm: 'inc-00000000000000c3' }] }),
      undefined,
    );
    const { code, stdout, stderr } = await cli('incidents');
    expect(code, stderr).toBe(0);
    const rows = stdout.trimEnd().split('\n').slice(1);
    expect(rows[0]).toMatch(/^inc-00000000000000c3\s+open\s+5m\s+0\s+team:web\s+storm of 4: web1\.example\.com, web2\.example\.com, web3\.example\.com, …$/);
    expect(rows[1]).toMatch(/^inc-00000000000000d4\s+open\s+5m\s+1\s+team:web\s+web4\.example\.com \(paged in inc-00000000000000c3\)$/);
  });

  it('says which incidents are silenced, and whether anyone was told of them', async () => {
    const opened = Date.now() - 50 * 60 * 60_000;
    await incidents.put('inc-00000000000000f6', incident('inc-00000000000000f6', { root: ['web9.example.com'], rootAlerts: ['web9.example.com/disk-root'], openedAt: opened, silencedBy: ['sil-00000000000000aa'], untold: true }), undefined);
    const { stdout } = await cli('incidents');
    expect(stdout).toMatch(/^inc-00000000000000f6\s+open silenced\s+2d2h\s+1\s+team:netops\s+web9\.example\.com$/m);
    const shown = (await cli('incident', 'inc-00000000000000f6')).stdout;
    expect(shown).toMatch(/^Silenced\s+by sil-00000000000000aa \(nobody told yet: its owners are paged when the silence ends, if it still fails; faultline silence list\)$/m);
  });

  it('writes a note, told to its teams with --tell, and shows notes in full; an empty note, or --tell on a resolved incident, is refused', async () => {
    await incidents.put('inc-00000000000000e5', incident('inc-00000000000000e5'), undefined);
    expect(await cli('note', 'inc-00000000000000e5', 'restarted', 'unbound', '--by', 'ops@tty')).toMatchObject({
      code: 0,
      stdout: 'Note 1 on inc-00000000000000e5 (nobody is told; --tell sends it to its teams).\n',
    });
    expect(await cli('note', 'inc-00000000000000e5', 'failing over to log2, 10 minutes', '--tell', '--by', 'ops@tty')).toMatchObject({
      code: 0,
      stdout: 'Note 2 on inc-00000000000000e5: its teams are told (team:netops, team:mail-team).\n',
    });
    expect((await incidents.fetch('inc-00000000000000e5'))?.value.notes).toEqual([
      { n: 1, at: expect.any(Number), by: 'ops@tty', text: 'restarted unbound', tell: false },
      { n: 2, at: expect.any(Number), by: 'ops@tty', text: 'failing over to log2, 10 minutes', tell: true },
    ]);
    const jsm = await jetstreamManager(nc);
    const published = await jsm.streams.getMessage(STREAMS.incidents.name, { last_by_subj: 'faultline.incidents.inc-00000000000000e5.noted' });
    expect(published?.json()).toMatchObject({ notes: [{ n: 1 }, { n: 2 }] });

    const shown = (await cli('incident', 'inc-00000000000000e5')).stdout.trimEnd().split('\n');
    const notes = shown.slice(shown.indexOf('Notes') + 1, shown.indexOf('Timeline') - 1);
    expect(notes).toEqual([
      expect.stringMatching(/^  \S+Z  ops@tty: restarted unbound$/),
      expect.stringMatching(/^  \S+Z  ops@tty \(being told\): failing over to log2, 10 minutes$/),
    ]);
    expect(shown.at(-1)).toMatch(/^  \S+Z  noted +note by ops@tty: failing over to log2, 10 minutes$/);

    expect(await cli('note', 'inc-00000000000000e5', ' ')).toMatchObject({ code: 2, stderr: 'faultline: a note needs some text\n' });
    expect(await cli('note', 'inc-00000000000000b2', 'too late', '--tell')).toMatchObject({
      code: 2,
      stderr: 'faultline: incident inc-00000000000000b2 is resolved: it takes the note without --tell, but its teams are not told any more\n',
    });
    expect((await cli('note', 'inc-00000000000000b2', 'post-mortem: https://wiki.example.com/pm/42')).code).toBe(0);
  });

  it('--since prints the incident changes of that time, one line each (or JSON), and --follow each new one until Ctrl-C', async () => {
    // The changes the tests above published: a1 acknowledged, e5 noted twice, b2 noted.
    const since = await cli('incidents', '--since', '1h');
    expect(since.code, since.stderr).toBe(0);
    const lines = since.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\S+Z  inc-00000000000000a1  acknowledged  log1\.example\.com::Service\[unbound\]  acknowledged by ops@tty$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\S+Z  inc-00000000000000e5  noted {7}  log1\.example\.com::Service\[unbound\]  note by ops@tty: failing over to log2, 10 minutes$/));
    const json = (await cli('incidents', '--since', '1h', '--json')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { change: string; incident: Incident });
    expect(json.map((c) => `${c.change} ${c.incident.id}`)).toEqual(lines.map((l) => `${l.split(/\s+/)[2]} ${l.split(/\s+/)[1]}`));
    expect(await cli('incidents', '--since', 'soon')).toMatchObject({ code: 2, stderr: 'faultline: --since: "soon" is not a duration (30m, 24h, 7d)\n' });

    const { child, output } = await startCli(['incidents', '--follow'], testEnv(), /Following incident changes from now/);
    try {
      nc.publish('faultline.incidents.inc-00000000000000f6.updated', 'not json');
      const opened = incident('inc-00000000000000f6', { root: ['db1.example.com::Service[mysqld]'], updatedAt: Date.now() });
      opened.timeline = [
        { at: opened.updatedAt, change: 'opened', text: 'db1.example.com::Service[mysqld] failing (db1.example.com/mysql)' },
        { at: opened.updatedAt, change: 'updated', text: 'service:mail at risk: no spare left in group:capability:mysql-greylist' },
      ];
      await publishIncidentChange(nc, opened, 'opened');
      await until('the change followed', () => output().includes('inc-00000000000000f6  opened'));
      expect(output()).toMatch(/^\S+Z  inc-00000000000000f6  opened {6}  db1\.example\.com::Service\[mysqld\]  db1\.example\.com::Service\[mysqld\] failing \(db1\.example\.com\/mysql\); service:mail at risk: no spare left in group:capability:mysql-greylist$/m);
      expect(output()).toMatch(/^skipped faultline\.incidents\.inc-00000000000000f6\.updated \(stream sequence \d+\): not an incident change/m);
    } finally {
      child.kill('SIGINT');
    }
    expect(await new Promise((resolve) => child.once('exit', (code) => resolve(code)))).toBe(0);
  });
});
