import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createChannel } from '../../src/notify/channel.ts';
import { consoleChannel } from '../../src/notify/console/console.ts';
import { aNotification } from './fixtures.ts';

describe('the console channel (what faultline dev prints)', () => {
  it('prints the page with its root, affected services and owners, and reports it delivered', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const channel = consoleChannel({ name: 'console', type: 'console' }, { out, incidentUrl: 'https://faultline.example.com/incidents/{id}' });
    expect(await channel.send(aNotification())).toEqual({ ok: true });
    expect(text).toMatch(/^── PAGE /);
    expect(text).toContain('db1.example.com');
    expect(text).toContain('service:mail');
    expect(text).toContain('team:dba');
    expect(text).toContain('https://faultline.example.com/incidents/inc-00000000000000d1');
  });

  it('says what is at risk and what holds it up while the incident is open, and not once it is resolved', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const channel = consoleChannel({ name: 'console', type: 'console' }, { out });
    const base = aNotification();
    const incident = { ...base.incident, affectedServices: [], servicesAtRisk: ['service:mail'], holdingUp: ['db2.example.com::Service[mysqld]'] };
    await channel.send({ ...base, incident });
    expect(text).toMatch(/At risk \(no spare left\): service:mail/);
    expect(text).toMatch(/Holding them up \(do not touch\): db2\.example\.com::Service\[mysqld\]/);
    text = '';
    await channel.send({ ...base, kind: 'resolved', incident: { ...incident, status: 'resolved' } });
    expect(text).not.toContain('At risk');
    expect(text).not.toContain('Holding them up');
  });

    it('is what createChannel builds for type console', () => {
    expect(createChannel({ name: 'console', type: 'console' }).type).toBe('console');
  });
});
