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

  it('is what createChannel builds for type console', () => {
    expect(createChannel({ name: 'console', type: 'console' }).type).toBe('console');
  });
});
