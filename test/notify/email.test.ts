import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { createChannel, type ChannelOptions } from '../../src/notify/channel.ts';
import { closedPort } from './collector.ts';
import { aNotification } from './fixtures.ts';
import { startSmtpServer, type SmtpTestServer } from './smtp.ts';

/** An email channel as configuration loading makes it (defaults applied), on `smtp`. */
function emailChannel(fields: Record<string, unknown>, options: ChannelOptions = {}) {
  const [config] = configSchema.parse({ notify: { channels: [{ name: 'dba-mail', type: 'email', ...fields }] } }).notify.channels;
  return createChannel(config!, options);
}

describe('the email channel on a real SMTP server', () => {
  let smtp: SmtpTestServer | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it('delivers one mail with a plain-text and an HTML part to the configured recipients', async () => {
    smtp = await startSmtpServer();
    const channel = emailChannel(
      { smtp: smtp.url, from: 'faultline <faultline@example.com>', to: ['oncall@example.com', 'dba-lead@example.com'] },
      { incidentUrl: 'https://faultline.example.com/incidents/{id}' },
    );

    expect(await channel.send(aNotification())).toEqual({ ok: true });

    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.envelope).toEqual({ from: 'faultline@example.com', to: ['oncall@example.com', 'dba-lead@example.com'] });
    const { parsed } = mail!;
    expect(parsed.subject).toBe('[faultline] PAGE db1.example.com is failing: 1 service affected (service:mail)');
    expect(parsed.from?.address).toBe('faultline@example.com');
    expect(parsed.to?.map((a) => a.address)).toEqual(['oncall@example.com', 'dba-lead@example.com']);
    for (const body of [parsed.text!, parsed.html!]) {
      expect(body).toContain('db1.example.com'); // the root
      expect(body).toContain('service:mail'); // affected
      expect(body).toContain('team:dba'); // owners
      expect(body).toContain('team:mail'); // stakeholders
      expect(body).toContain('mail1.example.com/mailq'); // suppressed
      expect(body).toContain('https://faultline.example.com/incidents/inc-00000000000000d1');
    }
    expect(parsed.text).toMatch(/^Owners: +team:dba$/m);
    expect(parsed.html).toContain('<a href="https://faultline.example.com/incidents/inc-00000000000000d1">');
    const header = (name: string) => parsed.headers.find((h) => h.key === name)?.value;
    expect(header('x-faultline-incident')).toBe('inc-00000000000000d1');
    expect(header('x-faultline-dedup-key')).toBe(aNotification().dedupKey);
    expect(parsed.messageId).toMatch(/^<[0-9a-f]{32}@faultline>$/);
  });

  it('escapes what the monitoring said in the HTML part', async () => {
    smtp = await startSmtpServer();
    const channel = emailChannel({ smtp: smtp.url, to: 'dba@example.com' });
    const base = aNotification();
    const notification = aNotification({
      incident: { ...base.incident, rootAlerts: [{ id: 'db1.example.com/mysql', status: 'critical', text: '<script>alert("x")</script> & more' }] },
    });

    expect(await channel.send(notification)).toEqual({ ok: true });

    const { parsed } = smtp.received[0]!;
    expect(parsed.html).not.toContain('<script>');
    expect(parsed.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(parsed.text).toContain('<script>alert("x")</script> & more');
  });

  it("mails the team's email: contacts when no recipient is configured", async () => {
    smtp = await startSmtpServer();
    const channel = emailChannel({ smtp: smtp.url, from: 'faultline@example.com' });
    const notification = aNotification({ contacts: ['email:dba@example.com', 'slack:#dba', 'email:dba-oncall@example.com'] });

    expect(await channel.send(notification)).toEqual({ ok: true });

    expect(smtp.received[0]!.envelope.to).toEqual(['dba@example.com', 'dba-oncall@example.com']);
  });

  it('mails the contacts instead of the configured recipients when the route says useContacts, else the configured ones', async () => {
    smtp = await startSmtpServer();
    const channel = emailChannel({ smtp: smtp.url, to: 'ops@example.com' });

    await channel.send(aNotification());
    await channel.send(aNotification(), { useContacts: true });
    await channel.send(aNotification({ contacts: ['slack:#dba'] }), { useContacts: true });

    expect(smtp.received.map((m) => m.envelope.to)).toEqual([['ops@example.com'], ['dba@example.com'], ['ops@example.com']]);
  });

  it('fails for good when there is nobody to mail', async () => {
    smtp = await startSmtpServer();
    const channel = emailChannel({ smtp: smtp.url });
    expect(await channel.send(aNotification({ contacts: [] }))).toEqual({
      ok: false,
      retryable: false,
      error: 'no recipient: the channel has no "to" and team:dba has no email: contact',
    });
    expect(smtp.received).toEqual([]);
  });

  it('counts an SMTP 5xx as final and a 4xx as retryable, naming the status', async () => {
    smtp = await startSmtpServer({ rcpt: (address) => (address.startsWith('gone') ? 550 : address.startsWith('full') ? 452 : undefined) });

    const gone = await emailChannel({ smtp: smtp.url, to: 'gone@example.com' }).send(aNotification());
    expect(gone).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^SMTP 550: /) });
    const full = await emailChannel({ smtp: smtp.url, to: 'full@example.com' }).send(aNotification());
    expect(full).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/^SMTP 452: /) });
    expect(smtp.received).toEqual([]);
  });

  it('delivers to the recipients the server takes and warns about the one it refuses, rather than mail the others twice', async () => {
    smtp = await startSmtpServer({ rcpt: (address) => (address.startsWith('gone') ? 550 : undefined) });
    const result = await emailChannel({ smtp: smtp.url, to: ['dba@example.com', 'gone@example.com'] }).send(aNotification());
    expect(result).toEqual({ ok: true, warning: 'the SMTP server refused gone@example.com' });
    expect(smtp.received.map((m) => m.envelope.to)).toEqual([['dba@example.com']]);
  });

  it('logs in with the credentials in the URL, and a refused login is final and does not show the password', async () => {
    smtp = await startSmtpServer({ auth: { user: 'faultline', pass: 's3cr3t-pass' } });

    const good = emailChannel({ smtp: `smtp://faultline:s3cr3t-pass@127.0.0.1:${smtp.port}`, to: 'dba@example.com' });
    expect(await good.send(aNotification())).toEqual({ ok: true });
    expect(smtp.received[0]!.user).toBe('faultline');

    const bad = emailChannel({ smtp: `smtp://faultline:wr0ng-pass@127.0.0.1:${smtp.port}`, to: 'dba@example.com' });
    const result = await bad.send(aNotification());
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^SMTP 535: /) });
    expect(JSON.stringify(result)).not.toContain('wr0ng-pass');
  });

  it('counts a refused connection and a server that never greets as retryable', async () => {
    const port = await closedPort();
    const refused = await emailChannel({ smtp: `smtp://user:s3cr3t-pass@127.0.0.1:${port}`, to: 'dba@example.com' }).send(aNotification());
    expect(refused).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(refused)).not.toContain('s3cr3t-pass');

    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port: silentPort } = silent.address() as { port: number };
      const result = await emailChannel({ smtp: `smtp://127.0.0.1:${silentPort}`, to: 'dba@example.com' }, { timeoutMs: 300 }).send(aNotification());
      expect(result).toMatchObject({ ok: false, retryable: true });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
