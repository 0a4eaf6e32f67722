import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { createChannel } from '../../src/notify/channel.ts';
import { closedPort, startCollector, type Collector } from './collector.ts';
import { aNotification } from './fixtures.ts';

const SECRET = 'Bearer s3cr3t-webhook-token';

describe('the generic webhook channel on a real HTTP receiver', () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  it('POSTs the notification document as JSON with the configured headers', async () => {
    collector = await startCollector();
    const channel = createChannel({ name: 'ops-hook', type: 'webhook', url: collector.url, headers: { Authorization: SECRET, 'X-Team': 'ops' } });
    const notification = aNotification();

    expect(await channel.send(notification)).toEqual({ ok: true });

    expect(collector.received).toHaveLength(1);
    const [request] = collector.received;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBe(SECRET);
    expect(request!.headers['x-team']).toBe('ops');
    expect(JSON.parse(request!.body)).toEqual(notification);
  });

  it('counts 5xx and 429 as retryable, other 4xx and redirects as final, and names the status', async () => {
    const statuses = [500, 503, 429, 400, 404, 301];
    collector = await startCollector((n) => statuses[n - 1]!);
    const channel = createChannel({ name: 'ops-hook', type: 'webhook', url: collector.url });
    const results = [];
    for (const _ of statuses) results.push(await channel.send(aNotification()));
    expect(results.map((r) => (r.ok ? 'ok' : r.retryable))).toEqual([true, true, true, false, false, false]);
    results.forEach((r, i) => expect(r.ok ? '' : r.error).toMatch(new RegExp(`^HTTP ${statuses[i]}`)));
    expect(results[3]).toMatchObject({ error: expect.stringContaining('refused with 400') });
  });

  it('counts a receiver that does not answer in time as a retryable timeout', async () => {
    collector = await startCollector(() => 'hang');
    const channel = createChannel({ name: 'ops-hook', type: 'webhook', url: collector.url }, { timeoutMs: 200 });
    expect(await channel.send(aNotification())).toEqual({ ok: false, retryable: true, error: 'no answer within 200 ms' });
  });

  it('counts a refused connection as retryable, and the error carries neither URL nor headers', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/hook?token=in-the-url`;
    const channel = createChannel({ name: 'ops-hook', type: 'webhook', url, headers: { Authorization: SECRET } });
    const result = await channel.send(aNotification());
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(result)).not.toMatch(/s3cr3t|in-the-url/);
  });

  it('keeps a token in the URL out of the error when the receiver echoes the path, and URL credentials out of fetch\'s', async () => {
    collector = await startCollector(() => 404);
    const withToken = createChannel({ name: 'ops-hook', type: 'webhook', url: `${collector.url}/T0123/s3cr3t-path-token?key=in-the-url` });
    const refused = await withToken.send(aNotification());
    expect(refused).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('refused with 404') });
    expect(JSON.stringify(refused)).not.toMatch(/s3cr3t|in-the-url/);
    const withCredentials = createChannel({ name: 'ops-hook', type: 'webhook', url: collector.url.replace('http://', 'http://hook-user:s3cr3t-password@') });
    const failed = await withCredentials.send(aNotification());
    expect(failed.ok).toBe(false);
    expect(JSON.stringify(failed)).not.toMatch(/s3cr3t|hook-user/);
  });

  it('is one of the four channel types createChannel builds', () => {
    const { notify } = configSchema.parse({
      notify: {
        channels: [
          { name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook' },
          { name: 'chat', type: 'slack', url: 'http://127.0.0.1:9/slack' },
          { name: 'mail', type: 'email', to: 'dba@example.com' },
          { name: 'pager', type: 'pagerduty', routingKey: 'key' },
        ],
      },
    });
    expect(notify.channels.map((c) => createChannel(c)).map((a) => [a.name, a.type])).toEqual([
      ['hook', 'webhook'],
      ['chat', 'slack'],
      ['mail', 'email'],
      ['pager', 'pagerduty'],
    ]);
  });
});
