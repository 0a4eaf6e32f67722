import { describe, expect, it } from 'vitest';
import { hostOf, hostOfInstance, mapAlertmanager, parseAlertmanagerPayload, statusOf } from '../../src/api/ingest/alertmanager-map.ts';
import { parseEvent } from '../../src/correlator/event.ts';

const defaults = { severityLabel: 'severity', severities: {}, checkLabels: [] as string[] };

/** An Alertmanager v4 payload as its webhook notifier writes it. */
function payload(alerts: unknown[], receiver = 'faultline') {
  return {
    version: '4',
    groupKey: '{}:{alertname="MySQLDown"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver,
    groupLabels: { alertname: 'MySQLDown' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
  };
}

const firing = {
  status: 'firing',
  labels: { alertname: 'MySQLDown', instance: 'db1.example.com:9104', severity: 'critical', dc: 'dc1' },
  annotations: { summary: 'MySQL is down', description: 'mysqld_up is 0' },
  startsAt: '2026-11-21T10:00:00.123456789Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph',
  fingerprint: 'a1b2c3d4e5f60718',
};

function mapOne(alert: unknown, options: typeof defaults = defaults) {
  const parsed = parseAlertmanagerPayload(payload([alert]));
  if (!parsed.ok) throw new Error(parsed.error);
  return mapAlertmanager(parsed.payload, options)[0]!;
}

describe('Alertmanager webhook payload → events', () => {
  it('maps a firing alert: host from instance, check from alertname, status from severity, labels as tags', () => {
    expect(mapOne(firing)).toEqual({
      event: {
        source: 'alertmanager',
        host: 'db1.example.com',
        check: 'MySQLDown',
        status: 'critical',
        time: '2026-11-21T10:00:00.123456789Z',
        text: 'MySQL is down',
        tags: { alertname: 'MySQLDown', instance: 'db1.example.com:9104', severity: 'critical', dc: 'dc1', alertmanager_receiver: 'faultline' },
        id: 'a1b2c3d4e5f60718:firing:2026-11-21T10:00:00.123456789Z',
      },
      body: firing,
    });
  });

  it('maps a resolved alert to ok at its end, with an id of its own', () => {
    const resolved = { ...firing, status: 'resolved', endsAt: '2026-11-21T10:05:00Z' };
    const { event } = mapOne(resolved) as { event: any };
    expect(event).toMatchObject({ status: 'ok', time: '2026-11-21T10:05:00Z', id: 'a1b2c3d4e5f60718:resolved:2026-11-21T10:00:00.123456789Z' });
  });

  it('produces events that the event schema accepts as they are', () => {
    const { event } = mapOne(firing) as { event: unknown };
    expect(parseEvent(event, { time: 0 })).toMatchObject({ ok: true, event: { host: 'db1.example.com', status: 'critical', time: Date.parse('2026-11-21T10:00:00.123Z') } });
  });

  it('takes the host from host, else instance without its port, else nodename', () => {
    expect(hostOf({ host: 'db1', instance: 'other:9100', nodename: 'n' })).toBe('db1');
    expect(hostOf({ instance: 'web1.example.com:9100', nodename: 'n' })).toBe('web1.example.com');
    expect(hostOf({ instance: '', nodename: 'node7' })).toBe('node7');
    expect(hostOf({ host: '  ', nodename: 'node7' })).toBe('node7');
    expect(hostOf({ job: 'node' })).toBeUndefined();
  });

  it('strips the port from every shape of instance, IPv6 included', () => {
    expect(hostOfInstance('db1:9100')).toBe('db1');
    expect(hostOfInstance('10.0.0.5:9100')).toBe('10.0.0.5');
    expect(hostOfInstance('[::1]:9100')).toBe('::1');
    expect(hostOfInstance('[2001:db8::1]:9100')).toBe('2001:db8::1');
    expect(hostOfInstance('[2001:db8::1]')).toBe('2001:db8::1');
    expect(hostOfInstance('2001:db8::1')).toBe('2001:db8::1');
    expect(hostOfInstance('db1')).toBe('db1');
    expect(hostOfInstance('https://www.example.com:8443/health')).toBe('www.example.com');
    expect(hostOfInstance('http://[2001:db8::2]:80/')).toBe('2001:db8::2');
    expect(hostOfInstance(':9100')).toBeUndefined();
  });

  it('reads severities: built-in words in any case, configured words first, unknown words as unknown', () => {
    expect(['critical', 'CRITICAL', 'error', 'page', 'High'].map((w) => statusOf(w, {}))).toEqual(['critical', 'critical', 'critical', 'critical', 'critical']);
    expect(['warning', 'warn', 'info', 'none', 'ticket'].map((w) => statusOf(w, {}))).toEqual(['warning', 'warning', 'warning', 'warning', 'warning']);
    expect(statusOf('unknown', {})).toBe('unknown');
    expect(statusOf('P1', {})).toBe('unknown');
    expect(statusOf('p1', { P1: 'critical' })).toBe('critical');
    expect(statusOf('info', { info: 'ok' })).toBe('ok');
    expect(statusOf(undefined, {})).toBe('critical');
    expect(statusOf('', {})).toBe('critical');
  });

  it('reads the severity from the configured label', () => {
    const alert = { ...firing, labels: { ...firing.labels, severity: 'critical', priority: 'P3' } };
    expect(mapOne(alert, { ...defaults, severityLabel: 'priority', severities: { P3: 'warning' } })).toMatchObject({ event: { status: 'warning' } });
  });

  it('keeps alerts that differ only in a configured check label apart', () => {
    const disk = (mountpoint: string) => ({ ...firing, labels: { ...firing.labels, alertname: 'DiskFull', mountpoint } });
    const options = { ...defaults, checkLabels: ['mountpoint', 'device'] };
    expect(mapOne(disk('/var'), options)).toMatchObject({ event: { check: 'DiskFull:/var' } });
    expect(mapOne(disk('/'), options)).toMatchObject({ event: { check: 'DiskFull:/' } });
    expect(mapOne(disk('/'))).toMatchObject({ event: { check: 'DiskFull' } });
  });

  it('falls back to the description for text, and shortens text beyond 4096 characters', () => {
    expect(mapOne({ ...firing, annotations: { description: 'only this' } })).toMatchObject({ event: { text: 'only this' } });
    const long = mapOne({ ...firing, annotations: { summary: 'x'.repeat(5000) } }) as { event: { text: string } };
    expect(long.event.text).toHaveLength(4096);
    expect(mapOne({ ...firing, annotations: {} })).not.toHaveProperty('event.text');
  });

  it("carries the runbook_url annotation as the event's runbook, and leaves out one that is no web link (not the alert)", () => {
    const linked = { ...firing, annotations: { ...firing.annotations, runbook_url: ' https://runbooks.example.com/mysql-down ' } };
    expect((mapOne(linked) as { event: Record<string, unknown> }).event.runbook).toBe('https://runbooks.example.com/mysql-down');
    for (const bad of ['javascript:alert(1)', 'runbooks/mysql', `https://example.com/${'x'.repeat(2048)}`]) {
      const mapped = mapOne({ ...firing, annotations: { ...firing.annotations, runbook_url: bad } }) as { event: Record<string, unknown> };
      expect(mapped.event).toMatchObject({ host: 'db1.example.com', check: 'MySQLDown' });
      expect(mapped.event).not.toHaveProperty('runbook');
    }
  });

  it('leaves out the id without a fingerprint', () => {
    const { fingerprint: _, ...alert } = firing;
    expect(mapOne(alert)).not.toHaveProperty('event.id');
  });

  it('refuses an alert without a host or an alertname with the reason, and maps the others', () => {
    const noHost = { ...firing, labels: { alertname: 'Watchdog', severity: 'none' } };
    const noName = { ...firing, labels: { instance: 'db2:9100' } };
    const parsed = parseAlertmanagerPayload(payload([noHost, firing, noName]));
    if (!parsed.ok) throw new Error(parsed.error);
    const [a, b, c] = mapAlertmanager(parsed.payload, defaults);
    expect(a).toEqual({ reason: 'alerts[0]: no host: the alert has none of the labels host, instance, nodename', body: noHost });
    expect(b).toHaveProperty('event.host', 'db1.example.com');
    expect(c).toEqual({ reason: 'alerts[2]: no check: the alert has no alertname label', body: noName });
  });

  it('names the JSON path of a malformed alert', () => {
    const bad = { ...firing, labels: { alertname: 'X', instance: 5 }, startsAt: 'yesterday' };
    expect(mapOne(bad)).toEqual({
      reason: 'alerts[0].labels.instance: expected string, received number; alerts[0].startsAt: expected an RFC 3339 time like 2026-11-21T10:00:00Z',
      body: bad,
    });
    const { status: _, ...noStatus } = firing;
    expect(mapOne(noStatus)).toEqual({ reason: 'alerts[0].status: required', body: noStatus });
  });

  it('refuses a body that is not a version 4 payload, naming the path', () => {
    expect(parseAlertmanagerPayload({ ...payload([]), version: '3' })).toEqual({ ok: false, error: 'the body is not an Alertmanager webhook payload (version 4): version: expected "4", got "3"' });
    expect(parseAlertmanagerPayload({ host: 'db1', check: 'mysql', status: 'critical' })).toEqual({
      ok: false,
      error: 'the body is not an Alertmanager webhook payload (version 4): version: required; receiver: required; status: expected "firing" or "resolved", got "critical"; alerts: required',
    });
    expect(parseAlertmanagerPayload([])).toMatchObject({ ok: false, error: expect.stringContaining('expected object, received array') });
  });
});
